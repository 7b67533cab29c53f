"""``InMemorySaver``: checkpoints in this process's memory (tests, short-lived services).

Values are stored serialized, as on disk: a node that mutates an object after returning
it can't change history, and a value that couldn't be saved to SQLite can't be saved
here either.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from actorgraph.persistence._base import BaseCheckpointSaver
from actorgraph.persistence._model import CheckpointRow, WriteRow
from actorgraph.persistence._serde import Serializer

__all__ = ("InMemorySaver", "MemorySaver")


class InMemorySaver(BaseCheckpointSaver):
    """A checkpoint saver that keeps everything in memory. Safe across threads."""

    def __init__(self, *, serde: Serializer | None = None) -> None:
        super().__init__(serde=serde)
        # thread -> ns -> checkpoint_id -> row ; writes keyed the same, then (task, idx)
        self._rows: dict[str, dict[str, dict[str, CheckpointRow]]] = {}
        self._writes: dict[str, dict[str, dict[str, dict[tuple[str, int], WriteRow]]]] = {}
        self._lock = threading.RLock()

    def __enter__(self) -> InMemorySaver:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    async def __aenter__(self) -> InMemorySaver:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None

    def _write(self, rows: Sequence[CheckpointRow], writes: Sequence[tuple[str, str, str, WriteRow]]) -> None:
        with self._lock:
            for row in rows:
                self._rows.setdefault(row.thread_id, {}).setdefault(row.ns, {})[row.checkpoint_id] = row
            for thread, ns, cid, w in writes:
                bucket = self._writes.setdefault(thread, {}).setdefault(ns, {}).setdefault(cid, {})
                bucket[(w.task_id, w.idx)] = w

    def _read_row(self, thread: str, ns: str, checkpoint_id: str | None) -> CheckpointRow | None:
        with self._lock:
            rows = self._rows.get(thread, {}).get(ns)
            if not rows:
                return None
            if checkpoint_id is None:
                return rows[max(rows)]
            return rows.get(checkpoint_id)

    def _read_rows(self, thread: str, ns: str, ids: Sequence[str]) -> dict[str, CheckpointRow]:
        with self._lock:
            rows = self._rows.get(thread, {}).get(ns, {})
            return {i: rows[i] for i in ids if i in rows}

    def _read_range(self, thread: str, ns: str, lo: str, hi: str) -> dict[str, CheckpointRow]:
        with self._lock:
            rows = self._rows.get(thread, {}).get(ns, {})
            return {i: r for i, r in rows.items() if lo <= i <= hi}

    def _read_writes(self, thread: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        with self._lock:
            return list(self._writes.get(thread, {}).get(ns, {}).get(checkpoint_id, {}).values())

    def _list_rows(
        self, thread: str | None, ns: str | None, before: str | None, limit: int | None
    ) -> list[CheckpointRow]:
        with self._lock:
            threads = [thread] if thread is not None else list(self._rows)
            out: list[CheckpointRow] = []
            for t in threads:
                for n, rows in self._rows.get(t, {}).items():
                    if ns is not None and n != ns:
                        continue
                    out.extend(r for cid, r in rows.items() if before is None or cid < before)
        out.sort(key=lambda r: r.checkpoint_id, reverse=True)
        return out if limit is None else out[:limit]

    def _delete(self, thread: str, ns: str | None, ids: Sequence[str] | None) -> None:
        with self._lock:
            if ns is None:
                self._rows.pop(thread, None)
                self._writes.pop(thread, None)
                return
            rows = self._rows.get(thread, {}).get(ns, {})
            writes = self._writes.get(thread, {}).get(ns, {})
            for cid in ids or ():
                rows.pop(cid, None)
                writes.pop(cid, None)

    def _namespaces(self, thread: str) -> list[str]:
        with self._lock:
            return list(self._rows.get(thread, {}))


MemorySaver = InMemorySaver
"""The old name of ``InMemorySaver``."""
