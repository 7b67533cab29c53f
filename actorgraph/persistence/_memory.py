"""``InMemorySaver``: checkpoints in this process's memory (tests, short-lived services).

Values are stored serialized, as on disk: a node that mutates an object after returning
it can't change history, and a value that couldn't be saved to SQLite can't be saved
here either. Each row is kept as one packed ``bytes`` (about 40% of the row as Python
objects, and nothing for the cycle collector to walk); reads unpack it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import msgspec

from actorgraph.persistence._base import BaseCheckpointSaver
from actorgraph.persistence._model import Blob, CheckpointRow, WriteRow
from actorgraph.persistence._serde import Serializer

__all__ = ("InMemorySaver", "MemorySaver")


_encode = msgspec.msgpack.Encoder().encode
_decode_row = msgspec.msgpack.Decoder(tuple[str, str | None, int, str, str, bytes, dict[str, Blob], bytes]).decode
_decode_write = msgspec.msgpack.Decoder(WriteRow).decode


def _pack(row: CheckpointRow) -> bytes:
    # without its thread and namespace: they are the keys it is stored under
    return _encode(
        (row.checkpoint_id, row.parent_id, row.step, row.source, row.created_at, row.record, row.blobs, row.metadata)
    )


def _unpack(thread: str, ns: str, data: bytes) -> CheckpointRow:
    cid, parent, step, source, created, record, blobs, metadata = _decode_row(data)
    return CheckpointRow(
        thread_id=thread,
        ns=ns,
        checkpoint_id=cid,
        parent_id=parent,
        step=step,
        source=source,
        created_at=created,
        record=record,
        blobs=blobs,
        metadata=metadata,
    )


class InMemorySaver(BaseCheckpointSaver):
    """A checkpoint saver that keeps everything in memory. Safe across threads."""

    def __init__(self, *, serde: Serializer | None = None) -> None:
        super().__init__(serde=serde)
        # thread -> ns -> checkpoint_id -> packed row ; writes keyed the same, then (task, idx)
        self._rows: dict[str, dict[str, dict[str, bytes]]] = {}
        self._writes: dict[str, dict[str, dict[str, dict[tuple[str, int], bytes]]]] = {}
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
                self._rows.setdefault(row.thread_id, {}).setdefault(row.ns, {})[row.checkpoint_id] = _pack(row)
            for thread, ns, cid, w in writes:
                bucket = self._writes.setdefault(thread, {}).setdefault(ns, {}).setdefault(cid, {})
                bucket[(w.task_id, w.idx)] = _encode(w)

    def _read_row(self, thread: str, ns: str, checkpoint_id: str | None) -> CheckpointRow | None:
        with self._lock:
            rows = self._rows.get(thread, {}).get(ns)
            if not rows:
                return None
            if checkpoint_id is None:
                checkpoint_id = max(rows)
            data = rows.get(checkpoint_id)
        return _unpack(thread, ns, data) if data is not None else None

    def _read_rows(self, thread: str, ns: str, ids: Sequence[str]) -> dict[str, CheckpointRow]:
        with self._lock:
            rows = self._rows.get(thread, {}).get(ns, {})
            found = {i: rows[i] for i in ids if i in rows}
        return {i: _unpack(thread, ns, d) for i, d in found.items()}

    def _read_range(self, thread: str, ns: str, lo: str, hi: str) -> dict[str, CheckpointRow]:
        with self._lock:
            rows = self._rows.get(thread, {}).get(ns, {})
            found = {i: d for i, d in rows.items() if lo <= i <= hi}
        return {i: _unpack(thread, ns, d) for i, d in found.items()}

    def _read_writes(self, thread: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        with self._lock:
            found = list(self._writes.get(thread, {}).get(ns, {}).get(checkpoint_id, {}).values())
        return [_decode_write(d) for d in found]

    def _list_rows(
        self, thread: str | None, ns: str | None, before: str | None, limit: int | None
    ) -> list[CheckpointRow]:
        with self._lock:
            threads = [thread] if thread is not None else list(self._rows)
            found: list[tuple[str, str, str, bytes]] = []
            for t in threads:
                for n, rows in self._rows.get(t, {}).items():
                    if ns is not None and n != ns:
                        continue
                    found.extend((cid, t, n, d) for cid, d in rows.items() if before is None or cid < before)
        found.sort(key=lambda f: f[0], reverse=True)
        if limit is not None:
            found = found[:limit]
        return [_unpack(t, n, d) for _, t, n, d in found]

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
