"""Import-compatible path: the SQLite node cache."""

from actorgraph.persistence._cache import SqliteCache

__all__ = ("SqliteCache",)
