"""Import-compatible path: a connection from a psycopg connection or pool (sync)."""

from actorgraph.persistence._postgres_conn import Conn, get_connection

__all__ = ("Conn", "get_connection")
