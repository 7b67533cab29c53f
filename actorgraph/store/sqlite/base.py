"""Import-compatible path: the SQLite store and its index settings."""

from actorgraph.persistence._store_sqlite import SqliteIndexConfig, SqliteStore

MIGRATIONS = SqliteStore.MIGRATIONS

__all__ = ("SqliteIndexConfig", "SqliteStore")
