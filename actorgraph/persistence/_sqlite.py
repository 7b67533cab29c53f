"""SQLite savers: ``SqliteSaver`` (sqlite3, sync and async calls) and
``AsyncSqliteSaver`` (aiosqlite, asyncio only).

One row per checkpoint holds the step's bookkeeping and the blobs of the channels it
changed, so saving a step is one ``INSERT`` in one transaction. WAL mode and a busy
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
from actorgraph.persistence._base import BaseCheckpointSaver
from actorgraph.persistence._model import Blob, CheckpointRow, WriteRow
from actorgraph.persistence._serde import Serializer

__all__ = ("AsyncSqliteSaver", "SqliteSaver")

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS actorgraph_checkpoints (
        thread_id TEXT NOT NULL,
        ns TEXT NOT NULL,
        checkpoint_id TEXT NOT NULL,
        parent_id TEXT,
        step INTEGER NOT NULL,
        source TEXT NOT NULL,
        created_at TEXT NOT NULL,
        record BLOB NOT NULL,
        blobs BLOB NOT NULL,
        metadata BLOB NOT NULL,
        PRIMARY KEY (thread_id, ns, checkpoint_id)
    )""",
    """CREATE TABLE IF NOT EXISTS actorgraph_writes (
        thread_id TEXT NOT NULL,
        ns TEXT NOT NULL,
        checkpoint_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        channel TEXT NOT NULL,
        value BLOB NOT NULL,
        task_path TEXT NOT NULL,
        PRIMARY KEY (thread_id, ns, checkpoint_id, task_id, idx)
    )""",
)
_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=30000")

_COLUMNS = "thread_id, ns, checkpoint_id, parent_id, step, source, created_at, record, blobs, metadata"
_INSERT_ROW = f"INSERT OR REPLACE INTO actorgraph_checkpoints ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)"
_INSERT_WRITE = (
    "INSERT OR REPLACE INTO actorgraph_writes "
    "(thread_id, ns, checkpoint_id, task_id, idx, channel, value, task_path) VALUES (?,?,?,?,?,?,?,?)"
)
_blobs_encoder = msgspec.msgpack.Encoder()
_blobs_decoder = msgspec.msgpack.Decoder(dict[str, Blob])


def _row_params(row: CheckpointRow) -> tuple[Any, ...]:
    return (
        row.thread_id,
        row.ns,
        row.checkpoint_id,
        row.parent_id,
        row.step,
        row.source,
        row.created_at,
        row.record,
        _blobs_encoder.encode(row.blobs),
        row.metadata,
    )


def _row(values: Sequence[Any]) -> CheckpointRow:
    thread, ns, cid, parent, step, source, created, record, blobs, metadata = values
    try:
        decoded = _blobs_decoder.decode(blobs)
    except Exception as exc:
        raise CheckpointError(
            f"Thread '{thread}' checkpoint '{cid}' is corrupt or was not written by actorgraph: {exc}"
        ) from exc
    return CheckpointRow(
        thread_id=thread,
        ns=ns,
        checkpoint_id=cid,
        parent_id=parent,
        step=step,
        source=source,
        created_at=created,
        record=bytes(record),
        blobs=decoded,
        metadata=bytes(metadata),
    )


def _write_params(writes: Sequence[tuple[str, str, str, WriteRow]]) -> list[tuple[Any, ...]]:
    return [(t, n, c, w.task_id, w.idx, w.channel, w.value, w.task_path) for t, n, c, w in writes]


def _select(
    thread: str | None, ns: str | None, before: str | None, limit: int | None
) -> tuple[str, list[Any]]:
    where, params = [], []
    if thread is not None:
        where.append("thread_id = ?")
        params.append(thread)
    if ns is not None:
        where.append("ns = ?")
        params.append(ns)
    if before is not None:
        where.append("checkpoint_id < ?")
        params.append(before)
    sql = f"SELECT {_COLUMNS} FROM actorgraph_checkpoints"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY checkpoint_id DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql, params


