"""Import-compatible path: the in-memory checkpoint saver."""

from actorgraph.persistence._memory import InMemorySaver, MemorySaver, PersistentDict

__all__ = ("InMemorySaver", "MemorySaver", "PersistentDict")
