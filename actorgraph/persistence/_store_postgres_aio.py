"""``AsyncPostgresStore``: the Postgres store on psycopg's ``AsyncConnection`` or
``AsyncConnectionPool`` (asyncio, as LangGraph's), its async calls gathered into batches
by ``AsyncBatchedBaseStore`` as LangGraph's are.

A batch runs ``PostgresCore``'s body, the one the sync store runs, in a worker thread
whose statements hop back onto the event loop to run on the async cursor: one code path
for both stores, one transaction per batch, and the loop is never blocked.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any, TypeVar, cast

import anyio
import anyio.from_thread
import anyio.to_thread

from actorgraph.persistence._serde import Serializer
from actorgraph.persistence._store import Op, Result, TTLConfig
from actorgraph.persistence._store_batch import AsyncBatchedBaseStore
from actorgraph.persistence._store_postgres import (
    PoolConfig,
    PostgresCore,
    PostgresIndexConfig,
    conn_kwargs,
    import_psycopg,
    pool_args,
    too_long,
)
from actorgraph.persistence._store_shared import TaskSweeper

__all__ = ("AsyncPostgresStore",)

T = TypeVar("T")


class _BridgeDb:
    """``Db`` for a worker thread: each statement runs on the async cursor, on the loop."""

    __slots__ = ("cur",)

    def __init__(self, cur: Any) -> None:
        self.cur = cur

    async def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        await self.cur.execute(sql, params or None)
        return cast(list[tuple[Any, ...]], await self.cur.fetchall())

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return anyio.from_thread.run(self._rows, sql, params)

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        anyio.from_thread.run(self.cur.execute, sql, params or None)

    def run_many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        anyio.from_thread.run(self.cur.executemany, sql, params)


class AsyncPostgresStore(TaskSweeper, PostgresCore, AsyncBatchedBaseStore):
    """The Postgres store for asyncio code (LangGraph's ``AsyncPostgresStore``).

    ``async with AsyncPostgresStore.from_conn_string("postgresql://...") as store: ...``
    or ``AsyncPostgresStore(conn)`` with a psycopg ``AsyncConnection`` or
    ``AsyncConnectionPool``; same tables as ``PostgresStore``. Its sync methods work from
    threads other than the event loop's (they hop onto it).
    """

    def __init__(
        self,
        conn: Any,
        *,
        pipe: Any = None,
        index: PostgresIndexConfig | None = None,
        ttl: TTLConfig | None = None,
        serde: Serializer | None = None,
    ) -> None:
        psycopg = import_psycopg()
        self._task = None  # (what AsyncBatchedBaseStore.__del__ reads, should this raise)
        if not (isinstance(conn, psycopg.AsyncConnection) or type(conn).__name__ == "AsyncConnectionPool"):
            raise TypeError(
                f"AsyncPostgresStore needs a psycopg AsyncConnection or AsyncConnectionPool, got {conn!r}; "
                "for a sync Connection or ConnectionPool use PostgresStore"
            )
        super().__init__()
        self.conn = conn
        self.pipe = pipe
        self.lock = anyio.Lock()  # one batch at a time on a single connection
        self._setup_lock = anyio.Lock()
        self._configure(index, ttl, serde)
        self._sweeper_task = None

    @classmethod
    @contextlib.asynccontextmanager
    async def from_conn_string(
        cls,
        conn_string: str,
        *,
        pipeline: bool = False,
        pool_config: PoolConfig | None = None,
        index: PostgresIndexConfig | None = None,
        ttl: TTLConfig | None = None,
        serde: Serializer | None = None,
    ) -> AsyncIterator[AsyncPostgresStore]:
        """A store on a new connection (or, with ``pool_config``, a pool; it overrides
        ``pipeline``), closed on exit along with the store's TTL sweeper."""
        import psycopg

        async with contextlib.AsyncExitStack() as stack:
            if pool_config is not None:
                from psycopg_pool import AsyncConnectionPool

                pool = AsyncConnectionPool(conn_string, open=False, **pool_args(pool_config))
                await stack.enter_async_context(pool)
                store = cls(pool, index=index, ttl=ttl, serde=serde)
            else:
                connect = psycopg.AsyncConnection.connect(conn_string, **conn_kwargs())
                conn = await stack.enter_async_context(await connect)
                pipe = await stack.enter_async_context(conn.pipeline()) if pipeline else None
                store = cls(conn, pipe=pipe, index=index, ttl=ttl, serde=serde)
            stack.push_async_callback(store.stop_ttl_sweeper)
            yield store

    async def __aenter__(self) -> AsyncPostgresStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_ttl_sweeper()

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        if type(self.conn).__name__ == "AsyncConnectionPool":
            async with self.conn.connection() as conn:
                yield conn
        else:
            async with self.lock:
                yield self.conn

    async def _transaction(self, fn: Callable[..., T], *args: Any) -> T:
        from psycopg.rows import tuple_row

        async with self._connection() as conn, conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
            return await anyio.to_thread.run_sync(fn, _BridgeDb(cur), *args)

    @contextlib.asynccontextmanager
    async def _cursor(self, *, pipeline: bool = False) -> AsyncIterator[Any]:
        """A dict-row cursor on the store's connection, in a transaction (as LangGraph's
        ``_cursor``, which code written for its store uses to run its own statements)."""
        from psycopg.rows import dict_row

        async with self._connection() as conn, conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            yield cur

    async def setup(self) -> None:  # type: ignore[override]
        """Create or migrate the tables (idempotent; runs by itself on first use)."""
        async with self._setup_lock:
            await self._transaction(self._setup_in)
            self.is_setup = True

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        args = await self._aprepare(ops)
        self._check(args)
        if not self.is_setup:
            await self.setup()
        try:
            results, followup = await self._transaction(self._run, *args)
        except Exception as exc:
            explained = too_long(exc, args[0])
            if explained is None:
                raise
            raise explained from exc
        if followup is not None:
            await self._transaction(self._followup, followup)
        return results

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            raise asyncio.InvalidStateError(
                "AsyncPostgresStore's sync methods would block the event loop the store runs on: "
                "use the async ones (aget, aput, asearch, abatch, ...) in async code"
            )
        return asyncio.run_coroutine_threadsafe(self.abatch(ops), self._loop).result()

    async def sweep_ttl(self) -> int:
        """Delete the expired items now; returns how many (async, as LangGraph's)."""
        if not self.is_setup:
            await self.setup()
        return await self._transaction(self._sweep)

    async def asweep_ttl(self) -> int:
        return await self.sweep_ttl()
