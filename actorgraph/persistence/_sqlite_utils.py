"""SQL for the SQLite savers: their tables (LangGraph's ``checkpoints`` and ``writes``),
the WHERE clause of ``list`` (metadata filters through ``json_extract``, keys checked so
they can't inject SQL) and reading pending writes in apply order."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from actorgraph.persistence._saver_api import PendingWrite, get_checkpoint_id, writes_sort_key

__all__ = (
    "ANCESTORS_SQL",
    "CHECKPOINT_COLUMNS",
    "SCHEMA",
    "_metadata_predicate",
    "_validate_filter_key",
    "load_pending_writes",
    "pending_writes_sql",
    "search_where",
)

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS checkpoints (
        thread_id TEXT NOT NULL,
        checkpoint_ns TEXT NOT NULL DEFAULT '',
        checkpoint_id TEXT NOT NULL,
        parent_checkpoint_id TEXT,
        type TEXT,
        checkpoint BLOB,
        metadata BLOB,
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
    )""",
    """CREATE TABLE IF NOT EXISTS writes (
        thread_id TEXT NOT NULL,
        checkpoint_ns TEXT NOT NULL DEFAULT '',
        checkpoint_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        task_path TEXT NOT NULL DEFAULT '',
        idx INTEGER NOT NULL,
        channel TEXT NOT NULL,
        type TEXT,
        value BLOB,
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
    )""",
)
CHECKPOINT_COLUMNS = "thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata"

ANCESTORS_SQL = (
    "WITH RECURSIVE chain(checkpoint_id, parent_checkpoint_id) AS ("
    "SELECT checkpoint_id, parent_checkpoint_id FROM checkpoints "
    "WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ? "
    "UNION ALL "
    # CROSS JOIN keeps the chain as the outer loop: each step is one primary-key lookup
    "SELECT c.checkpoint_id, c.parent_checkpoint_id FROM chain p CROSS JOIN checkpoints c "
    "ON c.checkpoint_id = p.parent_checkpoint_id WHERE c.thread_id = ? AND c.checkpoint_ns = ?"
    ") SELECT checkpoint_id, parent_checkpoint_id FROM chain"
)
"""A checkpoint and its ancestors, newest first, streamed (params: thread, ns, id,
thread, ns). A parent chain that loops (a row re-``put`` under its own descendant) makes
it endless: read it lazily and stop at the first id seen twice."""

_FILTER_KEY = re.compile(r"^[a-zA-Z0-9_.-]+$")


def _validate_filter_key(key: str) -> None:
    """Refuse a metadata filter key that isn't letters, digits, ``_``, ``.`` and ``-``
    (it is spliced into a JSON path in SQL)."""
    if not isinstance(key, str) or not _FILTER_KEY.match(key):
        raise ValueError(
            f"Invalid filter key: '{key}'. Filter keys must contain only alphanumeric characters, "
            "underscores, dots, and hyphens."
        )


def _where_value(value: Any) -> tuple[str, Any]:
    if value is None:
        return "IS ?", None
    if isinstance(value, (str, int, float)):
        return "= ?", value
    if isinstance(value, (dict, list)):
        # json_extract returns compact JSON for objects and arrays
        return "= ?", json.dumps(value, separators=(",", ":"))
    return "= ?", str(value)


def _metadata_predicate(metadata_filter: dict[str, Any]) -> tuple[Sequence[str], Sequence[Any]]:
    """(predicates, parameters) matching metadata against ``metadata_filter``; a dotted
    key (``"user.level"``) reaches into nested values."""
    predicates: list[str] = []
    params: list[Any] = []
    for key, value in metadata_filter.items():
        _validate_filter_key(key)
        op, param = _where_value(value)
        predicates.append(f"json_extract(CAST(metadata AS TEXT), '$.{key}') {op}")
        params.append(param)
    return predicates, params


def search_where(config: Any, filter: dict[str, Any] | None, before: Any = None) -> tuple[str, Sequence[Any]]:
    """The WHERE clause (with its parameters) of ``list(config, filter=, before=)``."""
    wheres: list[str] = []
    params: list[Any] = []
    if config is not None:
        conf = config["configurable"]
        wheres.append("thread_id = ?")
        params.append(conf["thread_id"])
        ns = conf.get("checkpoint_ns")
        if ns is not None:
            wheres.append("checkpoint_ns = ?")
            params.append(ns)
        if checkpoint_id := get_checkpoint_id(config):
            wheres.append("checkpoint_id = ?")
            params.append(checkpoint_id)
    if filter:
        predicates, values = _metadata_predicate(filter)
        wheres.extend(predicates)
        params.extend(values)
    if before is not None:
        wheres.append("checkpoint_id < ?")
        params.append(get_checkpoint_id(before))
    return ("WHERE " + " AND ".join(wheres) if wheres else "", params)


def pending_writes_sql(has_task_path: bool) -> str:
    """Reads a checkpoint's writes: (task_id, channel, type, value, task_path, idx)."""
    path = "task_path" if has_task_path else "''"
    return (
        f"SELECT task_id, channel, type, value, {path}, idx FROM writes "
        "WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?"
    )


def load_pending_writes(rows: Iterable[Any], serde: Any) -> list[PendingWrite]:
    """``pending_writes_sql`` rows as (task_id, channel, value), in apply order."""
    ordered = sorted(rows, key=lambda r: writes_sort_key(r[4], r[0], r[5]))
    return [(task_id, channel, serde.loads_typed((kind, value))) for task_id, channel, kind, value, _, _ in ordered]
