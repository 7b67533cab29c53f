"""Postgres savers: ``PostgresSaver`` (psycopg 3 ``Connection`` or ``ConnectionPool``; sync
and async calls) and ``AsyncPostgresSaver`` (``AsyncConnection`` or
``AsyncConnectionPool``; asyncio only, as psycopg's async I/O is).

A step the runtime saves (its checkpoint row and its tasks' writes) is one transaction.
Writing checkpoint rows first takes a transaction-scoped advisory lock on their thread
namespace, so the compare-and-set on the thread's head (its newest checkpoint id) holds
across processes: a run that lost the race stores only its valid task writes and gets
``CheckpointConflictError``. The statements of a transaction go out in one pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from psycopg import AsyncConnection, Capabilities, Connection
from psycopg.rows import tuple_row

from actorgraph.persistence import _postgres_sql as sql
from actorgraph.persistence._base import ANY_HEAD, RowCheckpointSaver, StoredWrite, check_head, kept_on_conflict
from actorgraph.persistence._model import CheckpointRow, WriteRow
from actorgraph.persistence._postgres_conn import aget_connection, get_connection, is_async_pool, is_pool
from actorgraph.persistence._saver_api import Checkpoint
from actorgraph.persistence._saver_bridges import LoopSync, ThreadedAsync
from actorgraph.persistence._serde import JsonPlusSerializer
from actorgraph.persistence._serde_protocols import SerializerProtocol
from actorgraph.persistence._sqlite import _Rows, _writes_from

__all__ = ("AsyncPostgresSaver", "BasePostgresSaver", "PostgresSaver")

Statement = tuple[str, Any, bool]
"""(sql, params, many): ``many`` runs ``params`` as a list of parameter rows."""
_ANCESTOR_PAGE = 64
_HAS_PIPELINE = Capabilities().has_pipeline()


class _Plan:
    """One write transaction: the thread namespaces whose heads it locks, its statements,
    and an optional compare-and-set (thread, ns, expected head, statements run instead
    when the head moved)."""

    __slots__ = ("locks", "statements", "cas")

    def __init__(self, locks: Sequence[tuple[str, str]], statements: list[Statement], cas: Any = None) -> None:
        self.locks = sorted(set(locks))  # one order everywhere: two writers never deadlock
        self.statements = statements
        self.cas = cas

    def after_head(self, found: str | None) -> list[Statement]:
        """The statements to run once the head is read as ``found``."""
        if self.cas is None or found == self.cas[2]:
            return self.statements
        return self.cas[3]  # type: ignore[no-any-return]


class BasePostgresSaver(_Rows, RowCheckpointSaver):
    """What both Postgres savers share: the transactions their primitives run, as plans."""

    MIGRATIONS = sql.MIGRATIONS
    """The schema's migrations, in order (``setup()`` applies those a database lacks)."""
    _sends_from_parent = True

    is_setup: bool

    def _init(self, conn: Any, pipe: Any, serde: SerializerProtocol | None) -> None:
        RowCheckpointSaver.__init__(self, serde=serde)
        self.jsonplus_serde = JsonPlusSerializer()
        self.conn = conn
        self.pipe = pipe
        self.is_setup = False
        self.supports_pipeline = _HAS_PIPELINE

    @staticmethod
    def _write_plan(
        rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite], replace: bool, expect_head: Any
    ) -> _Plan | None:
        insert_writes = sql.INSERT_WRITE if replace else sql.INSERT_WRITE_KEEP
        statements: list[Statement] = []
        if rows:
            statements.append((sql.INSERT_ROW, [sql.row_params(r) for r in rows], True))
        if writes:
            statements.append((insert_writes, sql.write_params(writes), True))
        if not statements:
            return None
        locks = [(r.thread_id, r.ns) for r in rows]
        if not rows or expect_head is ANY_HEAD:
            return _Plan(locks, statements)
        kept = kept_on_conflict(rows, writes)
        fallback = [(insert_writes, sql.write_params(kept), True)] if kept else []
        return _Plan(locks, statements, (rows[0].thread_id, rows[0].ns, expect_head, fallback))

    def _foreign_plan(
        self, thread: str, ns: str, parent: str | None, checkpoint: Checkpoint, metadata: dict[str, Any]
    ) -> _Plan:
        params = sql.foreign_params(*self._foreign_params(thread, ns, parent, checkpoint, metadata))
        return _Plan([(thread, ns)], [(sql.INSERT_ROW, params, False)])

    @staticmethod
    def _delete_plan(thread: str, ns: str | None, ids: Sequence[str] | None) -> _Plan:
        if ns is None:
            return _Plan([], [(s, (thread,), False) for s in sql.DELETE_THREAD])
        return _Plan([(thread, ns)], [(s, (thread, ns, list(ids or ())), False) for s in sql.DELETE_IDS])

    @staticmethod
    def _copy_plan(source: str, target: str) -> _Plan:
        return _Plan([], [(s, (target, source), False) for s in sql.COPY])

    def _rows_by_id(self, found: Sequence[Any]) -> dict[str, Any]:
        return {r.checkpoint_id: r for r in map(self._row, found)}

    def _listed(self, found: Sequence[Any], skip: bool) -> list[Any]:
        rows = [self._row_or_skip(lambda r=r: self._row(r), skip) for r in found]
        return [r for r in rows if r is not None]

    @staticmethod
    def _ancestor_page(found: Sequence[Any], seen: set[str]) -> tuple[list[str], bool]:
        """(new ancestors of a page, whether to read on): a page's first id is where it
        started; the walk ends at the chain's root or at an id seen before (a loop)."""
        out: list[str] = []
        for (cid,) in found[1:]:
            if cid in seen:
                return out, False
            seen.add(cid)
            out.append(cid)
        return out, len(found) > _ANCESTOR_PAGE and bool(out)


