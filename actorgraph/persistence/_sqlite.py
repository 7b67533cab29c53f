"""SQLite savers: ``SqliteSaver`` (sqlite3, sync and async calls) and
``AsyncSqliteSaver`` (aiosqlite, asyncio only).

They use LangGraph's tables (``checkpoints`` and ``writes``, same columns), so a database
LangGraph wrote reads back here. A step the runtime saves is one ``checkpoints`` row of
type ``actorgraph`` (its bookkeeping and the blobs of the channels it changed) plus its
tasks' ``writes`` rows, in one transaction; ``put`` stores LangGraph's shape. Metadata is
JSON, which ``list(filter=...)`` queries with ``json_extract``. WAL mode and a busy
timeout make one file safe for several threads and processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio.to_thread
import msgspec

from actorgraph.errors import CheckpointError
from actorgraph.persistence._base import ANY_HEAD, RowCheckpointSaver, SaverStatistics, StoredWrite, check_head, kept_on_conflict
from actorgraph.persistence._codec import typed, untyped
from actorgraph.persistence._model import NATIVE, CheckpointRow, ForeignRow, WriteRow, decode_metadata, encode_metadata, pack_row, unpack_row
from actorgraph.persistence._saver_api import Checkpoint
from actorgraph.persistence._saver_bridges import LoopSync, ThreadedAsync
from actorgraph.persistence._serde import JsonPlusSerializer
from actorgraph.persistence._serde_protocols import SerializerProtocol
from actorgraph.persistence._sqlite_utils import ANCESTORS_SQL, CHECKPOINT_COLUMNS, SCHEMA, pending_writes_sql, search_where

__all__ = ("AsyncSqliteSaver", "SqliteSaver")

def _is_readonly(exc: sqlite3.Error) -> bool:
    """A write refused because the database is read-only (by its error code, not its text)."""
    return getattr(exc, "sqlite_errorname", "").startswith("SQLITE_READONLY")


_PRAGMAS = ("PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=30000")
_INSERT_ROW = f"INSERT OR REPLACE INTO checkpoints ({CHECKPOINT_COLUMNS}) VALUES (?,?,?,?,?,?,?)"
_WRITE_COLUMNS = "thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, value"
_INSERT_WRITE = f"INSERT OR REPLACE INTO writes ({_WRITE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)"
_INSERT_WRITE_KEEP = f"INSERT OR IGNORE INTO writes ({_WRITE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)"
_SELECT = f"SELECT {CHECKPOINT_COLUMNS} FROM checkpoints"
_BY_ID = f"{_SELECT} WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?"
_LATEST = f"{_SELECT} WHERE thread_id = ? AND checkpoint_ns = ? ORDER BY checkpoint_id DESC LIMIT 1"
_RANGE = f"{_SELECT} WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id BETWEEN ? AND ?"
_HEAD = "SELECT checkpoint_id FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? ORDER BY checkpoint_id DESC LIMIT 1"
_NAMESPACES = "SELECT DISTINCT checkpoint_ns FROM checkpoints WHERE thread_id = ?"
_COPY = (
    f"INSERT OR REPLACE INTO checkpoints ({CHECKPOINT_COLUMNS}) SELECT ?, checkpoint_ns, checkpoint_id, "
    "parent_checkpoint_id, type, checkpoint, metadata FROM checkpoints WHERE thread_id = ?",
    f"INSERT OR REPLACE INTO writes ({_WRITE_COLUMNS}) SELECT ?, checkpoint_ns, checkpoint_id, task_id, "
    "task_path, idx, channel, type, value FROM writes WHERE thread_id = ?",
)


@contextlib.contextmanager
def _damaged(thread: Any) -> Iterator[None]:
    """A damaged database file (``sqlite3.DatabaseError`` itself: "file is not a
    database", "database disk image is malformed") is a CheckpointError naming the thread;
    its subclasses (a locked database, a constraint) pass unchanged."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if type(exc) is not sqlite3.DatabaseError:
            raise
        where = f" (reading thread '{thread}')" if isinstance(thread, str) else ""
        raise CheckpointError(f"The checkpoint database is damaged{where}: {exc}") from exc


def _insert_many(db: sqlite3.Connection | sqlite3.Cursor, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """``executemany(sql, rows)`` for an ``INSERT ... VALUES (?, ...)``, as a few
    multi-row statements: each statement is one trip out of the GIL and back, and from the
    run's writer thread each way back waits while the run's own thread holds the GIL (up
    to the interpreter's switch interval), so a batch costs a few waits, not one per row.
    Other statements (a ``DELETE`` per id) go to ``executemany``."""
    head, _, one = sql.rpartition(" VALUES ")
    if not head:
        db.executemany(sql, rows)
        return
    if len(rows) <= 1:
        if rows:
            db.execute(sql, rows[0])
        return
    width = len(rows[0])
    per = max(1, _MAX_VARIABLES // width)
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        db.execute(f"{head} VALUES {','.join([one] * len(chunk))}", [v for row in chunk for v in row])


_MAX_VARIABLES = 999
"""Parameters per statement: SQLite's smallest default limit (newer builds allow 32,766)."""


def _transaction(db: sqlite3.Connection, statements: Sequence[tuple[str, Any, bool]], head: Any) -> str | None:
    """``AsyncSqliteSaver._tx``'s body, on the connection's own thread."""
    db.execute("BEGIN IMMEDIATE")
    found: str | None = None
    try:
        if head is not None:
            thread, ns, expected, fallback = head
            got = db.execute(_HEAD, (thread, ns)).fetchall()
            found = got[0][0] if got else None
            if found != expected:
                statements = fallback
        for sql, params, many in statements:
            if many:
                _insert_many(db, sql, params)
            else:
                db.execute(sql, params)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return found


def _row_params(row: CheckpointRow) -> tuple[Any, ...]:
    return (row.thread_id, row.ns, row.checkpoint_id, row.parent_id, NATIVE, pack_row(row), row.metadata)


def _write_params(writes: Sequence[StoredWrite]) -> list[tuple[Any, ...]]:
    out = []
    for t, n, c, w in writes:
        kind, value = typed(w.value)
        out.append((t, n, c, w.task_id, w.task_path, w.idx, w.channel, kind, value))
    return out


def _writes_from(found: Sequence[Any], thread: str, checkpoint_id: str) -> list[WriteRow]:
    try:
        return [
            WriteRow(task_id, idx, channel, untyped((kind, bytes(value or b""))), path or "")
            for task_id, channel, kind, value, path, idx in found
        ]
    except Exception as exc:
        raise CheckpointError(
            f"Thread '{thread}' checkpoint '{checkpoint_id}': its pending writes are corrupt or unreadable: {exc}"
        ) from exc


def _select(
    thread: str | None, ns: str | None, before: str | None, limit: int | None, filter: dict[str, Any] | None
) -> tuple[str, list[Any]]:
    config = None
    if thread is not None:
        conf: dict[str, Any] = {"thread_id": thread}
        if ns is not None:
            conf["checkpoint_ns"] = ns
        config = {"configurable": conf}
    before_config = {"configurable": {"checkpoint_id": before}} if before is not None else None
    where, params = search_where(config, filter, before_config)
    if thread is None and ns is not None:
        where = f"{where} AND checkpoint_ns = ?" if where else "WHERE checkpoint_ns = ?"
        params = [*params, ns]
    sql = f"{_SELECT} {where} ORDER BY checkpoint_id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params = [*params, int(limit)]
    return sql, list(params)


class _Rows:
    """Turns ``checkpoints`` rows into saver rows (both layouts)."""

    serde: SerializerProtocol

    def _row(self, values: Sequence[Any]) -> CheckpointRow | ForeignRow:
        thread, ns, cid, parent, kind, blob, metadata = values
        try:
            if kind == NATIVE:
                return unpack_row(thread, ns, cid, parent, blob, bytes(metadata or b""))
            checkpoint = self.serde.loads_typed((kind, blob))
            return ForeignRow(thread, ns, cid, parent, checkpoint, decode_metadata(bytes(metadata or b"")))
        except CheckpointError:
            raise
        except Exception as exc:
            raise CheckpointError(
                f"Thread '{thread}' checkpoint '{cid}' is corrupt or unreadable: {exc}",
                thread_id=thread,
                checkpoint_ns=ns,
                checkpoint_id=cid,
            ) from exc

    def _foreign_params(
        self, thread: str, ns: str, parent: str | None, checkpoint: Checkpoint, metadata: dict[str, Any]
    ) -> tuple[Any, ...]:
        kind, data = self.serde.dumps_typed(checkpoint)
        return (thread, ns, checkpoint["id"], parent, kind, data, encode_metadata(metadata))


class SqliteSaver(_Rows, ThreadedAsync, RowCheckpointSaver):
    """Checkpoints in a SQLite file through the standard ``sqlite3`` module.

    ``with SqliteSaver.from_conn_string("state.db") as saver: ...`` or
    ``SqliteSaver(sqlite3.connect(path, check_same_thread=False))``. Works from sync and
    async code (async calls run the statements in a worker thread, so they never block an
    event loop) and on any anyio backend.
    """

    @property
    def saves_from_any_thread(self) -> bool:
        return True

    def __init__(self, conn: sqlite3.Connection, *, serde: SerializerProtocol | None = None) -> None:
        super().__init__(serde=serde)
        self.jsonplus_serde = JsonPlusSerializer()
        self.conn = conn
        self.lock = threading.RLock()
        self.is_setup = False
        self._has_task_path = True

    @classmethod
    @contextlib.contextmanager
    def from_conn_string(cls, conn_string: str | Path) -> Iterator[SqliteSaver]:
        """A saver on a database file (or ``":memory:"``), closed on exit."""
        conn = sqlite3.connect(str(conn_string), check_same_thread=False, isolation_level=None)
        try:
            yield cls(conn)
        finally:
            conn.close()

    def setup(self) -> None:
        """Create the tables (and add columns older databases lack). Writes nothing when
        they exist, so it never waits on another writer; a read-only database is read."""
        with self.lock:
            if self.is_setup:
                return
            if self.conn.isolation_level is not None:
                self.conn.isolation_level = None  # we manage transactions ourselves
            for pragma in _PRAGMAS:
                self.conn.execute(pragma)
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            try:
                if "checkpoints" not in tables or "writes" not in tables:
                    self._set_wal()
                    for statement in SCHEMA:
                        self.conn.execute(statement)
                columns = {r[1] for r in self.conn.execute("PRAGMA table_info(writes)")}
                if "task_path" not in columns:
                    self.conn.execute("ALTER TABLE writes ADD COLUMN task_path TEXT NOT NULL DEFAULT ''")
            except sqlite3.OperationalError as exc:
                if not _is_readonly(exc):
                    raise
                self._has_task_path = "task_path" in {r[1] for r in self.conn.execute("PRAGMA table_info(writes)")}
            self.is_setup = True

    def _set_wal(self) -> None:
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            pass  # a read-only or in-memory database keeps its mode

    @contextlib.contextmanager
    def cursor(self, transaction: bool = True) -> Iterator[sqlite3.Cursor]:
        """A cursor under the saver's lock (``transaction``: commit when done)."""
        with self.lock:
            self.setup()
            cur = self.conn.cursor()
            try:
                yield cur
            finally:
                if transaction and self.conn.in_transaction:
                    self.conn.commit()
                cur.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        with _damaged(None):
            self.setup()
        with self.lock, _damaged(None):
            cur = self.conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

    def _query(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with _damaged(params[0] if params else None):
            self.setup()
            with self.lock:
                return self.conn.execute(sql, params).fetchall()

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """One read transaction: the statements inside see the file as it was at the
        first (WAL), so a checkpoint and the rows it reads its values from come from one
        moment, whatever a prune on another connection commits meanwhile."""
        with _damaged(None):
            self.setup()
        with self.lock:
            if self.conn.in_transaction:  # inside a transaction of ours already
                yield
                return
            with _damaged(None):
                self.conn.execute("BEGIN")
            try:
                yield
            finally:
                if self.conn.in_transaction:  # (an error may have ended it)
                    self.conn.execute("COMMIT")  # only reads: nothing to roll back

    def load(self, thread: str, ns: str = "", checkpoint_id: str | None = None, page: Any = None) -> Any:
        with self._snapshot():
            return super().load(thread, ns, checkpoint_id, page)

    async def aload(self, thread: str, ns: str = "", checkpoint_id: str | None = None, page: Any = None) -> Any:
        # the whole load in one worker thread call: one snapshot, one hop
        return await anyio.to_thread.run_sync(self.load, thread, ns, checkpoint_id, page)

    # -- primitives --------------------------------------------------------------------
    def _write(
        self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite], *, replace: bool = True, expect_head: Any = ANY_HEAD
    ) -> None:
        if not rows and not writes:
            return
        conflict = None
        with self._tx() as cur:
            if rows and expect_head is not ANY_HEAD:
                # the compare-and-set: BEGIN IMMEDIATE holds the write lock from the read of
                # the head to the commit, so no other connection can move it in between
                thread, ns = rows[0].thread_id, rows[0].ns
                found = cur.execute(_HEAD, (thread, ns)).fetchone()
                found_id = found[0] if found else None
                if found_id != expect_head:
                    conflict = (thread, ns, found_id)
                    writes, rows = kept_on_conflict(rows, writes), ()
            if rows:
                _insert_many(cur, _INSERT_ROW, [_row_params(r) for r in rows])
            if writes:
                _insert_many(cur, _INSERT_WRITE if replace else _INSERT_WRITE_KEEP, _write_params(writes))
        if conflict is not None:
            check_head(conflict[0], conflict[1], expect_head, conflict[2])

    def _put_foreign(
        self, thread: str, ns: str, parent: str | None, checkpoint: Checkpoint, metadata: dict[str, Any], new_versions: dict[str, Any]
    ) -> None:
        params = self._foreign_params(thread, ns, parent, checkpoint, metadata)
        with self._tx() as cur:
            cur.execute(_INSERT_ROW, params)

    def _read_row(self, thread: str, ns: str, checkpoint_id: str | None) -> CheckpointRow | ForeignRow | None:
        if checkpoint_id is None:
            found = self._query(_LATEST, (thread, ns))
        else:
            found = self._query(_BY_ID, (thread, ns, checkpoint_id))
        return self._row(found[0]) if found else None

    def _read_rows(self, thread: str, ns: str, ids: Sequence[str]) -> dict[str, Any]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        found = self._query(
            f"{_SELECT} WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id IN ({marks})", (thread, ns, *ids)
        )
        return {r.checkpoint_id: r for r in map(self._row, found)}

    def _read_range(self, thread: str, ns: str, lo: str, hi: str) -> dict[str, Any]:
        return {r.checkpoint_id: r for r in map(self._row, self._query(_RANGE, (thread, ns, lo, hi)))}

    def _read_writes(self, thread: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        self.setup()
        return _writes_from(self._query(pending_writes_sql(self._has_task_path), (thread, ns, checkpoint_id)), thread, checkpoint_id)

    def _list_rows(
        self,
        thread: str | None,
        ns: str | None,
        before: str | None,
        limit: int | None,
        filter: dict[str, Any] | None = None,
    ) -> list[Any]:
        sql, params = _select(thread, ns, before, limit, filter)
        rows = [self._row_or_skip(lambda r=r: self._row(r), thread is None) for r in self._query(sql, params)]
        return [r for r in rows if r is not None]

    def _delete(self, thread: str, ns: str | None, ids: Sequence[str] | None) -> None:
        with self._tx() as cur:
            if ns is None:
                cur.execute("DELETE FROM checkpoints WHERE thread_id = ?", (thread,))
                cur.execute("DELETE FROM writes WHERE thread_id = ?", (thread,))
                return
            for cid in ids or ():
                for table in ("checkpoints", "writes"):
                    cur.execute(
                        f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?",
                        (thread, ns, cid),
                    )

    def _namespaces(self, thread: str) -> list[str]:
        return [r[0] for r in self._query(_NAMESPACES, (thread,))]

    def _ancestors(self, thread: str, ns: str, checkpoint_id: str | None) -> Iterator[str]:
        if checkpoint_id is None:
            checkpoint_id = self.latest_id(thread, ns)
            if checkpoint_id is None:
                return
        self.setup()
        with self.lock:
            cur = self.conn.execute(ANCESTORS_SQL, (thread, ns, checkpoint_id, thread, ns))
            try:
                seen: set[str] = set()
                for cid, _ in cur:
                    if cid in seen:
                        return
                    seen.add(cid)
                    if cid != checkpoint_id:
                        yield cid
            finally:
                cur.close()

    def _copy_thread(self, source: str, target: str) -> None:
        with self._tx() as cur:
            for sql in _COPY:
                cur.execute(sql, (target, source))


class AsyncSqliteSaver(_Rows, LoopSync, RowCheckpointSaver):
    """Checkpoints in a SQLite file through ``aiosqlite`` (asyncio only).

    ``async with AsyncSqliteSaver.from_conn_string("state.db") as saver: ...`` or
    ``AsyncSqliteSaver(await aiosqlite.connect(path))``. Its sync methods work from other
    threads than the event loop's (they hop onto that loop).
    """

    def __init__(self, conn: Any, *, serde: SerializerProtocol | None = None) -> None:
        super().__init__(serde=serde)
        self.jsonplus_serde = JsonPlusSerializer()
        self.conn = conn
        self.lock = asyncio.Lock()
        self.is_setup = False
        self._has_task_path = True
        self._view: SqliteSaver | None = None  # see _reader
        self._bind_loop()

    @classmethod
    @contextlib.asynccontextmanager
    async def from_conn_string(cls, conn_string: str | Path) -> AsyncIterator[AsyncSqliteSaver]:
        import aiosqlite

        async with aiosqlite.connect(str(conn_string), isolation_level=None) as conn:
            yield cls(conn)

    async def setup(self) -> None:
        async with self.lock:
            if self.is_setup:
                return
            # (an aiosqlite connection's isolation level can't be set from this thread; our
            # explicit BEGIN IMMEDIATE ... COMMIT work under any level)
            for pragma in _PRAGMAS:
                await self.conn.execute(pragma)
            tables = {r[0] for r in await self._all("SELECT name FROM sqlite_master WHERE type = 'table'", ())}
            try:
                if "checkpoints" not in tables or "writes" not in tables:
                    try:
                        await self.conn.execute("PRAGMA journal_mode=WAL")
                    except sqlite3.OperationalError:
                        pass
                    for statement in SCHEMA:
                        await self.conn.execute(statement)
                columns = {r[1] for r in await self._all("PRAGMA table_info(writes)", ())}
                if "task_path" not in columns:
                    await self.conn.execute("ALTER TABLE writes ADD COLUMN task_path TEXT NOT NULL DEFAULT ''")
            except sqlite3.OperationalError as exc:
                if not _is_readonly(exc):
                    raise
                self._has_task_path = "task_path" in {r[1] for r in await self._all("PRAGMA table_info(writes)", ())}
            self.is_setup = True

    async def _all(self, sql: str, params: Sequence[Any]) -> list[Any]:
        # one call on the connection's thread, run to its end: a read left open between
        # two calls pins an old snapshot, and a BEGIN IMMEDIATE another task slips in on
        # this connection meanwhile fails at once ("database is locked", SQLITE_BUSY_SNAPSHOT:
        # the busy timeout can't help) if another connection wrote since that snapshot
        return list(await self.conn.execute_fetchall(sql, params))

    def _reader(self) -> SqliteSaver:
        """This saver's reads as sync calls on its connection (for its connection's own
        thread: see ``aload``), decoding with this saver's serializer."""
        view = self._view
        if view is None:
            view = self._view = SqliteSaver(self.conn._conn)
            view.is_setup = True
        view._serde, view._codec, view.jsonplus_serde = self._serde, self._codec, self.jsonplus_serde
        view._has_task_path = self._has_task_path
        return view

    async def aload(self, thread: str, ns: str = "", checkpoint_id: str | None = None, page: Any = None) -> Any:
        """The whole load as one call on the connection's thread, in one read transaction
        (``SqliteSaver.load`` on the same sqlite3 connection): a consistent snapshot in
        one hop. Under the lock: no write transaction of this saver, and no open cursor
        of ``_aancestors``, is in the middle of it."""
        if not self.is_setup:
            with _damaged(None):
                await self.setup()
        async with self.lock:
            return await self.conn._execute(self._reader().load, thread, ns, checkpoint_id, page)

    def load(self, thread: str, ns: str = "", checkpoint_id: str | None = None, page: Any = None) -> Any:
        return self._sync(self.aload(thread, ns, checkpoint_id, page))

    def statistics(self) -> SaverStatistics:
        own = super().statistics()
        view = self._view
        if view is None:
            return own
        return msgspec.structs.replace(
            own, checkpoints_loaded=own.checkpoints_loaded + view._loads, rows_read=own.rows_read + view._rows_read
        )

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with _damaged(params[0] if params else None):
            if not self.is_setup:
                await self.setup()
            return await self._all(sql, params)

    async def _tx(self, statements: Sequence[tuple[str, Any, bool]], head: Any = None) -> str | None:
        """Run (sql, params, many) statements in one transaction. ``head``: (thread, ns,
        expected, fallback statements): first compare the thread namespace's newest
        checkpoint id with ``expected``; on a mismatch run the fallback instead and return
        the id found."""
        if not self.is_setup:
            with _damaged(None):
                await self.setup()
        async with self.lock:
            # the whole transaction is one call on the connection's thread (aiosqlite's
            # ``_execute``, as AsyncSqliteStore does): one hop instead of one per statement
            return await self.conn._execute(_transaction, self.conn._conn, statements, head)  # type: ignore[no-any-return]

    # -- async primitives ------------------------------------------------------------
    async def _awrite(
        self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite], *, replace: bool = True, expect_head: Any = ANY_HEAD
    ) -> None:
        insert_writes = _INSERT_WRITE if replace else _INSERT_WRITE_KEEP
        statements: list[tuple[str, Any, bool]] = []
        if rows:
            statements.append((_INSERT_ROW, [_row_params(r) for r in rows], True))
        if writes:
            statements.append((insert_writes, _write_params(writes), True))
        if not statements:
            return
        if not rows or expect_head is ANY_HEAD:
            await self._tx(statements)
            return
        kept = kept_on_conflict(rows, writes)
        fallback = [(insert_writes, _write_params(kept), True)] if kept else []
        thread, ns = rows[0].thread_id, rows[0].ns
        found = await self._tx(statements, (thread, ns, expect_head, fallback))
        check_head(thread, ns, expect_head, found)

    async def _aput_foreign(
        self, thread: str, ns: str, parent: str | None, checkpoint: Checkpoint, metadata: dict[str, Any], new_versions: dict[str, Any]
    ) -> None:
        await self._tx([(_INSERT_ROW, self._foreign_params(thread, ns, parent, checkpoint, metadata), False)])

    async def _aread_row(self, thread: str, ns: str, checkpoint_id: str | None) -> Any:
        if checkpoint_id is None:
            found = await self._fetch(_LATEST, (thread, ns))
        else:
            found = await self._fetch(_BY_ID, (thread, ns, checkpoint_id))
        return self._row(found[0]) if found else None

    async def _aread_rows(self, thread: str, ns: str, ids: Sequence[str]) -> dict[str, Any]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        found = await self._fetch(
            f"{_SELECT} WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id IN ({marks})", (thread, ns, *ids)
        )
        return {r.checkpoint_id: r for r in map(self._row, found)}

    async def _aread_range(self, thread: str, ns: str, lo: str, hi: str) -> dict[str, Any]:
        return {r.checkpoint_id: r for r in map(self._row, await self._fetch(_RANGE, (thread, ns, lo, hi)))}

    async def _aread_writes(self, thread: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        if not self.is_setup:
            await self.setup()
        return _writes_from(
            await self._fetch(pending_writes_sql(self._has_task_path), (thread, ns, checkpoint_id)), thread, checkpoint_id
        )

    async def _alist_rows(
        self,
        thread: str | None,
        ns: str | None,
        before: str | None,
        limit: int | None,
        filter: dict[str, Any] | None = None,
    ) -> list[Any]:
        sql, params = _select(thread, ns, before, limit, filter)
        rows = [self._row_or_skip(lambda r=r: self._row(r), thread is None) for r in await self._fetch(sql, params)]
        return [r for r in rows if r is not None]

    async def _adelete(self, thread: str, ns: str | None, ids: Sequence[str] | None) -> None:
        if ns is None:
            await self._tx(
                [
                    ("DELETE FROM checkpoints WHERE thread_id = ?", (thread,), False),
                    ("DELETE FROM writes WHERE thread_id = ?", (thread,), False),
                ]
            )
            return
        statements: list[tuple[str, Any, bool]] = []
        for table in ("checkpoints", "writes"):
            sql = f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?"
            statements.append((sql, [(thread, ns, cid) for cid in ids or ()], True))
        await self._tx(statements)

    async def _anamespaces(self, thread: str) -> list[str]:
        return [r[0] for r in await self._fetch(_NAMESPACES, (thread,))]

    async def _aancestors(self, thread: str, ns: str, checkpoint_id: str | None) -> AsyncIterator[str]:
        if checkpoint_id is None:
            checkpoint_id = await self.alatest_id(thread, ns)
            if checkpoint_id is None:
                return
        if not self.is_setup:
            await self.setup()
        chain: list[str] = []
        # read lazily (a looping chain is endless), so the statement stays open between
        # calls: under the lock, no write transaction starts on this connection meanwhile
        async with self.lock, self.conn.execute(ANCESTORS_SQL, (thread, ns, checkpoint_id, thread, ns)) as cur:
            seen: set[str] = set()
            async for cid, _ in cur:
                if cid in seen:
                    break
                seen.add(cid)
                if cid != checkpoint_id:
                    chain.append(cid)
        for cid in chain:
            yield cid

    async def _acopy_thread(self, source: str, target: str) -> None:
        await self._tx([(sql, (target, source), False) for sql in _COPY])
