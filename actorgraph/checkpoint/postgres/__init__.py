"""Import-compatible path: the Postgres checkpoint savers (psycopg 3; sync and async calls)."""

from actorgraph.persistence._postgres import BasePostgresSaver, PostgresSaver
from actorgraph.persistence._postgres_conn import Conn
from actorgraph.persistence._postgres_shallow import ShallowPostgresSaver

__all__ = ("BasePostgresSaver", "Conn", "PostgresSaver", "ShallowPostgresSaver")
