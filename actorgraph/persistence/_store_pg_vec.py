"""The Postgres stores' vectors: table ``actorgraph_store_vectors`` (one row per item and
embedded field), deleted with its item by a foreign key (so deletes, overwrites and
expiry sweeps take the vectors along).

With pgvector (``CREATE EXTENSION vector``, which ``setup()`` runs when the extension is
available to the database) the column is ``vector(dims)`` and scores are computed in SQL
by pgvector's distance operators over the query's namespace prefix. Without it the column
is ``real[]`` and the scores are computed in Python over the search's candidate items
only: the same ranking, slower on large stores. The choice is made when the table is
created and kept (``store.vector_backend`` says which: ``"pgvector"`` or ``"python"``);
the first store that falls back logs why, once per process. pgvector's names are used
schema-qualified, so they are found whatever the connection's ``search_path``. Scoring is exact in both
(no approximate index).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

import structlog

from actorgraph.persistence._store_pg_sql import Db, apply_migrations, ns_text, under
from actorgraph.persistence._store_vectors import Key, VectorIndex, VectorWrites, cosine

__all__ = ("check_vectors", "score_items", "setup_vectors", "write_vectors")

_log = structlog.get_logger("actorgraph.store")
_warned = threading.Event()

_TABLE = """CREATE TABLE IF NOT EXISTS actorgraph_store_vectors (
    ns TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    field TEXT NOT NULL,
    embedding {type} NOT NULL,
    PRIMARY KEY (ns, key, field),
    FOREIGN KEY (ns, key) REFERENCES actorgraph_store (ns, key) ON DELETE CASCADE
)"""
# the embedding column's type: its name, size (pgvector's typmod) and schema
_COLUMN_TYPE = """SELECT t.typname, a.atttypmod, n.nspname FROM pg_attribute a
    JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE a.attrelid = to_regclass('actorgraph_store_vectors') AND a.attname = 'embedding'"""
_EXTENSION_SCHEMA = """SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'vector'"""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pgvector_schema(db: Db) -> tuple[str | None, str]:
    """The schema holding pgvector's extension (created if the server has it and the
    database doesn't yet), or ``None`` and why not. Its names are used schema-qualified,
    so a connection whose search_path leaves that schema out still finds them."""
    found = db.rows(_EXTENSION_SCHEMA)
    if found:
        return found[0][0], ""
    if not db.rows("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"):
        return None, "the pgvector extension isn't installed on the Postgres server"
    db.run("SAVEPOINT actorgraph_vector")
    try:
        db.run("CREATE EXTENSION IF NOT EXISTS vector")
    except Exception as exc:  # e.g. no privilege to create extensions
        db.run("ROLLBACK TO SAVEPOINT actorgraph_vector")
        return None, f"CREATE EXTENSION vector failed: {exc}"
    db.run("RELEASE SAVEPOINT actorgraph_vector")
    return db.rows(_EXTENSION_SCHEMA)[0][0], ""


def setup_vectors(db: Db, dims: int, *, use_pgvector: bool = True) -> str | None:
    """Create (or find) the vectors table. Returns the quoted schema of the pgvector
    ``vector`` type it uses, or ``None``: vectors are ``real[]``, scored in Python."""
    found = db.rows(_COLUMN_TYPE)
    reason = "the vectors table was created without pgvector"
    if not found:
        schema, reason = None, "the store says use_pgvector=False"
        if use_pgvector:
            schema, reason = _pgvector_schema(db)
        column = "real[]" if schema is None else f"{_ident(schema)}.vector({int(dims)})"
        apply_migrations(db, "actorgraph_store_vector_migrations", (_TABLE.format(type=column),))
        found = db.rows(_COLUMN_TYPE)
    type_name, size, type_schema = found[0]
    if type_name == "vector":
        if size != dims:
            raise ValueError(
                f"The store's index has dims={dims}, but its vectors table was created with {size} "
                "dimensions; use the same dims, or another database schema"
            )
        return _ident(type_schema)
    if not _warned.is_set():
        _warned.set()
        _log.warning(
            "store_vectors_in_python",
            reason=reason,
            detail="semantic search scores are computed in Python: same ranking, slower on large stores",
        )
    return None


def check_vectors(writes: VectorWrites | None, queries: dict[str, list[float]] | None, dims: int | None) -> None:
    """Each vector has the index's ``dims`` and finite numbers (pgvector refuses others;
    the Python path would rank nonsense): a ``ValueError`` naming the item and field."""
    for (ns, key), field, vector in writes.rows if writes is not None else ():
        problem = _problem(vector, dims)
        if problem:
            raise ValueError(f"The embedding of field {field!r} of key {key!r} in namespace {ns!r} {problem}")
    for query, vector in (queries or {}).items():
        problem = _problem(vector, dims)
        if problem:
            raise ValueError(f"The embedding of the search query {query!r:.80} {problem}")


def _problem(vector: Sequence[float], dims: int | None) -> str:
    if dims is not None and len(vector) != dims:
        return f"has {len(vector)} dimensions; the store's index has dims={dims}"
    if not all(math.isfinite(x) for x in vector):
        return "holds a NaN or infinite number"
    return ""


def _literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


def write_vectors(db: Db, writes: VectorWrites, schema: str | None) -> None:
    """Apply a batch's vector changes (after its items were written)."""
    if writes.replaced:
        db.run_many(
            "DELETE FROM actorgraph_store_vectors WHERE ns = %s AND key = %s",
            sorted((ns_text(ns), key) for ns, key in writes.replaced),
        )
    if writes.rows:
        cast, encode = ("real[]", list) if schema is None else (f"{schema}.vector", _literal)
        # a put whose item isn't there (deleted later in the batch) stores no vectors
        db.run_many(
            f"""INSERT INTO actorgraph_store_vectors (ns, key, field, embedding)
            SELECT %s, %s, %s, %s::{cast}
            WHERE EXISTS (SELECT 1 FROM actorgraph_store WHERE ns = %s AND key = %s)
            ON CONFLICT (ns, key, field) DO UPDATE SET embedding = excluded.embedding""",
            sorted(
                (ns_text(ns), key, field, encode(vector), ns_text(ns), key)
                for (ns, key), field, vector in writes.rows
            ),
        )


