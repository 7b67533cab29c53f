"""Import-compatible path: a connection from a psycopg connection or pool (asyncio)."""

from actorgraph.persistence._postgres_conn import AsyncConn as Conn
from actorgraph.persistence._postgres_conn import aget_connection as get_connection

__all__ = ("Conn", "get_connection")
