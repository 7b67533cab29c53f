"""Postgres storage on a psycopg 3 connection pool: the server's records in tables of
their own (``srv_*``, see :mod:`~actorgraph.server.storage._postgres_sql`), shared by every
server process on the database.

Each call is one transaction on a pooled connection. What several processes race for is
decided by row and advisory locks: a claim locks the run's thread (``pg_try_advisory_xact_lock``)
before it looks at the thread's runs, so two claimers never start two runs of one thread;
a read-modify-write of a record locks its row (``FOR UPDATE``) first. A connection that
can't be had or dies mid-call raises :class:`~actorgraph.server.storage.Unavailable`
within ``ACTORGRAPH_DB_TIMEOUT_SECONDS`` (5 s); the pool reconnects on its own.
"""

from __future__ import annotations

import contextlib
import math
import operator
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeAlias, TypeVar

import msgspec
from psycopg import AsyncCursor
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool

from actorgraph.server.schemas import Assistant, AssistantVersion, Run, Thread
from actorgraph.server.storage._base import (
    ASSISTANT_SORT,
    DEFAULT_SORT,
    THREAD_SORT,
    Claim,
    Conflict,
    Gone,
    Keep,
    Renewal,
    Unavailable,
    matches,
    sort_direction,
)
from actorgraph.server.storage._postgres_crons import PostgresCrons
from actorgraph.server.storage._postgres_sql import (
    LOCK_SETUP,
    MIGRATIONS,
    MIGRATIONS_TABLE,
    is_connection_failure,
    jsonb,
)

__all__ = ("PostgresStorage",)

T = TypeVar("T")
Cursor: TypeAlias = "AsyncCursor[Any]"

_ACTIVE_RUN = "SELECT 1 FROM srv_runs WHERE thread_id = %s AND status IN ('pending', 'running') LIMIT 1"
_INSERT_EVENT = "INSERT INTO srv_run_events VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"
# threads with a due pending run and no running one, the oldest first (not locked: a claim
# then locks the thread and looks again)
_CANDIDATES = """SELECT thread_id FROM srv_runs r WHERE status = 'pending' AND available_at <= %s
    AND NOT EXISTS (SELECT 1 FROM srv_runs o WHERE o.thread_id = r.thread_id AND o.status = 'running')
    GROUP BY thread_id ORDER BY MIN(seq) LIMIT 50"""
# per schema: tests (and tenants) sharing one database don't contend
_LOCK_THREAD = "SELECT pg_try_advisory_xact_lock(hashtextextended(current_schema() || ':' || %s, 1))"

# the engine's Postgres saver's tables (actorgraph.checkpoint.postgres), deleted with an
# expired thread when the saver keeps them in this database
_CHECKPOINT_TABLES = ("actorgraph_checkpoints", "actorgraph_checkpoint_writes")

_encode = msgspec.json.encode
_metadata = operator.attrgetter("metadata")
_values = operator.attrgetter("values")


def _decode(data: bytes, type_: type[T]) -> T:
    return msgspec.json.decode(data, type=type_)


def _timeout() -> float:
    return float(os.environ.get("ACTORGRAPH_DB_TIMEOUT_SECONDS", "5"))


def _order(sort_by: str | None, sort_order: str | None, allowed: Mapping[str, str]) -> str:
    column = allowed.get(sort_by or "", DEFAULT_SORT)
    direction = sort_direction(sort_order)
    # text in byte order, as SQLite sorts it (not the database's locale)
    collate = "" if column in ("created_at", "updated_at") else ' COLLATE "C"'
    return f"{column}{collate} {direction}"


def _exact(filt: Any, in_list: bool = False) -> bool:
    """Whether ``@>`` decides a filter just as ``matches`` does. It does unless a list in
    it holds a list (Postgres tests the inner lists for containment, ``matches`` for
    equality), a string holds NUL (see ``jsonb``) or a number is not finite."""
    if isinstance(filt, Mapping):
        return all(_exact(k) and _exact(v) for k, v in filt.items())
    if isinstance(filt, list):
        return not in_list and all(_exact(v, True) for v in filt)
    if isinstance(filt, str):
        return "\x00" not in filt
    return not isinstance(filt, float) or math.isfinite(filt)


