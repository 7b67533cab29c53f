"""SQLite storage on aiosqlite (WAL): the server's records in the same file as the
checkpoints and the store, in tables of their own (``srv_*``).

Each record is kept whole as JSON (``doc``) beside the columns the queries filter and sort
by. One connection. Statements that must see each other (a claim, a version bump, a run's
end) run as one function on the connection's thread, in one ``BEGIN IMMEDIATE``
transaction: one hop to that thread instead of one per statement, atomic against other
coroutines (nothing runs between them) and other processes on the same file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
import msgspec

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
    matches,
    sort_direction,
)
from actorgraph.server.storage._sqlite_crons import CRON_SCHEMA, SqliteCrons

__all__ = ("SqliteStorage",)

T = TypeVar("T")

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS srv_assistants (
        assistant_id TEXT PRIMARY KEY, graph_id TEXT NOT NULL, name TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, doc BLOB NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS srv_assistant_versions (
        assistant_id TEXT NOT NULL, version INTEGER NOT NULL, doc BLOB NOT NULL,
        PRIMARY KEY (assistant_id, version))""",
    """CREATE TABLE IF NOT EXISTS srv_threads (
        thread_id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL, doc BLOB NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS srv_runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT UNIQUE NOT NULL, thread_id TEXT NOT NULL,
        status TEXT NOT NULL, created_at TEXT NOT NULL, available_at REAL NOT NULL,
        lease_owner TEXT, lease_until REAL, doc BLOB NOT NULL, cancel TEXT)""",
    "CREATE INDEX IF NOT EXISTS srv_runs_thread ON srv_runs (thread_id, status)",
    "CREATE INDEX IF NOT EXISTS srv_runs_status ON srv_runs (status, available_at)",
    """CREATE TABLE IF NOT EXISTS srv_run_events (
        run_id TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL, data BLOB NOT NULL,
        PRIMARY KEY (run_id, seq))""",
    """CREATE TABLE IF NOT EXISTS srv_thread_ttl (
        thread_id TEXT PRIMARY KEY, strategy TEXT NOT NULL, ttl_minutes REAL NOT NULL, expires_at REAL)""",
    "CREATE INDEX IF NOT EXISTS srv_thread_ttl_expiry ON srv_thread_ttl (expires_at)",
)
# the engine's checkpoint tables in this file (the SQLite saver's), deleted with an expired thread
_CHECKPOINT_TABLES = ("checkpoints", "writes")

_INSERT_EVENT = "INSERT OR IGNORE INTO srv_run_events VALUES (?, ?, ?, ?)"
_ACTIVE_RUN = "SELECT 1 FROM srv_runs WHERE thread_id = ? AND status IN ('pending', 'running') LIMIT 1"
_CLEAR_CLOCK = "DELETE FROM srv_thread_ttl WHERE thread_id = ?"
_RESTART_CLOCK = "UPDATE srv_thread_ttl SET expires_at = ? + ttl_minutes * 60 WHERE thread_id = ?"

_encode = msgspec.json.encode


def _decode(data: bytes | str, type_: type[T]) -> T:
    return msgspec.json.decode(data, type=type_)


def _ts(value: datetime) -> str:
    return value.isoformat()


