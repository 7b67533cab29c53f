"""Import-compatible path: the in-memory checkpoint saver."""

from actorgraph.persistence._memory import InMemorySaver, MemorySaver

__all__ = ("InMemorySaver", "MemorySaver")
