"""Import-compatible path: the asyncio Postgres checkpoint savers (psycopg 3)."""

from actorgraph.persistence._postgres import AsyncPostgresSaver
from actorgraph.persistence._postgres_conn import AsyncConn as Conn
from actorgraph.persistence._postgres_shallow import AsyncShallowPostgresSaver

__all__ = ("AsyncPostgresSaver", "AsyncShallowPostgresSaver", "Conn")