def in_transaction(conn: sqlite3.Connection, fn: Callable[..., T], *args: Any) -> T:
    """``fn(conn, *args)`` in one ``BEGIN IMMEDIATE`` transaction (rolled back if it raises)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        out = fn(conn, *args)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return out


def _first(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> Any:
    return conn.execute(sql, params).fetchone()


def _thread_status(conn: sqlite3.Connection, thread_id: str, changes: Mapping[str, Any], skip_run: str | None) -> None:
    """Replace ``changes`` on the thread's record; its status stays ``busy`` while a run
    on it (other than ``skip_run``) is pending or running."""
    row = _first(conn, "SELECT doc FROM srv_threads WHERE thread_id = ?", (thread_id,))
    if row is None:
        return
    changes = dict(changes)
    if changes.get("status", "busy") != "busy" and _first(
        conn,
        "SELECT 1 FROM srv_runs WHERE thread_id = ? AND status IN ('pending', 'running') AND run_id IS NOT ?",
        (thread_id, skip_run),
    ):
        changes["status"] = "busy"  # more runs are queued on it
    thread = msgspec.structs.replace(_decode(row[0], Thread), **changes)
    conn.execute(*_thread_row(thread))


def _delete_thread_rows(conn: sqlite3.Connection, thread_id: str) -> None:
    """Delete a thread's record, its runs and their events, and its crons (in the caller's
    transaction: retention deletes a thread in the same transaction as its checks)."""
    conn.execute("DELETE FROM srv_threads WHERE thread_id = ?", (thread_id,))
    conn.execute("DELETE FROM srv_run_events WHERE run_id IN (SELECT run_id FROM srv_runs WHERE thread_id = ?)", (thread_id,))
    conn.execute("DELETE FROM srv_runs WHERE thread_id = ?", (thread_id,))
    conn.execute("DELETE FROM srv_crons WHERE thread_id = ?", (thread_id,))


def _thread_row(t: Thread) -> tuple[str, Sequence[Any]]:
    return (
        "INSERT OR REPLACE INTO srv_threads VALUES (?, ?, ?, ?, ?)",
        (t.thread_id, t.status, _ts(t.created_at), _ts(t.updated_at), _encode(t)),
    )


def _expire(conn: sqlite3.Connection, thread_id: str, now: float) -> str:
    """``ttl_expire`` in the caller's transaction (a ``BEGIN IMMEDIATE``: a run's insert
    is wholly before or after it)."""
    clock = _first(conn, "SELECT strategy, expires_at FROM srv_thread_ttl WHERE thread_id = ?", (thread_id,))
    if clock is None or clock[1] is None or clock[1] > now:
        return "fresh"
    if _first(conn, "SELECT 1 FROM srv_threads WHERE thread_id = ?", (thread_id,)) is None:
        conn.execute("DELETE FROM srv_thread_ttl WHERE thread_id = ?", (thread_id,))
        return "gone"
    if _first(conn, _ACTIVE_RUN, (thread_id,)) is not None:
        return "busy"
    if clock[0] == "keep_latest":
        # the clock waits for the next run (which starts it again with the same ttl)
        conn.execute("UPDATE srv_thread_ttl SET expires_at = NULL WHERE thread_id = ?", (thread_id,))
        return "keep_latest"
    _delete_thread_rows(conn, thread_id)
    # deleted in this transaction, a thread of the same id made right after keeps its own
    for table in _CHECKPOINT_TABLES:
        if _first(conn, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)):
            conn.execute(f"DELETE FROM {table} WHERE thread_id = ?", (thread_id,))
    conn.execute("DELETE FROM srv_thread_ttl WHERE thread_id = ?", (thread_id,))
    return "delete"


def _set_run_status(
    conn: sqlite3.Connection, run_id: str, status: str, now: datetime, owner: str | None = None, expect: str | None = None
) -> Run | None:
    row = _first(conn, "SELECT doc, lease_owner, status FROM srv_runs WHERE run_id = ?", (run_id,))
    # fenced: the run must still be running under ``owner`` (as ``run_renew`` keeps it)
    if row is None or (owner is not None and (row[1] != owner or row[2] != "running")):
        return None
    if expect is not None and row[2] != expect:
        return None  # it moved on meanwhile (a pending run claimed)
    run = msgspec.structs.replace(_decode(row[0], Run), status=status, updated_at=now)  # type: ignore[arg-type]
    lease = "" if status in ("pending", "running") else ", lease_owner = NULL, lease_until = NULL, cancel = NULL"
    conn.execute(f"UPDATE srv_runs SET status = ?, doc = ?{lease} WHERE run_id = ?", (status, _encode(run), run_id))
    return run


def _order(sort_by: str | None, sort_order: str | None, allowed: Mapping[str, str]) -> str:
    column = allowed.get(sort_by or "", DEFAULT_SORT)
    direction = sort_direction(sort_order)
    return f"{column} {direction}"


class SqliteStorage(SqliteCrons):
    """:class:`~actorgraph.server.storage.Storage` in a SQLite file (crons: :class:`SqliteCrons`).
    It never raises ``Unavailable``: the file is local, one process owns it."""

    shared = False

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn: aiosqlite.Connection | None = None

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("SqliteStorage.setup() has not run")
        return self._conn

    async def setup(self) -> None:
        if self._conn is not None:
            return
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=30000"):
            await conn.execute(pragma)
        for statement in (*_SCHEMA, *CRON_SCHEMA):
            await conn.execute(statement)
        # a file made before cancel requests were kept
        if "cancel" not in {row[1] for row in await conn.execute_fetchall("PRAGMA table_info(srv_runs)")}:
            await conn.execute("ALTER TABLE srv_runs ADD COLUMN cancel TEXT")
        self._conn = conn

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    # a read runs to its end in one call on the connection's thread: a statement left open
    # between two calls would pin an old snapshot, and a BEGIN IMMEDIATE another coroutine
    # slips in meanwhile would fail with "database is locked"
    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self.conn.execute_fetchall(sql, params))

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = await self.conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def _write(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self.conn.execute(sql, params)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(connection, *args)`` in one transaction, in one call on the connection's
        thread (aiosqlite's ``_execute``, as the checkpointer does)."""
        return await self.conn._execute(in_transaction, self.conn._conn, fn, *args)  # type: ignore[no-any-return]

    async def _tx(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        def run(conn: sqlite3.Connection) -> None:
            for sql, params in statements:
                conn.execute(sql, params)

        await self._call(run)

    # -- assistants ---------------------------------------------------------------------

    @staticmethod
    def _version_of(a: Assistant) -> AssistantVersion:
        fields = msgspec.structs.asdict(a)
        # a version was made when the assistant last changed
        fields["created_at"] = fields.pop("updated_at")
        return AssistantVersion(**fields)

    def _assistant_rows(self, a: Assistant) -> list[tuple[str, Sequence[Any]]]:
        return [
            (
                "INSERT OR REPLACE INTO srv_assistants VALUES (?, ?, ?, ?, ?, ?)",
                (a.assistant_id, a.graph_id, a.name, _ts(a.created_at), _ts(a.updated_at), _encode(a)),
            ),
            (
                "INSERT OR REPLACE INTO srv_assistant_versions VALUES (?, ?, ?)",
                (a.assistant_id, a.version, _encode(self._version_of(a))),
            ),
        ]

    async def assistant_insert(self, assistant: Assistant, *, if_exists: str | None) -> Assistant:
        def insert(conn: sqlite3.Connection) -> Assistant:
            row = _first(conn, "SELECT doc FROM srv_assistants WHERE assistant_id = ?", (assistant.assistant_id,))
            if row is not None:
                if if_exists == "do_nothing":
                    return _decode(row[0], Assistant)
                raise Conflict(f"Assistant {assistant.assistant_id} already exists")
            for sql, params in self._assistant_rows(assistant):
                conn.execute(sql, params)
            return assistant

        return await self._call(insert)

    async def assistant_get(self, assistant_id: str) -> Assistant | None:
        row = await self._one("SELECT doc FROM srv_assistants WHERE assistant_id = ?", (assistant_id,))
        return None if row is None else _decode(row[0], Assistant)

    async def assistant_update(self, assistant_id: str, changes: Mapping[str, Any], now: datetime) -> Assistant | None:
        def update(conn: sqlite3.Connection) -> Assistant | None:
            row = _first(conn, "SELECT doc FROM srv_assistants WHERE assistant_id = ?", (assistant_id,))
            if row is None:
                return None
            current = _decode(row[0], Assistant)
            top = _first(conn, "SELECT MAX(version) FROM srv_assistant_versions WHERE assistant_id = ?", (assistant_id,))
            updated = msgspec.structs.replace(current, **changes, version=(top[0] or 0) + 1, updated_at=now)
            for sql, params in self._assistant_rows(updated):
                conn.execute(sql, params)
            return updated

        return await self._call(update)

    async def assistant_delete(self, assistant_id: str) -> bool:
        row = await self._one("SELECT 1 FROM srv_assistants WHERE assistant_id = ?", (assistant_id,))
        if row is None:
            return False
        await self._tx(
            [
                ("DELETE FROM srv_assistants WHERE assistant_id = ?", (assistant_id,)),
                ("DELETE FROM srv_assistant_versions WHERE assistant_id = ?", (assistant_id,)),
                # its crons go with it, as on LangGraph's server
                ("DELETE FROM srv_crons WHERE assistant_id = ?", (assistant_id,)),
            ]
        )
        return True

    async def _assistants(
        self, graph_id: str | None, name: str | None, order: str = "created_at DESC"
    ) -> list[Assistant]:
        where: list[str] = ["1=1"]
        params: list[Any] = []
        if graph_id:
            where.append("graph_id = ?")
            params.append(graph_id)
        if name:
            where.append("name LIKE ?")
            params.append(f"%{name}%")
        rows = await self._rows(f"SELECT doc FROM srv_assistants WHERE {' AND '.join(where)} ORDER BY {order}", params)
        return [_decode(r[0], Assistant) for r in rows]

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
        found = [
            a for a in await self._assistants(graph_id, name, order) if matches(a.metadata, metadata) and (keep is None or keep(a))
        ]
        return found[offset : offset + limit]

    async def assistant_count(
        self, *, graph_id: str | None = None, name: str | None = None, metadata: Mapping[str, Any] | None = None,
        keep: Keep | None = None,
    ) -> int:
        return sum(
            1 for a in await self._assistants(graph_id, name) if matches(a.metadata, metadata) and (keep is None or keep(a))
        )

    async def assistant_versions(
        self, assistant_id: str, *, metadata: Mapping[str, Any] | None = None, limit: int = 10, offset: int = 0,
        keep: Keep | None = None,
    ) -> list[AssistantVersion]:
        rows = await self._rows(
            "SELECT doc FROM srv_assistant_versions WHERE assistant_id = ? ORDER BY version DESC", (assistant_id,)
        )
        versions = [_decode(r[0], AssistantVersion) for r in rows]
        return [v for v in versions if matches(v.metadata, metadata) and (keep is None or keep(v))][offset : offset + limit]

    async def assistant_set_latest(self, assistant_id: str, version: int, now: datetime) -> Assistant | None:
        row = await self._one(
            "SELECT doc FROM srv_assistant_versions WHERE assistant_id = ? AND version = ?", (assistant_id, version)
        )
        current = await self.assistant_get(assistant_id)
        if row is None or current is None:
            return None
        v = _decode(row[0], AssistantVersion)
        latest = Assistant(**msgspec.structs.asdict(v), updated_at=now)
        latest = msgspec.structs.replace(latest, created_at=current.created_at)
        await self._tx([(sql, params) for sql, params in self._assistant_rows(latest)[:1]])
        return latest

    # -- threads ------------------------------------------------------------------------

    async def thread_insert(self, thread: Thread, *, if_exists: str | None) -> Thread:
        def insert(conn: sqlite3.Connection) -> Thread:
            row = _first(conn, "SELECT doc FROM srv_threads WHERE thread_id = ?", (thread.thread_id,))
            if row is not None:
                if if_exists == "do_nothing":
                    return _decode(row[0], Thread)
                raise Conflict(f"Thread {thread.thread_id} already exists")
            conn.execute(*_thread_row(thread))
            conn.execute(_CLEAR_CLOCK, (thread.thread_id,))
            return thread

        return await self._call(insert)

    async def thread_get(self, thread_id: str) -> Thread | None:
        row = await self._one("SELECT doc FROM srv_threads WHERE thread_id = ?", (thread_id,))
        return None if row is None else _decode(row[0], Thread)

    async def thread_put(self, thread: Thread) -> None:
        await self._write(*_thread_row(thread))

    async def thread_set_status(self, thread_id: str, status: str, error: Any, now: datetime) -> None:
        await self._call(_thread_status, thread_id, {"status": status, "error": error, "updated_at": now}, None)

    async def thread_delete(self, thread_id: str) -> bool:
        row = await self._one("SELECT 1 FROM srv_threads WHERE thread_id = ?", (thread_id,))
        if row is None:
            return False
        await self._call(_delete_thread_rows, thread_id)
        return True

    async def _threads(
        self, ids: Sequence[str] | None, status: str | None, order: str = "created_at DESC"
    ) -> list[Thread]:
        where: list[str] = ["1=1"]
        params: list[Any] = []
        if ids:
            where.append(f"thread_id IN ({','.join('?' * len(ids))})")
            params.extend(ids)
        if status:
            where.append("status = ?")
            params.append(status)
        rows = await self._rows(f"SELECT doc FROM srv_threads WHERE {' AND '.join(where)} ORDER BY {order}", params)
        return [_decode(r[0], Thread) for r in rows]

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
        found = [
            t
            for t in await self._threads(ids, status, order)
            if matches(t.metadata, metadata) and matches(t.values, values) and (keep is None or keep(t))
        ]
        return found[offset : offset + limit]

    async def thread_count(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
        status: str | None = None,
        keep: Keep | None = None,
    ) -> int:
        return sum(
            1
            for t in await self._threads(None, status)
            if matches(t.metadata, metadata) and matches(t.values, values) and (keep is None or keep(t))
        )

    # -- runs ---------------------------------------------------------------------------

    async def run_insert(
        self, run: Run, *, available_at: float, thread: Thread | None = None, ttl_from: float | None = None
    ) -> bool:
        statements: list[tuple[str, Sequence[Any]]] = [
            (
                "INSERT INTO srv_runs (run_id, thread_id, status, created_at, available_at, doc) VALUES (?, ?, ?, ?, ?, ?)",
                (run.run_id, run.thread_id, run.status, _ts(run.created_at), available_at, _encode(run)),
            )
        ]
        if thread is not None:
            statements.append(_thread_row(thread))

        def insert(conn: sqlite3.Connection) -> bool:
            # checked in the insert's transaction: a thread deleted since the request read
            # it (a retention sweep) is not brought back by its stale record
            if thread is not None and _first(conn, "SELECT 1 FROM srv_threads WHERE thread_id = ?", (thread.thread_id,)) is None:
                raise Gone(f"Thread {thread.thread_id} was deleted")
            clocked = ttl_from is not None and conn.execute(_RESTART_CLOCK, (ttl_from, run.thread_id)).rowcount > 0
            for sql, params in statements:
                conn.execute(sql, params)
            return clocked

        return await self._call(insert)

    async def run_get(self, run_id: str) -> Run | None:
        row = await self._one("SELECT doc FROM srv_runs WHERE run_id = ?", (run_id,))
        return None if row is None else _decode(row[0], Run)

    async def run_list(
        self, thread_id: str, *, status: str | None = None, limit: int = 10, offset: int = 0
    ) -> list[Run]:
        where, params = "thread_id = ?", [thread_id]
        if status:
            where += " AND status = ?"
            params.append(status)
        rows = await self._rows(
            f"SELECT doc FROM srv_runs WHERE {where} ORDER BY seq DESC LIMIT ? OFFSET ?", [*params, limit, offset]
        )
        return [_decode(r[0], Run) for r in rows]

    async def run_active(self, thread_id: str) -> list[Run]:
        rows = await self._rows(
            "SELECT doc FROM srv_runs WHERE thread_id = ? AND status IN ('pending', 'running') ORDER BY seq",
            (thread_id,),
        )
        return [_decode(r[0], Run) for r in rows]

    async def run_set_status(
        self, run_id: str, status: str, now: datetime, *, owner: str | None = None, expect: str | None = None
    ) -> Run | None:
        return await self._call(_set_run_status, run_id, status, now, owner, expect)

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
        def finish(conn: sqlite3.Connection) -> bool:
            run = _set_run_status(conn, run_id, status, now, owner)
            if run is None:
                return False
            conn.executemany(_INSERT_EVENT, [(run_id, s, e, d) for s, e, d in events])
            if thread_changes is not None:
                _thread_status(conn, run.thread_id, thread_changes, run_id)
            return True

        return await self._call(finish)

    async def run_delete(self, run_id: str, *, owner: str | None = None) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            if owner is None:
                cursor = conn.execute("DELETE FROM srv_runs WHERE run_id = ?", (run_id,))
            else:
                cursor = conn.execute(
                    "DELETE FROM srv_runs WHERE run_id = ? AND status = 'running' AND lease_owner = ?", (run_id, owner)
                )
            if cursor.rowcount == 0:
                return False
            conn.execute("DELETE FROM srv_run_events WHERE run_id = ?", (run_id,))
            return True

        return await self._call(delete)

    async def run_claim(self, owner: str, lease_until: float, now: float) -> Claim:
        """The oldest pending run that is due, on a thread with no running run, marked
        ``running`` and leased to ``owner``, its thread ``busy`` (atomically: two workers
        never claim one run)."""

        def claim(conn: sqlite3.Connection) -> Claim:
            row = _first(
                conn,
                """SELECT doc, lease_owner FROM srv_runs r WHERE r.status = 'pending' AND r.available_at <= ?
                   AND NOT EXISTS (SELECT 1 FROM srv_runs o WHERE o.thread_id = r.thread_id
                                   AND o.status = 'running')
                   ORDER BY r.seq LIMIT 1""",
                (now,),
            )
            if row is None:
                due = _first(conn, "SELECT MIN(available_at) FROM srv_runs WHERE status = 'pending'")
                return Claim(run=None, next_due=due[0])
            run = _decode(row[0], Run)
            run = msgspec.structs.replace(run, status="running", updated_at=datetime.fromtimestamp(now).astimezone())
            conn.execute(
                "UPDATE srv_runs SET status = 'running', lease_owner = ?, lease_until = ?, doc = ? WHERE run_id = ?",
                (owner, lease_until, _encode(run), run.run_id),
            )
            # a run that had an owner was started before (its worker died or stopped)
            resumed = row[1] is not None
            thread = _first(conn, "SELECT status FROM srv_threads WHERE thread_id = ?", (run.thread_id,))
            if thread is not None and thread[0] != "busy":
                _thread_status(conn, run.thread_id, {"status": "busy", "error": None, "updated_at": run.updated_at}, None)
            due = _first(conn, "SELECT MIN(available_at) FROM srv_runs WHERE status = 'pending'")
            return Claim(run=run, resumed=resumed, next_due=due[0])

        return await self._call(claim)

    async def run_take(self, run_id: str, owner: str, lease_until: float, now: datetime) -> Run | None:
        def take(conn: sqlite3.Connection) -> Run | None:
            row = _first(conn, "SELECT doc FROM srv_runs WHERE run_id = ? AND status = 'pending'", (run_id,))
            if row is None:
                return None
            run = msgspec.structs.replace(_decode(row[0], Run), status="running", updated_at=now)
            conn.execute(
                "UPDATE srv_runs SET status = 'running', lease_owner = ?, lease_until = ?, doc = ? WHERE run_id = ?",
                (owner, lease_until, _encode(run), run_id),
            )
            return run

        return await self._call(take)

    async def run_renew(self, run_ids: Sequence[str], owner: str, lease_until: float) -> Renewal:
        if not run_ids:
            return Renewal()
        rows = await self._rows(
            f"""UPDATE srv_runs SET lease_until = ? WHERE status = 'running' AND lease_owner = ?
                AND run_id IN ({','.join('?' * len(run_ids))}) RETURNING run_id, cancel""",
            (lease_until, owner, *run_ids),
        )
        return Renewal(kept=tuple(r[0] for r in rows), cancels={r[0]: r[1] for r in rows if r[1] is not None})

    async def run_request_cancel(self, run_id: str, action: str) -> bool:
        def request(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute("UPDATE srv_runs SET cancel = ? WHERE run_id = ? AND status = 'running'", (action, run_id))
            return cursor.rowcount == 1

        return await self._call(request)

    async def run_requeue_expired(self, now: float) -> list[str]:
        """Running runs whose lease ran out (their worker died) go back to ``pending``
        (their last owner is kept: a claim then knows they were started before)."""

        def requeue(conn: sqlite3.Connection) -> list[str]:
            rows = conn.execute(
                "SELECT doc FROM srv_runs WHERE status = 'running' AND (lease_until IS NULL OR lease_until < ?)", (now,)
            ).fetchall()
            ids = []
            for (doc,) in rows:
                run = msgspec.structs.replace(_decode(doc, Run), status="pending")
                conn.execute(
                    "UPDATE srv_runs SET status = 'pending', lease_until = NULL, doc = ? WHERE run_id = ?",
                    (_encode(run), run.run_id),
                )
                ids.append(run.run_id)
            return ids

        return await self._call(requeue)

    async def run_next_available(self) -> float | None:
        row = await self._one("SELECT MIN(available_at) FROM srv_runs WHERE status = 'pending'")
        return None if row is None else row[0]

    async def run_counts(self) -> dict[str, int]:
        rows = await self._rows("SELECT status, COUNT(*) FROM srv_runs GROUP BY status")
        return {status: count for status, count in rows}

    # -- event log ----------------------------------------------------------------------

    async def events_append(self, run_id: str, events: Sequence[tuple[int, str, bytes]]) -> None:
        await self.conn.executemany(_INSERT_EVENT, [(run_id, s, e, d) for s, e, d in events])

    async def events_read(self, run_id: str, after: int = -1) -> list[tuple[int, str, bytes]]:
        rows = await self._rows(
            "SELECT seq, event, data FROM srv_run_events WHERE run_id = ? AND seq > ? ORDER BY seq", (run_id, after)
        )
        return [(s, e, bytes(d)) for s, e, d in rows]

    # -- thread TTL clocks ------------------------------------------------------------------

    async def ttl_set(self, thread_id: str, strategy: str, minutes: float, expires_at: float | None) -> None:
        await self._write("INSERT OR REPLACE INTO srv_thread_ttl VALUES (?, ?, ?, ?)", (thread_id, strategy, minutes, expires_at))

    async def ttl_expired(self, now: float, limit: int) -> list[str]:
        rows = await self._rows(
            "SELECT thread_id FROM srv_thread_ttl WHERE expires_at <= ? ORDER BY expires_at LIMIT ?", (now, limit)
        )
        return [r[0] for r in rows]

    async def ttl_expire(self, thread_id: str, now: float) -> str:
        return await self._call(_expire, thread_id, now)
