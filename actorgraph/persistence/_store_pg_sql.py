"""The Postgres stores' statements: the versioned schema ``setup()`` applies, and the
interpreter's backend (``_store_exec.Backend``) over one transaction.

Items live in table ``actorgraph_store`` as the SQLite stores keep them: the namespace as
its labels joined with ``.`` (in the ``"C"`` collation, so a namespace prefix is one index
range), the value serialized by the safe serializer (``bytea``), timestamps and expiry in
microseconds since the epoch (the stores' clock, one reading per batch). Vectors live in
``actorgraph_store_vectors`` (``_store_pg_vec``), deleted with their item by a foreign key.

The statements go through a ``Db``: a psycopg cursor for the sync store, a bridge to an
async cursor for the async one, so both run the same code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

from actorgraph.persistence import _store_exec as ex
from actorgraph.persistence._serde import Serializer
from actorgraph.persistence._store_exec import SerializedValues, PGet, PPut, Prepared, Record

__all__ = ("MIGRATIONS", "Db", "Tx", "apply_migrations", "check_text", "ns_text", "under")

Namespace = tuple[str, ...]

MIGRATIONS: tuple[str, ...] = (
    # v1: items
    """CREATE TABLE IF NOT EXISTS actorgraph_store (
        ns TEXT COLLATE "C" NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        value BYTEA NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        ttl_minutes DOUBLE PRECISION,
        expires_at BIGINT,
        PRIMARY KEY (ns, key)
    )""",
    # v2: expired items found (and swept) without a full scan
    "CREATE INDEX IF NOT EXISTS actorgraph_store_expiry ON actorgraph_store (expires_at) WHERE expires_at IS NOT NULL",
)
"""The statements ``setup()`` applies, in order; the ``n``-th is schema version ``n``.
New versions are appended, never edited (a database records the versions it has)."""

_COLUMNS = "ns, key, value, created_at, updated_at, ttl_minutes, expires_at"
_LIVE = "(expires_at IS NULL OR expires_at > %s)"
_UPSERT = f"""INSERT INTO actorgraph_store ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (ns, key) DO UPDATE SET
        value = excluded.value,
        created_at = CASE WHEN actorgraph_store.expires_at IS NOT NULL
                               AND actorgraph_store.expires_at <= excluded.updated_at
                          THEN excluded.created_at ELSE actorgraph_store.created_at END,
        updated_at = excluded.updated_at,
        ttl_minutes = excluded.ttl_minutes,
        expires_at = excluded.expires_at"""
_DELETE = "DELETE FROM actorgraph_store WHERE ns = %s AND key = %s"
# the product is capped as _store_exec.ttl_us caps it (a huge ttl must not overflow bigint)
_REFRESH = (
    "UPDATE actorgraph_store SET expires_at = %s + LEAST(ttl_minutes * 60000000, 2305843009213693952)::bigint "
    "WHERE ns = %s AND key = %s AND ttl_minutes IS NOT NULL"
)
# SKIP LOCKED: rows another transaction is writing are left to it, so concurrent batches
# purging the same expired rows never wait on (or deadlock with) each other
# (counted in SQL: in pipeline mode a cursor's rowcount isn't known until a sync)
_PURGE = """WITH gone AS (DELETE FROM actorgraph_store WHERE (ns, key) IN (
    SELECT ns, key FROM actorgraph_store WHERE expires_at IS NOT NULL AND expires_at <= %s
    FOR UPDATE SKIP LOCKED) RETURNING 1) SELECT count(*) FROM gone"""
_ANY_EXPIRED = "SELECT 1 FROM actorgraph_store WHERE expires_at IS NOT NULL AND expires_at <= %s LIMIT 1"


class Db(Protocol):
    """Statements on one connection, inside the batch's transaction."""

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def run(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def run_many(self, sql: str, params: Sequence[Sequence[Any]]) -> None: ...


def apply_migrations(db: Db, table: str, statements: Sequence[str]) -> int:
    """Apply the ``statements`` not yet recorded in ``table`` (one row per applied
    version), under a transaction-scoped advisory lock so concurrent setups take turns.
    Returns the schema version now in place."""
    db.rows("SELECT pg_advisory_xact_lock(hashtext(current_schema() || %s))", (table,))
    db.run(f"CREATE TABLE IF NOT EXISTS {table} (v INTEGER PRIMARY KEY)")
    done = db.rows(f"SELECT COALESCE(MAX(v), 0) FROM {table}")[0][0]
    for version in range(done + 1, len(statements) + 1):
        db.run(statements[version - 1])
        db.run(f"INSERT INTO {table} (v) VALUES (%s)", (version,))
    return max(done, len(statements))


def ns_text(ns: Namespace) -> str:
    return ".".join(ns)


def under(prefix: Namespace) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause (ending in ``AND``) and its params for namespaces equal to or below
    ``prefix``: one index range ``[p, p + '/')`` ('/' follows '.' in the "C" collation and
    no label holds a '.'), narrowed to ``p`` itself or texts from ``p + '.'`` on."""
    if not prefix:
        return "", ()
    text = ns_text(prefix)
    return "ns >= %s AND ns < %s AND (ns = %s OR ns >= %s) AND ", (text, text + "/", text, text + ".")


def check_text(ops: Iterable[Prepared]) -> None:
    """Postgres text can't hold NUL: refuse such a key before anything runs (labels are
    checked for it by every store)."""
    for op in ops:
        if isinstance(op, (PGet, PPut)) and "\x00" in op.key:
            raise ValueError(
                f"Store key {op.key!r} in namespace {op.namespace!r} contains a NUL character (\\x00), "
                "which Postgres text can't hold; remove it from the key."
            )


class Tx(SerializedValues):
    """The interpreter's backend for one batch: statements through ``db``."""

    __slots__ = ("db", "serde", "saw_expired", "_names")

    def __init__(self, db: Db, serde: Serializer) -> None:
        self.db = db
        self.serde = serde
        self.saw_expired = False
        self._names: dict[str, Namespace] = {}

    def ns(self, text: str) -> Namespace:
        ns = self._names.get(text)
        if ns is None:
            ns = self._names[text] = tuple(text.split("."))
        return ns

    # -- Backend ----------------------------------------------------------------------
    def get_many(self, keys: Sequence[tuple[Namespace, str]], now: int) -> list[Record | None]:
        if len(keys) == 1:
            ns, key = keys[0]
            sql = f"SELECT {_COLUMNS} FROM actorgraph_store WHERE ns = %s AND key = %s"
            found = self.db.rows(sql, (ns_text(ns), key))
        else:
            wanted = list(dict.fromkeys((ns_text(ns), key) for ns, key in keys))
            found = self.db.rows(
                f"SELECT {_COLUMNS} FROM actorgraph_store WHERE (ns, key) IN "
                "(SELECT * FROM unnest(%s::text[], %s::text[]))",
                ([w[0] for w in wanted], [w[1] for w in wanted]),
            )
        rows: dict[tuple[str, str], tuple[Any, ...]] = {}
        row: tuple[Any, ...] | None
        for row in found:
            if row[6] is not None and row[6] <= now:
                self.saw_expired = True
                continue
            rows[(row[0], row[1])] = row
        out: list[Record | None] = []
        for ns, key in keys:
            row = rows.get((ns_text(ns), key))
            out.append(None if row is None else Record(ns, key, None, row[2], row[3], row[4], row[5], row[6]))
        return out

    def write_many(self, writes: Sequence[PPut], now: int) -> None:
        # one final state per key (all writes share one instant); a key deleted before
        # its last put is deleted first, so the put starts a new item (new created_at)
        final: dict[tuple[str, str], PPut] = {}
        restart: set[tuple[str, str]] = set()
        for w in writes:
            k = (ns_text(w.namespace), w.key)
            prev = final.get(k)
            if w.raw is not None and prev is not None and prev.raw is None:
                restart.add(k)
            final[k] = w
        # rows are locked in key order, so concurrent batches can't deadlock on them
        order = sorted(final)
        deletes = [k for k in order if final[k].raw is None or k in restart]
        upserts = []
        for k in order:
            w = final[k]
            if w.raw is not None:
                expires = None if w.ttl is None else now + ex.ttl_us(w.ttl)
                upserts.append((k[0], k[1], w.raw, now, now, w.ttl, expires))
        if deletes:
            self.db.run_many(_DELETE, deletes)
        if upserts:
            self.db.run_many(_UPSERT, upserts)

    def scan(self, prefix: Namespace, now: int, offset: int, limit: int | None) -> Iterator[Record]:
        where, params = under(prefix)
        rows = self.db.rows(
            f"SELECT {_COLUMNS} FROM actorgraph_store WHERE {where}{_LIVE} "
            "ORDER BY updated_at DESC, ns, key LIMIT %s OFFSET %s",
            (*params, now, limit, offset),
        )
        names = self.ns
        return iter([Record(names(r[0]), r[1], None, r[2], r[3], r[4], r[5], r[6]) for r in rows])

    def namespaces(self, prefix: Namespace, now: int) -> Iterable[Namespace]:
        where, params = under(prefix)
        rows = self.db.rows(f"SELECT DISTINCT ns FROM actorgraph_store WHERE {where}{_LIVE}", (*params, now))
        return [self.ns(text) for (text,) in rows]

    # -- time to live -----------------------------------------------------------------
    def refresh(self, keys: Sequence[tuple[Namespace, str]], now: int) -> None:
        if keys:
            self.db.run_many(_REFRESH, sorted((now, ns_text(ns), key) for ns, key in keys))

    def purge(self, now: int) -> int:
        return int(self.db.rows(_PURGE, (now,))[0][0])

    def any_expired(self, now: int) -> bool:
        return bool(self.db.rows(_ANY_EXPIRED, (now,)))
