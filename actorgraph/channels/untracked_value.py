"""Import-compatible path: ``from actorgraph.channels.untracked_value import UntrackedValue``."""

from actorgraph.channels._value import UntrackedValue

__all__ = ("UntrackedValue",)
