"""Identifiers: deterministic task ids and time-ordered checkpoint ids (and the time a
checkpoint was made).

A task id is a hash of (checkpoint id, namespace, step, node, path), so a resumed step
computes the same ids and can match the writes saved for it. A run without a checkpointer
never resumes: its task ids only need to be unique, and come from a counter. Checkpoint
ids are UUIDv6 (time first), so sorting them sorts checkpoints by creation.
"""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import itertools
import os
import threading
import time
from typing import Any

import xxhash

from actorgraph._constants import NS_END, NS_SEP

__all__ = (
    "checkpoint_id",
    "format_uuid",
    "fresh_task_id",
    "now_iso",
    "own_namespace",
    "path_str",
    "stable_namespace",
    "subgraph_namespace",
    "task_id",
    "task_id_v1",
)

_lock = threading.Lock()
_last_ts = 0
_clock_seq = int.from_bytes(os.urandom(2), "big") & 0x3FFF
_node = int.from_bytes(os.urandom(6), "big") | 0x010000000000


def format_uuid(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:32]}"


_fresh_prefix = format_uuid(os.urandom(16).hex())[:24]
_fresh_counter = itertools.count(1)


def fresh_task_id() -> str:
    """A unique task id in UUID form (a random per-process prefix, then a counter)."""
    return f"{_fresh_prefix}{next(_fresh_counter):012x}"


_last_checkpoint: tuple[str, bytes] = ("", b"")


def task_id(checkpoint: str | None, ns: str, step: int, name: str, *parts: str) -> str:
    """Deterministic id of a task (``checkpoint`` None: no checkpointer, a fresh id).

    The same id LangGraph gives the task: XXH3-128 of the checkpoint id's bytes, the
    task's namespace (``ns|name``), the step, the name and ``parts`` (the path: ``PULL``
    and the node's sorted triggers; ``PUSH`` and a Send's index; ``PUSH``, the caller's
    path and the call's index). So writes LangGraph saved match our tasks and back."""
    if checkpoint is None:
        return fresh_task_id()
    global _last_checkpoint
    cached, raw = _last_checkpoint
    if cached != checkpoint:
        raw = binascii.unhexlify(checkpoint.replace("-", ""))
        _last_checkpoint = (checkpoint, raw)
    text = "".join((f"{ns}{NS_SEP}{name}" if ns else name, str(step), name, *parts))
    return format_uuid(xxhash.xxh3_128_hexdigest(raw + text.encode()))


def task_id_v1(checkpoint: str | None, ns: str, step: int, name: str, *parts: str) -> str:
    """``task_id`` as LangGraph computed it for checkpoints of format 1 (SHA-1, not
    XXH3): the tasks of a step LangGraph saved in that format match its saved writes."""
    if checkpoint is None:
        return fresh_task_id()
    raw = binascii.unhexlify(checkpoint.replace("-", ""))
    text = "".join((f"{ns}{NS_SEP}{name}" if ns else name, str(step), name, *parts))
    return format_uuid(hashlib.sha1(raw + text.encode(), usedforsecurity=False).hexdigest())


def path_str(path: Any) -> str:
    """A task path as LangGraph writes it into task ids: tuples as ``~a, b``, integers
    (booleans too) zero-padded to ten digits."""
    if isinstance(path, (tuple, list)):
        return "~" + ", ".join(path_str(p) for p in path)
    if isinstance(path, int):
        return f"{path:010d}"
    return str(path)


def checkpoint_id() -> str:
    """A new UUIDv6: 100-ns timestamp first, so ids sort by creation time."""
    global _last_ts
    with _lock:
        ts = time.time_ns() // 100 + 0x01B21DD213814000
        if ts <= _last_ts:
            ts = _last_ts + 1
        _last_ts = ts
    # time high (8 hex digits), mid (4), the version (6) and time low (3); then the
    # process's clock sequence and node (the timestamp has 15 hex digits since 1660)
    h = f"{ts:015x}" if ts < 0x100000000000000 else hex(ts)[2:]
    return h[:8] + "-" + h[8:12] + "-6" + h[12:] + _id_tail


_id_tail = f"-{(_clock_seq & 0x3FFF) | 0x8000:04x}-{_node:012x}"


# (the second now_iso last formatted, and its text up to the seconds)
_iso_second: tuple[int, str] = (-1, "")


def now_iso() -> str:
    """The time now in UTC, as ``datetime.now(timezone.utc).isoformat()`` writes it (a
    checkpoint's ``created_at``), formatting the date only when the second changes."""
    global _iso_second
    second, micro = divmod(time.time_ns() // 1000, 1_000_000)
    cached, prefix = _iso_second
    if second != cached:
        prefix = dt.datetime.fromtimestamp(second, dt.timezone.utc).isoformat()[:19]
        _iso_second = (second, prefix)
    return f"{prefix}.{micro:06d}+00:00" if micro else f"{prefix}+00:00"


def stable_namespace(ns: str) -> str:
    """``ns`` without task ids and call numbers (``"a:<id>|b:<id>"`` -> ``"a|b"``): where a
    ``checkpointer=True`` subgraph keeps its one lineage."""
    return NS_SEP.join(part.split(NS_END, 1)[0] for part in ns.split(NS_SEP) if not part.isdigit())


def own_namespace(ns: str) -> str:
    """Where a ``checkpointer=True`` subgraph run keeps its history: ``ns`` without task
    ids, call numbers kept (``"a:<id>|1"`` -> ``"a|1"``), so a node that runs one such
    graph twice keeps two lineages, one per call, as LangGraph does."""
    return NS_SEP.join(part.split(NS_END, 1)[0] for part in ns.split(NS_SEP))


def subgraph_namespace(parent_ns: str, node: str, task: str, stateful: bool) -> str:
    """The checkpoint namespace of the subgraph the task ``task`` of ``node`` runs."""
    ns = f"{parent_ns}{NS_SEP}{node}{NS_END}{task}" if parent_ns else f"{node}{NS_END}{task}"
    return stable_namespace(ns) if stateful else ns
