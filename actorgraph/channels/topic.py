"""Import-compatible path: ``from actorgraph.channels.topic import Topic``."""

from actorgraph.channels._aggregate import Topic

__all__ = ("Topic",)
