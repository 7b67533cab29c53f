"""The SQLite stores' vectors: table ``actorgraph_store_vectors`` (one row per item and
embedded field, the vector as little-endian float32, the layout sqlite-vec reads), kept in
step with the items by the store's batches and by a trigger (a deleted or expired item
takes its vectors with it).

Scores are computed in SQL with sqlite-vec's ``vec_distance_cosine`` / ``vec_distance_L2``
when the ``sqlite-vec`` package is installed (``pip install 'actorgraph[vec]'``) and the
connection can load extensions. Otherwise the store registers functions of the same names
written in Python, so the same statements run and give the same ranking, only slower on
large stores; ``store.vector_backend`` says which (``"sqlite-vec"`` or ``"python"``), and
the first store that falls back logs why, once per process. (Many Python builds, pyenv's
by default, can't load SQLite extensions at all.)
"""

from __future__ import annotations

import math
import sqlite3
import struct
import threading
from collections.abc import Sequence
from typing import Any

import structlog

from actorgraph.persistence._store_vectors import Key, VectorWrites

__all__ = ("VECTOR_SCHEMA", "delete_vectors", "install_vector_functions", "score_items", "write_vectors")

_log = structlog.get_logger("actorgraph.store")
_warned = threading.Event()

VECTOR_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS actorgraph_store_vectors (
        ns TEXT NOT NULL,
        key TEXT NOT NULL,
        field TEXT NOT NULL,
        embedding BLOB NOT NULL,
        PRIMARY KEY (ns, key, field)
    ) WITHOUT ROWID""",
    """CREATE TRIGGER IF NOT EXISTS actorgraph_store_vectors_follow AFTER DELETE ON actorgraph_store
    BEGIN
        DELETE FROM actorgraph_store_vectors WHERE ns = old.ns AND key = old.key;
    END""",
)


def _pack(vector: Sequence[float]) -> bytes:
    return struct.pack(f"<{len(vector)}f", *vector)


def _unpack(blob: bytes) -> tuple[float, ...]:
    if not isinstance(blob, (bytes, bytearray, memoryview)) or len(blob) % 4:
        raise ValueError("a vector must be a float32 blob")
    return struct.unpack(f"<{len(blob) // 4}f", blob)


def _py_distance_cosine(a: bytes, b: bytes) -> float:
    x, y = _unpack(a), _unpack(b)
    if len(x) != len(y):
        raise ValueError(f"vectors of {len(x)} and {len(y)} dimensions can't be compared")
    dot = math.fsum(p * q for p, q in zip(x, y))
    nx = math.sqrt(math.fsum(p * p for p in x))
    ny = math.sqrt(math.fsum(q * q for q in y))
    # 1 - similarity, with an all-zero vector at similarity 0 (as LangGraph's memory store)
    return 1.0 - (dot / (nx * ny) if nx and ny else 0.0)


def _py_distance_l2(a: bytes, b: bytes) -> float:
    x, y = _unpack(a), _unpack(b)
    if len(x) != len(y):
        raise ValueError(f"vectors of {len(x)} and {len(y)} dimensions can't be compared")
    return math.sqrt(math.fsum((p - q) ** 2 for p, q in zip(x, y)))


def install_vector_functions(conn: sqlite3.Connection) -> str:
    """Make ``vec_distance_cosine`` and ``vec_distance_L2`` callable on ``conn``: sqlite-vec's
    when it loads, ours otherwise. Returns ``"sqlite-vec"`` or ``"python"``."""
    reason = ""
    try:
        import sqlite_vec  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        reason = "the sqlite-vec package isn't installed (pip install 'actorgraph[vec]')"
    else:
        if not hasattr(conn, "enable_load_extension"):
            reason = "this Python's sqlite3 module was built without extension loading"
        else:
            try:
                conn.enable_load_extension(True)
                try:
                    sqlite_vec.load(conn)
                finally:
                    conn.enable_load_extension(False)
                return "sqlite-vec"
            except sqlite3.Error as exc:
                reason = f"sqlite-vec didn't load: {exc}"
    conn.create_function("vec_distance_cosine", 2, _py_distance_cosine, deterministic=True)
    conn.create_function("vec_distance_L2", 2, _py_distance_l2, deterministic=True)
    if not _warned.is_set():
        _warned.set()
        _log.warning(
            "store_vectors_in_python",
            reason=reason,
            detail="semantic search scores are computed in Python: same ranking, slower on large stores",
        )
    return "python"


def delete_vectors(conn: sqlite3.Connection, keys: Sequence[tuple[str, str]]) -> None:
    if keys:
        conn.executemany("DELETE FROM actorgraph_store_vectors WHERE ns = ? AND key = ?", keys)


def write_vectors(conn: sqlite3.Connection, writes: VectorWrites, text: Any) -> None:
    """Apply a batch's vector changes (after its items were written). ``text`` turns a
    namespace into its stored text."""
    delete_vectors(conn, [(text(ns), key) for ns, key in writes.replaced])
    if writes.rows:
        # a put whose item isn't there (deleted later in the batch) stores no vectors
        conn.executemany(
            "INSERT OR REPLACE INTO actorgraph_store_vectors (ns, key, field, embedding) "
            "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM actorgraph_store WHERE ns = ?1 AND key = ?2)",
            [(text(ns), key, field, _pack(vector)) for (ns, key), field, vector in writes.rows],
        )


def score_items(
    conn: sqlite3.Connection,
    where: str,
    params: Sequence[Any],
    query: Sequence[float],
    distance_type: str,
    names: Any,
) -> dict[Key, float]:
    """Each item's best score under the namespace clause ``where`` (ending in ``AND``)."""
    q = _pack(query)
    args: tuple[Any, ...]
    if distance_type == "l2":
        expr, args = "-vec_distance_L2(embedding, ?)", (q,)
    elif distance_type == "inner_product":
        # no dot product in sqlite-vec: cos * |v| * |q|, |v| as the distance from the origin
        norm = math.sqrt(math.fsum(x * x for x in query))
        zero = _pack([0.0] * len(query))
        expr, args = "(1.0 - vec_distance_cosine(embedding, ?)) * vec_distance_L2(embedding, ?) * ?", (q, zero, norm)
    else:
        expr, args = "1.0 - vec_distance_cosine(embedding, ?)", (q,)
    rows = conn.execute(
        f"SELECT ns, key, MAX({expr}) FROM actorgraph_store_vectors WHERE {where} 1 GROUP BY ns, key",
        (*args, *params),
    )
    return {(names(ns), key): float(score) for ns, key, score in rows}