def _read_row_sql(thread: str, ns: str, checkpoint_id: str | None) -> tuple[str, tuple[Any, ...]]:
    if checkpoint_id is None:
        return sql.LATEST, (thread, ns)
    return sql.BY_ID, (thread, ns, checkpoint_id)


# -- the sync saver --------------------------------------------------------------------


def _sync_tx(conn: Connection[Any], plan: _Plan) -> str | None:
    """Run a plan in one transaction (one pipeline when libpq has them); the head found
    when the plan compares it."""
    pipeline = conn.pipeline() if _HAS_PIPELINE else contextlib.nullcontext()
    found: str | None = None
    with pipeline, conn.transaction(), conn.cursor(row_factory=tuple_row, binary=True) as cur:
        for key in plan.locks:
            cur.execute(sql.LOCK_HEAD, key)
        if plan.cas is not None:
            cur.execute(sql.HEAD, plan.cas[:2])
            got = cur.fetchone()
            found = got[0] if got else None
        for text, params, many in plan.after_head(found):
            (cur.executemany if many else cur.execute)(text, params)
    return found


def _sync_setup(conn: Connection[Any]) -> None:
    with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
        # one setup at a time (several processes may start at once): CREATE TABLE IF NOT
        # EXISTS itself is not safe against a concurrent one. Each result is read before
        # the next statement: in pipeline mode, the notice an existing table raises would
        # hand a later fetch an earlier statement's result.
        cur.execute(sql.LOCK_SETUP)
        cur.fetchall()
        cur.execute(sql.HAS_MIGRATIONS)
        if not cur.fetchall()[0][0]:
            cur.execute(sql.MIGRATIONS_TABLE)
        cur.execute("SELECT v FROM actorgraph_checkpoint_migrations")
        done = {r[0] for r in cur.fetchall()}
        for v, statement in enumerate(sql.MIGRATIONS):
            if v not in done:
                cur.execute(statement)
                cur.execute("INSERT INTO actorgraph_checkpoint_migrations (v) VALUES (%s)", (v,))


