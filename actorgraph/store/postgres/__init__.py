"""Import-compatible path: the Postgres stores (psycopg 3; ``pip install 'actorgraph[postgres]'``)."""

from actorgraph.persistence._store_postgres import PoolConfig, PostgresStore
from actorgraph.persistence._store_postgres_aio import AsyncPostgresStore

__all__ = ("AsyncPostgresStore", "PoolConfig", "PostgresStore")
