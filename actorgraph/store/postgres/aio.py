"""Import-compatible path: the asyncio Postgres store."""

from actorgraph.persistence._store_postgres_aio import AsyncPostgresStore

__all__ = ("AsyncPostgresStore",)