class PostgresSaver(BasePostgresSaver, ThreadedAsync):
    """Checkpoints in Postgres through psycopg 3.

    ``with PostgresSaver.from_conn_string("postgresql://...") as saver: saver.setup()``, or
    ``PostgresSaver(conn)`` with a ``psycopg.Connection`` (autocommit or not), a
    ``psycopg_pool.ConnectionPool``, and ``pipe=conn.pipeline()`` for a connection in
    pipeline mode. Works from sync and async code (async calls run in a worker thread) and
    on any anyio backend.
    """

    @property
    def saves_from_any_thread(self) -> bool:
        return True

    def __init__(self, conn: Any, pipe: Any = None, serde: SerializerProtocol | None = None) -> None:
        if is_pool(conn) and pipe is not None:
            raise ValueError("PostgresSaver(pipe=...) takes a single Connection, not a ConnectionPool")
        self._init(conn, pipe, serde)
        self.lock = threading.Lock()

    @classmethod
    @contextlib.contextmanager
    def from_conn_string(cls, conn_string: str, *, pipeline: bool = False) -> Iterator[PostgresSaver]:
        """A saver on its own connection (in pipeline mode if asked), closed on exit."""
        with Connection.connect(conn_string, autocommit=True, prepare_threshold=0) as conn:
            if pipeline:
                with conn.pipeline() as pipe:
                    yield cls(conn, pipe)
            else:
                yield cls(conn)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Connection[Any]]:
        if is_pool(self.conn):
            with get_connection(self.conn) as conn:
                yield conn
        else:
            # one transaction at a time on a shared connection
            with self.lock, get_connection(self.conn) as conn:
                yield conn

    def setup(self) -> None:
        """Apply the migrations this database lacks (creating the tables the first time).
        Safe to call again, and from several processes at once; never drops data."""
        with self._connection() as conn:
            _sync_setup(conn)
        self.is_setup = True

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[Any]:
        if not self.is_setup:
            self.setup()
        with self._connection() as conn:
            scope = contextlib.nullcontext() if conn.autocommit else conn.transaction()
            with scope, conn.cursor(row_factory=tuple_row, binary=True) as cur:
                yield cur

    def _fetch(self, text: str, params: Sequence[Any]) -> list[Any]:
        with self._cursor() as cur:
            cur.execute(text, params)
            return cur.fetchall()

    def _run(self, plan: _Plan | None) -> str | None:
        if plan is None:
            return None
        if not self.is_setup:
            self.setup()
        with self._connection() as conn:
            return _sync_tx(conn, plan)

    # -- primitives --------------------------------------------------------------------
    def _write(
        self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite], *, replace: bool = True, expect_head: Any = ANY_HEAD
    ) -> None:
        plan = self._write_plan(rows, writes, replace, expect_head)
        found = self._run(plan)
        if plan is not None and plan.cas is not None:
            check_head(plan.cas[0], plan.cas[1], expect_head, found)

    def _put_foreign(
        self, thread: str, ns: str, parent: str | None, checkpoint: Checkpoint, metadata: dict[str, Any], new_versions: dict[str, Any]
    ) -> None:
        self._run(self._foreign_plan(thread, ns, parent, checkpoint, metadata))

    def _read_row(self, thread: str, ns: str, checkpoint_id: str | None) -> Any:
        found = self._fetch(*_read_row_sql(thread, ns, checkpoint_id))
        return self._row(found[0]) if found else None

    def _read_rows(self, thread: str, ns: str, ids: Sequence[str]) -> dict[str, Any]:
        return self._rows_by_id(self._fetch(sql.BY_IDS, (thread, ns, list(ids)))) if ids else {}

    def _read_range(self, thread: str, ns: str, lo: str, hi: str) -> dict[str, Any]:
        return self._rows_by_id(self._fetch(sql.RANGE, (thread, ns, lo, hi)))

    def _read_writes(self, thread: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        return _writes_from(self._fetch(sql.WRITES, (thread, ns, checkpoint_id)), thread, checkpoint_id)

    def _list_rows(
        self, thread: str | None, ns: str | None, before: str | None, limit: int | None, filter: dict[str, Any] | None = None
    ) -> list[Any]:
        return self._listed(self._fetch(*sql.select_sql(thread, ns, before, limit, filter)), thread is None)

    def _delete(self, thread: str, ns: str | None, ids: Sequence[str] | None) -> None:
        self._run(self._delete_plan(thread, ns, ids))

    def _namespaces(self, thread: str) -> list[str]:
        return [r[0] for r in self._fetch(sql.NAMESPACES, (thread,))]

    def _copy_thread(self, source: str, target: str) -> None:
        self._run(self._copy_plan(source, target))

    def _ancestors(self, thread: str, ns: str, checkpoint_id: str | None) -> Iterator[str]:
        start = checkpoint_id if checkpoint_id is not None else self.latest_id(thread, ns)
        seen: set[str] = {start} if start is not None else set()
        while start is not None:
            found = self._fetch(sql.ANCESTORS, (thread, ns, start, thread, ns, _ANCESTOR_PAGE + 1))
            page, more = self._ancestor_page(found, seen)
            yield from page
            start = page[-1] if more else None


# -- the async saver -------------------------------------------------------------------


async def _async_tx(conn: AsyncConnection[Any], plan: _Plan) -> str | None:
    pipeline = conn.pipeline() if _HAS_PIPELINE else contextlib.nullcontext()
    found: str | None = None
    async with pipeline, conn.transaction(), conn.cursor(row_factory=tuple_row, binary=True) as cur:  # type: ignore[attr-defined]
        for key in plan.locks:
            await cur.execute(sql.LOCK_HEAD, key)
        if plan.cas is not None:
            await cur.execute(sql.HEAD, plan.cas[:2])
            got = await cur.fetchone()
            found = got[0] if got else None
        for text, params, many in plan.after_head(found):
            await (cur.executemany if many else cur.execute)(text, params)
    return found


async def _async_setup(conn: AsyncConnection[Any]) -> None:
    async with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(sql.LOCK_SETUP)
        await cur.fetchall()
        await cur.execute(sql.HAS_MIGRATIONS)
        if not (await cur.fetchall())[0][0]:
            await cur.execute(sql.MIGRATIONS_TABLE)
        await cur.execute("SELECT v FROM actorgraph_checkpoint_migrations")
        done = {r[0] for r in await cur.fetchall()}
        for v, statement in enumerate(sql.MIGRATIONS):
            if v not in done:
                await cur.execute(statement)
                await cur.execute("INSERT INTO actorgraph_checkpoint_migrations (v) VALUES (%s)", (v,))


class AsyncPostgresSaver(BasePostgresSaver, LoopSync):
    """Checkpoints in Postgres through psycopg 3's asyncio connections (asyncio only:
    psycopg's async I/O runs on asyncio, not Trio; use ``PostgresSaver`` there).

    ``async with AsyncPostgresSaver.from_conn_string("postgresql://...") as saver: await
    saver.setup()``, or ``AsyncPostgresSaver(conn)`` with an ``AsyncConnection``, an
    ``AsyncConnectionPool``, and ``pipe=`` for a connection in pipeline mode. Its sync
    methods work from other threads than the event loop's (they hop onto that loop).
    """

    def __init__(self, conn: Any, pipe: Any = None, serde: SerializerProtocol | None = None) -> None:
        if is_async_pool(conn) and pipe is not None:
            raise ValueError("AsyncPostgresSaver(pipe=...) takes a single AsyncConnection, not an AsyncConnectionPool")
        self._init(conn, pipe, serde)
        self.lock = asyncio.Lock()
        self._bind_loop()

    @classmethod
    @contextlib.asynccontextmanager
    async def from_conn_string(
        cls, conn_string: str, *, pipeline: bool = False, serde: SerializerProtocol | None = None
    ) -> AsyncIterator[AsyncPostgresSaver]:
        """A saver on its own connection (in pipeline mode if asked), closed on exit."""
        async with await AsyncConnection.connect(conn_string, autocommit=True, prepare_threshold=0) as conn:
            if pipeline:
                async with conn.pipeline() as pipe:
                    yield cls(conn, pipe, serde=serde)
            else:
                yield cls(conn, serde=serde)

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "AsyncPostgresSaver runs on asyncio only (psycopg's async connections do): "
                "under Trio, use PostgresSaver, whose async methods work on any backend"
            ) from None
        if is_async_pool(self.conn):
            async with aget_connection(self.conn) as conn:
                yield conn
        else:
            async with self.lock, aget_connection(self.conn) as conn:
                yield conn

    async def setup(self) -> None:
        """Apply the migrations this database lacks (see ``PostgresSaver.setup``)."""
        async with self._connection() as conn:
            await _async_setup(conn)
        self.is_setup = True

    async def _fetch(self, text: str, params: Sequence[Any]) -> list[Any]:
        if not self.is_setup:
            await self.setup()
        async with self._connection() as conn:
            scope = contextlib.nullcontext() if conn.autocommit else conn.transaction()
            async with scope, conn.cursor(row_factory=tuple_row, binary=True) as cur:  # type: ignore[attr-defined]
                await cur.execute(text, params)
                return await cur.fetchall()

    async def _run(self, plan: _Plan | None) -> str | None:
        if plan is None:
            return None
        if not self.is_setup:
            await self.setup()
        async with self._connection() as conn:
            return await _async_tx(conn, plan)

    # -- async primitives ------------------------------------------------------------
    async def _awrite(
        self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite], *, replace: bool = True, expect_head: Any = ANY_HEAD
    ) -> None:
        plan = self._write_plan(rows, writes, replace, expect_head)
        found = await self._run(plan)
        if plan is not None and plan.cas is not None:
            check_head(plan.cas[0], plan.cas[1], expect_head, found)

    async def _aput_foreign(
        self, thread: str, ns: str, parent: str | None, checkpoint: Checkpoint, metadata: dict[str, Any], new_versions: dict[str, Any]
    ) -> None:
        await self._run(self._foreign_plan(thread, ns, parent, checkpoint, metadata))

    async def _aread_row(self, thread: str, ns: str, checkpoint_id: str | None) -> Any:
        found = await self._fetch(*_read_row_sql(thread, ns, checkpoint_id))
        return self._row(found[0]) if found else None

    async def _aread_rows(self, thread: str, ns: str, ids: Sequence[str]) -> dict[str, Any]:
        return self._rows_by_id(await self._fetch(sql.BY_IDS, (thread, ns, list(ids)))) if ids else {}

    async def _aread_range(self, thread: str, ns: str, lo: str, hi: str) -> dict[str, Any]:
        return self._rows_by_id(await self._fetch(sql.RANGE, (thread, ns, lo, hi)))

    async def _aread_writes(self, thread: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        return _writes_from(await self._fetch(sql.WRITES, (thread, ns, checkpoint_id)), thread, checkpoint_id)

    async def _alist_rows(
        self, thread: str | None, ns: str | None, before: str | None, limit: int | None, filter: dict[str, Any] | None = None
    ) -> list[Any]:
        return self._listed(await self._fetch(*sql.select_sql(thread, ns, before, limit, filter)), thread is None)

    async def _adelete(self, thread: str, ns: str | None, ids: Sequence[str] | None) -> None:
        await self._run(self._delete_plan(thread, ns, ids))

    async def _anamespaces(self, thread: str) -> list[str]:
        return [r[0] for r in await self._fetch(sql.NAMESPACES, (thread,))]

    async def _acopy_thread(self, source: str, target: str) -> None:
        await self._run(self._copy_plan(source, target))

    async def _aancestors(self, thread: str, ns: str, checkpoint_id: str | None) -> AsyncIterator[str]:
        start = checkpoint_id if checkpoint_id is not None else await self.alatest_id(thread, ns)
        seen: set[str] = {start} if start is not None else set()
        while start is not None:
            found = await self._fetch(sql.ANCESTORS, (thread, ns, start, thread, ns, _ANCESTOR_PAGE + 1))
            page, more = self._ancestor_page(found, seen)
            for cid in page:
                yield cid
            start = page[-1] if more else None