_SQL_SCORES = {
    # a zero vector has no direction: pgvector gives NaN, LangGraph's stores similarity 0
    "cosine": "COALESCE(NULLIF(1 - (embedding OPERATOR({s}.<=>) %s::{s}.vector), 'NaN'::float8), 0)",
    "l2": "-(embedding OPERATOR({s}.<->) %s::{s}.vector)",
    "inner_product": "-(embedding OPERATOR({s}.<#>) %s::{s}.vector)",  # <#>: the negated dot product
}


def _py_score(distance_type: str, query: Sequence[float], vector: Sequence[float]) -> float:
    if distance_type == "l2":
        return -math.dist(query, vector)
    if distance_type == "inner_product":
        return math.fsum(q * v for q, v in zip(query, vector))
    return cosine(query, vector)


def score_items(
    db: Db,
    schema: str | None,
    prefix: tuple[str, ...],
    candidates: list[Any],
    query: list[float],
    index: VectorIndex,
    names: Any,
) -> dict[Key, float]:
    """Each candidate item's best score for ``query`` (candidates without vectors are
    absent): by pgvector in ``schema`` over the prefix, or (``None``) in Python over the
    candidates."""
    distance = index.distance_type
    if schema is not None:
        where, params = under(prefix)
        score = _SQL_SCORES[distance].replace("{s}", schema)
        rows = db.rows(
            f"SELECT ns, key, MAX({score}) FROM actorgraph_store_vectors "
            f"WHERE {where} TRUE GROUP BY ns, key",
            (_literal(query), *params),
        )
        return {(names(ns), key): float(score) for ns, key, score in rows}
    if not candidates:
        return {}
    wanted = [(ns_text(item.namespace), item.key) for item in candidates]
    rows = db.rows(
        "SELECT ns, key, embedding FROM actorgraph_store_vectors WHERE (ns, key) IN "
        "(SELECT * FROM unnest(%s::text[], %s::text[]))",
        ([w[0] for w in wanted], [w[1] for w in wanted]),
    )
    out: dict[Key, float] = {}
    for ns, key, vector in rows:
        k = (names(ns), key)
        value = _py_score(distance, query, vector)
        if k not in out or value > out[k]:
            out[k] = value
    return out
