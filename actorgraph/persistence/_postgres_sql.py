"""SQL of the Postgres savers: their versioned migrations, the statements of each storage
primitive, and the WHERE clause of ``list`` (metadata filters on JSONB paths, keys checked
so they can't inject SQL).

The tables carry an ``actorgraph_`` prefix, so they live beside LangGraph's own
``checkpoints`` tables (and the server's) in one database without touching them. A step
the runtime saves is one ``actorgraph_checkpoints`` row of type ``actorgraph`` plus its
tasks' ``actorgraph_checkpoint_writes`` rows; ``put`` stores LangGraph's checkpoint dict
serialized with the saver's serializer, tagged with its type.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from actorgraph.persistence._base import StoredWrite
from actorgraph.persistence._codec import typed
from actorgraph.persistence._model import NATIVE, CheckpointRow, pack_row
from actorgraph.persistence._sqlite_utils import _validate_filter_key

__all__ = (
    "ANCESTORS",
    "BY_ID",
    "BY_IDS",
    "HAS_MIGRATIONS",
    "COPY",
    "DELETE_IDS",
    "DELETE_THREAD",
    "HEAD",
    "INSERT_ROW",
    "INSERT_WRITE",
    "INSERT_WRITE_KEEP",
    "LATEST",
    "LOCK_HEAD",
    "LOCK_SETUP",
    "MIGRATIONS",
    "MIGRATIONS_TABLE",
    "NAMESPACES",
    "RANGE",
    "WRITES",
    "row_params",
    "select_sql",
    "write_params",
)

CHECKPOINTS = "actorgraph_checkpoints"
WRITES_TABLE = "actorgraph_checkpoint_writes"

MIGRATIONS_TABLE = "CREATE TABLE IF NOT EXISTS actorgraph_checkpoint_migrations (v INTEGER PRIMARY KEY)"
HAS_MIGRATIONS = "SELECT to_regclass('actorgraph_checkpoint_migrations') IS NOT NULL"
MIGRATIONS: tuple[str, ...] = (
    # v0 and on: append only. A migration is applied once, in order, by ``setup()``; none
    # drops or rewrites data, so any older database upgrades in place.
    f"""CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (
        thread_id TEXT NOT NULL,
        checkpoint_ns TEXT NOT NULL DEFAULT '',
        checkpoint_id TEXT NOT NULL,
        parent_checkpoint_id TEXT,
        type TEXT,
        checkpoint BYTEA,
        metadata JSONB NOT NULL DEFAULT '{{}}',
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
    )""",
    f"""CREATE TABLE IF NOT EXISTS {WRITES_TABLE} (
        thread_id TEXT NOT NULL,
        checkpoint_ns TEXT NOT NULL DEFAULT '',
        checkpoint_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        task_path TEXT NOT NULL DEFAULT '',
        idx INTEGER NOT NULL,
        channel TEXT NOT NULL,
        type TEXT,
        value BYTEA,
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
    )""",
)

# Advisory-lock keys: setup's, and each thread namespace's head (a 64-bit hash of the
# pair; two pairs that collide only wait for each other, they never mix data).
LOCK_SETUP = "SELECT pg_advisory_xact_lock(hashtextextended('actorgraph.checkpoint.setup', 0))"
LOCK_HEAD = "SELECT pg_advisory_xact_lock(hashtextextended(%s || chr(1) || %s, 7))"

_COLUMNS = "thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, convert_to(metadata::text, 'UTF8')"
_SELECT = f"SELECT {_COLUMNS} FROM {CHECKPOINTS}"
BY_ID = f"{_SELECT} WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id = %s"
BY_IDS = f"{_SELECT} WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id = ANY(%s)"
LATEST = f"{_SELECT} WHERE thread_id = %s AND checkpoint_ns = %s ORDER BY checkpoint_id DESC LIMIT 1"
RANGE = f"{_SELECT} WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id BETWEEN %s AND %s"
HEAD = f"SELECT checkpoint_id FROM {CHECKPOINTS} WHERE thread_id = %s AND checkpoint_ns = %s ORDER BY checkpoint_id DESC LIMIT 1"
NAMESPACES = f"SELECT DISTINCT checkpoint_ns FROM {CHECKPOINTS} WHERE thread_id = %s"
WRITES = (
    f"SELECT task_id, channel, type, value, task_path, idx FROM {WRITES_TABLE} "
    "WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id = %s"
)

INSERT_ROW = (
    f"INSERT INTO {CHECKPOINTS} (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s::text::jsonb) ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET "
    "parent_checkpoint_id = EXCLUDED.parent_checkpoint_id, type = EXCLUDED.type, "
    "checkpoint = EXCLUDED.checkpoint, metadata = EXCLUDED.metadata"
)
_WRITE_COLUMNS = "thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, value"
_INSERT_WRITE = (
    f"INSERT INTO {WRITES_TABLE} ({_WRITE_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO "
)
INSERT_WRITE = _INSERT_WRITE + (
    "UPDATE SET task_path = EXCLUDED.task_path, channel = EXCLUDED.channel, type = EXCLUDED.type, value = EXCLUDED.value"
)
INSERT_WRITE_KEEP = _INSERT_WRITE + "NOTHING"

DELETE_THREAD = (
    f"DELETE FROM {CHECKPOINTS} WHERE thread_id = %s",
    f"DELETE FROM {WRITES_TABLE} WHERE thread_id = %s",
)
DELETE_IDS = tuple(
    f"DELETE FROM {table} WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id = ANY(%s)"
    for table in (CHECKPOINTS, WRITES_TABLE)
)
COPY = (
    f"INSERT INTO {CHECKPOINTS} (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata) "
    f"SELECT %s, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata FROM {CHECKPOINTS} "
    "WHERE thread_id = %s ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET "
    "parent_checkpoint_id = EXCLUDED.parent_checkpoint_id, type = EXCLUDED.type, "
    "checkpoint = EXCLUDED.checkpoint, metadata = EXCLUDED.metadata",
    f"INSERT INTO {WRITES_TABLE} ({_WRITE_COLUMNS}) SELECT %s, checkpoint_ns, checkpoint_id, task_id, task_path, idx, "
    f"channel, type, value FROM {WRITES_TABLE} WHERE thread_id = %s "
    "ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO UPDATE SET task_path = EXCLUDED.task_path, "
    "channel = EXCLUDED.channel, type = EXCLUDED.type, value = EXCLUDED.value",
)

ANCESTORS = (
    "WITH RECURSIVE chain(checkpoint_id, parent_checkpoint_id) AS ("
    f"SELECT checkpoint_id, parent_checkpoint_id FROM {CHECKPOINTS} "
    "WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id = %s "
    "UNION ALL "
    f"SELECT c.checkpoint_id, c.parent_checkpoint_id FROM chain p JOIN {CHECKPOINTS} c "
    "ON c.thread_id = %s AND c.checkpoint_ns = %s AND c.checkpoint_id = p.parent_checkpoint_id"
    ") SELECT checkpoint_id FROM chain LIMIT %s"
)
"""A checkpoint and up to LIMIT - 1 of its ancestors, newest first (params: thread, ns,
id, thread, ns, limit). Postgres evaluates a recursive query only as far as its LIMIT
reads, so a long history is walked page by page and a looping chain still ends."""


def row_params(row: CheckpointRow) -> tuple[Any, ...]:
    return (row.thread_id, row.ns, row.checkpoint_id, row.parent_id, NATIVE, pack_row(row), _jsonb_text(row.metadata))


def _jsonb_text(metadata: bytes) -> str:
    # JSONB refuses the NUL character, which JSON text may escape as \u0000
    text = metadata.decode() if metadata else "{}"
    return text.replace("\\u0000", "") if "\\u0000" in text else text


def foreign_params(
    thread: str, ns: str, checkpoint_id: str, parent: str | None, kind: str, data: bytes, metadata: bytes
) -> tuple[Any, ...]:
    return (thread, ns, checkpoint_id, parent, kind, data, _jsonb_text(metadata))


def write_params(writes: Sequence[StoredWrite]) -> list[tuple[Any, ...]]:
    out = []
    for t, n, c, w in writes:
        kind, value = typed(w.value)
        out.append((t, n, c, w.task_id, w.task_path, w.idx, w.channel, kind, value))
    return out


def _filter_predicates(metadata_filter: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """A dotted key (``"user.level"``) reaches into nested values; ``None`` matches a
    missing key or a JSON null, as the SQLite savers' filters do."""
    predicates: list[str] = []
    params: list[Any] = []
    for key, value in metadata_filter.items():
        _validate_filter_key(key)
        path = key.split(".")
        if value is None:
            predicates.append("(metadata #> %s IS NULL OR metadata #> %s = 'null'::jsonb)")
            params.extend((path, path))
            continue
        if not isinstance(value, (str, int, float, bool, dict, list)):
            value = str(value)
        predicates.append("metadata #> %s = %s::text::jsonb")
        params.extend((path, json.dumps(value)))
    return predicates, params


def select_sql(
    thread: str | None, ns: str | None, before: str | None, limit: int | None, filter: dict[str, Any] | None
) -> tuple[str, list[Any]]:
    """``_list_rows``'s query: rows newest first, optionally of one thread (namespace),
    older than ``before``, matching ``filter``, at most ``limit``."""
    wheres: list[str] = []
    params: list[Any] = []
    if thread is not None:
        wheres.append("thread_id = %s")
        params.append(thread)
    if ns is not None:
        wheres.append("checkpoint_ns = %s")
        params.append(ns)
    if before is not None:
        wheres.append("checkpoint_id < %s")
        params.append(before)
    if filter:
        predicates, values = _filter_predicates(filter)
        wheres.extend(predicates)
        params.extend(values)
    sql = _SELECT + (" WHERE " + " AND ".join(wheres) if wheres else "") + " ORDER BY checkpoint_id DESC"
    if limit is not None:
        sql += " LIMIT %s"
        params.append(int(limit))
    return sql, params
