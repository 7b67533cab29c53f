"""Import-compatible path: the aiosqlite checkpoint saver (asyncio only)."""

from actorgraph.persistence._sqlite import AsyncSqliteSaver

__all__ = ("AsyncSqliteSaver",)
