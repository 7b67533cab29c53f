"""Import-compatible path: the SQLite stores (``AsyncSqliteStore`` needs asyncio)."""

from actorgraph.persistence._store_sqlite import AsyncSqliteStore, SqliteStore

__all__ = ("AsyncSqliteStore", "SqliteStore")
