"""``SqliteStore``: a store in a SQLite file (WAL mode), through the standard ``sqlite3``
module; sync calls run the statements directly, async calls in a worker thread, so the
same store works from scripts, threads, asyncio and Trio. ``AsyncSqliteStore`` runs the
same statements on an ``aiosqlite`` connection's thread (asyncio only), as LangGraph's.

One table holds every item: the namespace as its labels joined with ``.`` (labels can't
contain one), the value serialized by the safe serializer, timestamps and expiry in
microseconds since the epoch. A prefix search is a range scan on the primary key,
most recently updated first (as LangGraph's ``SqliteStore``); filters run in Python on
the rows it yields. A batch runs in one transaction, so its ops
apply in order and all or none of its writes land.

Differences from LangGraph
--------------------------
Besides those listed in ``actorgraph.persistence._store``:

- ``SqliteStore(path)`` also takes a file path (the store then owns the connection and
  ``close()`` closes it); ``setup()`` runs by itself on first use; WAL mode is on.
- Expired items are purged by any write and by a read that meets one, by ``sweep_ttl()``,
  and by the sweeper ``start_ttl_sweeper()`` starts.
- Values are msgpack (the safe serializer), not JSON, in table ``actorgraph_store``:
  LangGraph's SQLite files aren't read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any, cast

import anyio.to_thread

from actorgraph.persistence import _store_exec as ex
from actorgraph.persistence._serde import Serializer
from actorgraph.persistence._store import BaseStore, IndexConfig, Op, Result, SearchOp, TTLConfig
from actorgraph.persistence._store_exec import SerializedValues, PList, PPut, Prepared, PSearch, Record
from actorgraph.persistence._store_shared import EmbeddingBatches, TaskSweeper, ThreadSweeper
from actorgraph.persistence._store_sqlite_vec import VECTOR_SCHEMA, install_vector_functions, score_items, write_vectors
from actorgraph.persistence._store_vectors import Key, VectorIndex, VectorWrites

__all__ = ("AsyncSqliteStore", "SqliteIndexConfig", "SqliteStore")

Namespace = tuple[str, ...]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS actorgraph_store (
        ns TEXT NOT NULL,
        key TEXT NOT NULL,
        value BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        ttl_minutes REAL,
        expires_at INTEGER,
        PRIMARY KEY (ns, key)
    )""",
    "CREATE INDEX IF NOT EXISTS actorgraph_store_expiry ON actorgraph_store (expires_at) "
    "WHERE expires_at IS NOT NULL",
    # lets list_namespaces read live namespaces from the index alone
    "CREATE INDEX IF NOT EXISTS actorgraph_store_ns ON actorgraph_store (ns, expires_at)",
)
_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=30000")

_COLUMNS = "ns, key, value, created_at, updated_at, ttl_minutes, expires_at"
_LIVE = "(expires_at IS NULL OR expires_at > ?)"
_UPSERT = f"""INSERT INTO actorgraph_store ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (ns, key) DO UPDATE SET
        value = excluded.value,
        created_at = CASE WHEN expires_at IS NOT NULL AND expires_at <= excluded.updated_at
                          THEN excluded.created_at ELSE created_at END,
        updated_at = excluded.updated_at,
        ttl_minutes = excluded.ttl_minutes,
        expires_at = excluded.expires_at"""
_DELETE = "DELETE FROM actorgraph_store WHERE ns = ? AND key = ?"
_REFRESH = (
    "UPDATE actorgraph_store SET expires_at = ? + CAST(ttl_minutes * 60000000 AS INTEGER) "
    "WHERE ns = ? AND key = ? AND ttl_minutes IS NOT NULL"
)
_PURGE = "DELETE FROM actorgraph_store WHERE expires_at IS NOT NULL AND expires_at <= ?"
_ANY_EXPIRED = "SELECT 1 FROM actorgraph_store WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT 1"
_MAX_PARAMS = 500  # keys per IN (...) query, well under SQLite's variable limit


def _text(ns: Namespace) -> str:
    return ".".join(ns)


