"""Import-compatible path: the Postgres checkpoint saver (psycopg 3; sync and async calls)."""

from actorgraph.persistence._postgres import PostgresSaver

__all__ = ("PostgresSaver",)
