"""Import-compatible path: the SQLite store."""

from actorgraph.persistence._store_sqlite import SqliteStore

__all__ = ("SqliteStore",)