def _under(prefix: Namespace) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause (and its params) for namespaces equal to or below ``prefix``.

    Below ``p`` means the text starts with ``p + '.'``, i.e. lies in ``[p + '.', p + '/')``
    ('/' follows '.', and no label contains '.'). The clause is one index range
    ``[p, p + '/')`` (which also holds texts like ``p + '-x'``) narrowed to ``p`` itself
    or texts from ``p + '.'`` on.
    """
    if not prefix:
        return "", ()
    text = _text(prefix)
    return "ns >= ? AND ns < ? AND (ns = ? OR ns >= ?) AND ", (text, text + "/", text, text + ".")


class _Tx(SerializedValues):
    """The interpreter's backend for one batch: statements on the store's connection,
    inside the batch's transaction."""

    __slots__ = ("conn", "serde", "saw_expired", "_names")

    def __init__(self, conn: sqlite3.Connection, serde: Serializer) -> None:
        self.conn = conn
        self.serde = serde
        self.saw_expired = False
        self._names: dict[str, Namespace] = {}

    def _ns(self, text: str) -> Namespace:
        ns = self._names.get(text)
        if ns is None:
            ns = self._names[text] = tuple(text.split("."))
        return ns

    # -- Backend ----------------------------------------------------------------------
    def get_many(self, keys: Sequence[tuple[Namespace, str]], now: int) -> list[Record | None]:
        by_ns: dict[str, dict[str, None]] = {}
        for ns, key in keys:
            by_ns.setdefault(_text(ns), {})[key] = None
        rows: dict[tuple[str, str], tuple[Any, ...]] = {}
        for text, wanted in by_ns.items():
            names = list(wanted)
            for start in range(0, len(names), _MAX_PARAMS):
                chunk = names[start : start + _MAX_PARAMS]
                sql = (
                    "SELECT key, value, created_at, updated_at, ttl_minutes, expires_at "
                    f"FROM actorgraph_store WHERE ns = ? AND key IN ({','.join('?' * len(chunk))})"
                )
                for row in self.conn.execute(sql, (text, *chunk)):
                    if row[5] is not None and row[5] <= now:
                        self.saw_expired = True
                        continue
                    rows[(text, row[0])] = row
        out: list[Record | None] = []
        for ns, key in keys:
            row = rows.get((_text(ns), key))
            out.append(None if row is None else Record(ns, key, None, row[1], row[2], row[3], row[4], row[5]))
        return out

    def write_many(self, writes: Sequence[PPut], now: int) -> None:
        # one final state per key (all writes share one instant); a key deleted before
        # its last put is deleted first, so the put starts a new item (new created_at)
        final: dict[tuple[str, str], PPut] = {}
        restart: set[tuple[str, str]] = set()
        for w in writes:
            k = (_text(w.namespace), w.key)
            prev = final.get(k)
            if w.raw is not None and prev is not None and prev.raw is None:
                restart.add(k)
            final[k] = w
        deletes = [k for k, w in final.items() if w.raw is None or k in restart]
        upserts = [
            (k[0], k[1], w.raw, now, now, w.ttl, None if w.ttl is None else now + ex.ttl_us(w.ttl))
            for k, w in final.items()
            if w.raw is not None
        ]
        if deletes:
            self.conn.executemany(_DELETE, deletes)
        if upserts:
            self.conn.executemany(_UPSERT, upserts)

    def scan(self, prefix: Namespace, now: int, offset: int, limit: int | None) -> Iterator[Record]:
        where, params = _under(prefix)
        cur = self.conn.execute(
            f"SELECT {_COLUMNS} FROM actorgraph_store WHERE {where}{_LIVE} "
            "ORDER BY updated_at DESC, ns, key LIMIT ? OFFSET ?",
            (*params, now, -1 if limit is None else limit, offset),
        )
        return self._records(cur)

    def _records(self, cur: sqlite3.Cursor) -> Iterator[Record]:
        try:
            for text, key, raw, created, updated, ttl, expires in cur:
                yield Record(self._ns(text), key, None, raw, created, updated, ttl, expires)
        finally:
            cur.close()

    def namespaces(self, prefix: Namespace, now: int) -> Iterable[Namespace]:
        where, params = _under(prefix)
        rows = self.conn.execute(f"SELECT DISTINCT ns FROM actorgraph_store WHERE {where}{_LIVE}", (*params, now))
        return [self._ns(text) for (text,) in rows]

    # -- time to live -----------------------------------------------------------------
    def refresh(self, keys: Sequence[tuple[Namespace, str]], now: int) -> None:
        if keys:
            self.conn.executemany(_REFRESH, [(now, _text(ns), key) for ns, key in keys])

    def purge(self, now: int) -> int:
        return self.conn.execute(_PURGE, (now,)).rowcount

    def any_expired(self, now: int) -> bool:
        return self.conn.execute(_ANY_EXPIRED, (now,)).fetchone() is not None


class SqliteIndexConfig(IndexConfig, total=False):
    """``IndexConfig`` plus LangGraph's SQLite spellings (``text_fields``, ``distance_type``)."""

    text_fields: list[str] | None
    distance_type: str


