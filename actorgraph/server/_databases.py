"""Where a server keeps its data: one embedded SQLite file (the default: one process owns
it) or one Postgres database that several server processes share. Either way the same
three things are opened together and closed together - the server's records (storage),
the checkpoints and the store - plus the broker that fits: in-process for SQLite, shared
(Redis when given) for Postgres."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from actorgraph.errors import ConfigError
from actorgraph.server._logging import redact
from actorgraph.server.broker import InProcessBroker, SharedBroker
from actorgraph.server.storage import SqliteStorage, Storage

__all__ = ("Databases", "open_databases")

DB_FILE = "actorgraph.sqlite"


@dataclass
class Databases:
    storage: Storage
    checkpointer: Any
    store: Any
    broker: InProcessBroker
    where: str  # for the log: the SQLite file, or the Postgres database (no password)


@contextlib.asynccontextmanager
async def open_databases(
    data_dir: Path,
    *,
    database_uri: str | None,
    redis_uri: str | None,
    index: Any,
    store_ttl: dict[str, Any] | None,
    pool_size: int,
) -> AsyncIterator[Databases]:
    if database_uri is None:
        if redis_uri is not None:
            raise ConfigError(
                "--redis-uri (REDIS_URI) needs --database-uri (DATABASE_URI): Redis carries wake-ups, cancels "
                "and live events between server processes that share one Postgres database"
            )
        async with _sqlite(data_dir, index=index, store_ttl=store_ttl) as dbs:
            yield dbs
    else:
        async with _postgres(database_uri, redis_uri, index=index, store_ttl=store_ttl, pool_size=pool_size) as dbs:
            yield dbs


@contextlib.asynccontextmanager
async def _sqlite(data_dir: Path, *, index: Any, store_ttl: dict[str, Any] | None) -> AsyncIterator[Databases]:
    from actorgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    from actorgraph.store.sqlite.aio import AsyncSqliteStore

    data_dir.mkdir(parents=True, exist_ok=True)
    db_path = data_dir / DB_FILE
    async with contextlib.AsyncExitStack() as stack:
        storage = SqliteStorage(db_path)
        await storage.setup()
        stack.push_async_callback(storage.close)
        saver_conn = await aiosqlite.connect(str(db_path), isolation_level=None)
        stack.push_async_callback(saver_conn.close)
        checkpointer = AsyncSqliteSaver(saver_conn)
        await checkpointer.setup()
        store_conn = await aiosqlite.connect(str(db_path), isolation_level=None)
        stack.push_async_callback(store_conn.close)
        store = AsyncSqliteStore(store_conn, index=index, ttl=store_ttl)  # type: ignore[arg-type]
        await store.setup()
        yield Databases(storage, checkpointer, store, InProcessBroker(), str(db_path))


@contextlib.asynccontextmanager
async def _postgres(
    uri: str, redis_uri: str | None, *, index: Any, store_ttl: dict[str, Any] | None, pool_size: int
) -> AsyncIterator[Databases]:
    try:
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        from actorgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from actorgraph.server.storage.postgres import PostgresStorage
        from actorgraph.store.postgres import AsyncPostgresStore
    except ImportError as exc:
        raise ConfigError(
            f"--database-uri needs the postgres extra (pip install 'actorgraph[postgres]'): {exc}"
        ) from None
    timeout = float(os.environ.get("ACTORGRAPH_DB_TIMEOUT_SECONDS", "5"))
    async with contextlib.AsyncExitStack() as stack:
        storage = PostgresStorage(uri)
        try:
            await storage.setup()
        except Exception as exc:
            raise ConfigError(f"cannot open the database {redact(uri)}: {exc}") from None
        stack.push_async_callback(storage.close)
        # the checkpoints and the store share a pool; a connection broken by a database
        # restart is replaced when it is next taken, not handed to a run
        pool = AsyncConnectionPool(
            uri,
            min_size=1,
            max_size=pool_size,
            timeout=timeout,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
            check=AsyncConnectionPool.check_connection,
            open=False,
        )
        await pool.open(wait=True, timeout=timeout)
        stack.push_async_callback(pool.close)
        checkpointer = AsyncPostgresSaver(pool)
        await checkpointer.setup()
        store = AsyncPostgresStore(pool, index=index, ttl=store_ttl)  # type: ignore[arg-type]
        await store.setup()
        broker = SharedBroker(storage, redis_uri, prefix=os.environ.get("ACTORGRAPH_REDIS_PREFIX", "actorgraph"))
        yield Databases(storage, checkpointer, store, broker, redact(uri) or uri)