class SqliteSaver(BaseCheckpointSaver):
    """Checkpoints in a SQLite file through the standard ``sqlite3`` module.

    ``with SqliteSaver.from_conn_string("state.db") as saver: ...`` or
    ``SqliteSaver(sqlite3.connect(path, check_same_thread=False))``. Works from sync and
    async code (async calls run the statements in a worker thread, so they never block an
    event loop) and on any anyio backend.
    """

    def __init__(self, conn: sqlite3.Connection, *, serde: Serializer | None = None) -> None:
        super().__init__(serde=serde)
        self.conn = conn
        self.lock = threading.RLock()
        self.is_setup = False

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
        with self.lock:
            if self.is_setup:
                return
            if self.conn.isolation_level is not None:
                self.conn.isolation_level = None  # we manage transactions ourselves
            for pragma in _PRAGMAS:
                self.conn.execute(pragma)
            for statement in _SCHEMA:
                self.conn.execute(statement)
            self.is_setup = True

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        self.setup()
        with self.lock:
            cur = self.conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

    def _query(self, sql: str, params: Sequence[Any]) -> list[Any]:
        self.setup()
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    # -- primitives --------------------------------------------------------------------
    def _write(self, rows: Sequence[CheckpointRow], writes: Sequence[tuple[str, str, str, WriteRow]]) -> None:
        if not rows and not writes:
            return
        with self._tx() as cur:
            if rows:
                cur.executemany(_INSERT_ROW, [_row_params(r) for r in rows])
            if writes:
                cur.executemany(_INSERT_WRITE, _write_params(writes))

    def _read_row(self, thread: str, ns: str, checkpoint_id: str | None) -> CheckpointRow | None:
        if checkpoint_id is None:
            found = self._query(
                f"SELECT {_COLUMNS} FROM actorgraph_checkpoints WHERE thread_id = ? AND ns = ? "
                "ORDER BY checkpoint_id DESC LIMIT 1",
                (thread, ns),
            )
        else:
            found = self._query(
                f"SELECT {_COLUMNS} FROM actorgraph_checkpoints WHERE thread_id = ? AND ns = ? AND checkpoint_id = ?",
                (thread, ns, checkpoint_id),
            )
        return _row(found[0]) if found else None

    def _read_rows(self, thread: str, ns: str, ids: Sequence[str]) -> dict[str, CheckpointRow]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        found = self._query(
            f"SELECT {_COLUMNS} FROM actorgraph_checkpoints WHERE thread_id = ? AND ns = ? "
            f"AND checkpoint_id IN ({marks})",
            (thread, ns, *ids),
        )
        return {r.checkpoint_id: r for r in map(_row, found)}

    def _read_range(self, thread: str, ns: str, lo: str, hi: str) -> dict[str, CheckpointRow]:
        found = self._query(
            f"SELECT {_COLUMNS} FROM actorgraph_checkpoints WHERE thread_id = ? AND ns = ? "
            "AND checkpoint_id BETWEEN ? AND ?",
            (thread, ns, lo, hi),
        )
        return {r.checkpoint_id: r for r in map(_row, found)}

    def _read_writes(self, thread: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        found = self._query(
            "SELECT task_id, idx, channel, value, task_path FROM actorgraph_writes "
            "WHERE thread_id = ? AND ns = ? AND checkpoint_id = ?",
            (thread, ns, checkpoint_id),
        )
        return [WriteRow(t, i, c, bytes(v), p) for t, i, c, v, p in found]

    def _list_rows(
        self, thread: str | None, ns: str | None, before: str | None, limit: int | None
    ) -> list[CheckpointRow]:
        sql, params = _select(thread, ns, before, limit)
        return [_row(r) for r in self._query(sql, params)]

    def _delete(self, thread: str, ns: str | None, ids: Sequence[str] | None) -> None:
        with self._tx() as cur:
            if ns is None:
                cur.execute("DELETE FROM actorgraph_checkpoints WHERE thread_id = ?", (thread,))
                cur.execute("DELETE FROM actorgraph_writes WHERE thread_id = ?", (thread,))
                return
            for cid in ids or ():
                cur.execute(
                    "DELETE FROM actorgraph_checkpoints WHERE thread_id = ? AND ns = ? AND checkpoint_id = ?",
                    (thread, ns, cid),
                )
                cur.execute(
                    "DELETE FROM actorgraph_writes WHERE thread_id = ? AND ns = ? AND checkpoint_id = ?",
                    (thread, ns, cid),
                )

    def _namespaces(self, thread: str) -> list[str]:
        return [r[0] for r in self._query("SELECT DISTINCT ns FROM actorgraph_checkpoints WHERE thread_id = ?", (thread,))]

    # async calls: the same statements in a worker thread
    async def _awrite(self, rows: Sequence[CheckpointRow], writes: Sequence[tuple[str, str, str, WriteRow]]) -> None:
        await anyio.to_thread.run_sync(self._write, rows, writes)

    async def _aread_row(self, thread: str, ns: str, checkpoint_id: str | None) -> CheckpointRow | None:
        return await anyio.to_thread.run_sync(self._read_row, thread, ns, checkpoint_id)

    async def _aread_rows(self, thread: str, ns: str, ids: Sequence[str]) -> dict[str, CheckpointRow]:
        return await anyio.to_thread.run_sync(self._read_rows, thread, ns, ids)

    async def _aread_range(self, thread: str, ns: str, lo: str, hi: str) -> dict[str, CheckpointRow]:
        return await anyio.to_thread.run_sync(self._read_range, thread, ns, lo, hi)

    async def _aread_writes(self, thread: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        return await anyio.to_thread.run_sync(self._read_writes, thread, ns, checkpoint_id)

    async def _alist_rows(
        self, thread: str | None, ns: str | None, before: str | None, limit: int | None
    ) -> list[CheckpointRow]:
        return await anyio.to_thread.run_sync(self._list_rows, thread, ns, before, limit)

    async def _adelete(self, thread: str, ns: str | None, ids: Sequence[str] | None) -> None:
        await anyio.to_thread.run_sync(self._delete, thread, ns, ids)

    async def _anamespaces(self, thread: str) -> list[str]:
        return await anyio.to_thread.run_sync(self._namespaces, thread)


class AsyncSqliteSaver(BaseCheckpointSaver):
    """Checkpoints in a SQLite file through ``aiosqlite`` (asyncio only).

    ``async with AsyncSqliteSaver.from_conn_string("state.db") as saver: ...`` or
    ``AsyncSqliteSaver(await aiosqlite.connect(path))``. Its sync methods work from other
    threads than the event loop's (they hop onto that loop).
    """

    def __init__(self, conn: Any, *, serde: Serializer | None = None) -> None:
        super().__init__(serde=serde)
        self.conn = conn
        self.lock = asyncio.Lock()
        self.is_setup = False
        try:
            self.loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None

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
            if getattr(self.conn, "isolation_level", None) is not None:
                self.conn.isolation_level = None
            for pragma in _PRAGMAS:
                await self.conn.execute(pragma)
            for statement in _SCHEMA:
                await self.conn.execute(statement)
            self.is_setup = True

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[Any]:
        if not self.is_setup:
            await self.setup()
        async with self.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    # -- async primitives ------------------------------------------------------------
    async def _awrite(self, rows: Sequence[CheckpointRow], writes: Sequence[tuple[str, str, str, WriteRow]]) -> None:
        if not rows and not writes:
            return
        if not self.is_setup:
            await self.setup()
        async with self.lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                if rows:
                    await self.conn.executemany(_INSERT_ROW, [_row_params(r) for r in rows])
                if writes:
                    await self.conn.executemany(_INSERT_WRITE, _write_params(writes))
                await self.conn.execute("COMMIT")
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise

    async def _aread_row(self, thread: str, ns: str, checkpoint_id: str | None) -> CheckpointRow | None:
        if checkpoint_id is None:
            found = await self._fetch(
                f"SELECT {_COLUMNS} FROM actorgraph_checkpoints WHERE thread_id = ? AND ns = ? "
                "ORDER BY checkpoint_id DESC LIMIT 1",
                (thread, ns),
            )
        else:
            found = await self._fetch(
                f"SELECT {_COLUMNS} FROM actorgraph_checkpoints WHERE thread_id = ? AND ns = ? AND checkpoint_id = ?",
                (thread, ns, checkpoint_id),
            )
        return _row(found[0]) if found else None

    async def _aread_rows(self, thread: str, ns: str, ids: Sequence[str]) -> dict[str, CheckpointRow]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        found = await self._fetch(
            f"SELECT {_COLUMNS} FROM actorgraph_checkpoints WHERE thread_id = ? AND ns = ? "
            f"AND checkpoint_id IN ({marks})",
            (thread, ns, *ids),
        )
        return {r.checkpoint_id: r for r in map(_row, found)}

    async def _aread_range(self, thread: str, ns: str, lo: str, hi: str) -> dict[str, CheckpointRow]:
        found = await self._fetch(
            f"SELECT {_COLUMNS} FROM actorgraph_checkpoints WHERE thread_id = ? AND ns = ? "
            "AND checkpoint_id BETWEEN ? AND ?",
            (thread, ns, lo, hi),
        )
        return {r.checkpoint_id: r for r in map(_row, found)}

    async def _aread_writes(self, thread: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        found = await self._fetch(
            "SELECT task_id, idx, channel, value, task_path FROM actorgraph_writes "
            "WHERE thread_id = ? AND ns = ? AND checkpoint_id = ?",
            (thread, ns, checkpoint_id),
        )
        return [WriteRow(t, i, c, bytes(v), p) for t, i, c, v, p in found]

    async def _alist_rows(
        self, thread: str | None, ns: str | None, before: str | None, limit: int | None
    ) -> list[CheckpointRow]:
        sql, params = _select(thread, ns, before, limit)
        return [_row(r) for r in await self._fetch(sql, params)]

    async def _adelete(self, thread: str, ns: str | None, ids: Sequence[str] | None) -> None:
        if not self.is_setup:
            await self.setup()
        async with self.lock:
            if ns is None:
                await self.conn.execute("DELETE FROM actorgraph_checkpoints WHERE thread_id = ?", (thread,))
                await self.conn.execute("DELETE FROM actorgraph_writes WHERE thread_id = ?", (thread,))
                return
            for cid in ids or ():
                await self.conn.execute(
                    "DELETE FROM actorgraph_checkpoints WHERE thread_id = ? AND ns = ? AND checkpoint_id = ?",
                    (thread, ns, cid),
                )
                await self.conn.execute(
                    "DELETE FROM actorgraph_writes WHERE thread_id = ? AND ns = ? AND checkpoint_id = ?",
                    (thread, ns, cid),
                )

    async def _anamespaces(self, thread: str) -> list[str]:
        rows = await self._fetch("SELECT DISTINCT ns FROM actorgraph_checkpoints WHERE thread_id = ?", (thread,))
        return [r[0] for r in rows]

    # -- sync primitives: hop onto the saver's loop ----------------------------------
    def _sync(self, coro: Any) -> Any:
        loop = self.loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop:
            coro.close()
            raise RuntimeError(
                "AsyncSqliteSaver's sync methods can't run on its own event loop thread: use the "
                "async ones (aget_tuple, alist, ...), or use SqliteSaver for sync code"
            )
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    def _write(self, rows: Sequence[CheckpointRow], writes: Sequence[tuple[str, str, str, WriteRow]]) -> None:
        self._sync(self._awrite(rows, writes))

    def _read_row(self, thread: str, ns: str, checkpoint_id: str | None) -> CheckpointRow | None:
        return self._sync(self._aread_row(thread, ns, checkpoint_id))  # type: ignore[no-any-return]

    def _read_rows(self, thread: str, ns: str, ids: Sequence[str]) -> dict[str, CheckpointRow]:
        return self._sync(self._aread_rows(thread, ns, ids))  # type: ignore[no-any-return]

    def _read_range(self, thread: str, ns: str, lo: str, hi: str) -> dict[str, CheckpointRow]:
        return self._sync(self._aread_range(thread, ns, lo, hi))  # type: ignore[no-any-return]

    def _read_writes(self, thread: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        return self._sync(self._aread_writes(thread, ns, checkpoint_id))  # type: ignore[no-any-return]

    def _list_rows(
        self, thread: str | None, ns: str | None, before: str | None, limit: int | None
    ) -> list[CheckpointRow]:
        return self._sync(self._alist_rows(thread, ns, before, limit))  # type: ignore[no-any-return]

    def _delete(self, thread: str, ns: str | None, ids: Sequence[str] | None) -> None:
        self._sync(self._adelete(thread, ns, ids))

    def _namespaces(self, thread: str) -> list[str]:
        return self._sync(self._anamespaces(thread))  # type: ignore[no-any-return]