class _Where:
    """A search's WHERE clause. Its ``@>`` filters narrow the rows; when one of them is
    not ``exact``, ``matches`` decides on each record, so results equal SQLite's."""

    def __init__(self, clause: str = "TRUE", *params: Any) -> None:
        self.clauses, self.params = [clause], list(params)
        self.exact = True

    def add(self, clause: str, value: Any) -> None:
        self.clauses.append(clause)
        self.params.append(value)

    def contains(self, column: str, filt: Mapping[str, Any] | None) -> None:
        if filt:
            self.add(f"{column} @> %s::jsonb", jsonb(filt))
            self.exact = self.exact and _exact(filt)

    @property
    def sql(self) -> str:
        return " AND ".join(self.clauses)


def _record_test(
    where: _Where, keep: Keep | None, *checks: tuple[Callable[[Any], Any], Mapping[str, Any] | None]
) -> Keep | None:
    """What a search tests on each record: None when ``where`` decides alone; else the
    ``matches`` of each (field, filter) and ``keep``."""
    if where.exact and keep is None:
        return None
    return lambda x: all(matches(field(x), filt) for field, filt in checks) and (keep is None or keep(x))


async def _first(cur: Cursor, sql: str, params: Sequence[Any] = ()) -> Any:
    await cur.execute(sql, params)
    return await cur.fetchone()


_UPSERT_THREAD = """ON CONFLICT (thread_id) DO UPDATE SET status = EXCLUDED.status, created_at = EXCLUDED.created_at,
    updated_at = EXCLUDED.updated_at, metadata = EXCLUDED.metadata, vals = EXCLUDED.vals, doc = EXCLUDED.doc"""


async def _put_thread(cur: Cursor, t: Thread, on_conflict: str = _UPSERT_THREAD) -> None:
    await cur.execute(
        f"INSERT INTO srv_threads VALUES (%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s) {on_conflict}",
        (t.thread_id, t.status, t.created_at, t.updated_at, jsonb(t.metadata or {}), jsonb(t.values), _encode(t)),
    )


async def _thread_status(cur: Cursor, thread_id: str, changes: Mapping[str, Any], skip_run: str | None) -> None:
    """Replace ``changes`` on the thread's record (its row locked); its status stays
    ``busy`` while a run on it (other than ``skip_run``) is pending or running."""
    row = await _first(cur, "SELECT doc FROM srv_threads WHERE thread_id = %s FOR UPDATE", (thread_id,))
    if row is None:
        return
    changes = dict(changes)
    if changes.get("status", "busy") != "busy" and await _first(
        cur,
        """SELECT 1 FROM srv_runs WHERE thread_id = %s AND status IN ('pending', 'running')
           AND run_id IS DISTINCT FROM %s LIMIT 1""",
        (thread_id, skip_run),
    ):
        changes["status"] = "busy"  # more runs are queued on it
    await _put_thread(cur, msgspec.structs.replace(_decode(row[0], Thread), **changes))


async def _delete_thread_rows(cur: Cursor, thread_id: str) -> bool:
    """Delete a thread's record, its runs and their events, and its crons; whether the
    thread existed. The runs' rows go first: a run's end locks its row, then its
    thread's, and this takes them in that order too (no deadlock)."""
    await cur.execute(
        "DELETE FROM srv_run_events WHERE run_id IN (SELECT run_id FROM srv_runs WHERE thread_id = %s)", (thread_id,)
    )
    await cur.execute("DELETE FROM srv_runs WHERE thread_id = %s", (thread_id,))
    await cur.execute("DELETE FROM srv_crons WHERE thread_id = %s", (thread_id,))
    await cur.execute("DELETE FROM srv_threads WHERE thread_id = %s", (thread_id,))
    return cur.rowcount > 0


async def _set_run_status(
    cur: Cursor, run_id: str, status: str, now: datetime, owner: str | None, expect: str | None = None
) -> Run | None:
    row = await _first(
        cur, "SELECT doc, lease_owner, status FROM srv_runs WHERE run_id = %s FOR UPDATE", (run_id,)
    )
    # fenced: the run must still be running under ``owner`` (as ``run_renew`` keeps it)
    if row is None or (owner is not None and (row[1] != owner or row[2] != "running")):
        return None
    if expect is not None and row[2] != expect:
        return None  # it moved on meanwhile (a pending run claimed)
    run = msgspec.structs.replace(_decode(row[0], Run), status=status, updated_at=now)  # type: ignore[arg-type]
    lease = "" if status in ("pending", "running") else ", lease_owner = NULL, lease_until = NULL, cancel = NULL"
    await cur.execute(f"UPDATE srv_runs SET status = %s, doc = %s{lease} WHERE run_id = %s", (status, _encode(run), run_id))
    return run


