"""Import-compatible path: the sync Postgres store and its settings."""

from actorgraph.persistence._store_pg_sql import MIGRATIONS
from actorgraph.persistence._store_postgres import ANNIndexConfig, PoolConfig, PostgresIndexConfig, PostgresStore

__all__ = ("ANNIndexConfig", "MIGRATIONS", "PoolConfig", "PostgresIndexConfig", "PostgresStore")