class SqliteStore(EmbeddingBatches, ThreadSweeper, BaseStore):
    """A store in a SQLite database.

    ``SqliteStore("memory.db")`` (the store owns the connection; ``close()`` it, or use
    ``with``), ``with SqliteStore.from_conn_string("memory.db") as store: ...``, or
    ``SqliteStore(sqlite3.connect(path, check_same_thread=False))`` (your connection: the
    async methods use it from a worker thread). ``ttl`` and ``index`` as for
    ``InMemoryStore``. Several stores, threads and processes can share one file.
    """

    supports_ttl = True
    MIGRATIONS = _SCHEMA
    """The statements ``setup()`` runs (idempotent)."""

    def __init__(
        self,
        conn: sqlite3.Connection | str | os.PathLike[str],
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        serde: Serializer | None = None,
    ) -> None:
        if isinstance(conn, sqlite3.Connection):
            self._owns_conn = False
        elif isinstance(conn, (str, os.PathLike)):
            conn = sqlite3.connect(os.fspath(conn), check_same_thread=False, isolation_level=None, timeout=30)
            self._owns_conn = True
        else:
            raise TypeError(f"SqliteStore needs a sqlite3.Connection or a database path, got {conn!r}")
        self.conn = conn
        self._configure(index, ttl, serde)

    def _configure(self, index: IndexConfig | None, ttl: TTLConfig | None, serde: Serializer | None) -> None:
        self.index_config: IndexConfig | None = ex.copy_index(index)
        self._index = VectorIndex(self.index_config) if self.index_config else None
        self.embeddings: Any = self._index.embeddings if self._index is not None else None
        self.vector_backend: str | None = None
        """How semantic search scores: ``"sqlite-vec"``, ``"python"`` (the fallback), or
        ``None`` (no index, or not set up yet)."""
        self.ttl_config = ex.check_ttl_config(ttl)
        self.serde = serde or Serializer()
        self.lock = threading.RLock()
        self.is_setup = False
        self._init_sweepers()

    @property
    def _db(self) -> sqlite3.Connection:
        """The ``sqlite3`` connection the statements run on (in the calling thread)."""
        return self.conn

    @classmethod
    @contextlib.contextmanager
    def from_conn_string(
        cls,
        conn_string: str | os.PathLike[str],
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        serde: Serializer | None = None,
    ) -> Iterator[SqliteStore]:
        """A store on a database file (or ``":memory:"``), closed on exit."""
        store = cls(conn_string, index=index, ttl=ttl, serde=serde)
        try:
            yield store
        finally:
            store.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection if the store opened it (a connection you passed stays open)."""
        if self._owns_conn:
            with self.lock:
                self._db.close()

    def setup(self) -> None:
        """Create the table and set WAL mode (idempotent; runs by itself on first use)."""
        self._ensure_setup()

    def _ensure_setup(self) -> None:
        with self.lock:
            if self.is_setup:
                return
            db = self._db
            if db.isolation_level is not None:
                db.isolation_level = None  # transactions are explicit
            for statement in (*_PRAGMAS, *_SCHEMA):
                db.execute(statement)
            if self._index is not None:
                for statement in VECTOR_SCHEMA:
                    db.execute(statement)
                self.vector_backend = install_vector_functions(db)
            self.is_setup = True

    # -- batches ----------------------------------------------------------------------
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return self._execute(*self._prepare_args(ops))

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        args = await self._aprepare(ops)
        try:
            return await anyio.to_thread.run_sync(self._execute, *args)
        except sqlite3.ProgrammingError as exc:
            if "thread" in str(exc):
                exc.add_note(
                    "SqliteStore's async methods use the connection from a worker thread: create it "
                    "with sqlite3.connect(path, check_same_thread=False), or pass SqliteStore a path."
                )
            raise

    def _execute(
        self,
        prepared: Sequence[Prepared],
        vectors: VectorWrites | None = None,
        ranked: dict[int, SearchOp] | None = None,
        queries: dict[str, list[float]] | None = None,
    ) -> list[Result]:
        writes = any(isinstance(op, PPut) for op in prepared)
        scores: dict[int, dict[Key, float]] = {}
        scans = not writes and any(isinstance(op, (PSearch, PList)) for op in prepared)
        with self.lock:
            self._ensure_setup()
            tx = _Tx(self._db, self.serde)
            now = ex.now_us()
            # a batch that writes takes the write lock up front (a read transaction that
            # later writes can fail with SQLITE_BUSY in WAL mode)
            with self._transaction("BEGIN IMMEDIATE" if writes else "BEGIN"):
                results, refresh = ex.run(tx, prepared, now)
                if vectors is not None:
                    write_vectors(tx.conn, vectors, _text)
                if ranked:
                    distance = cast(VectorIndex, self._index).distance_type
                    for i, op in ranked.items():
                        where, params = _under(tuple(op.namespace_prefix))
                        query = cast(dict, queries)[op.query]
                        scores[i] = score_items(tx.conn, where, params, query, distance, tx._ns)
                if not (self.ttl_config and self.ttl_config.get("refresh_on_read")):
                    refresh = []  # as LangGraph's: reads refresh only when the store's ttl says so
                if writes:
                    tx.refresh(refresh, now)
                    tx.purge(now)
                elif not tx.saw_expired and scans:
                    # searches skip expired rows without seeing them: one probe of the
                    # expiry index tells whether a purge is due
                    tx.saw_expired = tx.any_expired(now)
            if not writes and (refresh or tx.saw_expired):
                with self._transaction("BEGIN IMMEDIATE"):
                    tx.refresh(refresh, now)
                    if tx.saw_expired:
                        tx.purge(now)
        if ranked:
            VectorIndex.rank(results, ranked, scores, unscored=False)
        return results

    @contextlib.contextmanager
    def _transaction(self, begin: str) -> Iterator[None]:
        conn = self._db
        conn.execute(begin)
        try:
            yield
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # -- time to live -----------------------------------------------------------------
    def sweep_ttl(self) -> int:
        """Delete the expired items now; returns how many. (The store's writes also purge
        them, so calling this is optional.)"""
        with self.lock:
            self._ensure_setup()
            with self._transaction("BEGIN IMMEDIATE"):
                return _Tx(self._db, self.serde).purge(ex.now_us())

    async def asweep_ttl(self) -> int:
        """Async ``sweep_ttl``."""
        return await anyio.to_thread.run_sync(self.sweep_ttl)


class AsyncSqliteStore(TaskSweeper, SqliteStore):  # type: ignore[misc]
    """``SqliteStore`` on an ``aiosqlite`` connection, for asyncio code (LangGraph's
    ``AsyncSqliteStore``).

    ``async with AsyncSqliteStore.from_conn_string("memory.db") as store: ...`` or
    ``AsyncSqliteStore(await aiosqlite.connect(path))``. Each batch runs as one call on the
    connection's own thread, in one transaction, through the same statements as
    ``SqliteStore`` (same table: either class reads what the other wrote). The sync
    methods work from threads other than the event loop's (they hop onto it).
    """

    def __init__(
        self,
        conn: Any,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        serde: Serializer | None = None,
    ) -> None:
        if not callable(getattr(conn, "_execute", None)) or not hasattr(type(conn), "_conn"):
            raise TypeError(
                f"AsyncSqliteStore needs an aiosqlite.Connection (from `await aiosqlite.connect(path)`), "
                f"got {conn!r}; for a plain sqlite3 connection or a path, use SqliteStore"
            )
        self.conn = conn
        self._owns_conn = False
        self._configure(index, ttl, serde)
        self.loop = asyncio.get_running_loop()

    @classmethod
    @contextlib.asynccontextmanager
    async def from_conn_string(  # type: ignore[override]
        cls,
        conn_string: str | os.PathLike[str],
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        serde: Serializer | None = None,
    ) -> AsyncIterator[AsyncSqliteStore]:
        """A store on a database file (or ``":memory:"``), closed on exit."""
        import aiosqlite

        async with aiosqlite.connect(os.fspath(conn_string), isolation_level=None) as conn:
            yield cls(conn, index=index, ttl=ttl, serde=serde)

    async def __aenter__(self) -> AsyncSqliteStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None  # the connection is the caller's (or from_conn_string's) to close

    @property
    def _db(self) -> sqlite3.Connection:
        # valid on the aiosqlite connection's thread, where every statement runs
        return cast(Any, self.conn)._conn  # type: ignore[no-any-return]

    async def _on_conn_thread(self, fn: Any, *args: Any) -> Any:
        # aiosqlite's own way to run a function on its connection's thread (``_execute``,
        # with ``_conn`` the sqlite3 connection there; both unchanged since aiosqlite 0.11,
        # and tests/test_store_sqlite_aio.py fails if they go): one hop per batch, where
        # its public API would cost one per statement
        return await cast(Any, self.conn)._execute(fn, *args)

    async def setup(self) -> None:  # type: ignore[override]
        """Create the table and set WAL mode (idempotent; runs by itself on first use)."""
        await self._on_conn_thread(self._ensure_setup)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        args = await self._aprepare(ops)
        return await self._on_conn_thread(self._execute, *args)  # type: ignore[no-any-return]

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            raise asyncio.InvalidStateError(
                "AsyncSqliteStore's sync methods would block the event loop the store runs on: "
                "use the async ones (aget, aput, asearch, abatch, ...) in async code"
            )
        return asyncio.run_coroutine_threadsafe(self.abatch(ops), self.loop).result()

    async def sweep_ttl(self) -> int:  # type: ignore[override]
        """Delete the expired items now; returns how many (LangGraph's is async here too)."""
        return await self._on_conn_thread(SqliteStore.sweep_ttl, self)  # type: ignore[no-any-return]

    async def asweep_ttl(self) -> int:
        return await self.sweep_ttl()
