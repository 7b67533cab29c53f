"""Import-compatible path: the aiosqlite store (asyncio only)."""

from actorgraph.persistence._store_sqlite import AsyncSqliteStore

__all__ = ("AsyncSqliteStore",)
