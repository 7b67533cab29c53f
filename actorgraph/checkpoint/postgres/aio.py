"""Import-compatible path: the asyncio Postgres checkpoint saver (psycopg 3)."""

from actorgraph.persistence._postgres import AsyncPostgresSaver

__all__ = ("AsyncPostgresSaver",)
