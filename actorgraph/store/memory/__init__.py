"""Import-compatible path: the in-memory store."""

from actorgraph.persistence._store_memory import InMemoryStore

__all__ = ("InMemoryStore",)
