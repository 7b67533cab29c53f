"""Import-compatible path: the in-memory node cache."""

from actorgraph.persistence._cache import InMemoryCache

__all__ = ("InMemoryCache",)
