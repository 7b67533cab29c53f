"""``InMemorySaver``: checkpoints in this process's memory (tests, short-lived services).

It keeps LangGraph's layout, so code that looks inside it keeps working:
``storage[thread][ns][checkpoint_id] = (checkpoint, metadata, parent_id)``,
``writes[(thread, ns, checkpoint_id)][(task_id, idx)] = (task_id, channel, value, task_path)``
and ``blobs[(thread, ns, channel, version)] = value``, every value a serializer's
``(type, bytes)``. A step the runtime saves is one ``("actorgraph", <packed row>)`` entry
holding the blobs of the channels it changed (reducer lists as deltas); a checkpoint
stored through ``put`` is stored exactly as LangGraph's saver stores it.

Values are stored serialized, as on disk: a node that mutates an object after returning
it can't change history.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import ExitStack
from typing import Any


from actorgraph.errors import CheckpointConflictError, CheckpointError
from actorgraph.persistence._base import ANY_HEAD, RowCheckpointSaver, StoredWrite, check_head, head_of, kept_on_conflict
from actorgraph.persistence._codec import typed, untyped
from actorgraph.persistence._model import NATIVE, CheckpointRow, ForeignRow, WriteRow, decode_metadata, pack_row, unpack_row
from actorgraph.persistence._saver_api import Checkpoint
from actorgraph.persistence._serde import JsonPlusSerializer
from actorgraph.persistence._serde_protocols import SerializerProtocol

__all__ = ("InMemorySaver", "MemorySaver", "PersistentDict")


class InMemorySaver(RowCheckpointSaver):
    """A checkpoint saver that keeps everything in memory. Safe across threads.

    ``factory`` builds its three dicts (``defaultdict``, or ``PersistentDict`` bound to a
    file to keep them on disk); ``stack`` closes whatever they opened.
    """

    def __init__(
        self, *, serde: SerializerProtocol | None = None, factory: Callable[..., Any] = defaultdict
    ) -> None:
        super().__init__(serde=serde)
        self.storage: Any = factory(lambda: defaultdict(dict))
        self.writes: Any = factory(dict)
        self.blobs: Any = factory()
        self.stack = ExitStack()
        if factory is not defaultdict:
            self.stack.enter_context(self.storage)
            self.stack.enter_context(self.writes)
            self.stack.enter_context(self.blobs)
        self._lock = threading.RLock()
        # (thread, ns) -> its newest checkpoint id, kept as rows are written (checked
        # against the dict before use: code may edit ``storage`` directly)
        self._heads: dict[tuple[str, str], str] = {}

    def __enter__(self) -> InMemorySaver:
        self.stack.__enter__()
        return self

    def __exit__(self, *exc: Any) -> bool | None:
        return self.stack.__exit__(*exc)

    async def __aenter__(self) -> InMemorySaver:
        self.stack.__enter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        return self.stack.__exit__(*exc)

    # LangGraph's InMemorySaver answers async calls with its sync methods, so a subclass
    # that overrides ``put`` (say) changes ``aput`` too
    async def aget_tuple(self, config: Any) -> Any:
        return self.get_tuple(config)

    async def alist(
        self,
        config: Any,
        *,
        filter: dict[str, Any] | None = None,
        before: Any = None,
        limit: int | None = None,
    ) -> AsyncIterator[Any]:
        for item in self.list(config, filter=filter, before=before, limit=limit):
            yield item

    async def aput(self, config: Any, checkpoint: Checkpoint, metadata: Any, new_versions: Any) -> Any:
        return self.put(config, checkpoint, metadata, new_versions)

    async def aput_writes(self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = "") -> None:
        self.put_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        self.delete_thread(thread_id)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        self.delete_for_runs(run_ids)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self.copy_thread(source_thread_id, target_thread_id)

    async def aprune(self, thread_ids: Sequence[str] | str, *, strategy: str = "keep_latest", keep_last: int = 1) -> None:
        self.prune(thread_ids, strategy=strategy, keep_last=keep_last)

    # a load reads a checkpoint and the ones its values come from in several steps, and a
    # prune rewrites checkpoints and then deletes others: under the lock, another thread's
    # load never sees a checkpoint that names a value the prune has already deleted
    def load(self, thread: str, ns: str = "", checkpoint_id: str | None = None, page: Any = None) -> Any:
        with self._lock:
            return super().load(thread, ns, checkpoint_id, page)

    async def aload(self, thread: str, ns: str = "", checkpoint_id: str | None = None, page: Any = None) -> Any:
        return self.load(thread, ns, checkpoint_id, page)

    def prune(self, thread_ids: Sequence[str] | str, *, strategy: str = "keep_latest", keep_last: int = 1) -> None:
        with self._lock:
            super().prune(thread_ids, strategy=strategy, keep_last=keep_last)

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        with self._lock:
            super().delete_for_runs(run_ids)

    async def aget_delta_channel_history(self, *, config: Any, channels: Sequence[str]) -> Any:
        return self.get_delta_channel_history(config=config, channels=channels)

    # -- reading LangGraph's layout ---------------------------------------------------------
    def _load_blobs(self, thread_id: str, checkpoint_ns: str, versions: dict[str, Any]) -> dict[str, Any]:
        """The values ``put`` stored for ``versions`` (a channel stored as ``empty``, or
        never stored, has none)."""
        out: dict[str, Any] = {}
        for channel, version in versions.items():
            stored = self.blobs.get((thread_id, checkpoint_ns, channel, version))
            if stored is None or stored[0] == "empty":
                continue
            out[channel] = self.serde.loads_typed(stored)
        return out

    def _row(self, thread: str, ns: str, cid: str, entry: Any) -> CheckpointRow | ForeignRow:
        try:
            checkpoint, metadata, parent = entry
            if checkpoint[0] == NATIVE:
                return unpack_row(thread, ns, cid, parent, checkpoint[1], metadata[1])
            cp = self.serde.loads_typed(checkpoint)
            cp = {**cp, "channel_values": self._load_blobs(thread, ns, cp.get("channel_versions") or {})}
            return ForeignRow(thread, ns, cid, parent, cp, self.serde.loads_typed(metadata) or {})
        except CheckpointError:
            raise
        except Exception as exc:
            raise CheckpointError(f"Thread '{thread}' checkpoint '{cid}' is corrupt or unreadable: {exc}") from exc

    def _metadata_of(self, entry: Any) -> dict[str, Any]:
        metadata = entry[1]
        if entry[0][0] == NATIVE:
            return decode_metadata(metadata[1])
        return self.serde.loads_typed(metadata) or {}

    # -- storage primitives ----------------------------------------------------------------
    def _head(self, thread: str, ns: str) -> str | None:
        """The newest checkpoint id of a thread namespace (under the lock)."""
        rows = self._ns_rows(thread, ns)
        if not rows:
            return None
        head = self._heads.get((thread, ns))
        if head is None or head not in rows or next(reversed(rows)) > head:
            head = self._heads[(thread, ns)] = max(rows)
        return head

    def _note_head(self, thread: str, ns: str, cid: str) -> None:
        head = self._heads.get((thread, ns))
        if head is not None and cid > head:
            self._heads[(thread, ns)] = cid

    def save(self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite] = (), *, expect_head: Any = ANY_HEAD) -> None:
        # (the runtime's save of every step: what ``RowCheckpointSaver.save`` does, with
        # the byte count taken from the values as they are stored)
        if len(rows) > 1 and expect_head is not ANY_HEAD:
            head_of(rows)
        try:
            size = self._store(rows, writes, True, expect_head)
        except CheckpointConflictError:
            self._conflicts += 1
            raise
        self._checkpoints_written += len(rows)
        self._bytes_written += size

    def _write(
        self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite], *, replace: bool = True, expect_head: Any = ANY_HEAD
    ) -> None:
        self._store(rows, writes, replace, expect_head)

    def _store(self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite], replace: bool, expect_head: Any) -> int:
        """Store rows and writes under the lock (rows only if ``expect_head`` is still the
        thread namespace's head); the bytes stored."""
        size = 0
        with self._lock:
            if rows:
                if expect_head is not ANY_HEAD:
                    thread, ns = rows[0].thread_id, rows[0].ns
                    found = self._head(thread, ns)
                    if found != expect_head:
                        self._store((), kept_on_conflict(rows, writes), replace, ANY_HEAD)
                        check_head(thread, ns, expect_head, found)
                storage = self.storage
                for row in rows:
                    packed = pack_row(row)
                    storage[row.thread_id][row.ns][row.checkpoint_id] = ((NATIVE, packed), ("json", row.metadata), row.parent_id)
                    self._note_head(row.thread_id, row.ns, row.checkpoint_id)
                    size += len(packed) + len(row.metadata)
            if writes:
                stored = self.writes
                for thread, ns, cid, w in writes:
                    at = (thread, ns, cid)
                    bucket = stored.get(at)
                    if bucket is None:
                        bucket = stored[at] = {}
                    inner = (w.task_id, w.idx)
                    if not replace and w.idx >= 0 and inner in bucket:
                        continue
                    value = w.value
                    bucket[inner] = (w.task_id, w.channel, typed(value), w.task_path)
                    size += len(value)
        return size

    def _put_foreign(
        self, thread: str, ns: str, parent: str | None, checkpoint: Checkpoint, metadata: dict[str, Any], new_versions: dict[str, Any]
    ) -> None:
        c: dict[str, Any] = dict(checkpoint)
        values: dict[str, Any] = c.pop("channel_values", None) or {}
        dumps = self.serde.dumps_typed
        with self._lock:
            for channel, version in new_versions.items():
                self.blobs[(thread, ns, channel, version)] = dumps(values[channel]) if channel in values else ("empty", b"")
            self.storage[thread][ns][checkpoint["id"]] = (dumps(c), dumps(metadata), parent)
            self._note_head(thread, ns, checkpoint["id"])

    def _ns_rows(self, thread: str, ns: str) -> dict[str, Any]:
        threads = self.storage.get(thread)
        return (threads.get(ns) if threads is not None else None) or {}

    def _read_row(self, thread: str, ns: str, checkpoint_id: str | None) -> CheckpointRow | ForeignRow | None:
        with self._lock:
            rows = self._ns_rows(thread, ns)
            if not rows:
                return None
            if checkpoint_id is None:
                checkpoint_id = self._head(thread, ns)
                assert checkpoint_id is not None
            entry = rows.get(checkpoint_id)
        return self._row(thread, ns, checkpoint_id, entry) if entry is not None else None

    def _read_rows(self, thread: str, ns: str, ids: Sequence[str]) -> dict[str, Any]:
        with self._lock:
            rows = self._ns_rows(thread, ns)
            found = {i: rows[i] for i in ids if i in rows}
        return {i: self._row(thread, ns, i, e) for i, e in found.items()}

    def _read_range(self, thread: str, ns: str, lo: str, hi: str) -> dict[str, Any]:
        with self._lock:
            rows = self._ns_rows(thread, ns)
            found = {i: e for i, e in rows.items() if lo <= i <= hi}
        return {i: self._row(thread, ns, i, e) for i, e in found.items()}

    def _read_writes(self, thread: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        with self._lock:
            stored = list((self.writes.get((thread, ns, checkpoint_id)) or {}).items())
        try:
            return [WriteRow(tid, idx, channel, untyped(value), path) for (tid, idx), (_, channel, value, path) in stored]
        except Exception as exc:
            raise CheckpointError(
                f"Thread '{thread}' checkpoint '{checkpoint_id}': its pending writes are corrupt or unreadable: {exc}"
            ) from exc

    def _list_rows(
        self,
        thread: str | None,
        ns: str | None,
        before: str | None,
        limit: int | None,
        filter: dict[str, Any] | None = None,
    ) -> list[Any]:
        with self._lock:
            threads = [thread] if thread is not None else list(self.storage)
            found: list[tuple[str, str, str, Any]] = []
            for t in threads:
                for n, rows in (self.storage.get(t) or {}).items():
                    if ns is not None and n != ns:
                        continue
                    found.extend((cid, t, n, e) for cid, e in rows.items() if before is None or cid < before)
        found.sort(key=lambda f: f[0], reverse=True)
        if filter:
            found = [f for f in found if self._filtered(f, filter, skip=thread is None)]
        if limit is not None:
            found = found[:limit]
        rows = (self._row_or_skip(lambda f=f: self._row(f[1], f[2], f[0], f[3]), thread is None) for f in found)
        return [r for r in rows if r is not None]

    def _filtered(self, found: tuple[str, str, str, Any], filter: dict[str, Any], skip: bool) -> bool:
        cid, t, _, entry = found
        try:
            return _matches(self._metadata_of(entry), filter)
        except Exception as exc:
            error = CheckpointError(f"Thread '{t}' checkpoint '{cid}': metadata can't be read: {exc}")
            if not skip:
                raise error from exc
            self._skipped(error)
            return False

    def _delete(self, thread: str, ns: str | None, ids: Sequence[str] | None) -> None:
        with self._lock:
            for key in [k for k in self._heads if k[0] == thread]:
                del self._heads[key]
            if ns is None:
                self.storage.pop(thread, None)
                for table in (self.writes, self.blobs):
                    for key in [k for k in table if k[0] == thread]:
                        del table[key]
                return
            rows = self._ns_rows(thread, ns)
            for cid in ids or ():
                rows.pop(cid, None)
                self.writes.pop((thread, ns, cid), None)
            if not rows and thread in self.storage:
                self.storage[thread].pop(ns, None)

    def _namespaces(self, thread: str) -> list[str]:
        with self._lock:
            return [n for n, rows in (self.storage.get(thread) or {}).items() if rows]

    def _copy_thread(self, source: str, target: str) -> None:
        with self._lock:
            for key in [k for k in self._heads if k[0] == target]:
                del self._heads[key]
            for ns, rows in list((self.storage.get(source) or {}).items()):
                self.storage[target][ns].update(rows)
            for key in [k for k in self.writes if k[0] == source]:
                self.writes[(target, *key[1:])] = dict(self.writes[key])
            for key in [k for k in self.blobs if k[0] == source]:
                self.blobs[(target, *key[1:])] = self.blobs[key]


def _matches(metadata: dict[str, Any], filter: dict[str, Any]) -> bool:
    return all(value == metadata.get(key) for key, value in filter.items())


MemorySaver = InMemorySaver
"""The old name of ``InMemorySaver``."""


class PersistentDict(defaultdict):  # type: ignore[type-arg]
    """A ``defaultdict`` kept in memory and written to ``filename`` on ``sync()`` and
    ``close()`` (MessagePack through the safe serializer: never pickle)."""

    def __init__(self, *args: Any, filename: str, **kwds: Any) -> None:
        self.flag = "c"  # r: read-only, c: create, n: new
        self.mode: int | None = None
        self.format = "msgpack"
        self.filename = filename
        super().__init__(*args, **kwds)

    def sync(self) -> None:
        """Write the dict to its file (atomically: a temporary file, then a rename)."""
        if self.flag == "r":
            return
        temp = self.filename + ".tmp"
        try:
            with open(temp, "wb") as f:
                self.dump(f)
        except Exception:
            os.remove(temp)
            raise
        shutil.move(temp, self.filename)
        if self.mode is not None:
            os.chmod(self.filename, self.mode)

    def close(self) -> None:
        self.sync()
        self.clear()

    def __enter__(self) -> PersistentDict:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def dump(self, fileobj: Any) -> None:
        fileobj.write(_file_serde.dumps(_plain(self)))

    def load(self) -> None:
        if self.flag == "n":
            return
        with open(self.filename, "rb") as f:
            data = f.read()
        if data:
            self.update(_file_serde.loads(data))


_file_serde = JsonPlusSerializer(allowed_msgpack_modules=None)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