async def _claim_on(cur: Cursor, thread_id: str, owner: str, lease_until: float, now: float) -> Claim | None:
    """The oldest due pending run of the thread claimed, with the thread locked against
    other claimers for the transaction (None: another claimer has it, or it has a running
    run or no due run any more)."""
    if not (await _first(cur, _LOCK_THREAD, (thread_id,)))[0]:
        return None
    # read after the lock: a claim committed before it is seen
    if await _first(cur, "SELECT 1 FROM srv_runs WHERE thread_id = %s AND status = 'running' LIMIT 1", (thread_id,)):
        return None
    row = await _first(
        cur,
        """SELECT doc, lease_owner FROM srv_runs WHERE thread_id = %s AND status = 'pending' AND available_at <= %s
           ORDER BY seq LIMIT 1 FOR UPDATE""",
        (thread_id, now),
    )
    if row is None:
        return None
    stamp = datetime.fromtimestamp(now).astimezone()
    run = msgspec.structs.replace(_decode(row[0], Run), status="running", updated_at=stamp)
    await cur.execute(
        "UPDATE srv_runs SET status = 'running', lease_owner = %s, lease_until = %s, doc = %s WHERE run_id = %s",
        (owner, lease_until, _encode(run), run.run_id),
    )
    thread = await _first(cur, "SELECT status FROM srv_threads WHERE thread_id = %s", (thread_id,))
    if thread is not None and thread[0] != "busy":
        await _thread_status(cur, thread_id, {"status": "busy", "error": None, "updated_at": stamp}, None)
    # a run that had an owner was started before (its worker died or stopped)
    return Claim(run=run, resumed=row[1] is not None)


async def _expire(cur: Cursor, thread_id: str, now: float) -> str:
    """``ttl_expire``: the clock's and the thread's rows locked first, so a run's insert
    (which locks the thread's row) and a clock restart are wholly before or after it."""
    clock = await _first(
        cur, "SELECT strategy, expires_at FROM srv_thread_ttl WHERE thread_id = %s FOR UPDATE", (thread_id,)
    )
    if clock is None or clock[1] is None or clock[1] > now:
        return "fresh"
    if await _first(cur, "SELECT 1 FROM srv_threads WHERE thread_id = %s FOR UPDATE", (thread_id,)) is None:
        await cur.execute("DELETE FROM srv_thread_ttl WHERE thread_id = %s", (thread_id,))
        return "gone"
    if await _first(cur, _ACTIVE_RUN, (thread_id,)):
        return "busy"
    if clock[0] == "keep_latest":
        # the clock waits for the next run (which starts it again with the same ttl)
        await cur.execute("UPDATE srv_thread_ttl SET expires_at = NULL WHERE thread_id = %s", (thread_id,))
        return "keep_latest"
    await _delete_thread_rows(cur, thread_id)
    # deleted in this transaction: a thread of the same id made right after keeps its own
    for table in _CHECKPOINT_TABLES:
        if (await _first(cur, "SELECT to_regclass(%s) IS NOT NULL", (table,)))[0]:
            await cur.execute(f"DELETE FROM {table} WHERE thread_id = %s", (thread_id,))
    await cur.execute("DELETE FROM srv_thread_ttl WHERE thread_id = %s", (thread_id,))
    return "delete"


