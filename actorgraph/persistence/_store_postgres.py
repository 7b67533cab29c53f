"""``PostgresStore``: the store in a Postgres database through psycopg 3, on a
``Connection`` (used by one batch at a time), a ``ConnectionPool``, or a connection in
pipeline mode, as LangGraph's ``PostgresStore``. ``AsyncPostgresStore``
(``_store_postgres_aio``) runs the same statements on psycopg's async connections.

Each batch runs in one transaction: its ops apply in order and all or none of its writes
land; rows are written in key order so concurrent batches can't deadlock. Search order,
filters, TTL and semantic search are the SQLite store's (``_store_exec``,
``_store_vectors``); the statements are in ``_store_pg_sql`` and ``_store_pg_vec``.

Differences from LangGraph
--------------------------
Besides those listed in ``actorgraph.persistence._store``:

- Tables ``actorgraph_store`` / ``actorgraph_store_vectors`` (values msgpack-serialized,
  times in µs), not LangGraph's ``store`` / ``store_vectors`` (JSONB): a database
  LangGraph's store wrote isn't read. No ``deserializer=`` argument (``serde=`` instead).
- ``setup()`` also runs by itself on first use; migrations are recorded in
  ``actorgraph_store_migrations`` and applied under an advisory lock.
- Expired items are never returned, whatever ``omit_expired`` says (LangGraph's returns
  them until they are swept unless ``omit_expired=True``), and are purged by any write, by
  a read that meets one, by ``sweep_ttl()`` and by the sweeper; reads refresh a TTL only
  when the store's ttl config says ``refresh_on_read`` (as LangGraph's Postgres store).
- A key too long for an index entry is a ``ValueError`` naming it (LangGraph's raises
  psycopg's ``ProgramLimitExceeded``); a key holding NUL is a ``ValueError`` up front.
- Without pgvector, semantic search still works (scores computed in Python); vector
  scoring is exact: ``ann_index_config`` is accepted but builds no approximate index.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal, TypedDict, TypeVar, cast

import anyio.to_thread

from actorgraph.persistence import _store_exec as ex
from actorgraph.persistence._serde import Serializer
from actorgraph.persistence._store import BaseStore, IndexConfig, Op, Result, SearchOp, TTLConfig
from actorgraph.persistence._store_exec import PList, PPut, Prepared, PSearch
from actorgraph.persistence._store_pg_sql import MIGRATIONS, Db, Tx, apply_migrations, check_text
from actorgraph.persistence._store_pg_vec import check_vectors, score_items, setup_vectors, write_vectors
from actorgraph.persistence._store_shared import EmbeddingBatches, ThreadSweeper
from actorgraph.persistence._store_vectors import Key, VectorIndex, VectorWrites

__all__ = (
    "ANNIndexConfig",
    "PoolConfig",
    "PostgresCore",
    "PostgresIndexConfig",
    "PostgresStore",
    "conn_kwargs",
    "import_psycopg",
    "pool_args",
    "too_long",
)

T = TypeVar("T")
_Followup = tuple[list[tuple[tuple[str, ...], str]], bool, int]


class PoolConfig(TypedDict, total=False):
    """``from_conn_string(pool_config=...)``: open a connection pool of this size."""

    min_size: int
    max_size: int | None
    kwargs: dict[str, Any]
    """Connection arguments, over the defaults (``autocommit=True``, ``prepare_threshold=0``,
    ``row_factory=dict_row``, as LangGraph's)."""


class ANNIndexConfig(TypedDict, total=False):
    """Accepted for LangGraph's configs; scoring is exact, so no approximate index is built."""

    kind: Literal["hnsw", "ivfflat", "flat"]
    vector_type: Literal["vector", "halfvec"]


class PostgresIndexConfig(IndexConfig, total=False):
    """``IndexConfig`` plus LangGraph's Postgres options."""

    ann_index_config: ANNIndexConfig
    distance_type: Literal["l2", "inner_product", "cosine"]


def import_psycopg() -> Any:
    """psycopg, or an ImportError saying how to install it."""
    try:
        import psycopg
    except ImportError as exc:
        raise ImportError(
            "The Postgres stores need psycopg 3: pip install 'actorgraph[postgres]'"
        ) from exc
    return psycopg


def conn_kwargs(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Connection arguments for connections the store opens (LangGraph's defaults)."""
    from psycopg.rows import dict_row

    return {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row, **(extra or {})}


def pool_args(pool_config: PoolConfig) -> dict[str, Any]:
    """A pool's arguments from ``from_conn_string(pool_config=...)`` (LangGraph's defaults)."""
    pc: dict[str, Any] = dict(pool_config)
    return {
        "min_size": pc.pop("min_size", 1),
        "max_size": pc.pop("max_size", None),
        "kwargs": conn_kwargs(pc.pop("kwargs", None)),
        **pc,
    }


class _CursorDb:
    """``Db`` over a sync psycopg cursor."""

    __slots__ = ("cur",)

    def __init__(self, cur: Any) -> None:
        self.cur = cur

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cur.execute(sql, params or None)
        return cast(list[tuple[Any, ...]], self.cur.fetchall())

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cur.execute(sql, params or None)

    def run_many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        self.cur.executemany(sql, params)


class PostgresCore(EmbeddingBatches):
    """What the sync and async Postgres stores share: configuration, setup and the body
    of a batch's transaction (over a ``Db``)."""

    supports_ttl = True
    MIGRATIONS = MIGRATIONS
    """The statements ``setup()`` applies, one per schema version."""
    use_pgvector = True
    """Whether a new vectors table uses pgvector when the database has it (a subclass may
    say False to keep vectors as ``real[]``, scored in Python)."""

    def _configure(self, index: IndexConfig | None, ttl: TTLConfig | None, serde: Serializer | None) -> None:
        self.index_config: IndexConfig | None = ex.copy_index(index)
        self._index = VectorIndex(self.index_config) if self.index_config else None
        self.embeddings: Any = self._index.embeddings if self._index is not None else None
        self._dims: int | None = None
        if self._index is not None:
            dims = self._index.dims
            if isinstance(dims, bool) or not isinstance(dims, int) or dims < 1:
                raise ValueError(
                    f"index 'dims' must be the embeddings' number of dimensions (an int >= 1), got {dims!r}"
                )
            self._dims = dims
        self._vector_schema: str | None = None
        self.ttl_config = ex.check_ttl_config(ttl)
        self.serde = serde or Serializer()
        self.is_setup = False

    @property
    def vector_backend(self) -> str | None:
        """How semantic search scores: ``"pgvector"``, ``"python"`` (the fallback), or
        ``None`` (no index, or not set up yet)."""
        if self._dims is None or not self.is_setup:
            return None
        return "python" if self._vector_schema is None else "pgvector"

    def _setup_in(self, db: Db) -> None:
        apply_migrations(db, "actorgraph_store_migrations", MIGRATIONS)
        if self._dims is not None:
            self._vector_schema = setup_vectors(db, self._dims, use_pgvector=self.use_pgvector)

    def _check(self, args: tuple[Any, ...]) -> None:
        """Refuse what Postgres can't take, before the transaction opens."""
        check_text(args[0])
        if len(args) > 1:
            check_vectors(args[1], args[3], self._dims)

    def _run(
        self,
        db: Db,
        prepared: Sequence[Prepared],
        vectors: VectorWrites | None = None,
        ranked: dict[int, SearchOp] | None = None,
        queries: dict[str, list[float]] | None = None,
    ) -> tuple[list[Result], _Followup | None]:
        """A batch inside its transaction: the results, and what a read-only batch leaves
        to a short write transaction after it (TTL refreshes, a purge)."""
        now = ex.now_us()
        tx = Tx(db, self.serde)
        results, refresh = ex.run(tx, prepared, now)
        if vectors is not None:
            write_vectors(db, vectors, self._vector_schema)
        scores: dict[int, dict[Key, float]] = {}
        for i, op in (ranked or {}).items():
            query = cast(dict, queries)[op.query]
            candidates = cast(list, results[i])
            index = cast(VectorIndex, self._index)
            prefix = tuple(op.namespace_prefix)
            scores[i] = score_items(db, self._vector_schema, prefix, candidates, query, index, tx.ns)
        if not (self.ttl_config and self.ttl_config.get("refresh_on_read")):
            refresh = []  # as LangGraph's: reads refresh only when the store's ttl says so
        followup: _Followup | None = None
        if any(isinstance(op, PPut) for op in prepared):
            tx.refresh(refresh, now)
            tx.purge(now)
        else:
            if not tx.saw_expired and any(isinstance(op, (PSearch, PList)) for op in prepared):
                # searches skip expired rows without seeing them: one probe of the expiry
                # index tells whether a purge is due
                tx.saw_expired = tx.any_expired(now)
            if refresh or tx.saw_expired:
                followup = (refresh, tx.saw_expired, now)
        if ranked:
            VectorIndex.rank(results, ranked, scores, unscored=False)
        return results, followup

    def _followup(self, db: Db, followup: _Followup) -> None:
        refresh, purge, now = followup
        tx = Tx(db, self.serde)
        tx.refresh(refresh, now)
        if purge:
            tx.purge(now)

    def _sweep(self, db: Db) -> int:
        return Tx(db, self.serde).purge(ex.now_us())


def too_long(exc: Exception, prepared: Sequence[Prepared]) -> ValueError | None:
    """A ``ValueError`` naming the longest key of a batch Postgres refused because a key
    didn't fit an index entry (``None`` for any other error)."""
    if getattr(exc, "sqlstate", None) != "54000":  # program_limit_exceeded
        return None
    keyed = [op for op in prepared if isinstance(op, PPut)]
    if not keyed:
        return None
    op = max(keyed, key=lambda op: len(op.key.encode()) + sum(len(label.encode()) for label in op.namespace))
    return ValueError(
        f"Store key {op.key[:60]!r}... ({len(op.key)} characters) in namespace {op.namespace!r:.80} is too long: "
        f"a namespace and key must fit one Postgres index entry (about 2,700 bytes). Postgres said: {exc}"
    )


def _is_pool(conn: Any) -> bool:
    return callable(getattr(conn, "connection", None)) and hasattr(conn, "max_size")


class PostgresStore(ThreadSweeper, PostgresCore, BaseStore):
    """A store in a Postgres database (LangGraph's ``PostgresStore``).

    ``with PostgresStore.from_conn_string("postgresql://...") as store: ...`` or
    ``PostgresStore(conn)`` with a psycopg ``Connection`` (autocommit, as LangGraph's) or
    a ``ConnectionPool``. ``setup()`` creates the tables (it also runs by itself on
    first use); ``index`` and ``ttl`` as for ``InMemoryStore``. Threads, processes and
    hosts may share one database.
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
        if isinstance(conn, psycopg.AsyncConnection) or type(conn).__name__ == "AsyncConnectionPool":
            raise TypeError(
                f"PostgresStore needs a sync psycopg connection or pool, got {conn!r}: use AsyncPostgresStore"
            )
        if not (isinstance(conn, psycopg.Connection) or _is_pool(conn)):
            raise TypeError(
                f"PostgresStore needs a psycopg Connection or ConnectionPool, got {conn!r}; "
                "or use PostgresStore.from_conn_string('postgresql://...')"
            )
        super().__init__()
        self.conn = conn
        self.pipe = pipe
        self.lock = threading.Lock()  # one batch at a time on a single connection
        self._setup_lock = threading.Lock()
        self._configure(index, ttl, serde)
        self._init_sweepers()

    @classmethod
    @contextlib.contextmanager
    def from_conn_string(
        cls,
        conn_string: str,
        *,
        pipeline: bool = False,
        pool_config: PoolConfig | None = None,
        index: PostgresIndexConfig | None = None,
        ttl: TTLConfig | None = None,
        serde: Serializer | None = None,
    ) -> Iterator[PostgresStore]:
        """A store on a new connection (or, with ``pool_config``, a pool; it overrides
        ``pipeline``), closed on exit along with the store's TTL sweeper."""
        import psycopg

        with contextlib.ExitStack() as stack:
            if pool_config is not None:
                from psycopg_pool import ConnectionPool

                pool = ConnectionPool(conn_string, open=True, **pool_args(pool_config))
                stack.enter_context(pool)
                store = cls(pool, index=index, ttl=ttl, serde=serde)
            else:
                conn = stack.enter_context(psycopg.Connection.connect(conn_string, **conn_kwargs()))
                pipe = stack.enter_context(conn.pipeline()) if pipeline else None
                store = cls(conn, pipe=pipe, index=index, ttl=ttl, serde=serde)
            stack.callback(store.stop_ttl_sweeper)
            yield store

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        if _is_pool(self.conn):
            with self.conn.connection() as conn:
                yield conn
        else:
            with self.lock:
                yield self.conn

    def _transaction(self, fn: Callable[..., T], *args: Any) -> T:
        from psycopg.rows import tuple_row

        with self._connection() as conn, conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
            return fn(_CursorDb(cur), *args)

    @contextlib.contextmanager
    def _cursor(self, *, pipeline: bool = False) -> Iterator[Any]:
        """A dict-row cursor on the store's connection, in a transaction (as LangGraph's
        ``_cursor``, which code written for its store uses to run its own statements)."""
        from psycopg.rows import dict_row

        with self._connection() as conn, conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            yield cur

    def setup(self) -> None:
        """Create or migrate the tables (idempotent; runs by itself on first use)."""
        with self._setup_lock:
            self._transaction(self._setup_in)
            self.is_setup = True

    def _ensure_setup(self) -> None:
        if not self.is_setup:
            self.setup()

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return self._execute(*self._prepare_args(ops))

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        args = await self._aprepare(ops)
        return await anyio.to_thread.run_sync(self._execute, *args)

    def _execute(self, *args: Any) -> list[Result]:
        self._check(args)
        self._ensure_setup()
        try:
            results, followup = self._transaction(self._run, *args)
        except Exception as exc:
            explained = too_long(exc, args[0])
            if explained is None:
                raise
            raise explained from exc
        if followup is not None:
            self._transaction(self._followup, followup)
        return results

    # -- time to live -----------------------------------------------------------------
    def sweep_ttl(self) -> int:
        """Delete the expired items now; returns how many. (The store's writes also purge
        them, so calling this is optional.)"""
        self._ensure_setup()
        return self._transaction(self._sweep)

    async def asweep_ttl(self) -> int:
        """Async ``sweep_ttl``."""
        return await anyio.to_thread.run_sync(self.sweep_ttl)