class PostgresStorage(PostgresCrons):
    """:class:`~actorgraph.server.storage.Storage` in Postgres (crons: :class:`PostgresCrons`).

    ``conninfo``: a libpq connection string or URI; ``min_size``/``max_size``: the pool's
    connections (``application_name`` defaults to ``actorgraph-server``, ``connect_timeout``
    to the pool's timeout, unless ``conninfo`` sets them)."""

    shared = True

    def __init__(self, conninfo: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.conninfo = conninfo
        self.min_size, self.max_size = min_size, max_size
        self.timeout = _timeout()
        params = conninfo_to_dict(conninfo)
        self.where = f"{params.get('host', 'localhost')}:{params.get('port', 5432)}/{params.get('dbname', '')}"
        defaults = {"application_name": "actorgraph-server", "connect_timeout": max(2, math.ceil(self.timeout))}
        self._kwargs = {k: v for k, v in defaults.items() if k not in params}
        self._pool: AsyncConnectionPool[Any] | None = None

    @property
    def pool(self) -> AsyncConnectionPool[Any]:
        if self._pool is None:
            raise RuntimeError("PostgresStorage.setup() has not run")
        return self._pool

    async def setup(self) -> None:
        """Open the pool and apply the migrations this database lacks (several processes
        may do so at once: one at a time, under an advisory lock)."""
        if self._pool is not None:
            return
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            self.conninfo,
            min_size=self.min_size,
            max_size=self.max_size,
            timeout=self.timeout,
            kwargs=self._kwargs,
            # a connection the server dropped (restart, failover) is replaced on checkout
            check=AsyncConnectionPool.check_connection,
            open=False,
        )
        try:
            await pool.open(wait=True, timeout=self.timeout)
            self._pool = pool
            async with self._tx("setup") as cur:
                await cur.execute(LOCK_SETUP)
                await cur.execute(MIGRATIONS_TABLE)
                done = {v for (v,) in await (await cur.execute("SELECT v FROM srv_migrations")).fetchall()}
                for v, statement in enumerate(MIGRATIONS):
                    if v not in done:
                        await cur.execute(statement)
                        await cur.execute("INSERT INTO srv_migrations (v) VALUES (%s)", (v,))
        except BaseException as exc:
            self._pool = None
            await pool.close()
            if is_connection_failure(exc):
                raise Unavailable(f"PostgreSQL at {self.where} is unreachable (setup): {exc}") from exc
            raise

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @contextlib.asynccontextmanager
    async def _tx(self, what: str) -> AsyncIterator[Cursor]:
        """A cursor in one transaction (committed at the end, rolled back on an error);
        a connection-level failure becomes ``Unavailable`` naming the database and ``what``."""
        try:
            async with self.pool.connection() as conn, conn.cursor() as cur:
                yield cur
        except Exception as exc:
            if is_connection_failure(exc):
                raise Unavailable(f"PostgreSQL at {self.where} is unreachable ({what}): {exc}") from exc
            raise

    async def _rows(self, what: str, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self._tx(what) as cur:
            await cur.execute(sql, params)
            return await cur.fetchall()

    async def _one(self, what: str, sql: str, params: Sequence[Any] = ()) -> Any:
        async with self._tx(what) as cur:
            return await _first(cur, sql, params)

    async def _write(self, what: str, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._tx(what) as cur:
            await cur.execute(sql, params)
            return cur.rowcount

    async def _search(
        self, what: str, table: str, type_: type[T], where: _Where, test: Keep | None, *, order: str, limit: int, offset: int,
    ) -> list[T]:
        """A page of records that pass ``test`` (None: ``where`` decides alone, and
        Postgres pages; else ``matches`` and the caller's ``keep`` on each record)."""
        sql = f"SELECT doc FROM {table} WHERE {where.sql} ORDER BY {order}"
        if test is None:
            rows = await self._rows(what, f"{sql} LIMIT %s OFFSET %s", [*where.params, limit, offset])
            return [_decode(r[0], type_) for r in rows]
        found = [x for x in (_decode(r[0], type_) for r in await self._rows(what, sql, where.params)) if test(x)]
        return found[offset : offset + limit]

    async def _count(self, what: str, table: str, type_: type[Any], where: _Where, test: Keep | None) -> int:
        if test is None:
            row = await self._one(what, f"SELECT COUNT(*) FROM {table} WHERE {where.sql}", where.params)
            return int(row[0])
        rows = await self._rows(what, f"SELECT doc FROM {table} WHERE {where.sql}", where.params)
        return sum(1 for r in rows if test(_decode(r[0], type_)))

    # -- assistants ---------------------------------------------------------------------

    @staticmethod
    def _version_of(a: Assistant) -> AssistantVersion:
        fields = msgspec.structs.asdict(a)
        # a version was made when the assistant last changed
        fields["created_at"] = fields.pop("updated_at")
        return AssistantVersion(**fields)

    async def _put_assistant(self, cur: Cursor, a: Assistant, *, version: bool = True, new: bool = False) -> bool:
        """Write the assistant (and its version); with ``new``, only if no assistant has
        its id (whether it was written)."""
        on_conflict = "DO NOTHING" if new else """(assistant_id) DO UPDATE SET graph_id = EXCLUDED.graph_id,
            name = EXCLUDED.name, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
            metadata = EXCLUDED.metadata, doc = EXCLUDED.doc"""
        await cur.execute(
            f"INSERT INTO srv_assistants VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s) ON CONFLICT {on_conflict}",
            (a.assistant_id, a.graph_id, a.name, a.created_at, a.updated_at, jsonb(a.metadata or {}), _encode(a)),
        )
        if cur.rowcount == 0:
            return False
        if version:
            await cur.execute(
                """INSERT INTO srv_assistant_versions VALUES (%s, %s, %s::jsonb, %s) ON CONFLICT (assistant_id, version)
                   DO UPDATE SET metadata = EXCLUDED.metadata, doc = EXCLUDED.doc""",
                (a.assistant_id, a.version, jsonb(a.metadata or {}), _encode(self._version_of(a))),
            )
        return True

    async def assistant_insert(self, assistant: Assistant, *, if_exists: str | None) -> Assistant:
        async with self._tx("assistant_insert") as cur:
            if not await self._put_assistant(cur, assistant, new=True):
                row = await _first(cur, "SELECT doc FROM srv_assistants WHERE assistant_id = %s", (assistant.assistant_id,))
                if if_exists == "do_nothing":
                    return _decode(row[0], Assistant)
                raise Conflict(f"Assistant {assistant.assistant_id} already exists")
            return assistant

    async def assistant_get(self, assistant_id: str) -> Assistant | None:
        row = await self._one("assistant_get", "SELECT doc FROM srv_assistants WHERE assistant_id = %s", (assistant_id,))
        return None if row is None else _decode(row[0], Assistant)

    async def assistant_update(self, assistant_id: str, changes: Mapping[str, Any], now: datetime) -> Assistant | None:
        async with self._tx("assistant_update") as cur:
            row = await _first(cur, "SELECT doc FROM srv_assistants WHERE assistant_id = %s FOR UPDATE", (assistant_id,))
            if row is None:
                return None
            top = await _first(cur, "SELECT MAX(version) FROM srv_assistant_versions WHERE assistant_id = %s", (assistant_id,))
            updated = msgspec.structs.replace(
                _decode(row[0], Assistant), **changes, version=(top[0] or 0) + 1, updated_at=now
            )
            await self._put_assistant(cur, updated)
            return updated

    async def assistant_delete(self, assistant_id: str) -> bool:
        async with self._tx("assistant_delete") as cur:
            await cur.execute("DELETE FROM srv_assistants WHERE assistant_id = %s", (assistant_id,))
            if cur.rowcount == 0:
                return False
            await cur.execute("DELETE FROM srv_assistant_versions WHERE assistant_id = %s", (assistant_id,))
            # its crons go with it, as on LangGraph's server
            await cur.execute("DELETE FROM srv_crons WHERE assistant_id = %s", (assistant_id,))
            return True

    @staticmethod
    def _assistants(
        graph_id: str | None, name: str | None, metadata: Mapping[str, Any] | None, keep: Keep | None
    ) -> tuple[_Where, Keep | None]:
        where = _Where()
        if graph_id:
            where.add("graph_id = %s", graph_id)
        if name:
            where.add("strpos(lower(name), lower(%s)) > 0", name)  # as SQLite's LIKE: no case
        where.contains("metadata", metadata)
        return where, _record_test(where, keep, (_metadata, metadata))

    async def assistant_search(
        self,
        *,
        graph_id: str | None = None,
        name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
        keep: Keep | None = None,
    ) -> list[Assistant]:
        order = _order(sort_by, sort_order, ASSISTANT_SORT)
        where, test = self._assistants(graph_id, name, metadata, keep)
        return await self._search(
            "assistant_search", "srv_assistants", Assistant, where, test,
            order=f"{order}, assistant_id", limit=limit, offset=offset,
        )  # fmt: skip

    async def assistant_count(
        self, *, graph_id: str | None = None, name: str | None = None, metadata: Mapping[str, Any] | None = None,
        keep: Keep | None = None,
    ) -> int:
        where, test = self._assistants(graph_id, name, metadata, keep)
        return await self._count("assistant_count", "srv_assistants", Assistant, where, test)

    async def assistant_versions(
        self, assistant_id: str, *, metadata: Mapping[str, Any] | None = None, limit: int = 10, offset: int = 0,
        keep: Keep | None = None,
    ) -> list[AssistantVersion]:
        where = _Where("assistant_id = %s", assistant_id)
        where.contains("metadata", metadata)
        test = _record_test(where, keep, (_metadata, metadata))
        return await self._search(
            "assistant_versions", "srv_assistant_versions", AssistantVersion, where, test,
            order="version DESC", limit=limit, offset=offset,
        )  # fmt: skip

    async def assistant_set_latest(self, assistant_id: str, version: int, now: datetime) -> Assistant | None:
        async with self._tx("assistant_set_latest") as cur:
            current = await _first(cur, "SELECT doc FROM srv_assistants WHERE assistant_id = %s FOR UPDATE", (assistant_id,))
            row = await _first(
                cur, "SELECT doc FROM srv_assistant_versions WHERE assistant_id = %s AND version = %s", (assistant_id, version)
            )
            if row is None or current is None:
                return None
            v = _decode(row[0], AssistantVersion)
            latest = Assistant(**msgspec.structs.asdict(v), updated_at=now)
            latest = msgspec.structs.replace(latest, created_at=_decode(current[0], Assistant).created_at)
            await self._put_assistant(cur, latest, version=False)
            return latest

    # -- threads ------------------------------------------------------------------------

    async def thread_insert(self, thread: Thread, *, if_exists: str | None) -> Thread:
        async with self._tx("thread_insert") as cur:
            await _put_thread(cur, thread, "ON CONFLICT DO NOTHING")
            if cur.rowcount == 0:
                row = await _first(cur, "SELECT doc FROM srv_threads WHERE thread_id = %s", (thread.thread_id,))
                if if_exists == "do_nothing":
                    return _decode(row[0], Thread)
                raise Conflict(f"Thread {thread.thread_id} already exists")
            await cur.execute("DELETE FROM srv_thread_ttl WHERE thread_id = %s", (thread.thread_id,))
            return thread

    async def thread_get(self, thread_id: str) -> Thread | None:
        row = await self._one("thread_get", "SELECT doc FROM srv_threads WHERE thread_id = %s", (thread_id,))
        return None if row is None else _decode(row[0], Thread)

    async def thread_put(self, thread: Thread) -> None:
        async with self._tx("thread_put") as cur:
            await _put_thread(cur, thread)

    async def thread_set_status(self, thread_id: str, status: str, error: Any, now: datetime) -> None:
        async with self._tx("thread_set_status") as cur:
            await _thread_status(cur, thread_id, {"status": status, "error": error, "updated_at": now}, None)

    async def thread_delete(self, thread_id: str) -> bool:
        async with self._tx("thread_delete") as cur:
            return await _delete_thread_rows(cur, thread_id)

    @staticmethod
    def _threads(
        ids: Sequence[str] | None,
        metadata: Mapping[str, Any] | None,
        values: Mapping[str, Any] | None,
        status: str | None,
        keep: Keep | None,
    ) -> tuple[_Where, Keep | None]:
        where = _Where()
        if ids:
            where.add("thread_id = ANY(%s)", list(ids))
        if status:
            where.add("status = %s", status)
        where.contains("metadata", metadata)
        where.contains("vals", values)
        return where, _record_test(where, keep, (_metadata, metadata), (_values, values))

    async def thread_search(
        self,
        *,
        ids: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
        status: str | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
        keep: Keep | None = None,
    ) -> list[Thread]:
        order = _order(sort_by, sort_order, THREAD_SORT)
        where, test = self._threads(ids, metadata, values, status, keep)
        return await self._search(
            "thread_search", "srv_threads", Thread, where, test, order=f"{order}, thread_id", limit=limit, offset=offset
        )

    async def thread_count(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
        status: str | None = None,
        keep: Keep | None = None,
    ) -> int:
        where, test = self._threads(None, metadata, values, status, keep)
        return await self._count("thread_count", "srv_threads", Thread, where, test)

    # -- runs ---------------------------------------------------------------------------

    async def run_insert(
        self, run: Run, *, available_at: float, thread: Thread | None = None, ttl_from: float | None = None
    ) -> bool:
        async with self._tx("run_insert") as cur:
            clocked = False
            if ttl_from is not None:
                # the clock's row locked first, then the thread's, as a sweep locks them
                await cur.execute(
                    "UPDATE srv_thread_ttl SET expires_at = %s + ttl_minutes * 60 WHERE thread_id = %s",
                    (ttl_from, run.thread_id),
                )
                clocked = cur.rowcount > 0
            # the thread's row locked: a retention sweep deleting it is wholly before (Gone)
            # or after (it sees this run) this insert
            if thread is not None and not await _first(
                cur, "SELECT 1 FROM srv_threads WHERE thread_id = %s FOR UPDATE", (thread.thread_id,)
            ):
                raise Gone(f"Thread {thread.thread_id} was deleted")
            await cur.execute(
                """INSERT INTO srv_runs (run_id, thread_id, status, created_at, available_at, doc)
                   VALUES (%s, %s, %s, %s, %s, %s)""",
                (run.run_id, run.thread_id, run.status, run.created_at, available_at, _encode(run)),
            )
            if thread is not None:
                await _put_thread(cur, thread)
            return clocked

    async def run_get(self, run_id: str) -> Run | None:
        row = await self._one("run_get", "SELECT doc FROM srv_runs WHERE run_id = %s", (run_id,))
        return None if row is None else _decode(row[0], Run)

    async def run_list(
        self, thread_id: str, *, status: str | None = None, limit: int = 10, offset: int = 0
    ) -> list[Run]:
        where, params = "thread_id = %s", [thread_id]
        if status:
            where += " AND status = %s"
            params.append(status)
        rows = await self._rows(
            "run_list",
            f"SELECT doc FROM srv_runs WHERE {where} ORDER BY seq DESC LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        return [_decode(r[0], Run) for r in rows]

    async def run_active(self, thread_id: str) -> list[Run]:
        rows = await self._rows(
            "run_active",
            "SELECT doc FROM srv_runs WHERE thread_id = %s AND status IN ('pending', 'running') ORDER BY seq",
            (thread_id,),
        )
        return [_decode(r[0], Run) for r in rows]

    async def run_set_status(
        self, run_id: str, status: str, now: datetime, *, owner: str | None = None, expect: str | None = None
    ) -> Run | None:
        async with self._tx("run_set_status") as cur:
            return await _set_run_status(cur, run_id, status, now, owner, expect)

    async def run_finish(
        self,
        run_id: str,
        status: str,
        now: datetime,
        events: Sequence[tuple[int, str, bytes]],
        thread_changes: Mapping[str, Any] | None,
        *,
        owner: str | None = None,
    ) -> bool:
        async with self._tx("run_finish") as cur:
            run = await _set_run_status(cur, run_id, status, now, owner)
            if run is None:
                return False
            if events:
                await cur.executemany(_INSERT_EVENT, [(run_id, s, e, d) for s, e, d in events])
            if thread_changes is not None:
                await _thread_status(cur, run.thread_id, thread_changes, run_id)
            return True

    async def run_delete(self, run_id: str, *, owner: str | None = None) -> bool:
        async with self._tx("run_delete") as cur:
            if owner is None:
                await cur.execute("DELETE FROM srv_runs WHERE run_id = %s", (run_id,))
            else:
                await cur.execute(
                    "DELETE FROM srv_runs WHERE run_id = %s AND status = 'running' AND lease_owner = %s", (run_id, owner)
                )
            if cur.rowcount == 0:
                return False
            await cur.execute("DELETE FROM srv_run_events WHERE run_id = %s", (run_id,))
            return True

    async def run_claim(self, owner: str, lease_until: float, now: float) -> Claim:
        """The oldest due pending run on a thread with no running run, marked ``running``
        and leased to ``owner``, its thread ``busy``. Among processes: a claimer locks the
        thread before it looks at its runs (and skips a thread another claimer holds), so
        one run is never claimed twice and a thread never has two running runs."""
        async with self._tx("run_claim") as cur:
            await cur.execute(_CANDIDATES, (now,))
            claim = None
            for (thread_id,) in await cur.fetchall():
                claim = await _claim_on(cur, thread_id, owner, lease_until, now)
                if claim is not None:
                    break
            due = await _first(cur, "SELECT MIN(available_at) FROM srv_runs WHERE status = 'pending'")
            if claim is not None:
                return msgspec.structs.replace(claim, next_due=due[0])
            return Claim(run=None, next_due=due[0])

    async def run_take(self, run_id: str, owner: str, lease_until: float, now: datetime) -> Run | None:
        async with self._tx("run_take") as cur:
            row = await _first(cur, "SELECT doc FROM srv_runs WHERE run_id = %s AND status = 'pending' FOR UPDATE", (run_id,))
            if row is None:
                return None
            run = msgspec.structs.replace(_decode(row[0], Run), status="running", updated_at=now)
            await cur.execute(
                "UPDATE srv_runs SET status = 'running', lease_owner = %s, lease_until = %s, doc = %s WHERE run_id = %s",
                (owner, lease_until, _encode(run), run_id),
            )
            return run

    async def run_renew(self, run_ids: Sequence[str], owner: str, lease_until: float) -> Renewal:
        if not run_ids:
            return Renewal()
        rows = await self._rows(
            "run_renew",
            """UPDATE srv_runs SET lease_until = %s WHERE status = 'running' AND lease_owner = %s
               AND run_id = ANY(%s) RETURNING run_id, cancel""",
            (lease_until, owner, list(run_ids)),
        )
        return Renewal(kept=tuple(r[0] for r in rows), cancels={r[0]: r[1] for r in rows if r[1] is not None})

    async def run_request_cancel(self, run_id: str, action: str) -> bool:
        count = await self._write(
            "run_request_cancel", "UPDATE srv_runs SET cancel = %s WHERE run_id = %s AND status = 'running'", (action, run_id)
        )
        return count == 1

    async def run_requeue_expired(self, now: float) -> list[str]:
        """Running runs whose lease ran out (their worker died) go back to ``pending``
        (their last owner is kept: a claim then knows they were started before). Rows
        another process is requeueing, renewing or finishing right now are skipped."""
        async with self._tx("run_requeue_expired") as cur:
            await cur.execute(
                """SELECT doc FROM srv_runs WHERE status = 'running' AND (lease_until IS NULL OR lease_until < %s)
                   ORDER BY seq FOR UPDATE SKIP LOCKED""",
                (now,),
            )
            runs = [msgspec.structs.replace(_decode(doc, Run), status="pending") for (doc,) in await cur.fetchall()]
            if runs:
                await cur.executemany(
                    "UPDATE srv_runs SET status = 'pending', lease_until = NULL, doc = %s WHERE run_id = %s",
                    [(_encode(r), r.run_id) for r in runs],
                )
            return [r.run_id for r in runs]

    async def run_next_available(self) -> float | None:
        row = await self._one("run_next_available", "SELECT MIN(available_at) FROM srv_runs WHERE status = 'pending'")
        return None if row is None else row[0]

    async def run_counts(self) -> dict[str, int]:
        rows = await self._rows("run_counts", "SELECT status, COUNT(*) FROM srv_runs GROUP BY status")
        return {status: count for status, count in rows}

    # -- event log ----------------------------------------------------------------------

    async def events_append(self, run_id: str, events: Sequence[tuple[int, str, bytes]]) -> None:
        if events:
            async with self._tx("events_append") as cur:
                await cur.executemany(_INSERT_EVENT, [(run_id, s, e, d) for s, e, d in events])

    async def events_read(self, run_id: str, after: int = -1) -> list[tuple[int, str, bytes]]:
        rows = await self._rows(
            "events_read",
            "SELECT seq, event, data FROM srv_run_events WHERE run_id = %s AND seq > %s ORDER BY seq",
            (run_id, after),
        )
        return [(s, e, bytes(d)) for s, e, d in rows]

    # -- thread TTL clocks ------------------------------------------------------------------

    async def ttl_set(self, thread_id: str, strategy: str, minutes: float, expires_at: float | None) -> None:
        await self._write(
            "ttl_set",
            """INSERT INTO srv_thread_ttl VALUES (%s, %s, %s, %s) ON CONFLICT (thread_id) DO UPDATE
               SET strategy = EXCLUDED.strategy, ttl_minutes = EXCLUDED.ttl_minutes, expires_at = EXCLUDED.expires_at""",
            (thread_id, strategy, minutes, expires_at),
        )

    async def ttl_expired(self, now: float, limit: int) -> list[str]:
        rows = await self._rows(
            "ttl_expired",
            "SELECT thread_id FROM srv_thread_ttl WHERE expires_at <= %s ORDER BY expires_at LIMIT %s",
            (now, limit),
        )
        return [r[0] for r in rows]

    async def ttl_expire(self, thread_id: str, now: float) -> str:
        async with self._tx("ttl_expire") as cur:
            return await _expire(cur, thread_id, now)
