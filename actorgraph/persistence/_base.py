"""``BaseCheckpointSaver``: the saver protocol the runtime uses, and LangGraph's public
methods (``get_tuple``, ``list``, ``put``, ``put_writes``, ``delete_thread`` and async
twins) built on it.

A saver implements a few storage primitives over rows (``CheckpointRow``, ``WriteRow``);
everything else - encoding, delta reconstruction, pruning that keeps every kept
checkpoint readable - lives here once.
"""

from __future__ import annotations

import builtins

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import msgspec

from actorgraph.errors import CheckpointError, SerializationError
from actorgraph.persistence._model import (
    DELTA,
    FULL,
    Blob,
    Checkpoint,
    CheckpointRecord,
    CheckpointRow,
    CheckpointTuple,
    WriteRow,
)
from actorgraph.persistence._serde import Serializer

__all__ = ("BaseCheckpointSaver", "LoadedCheckpoint", "config_for", "encode_record")

_record_decoder = msgspec.msgpack.Decoder(CheckpointRecord)
_record_encoder = msgspec.msgpack.Encoder()


def config_for(thread_id: str, ns: str, checkpoint_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint_id}}


def _config_parts(config: Any) -> tuple[str | None, str, str | None]:
    conf = (config or {}).get("configurable") or {}
    thread = conf.get("thread_id")
    return (str(thread) if thread is not None else None, conf.get("checkpoint_ns", "") or "", conf.get("checkpoint_id"))


class LoadedCheckpoint:
    """A checkpoint read back: its row, decoded record, channel values and pending writes."""

    __slots__ = ("row", "record", "values", "writes", "metadata", "chains")

    def __init__(
        self,
        row: CheckpointRow,
        record: CheckpointRecord,
        values: dict[str, Any],
        writes: list[tuple[str, str, Any, str]],
        metadata: dict[str, Any],
        chains: dict[str, Blob] | None = None,
    ) -> None:
        self.row = row
        self.record = record
        self.values = values
        self.writes = writes
        """(task_id, channel, value, task_path) in saved order"""
        self.metadata = metadata
        self.chains = chains or {}
        """Each channel's newest stored blob (its snapshot size, growth and depth say how
        the next value should be stored)."""

    @property
    def id(self) -> str:
        return self.row.checkpoint_id

    def to_tuple(self) -> CheckpointTuple:
        row = self.row
        checkpoint: Checkpoint = {
            "v": self.record.v,
            "id": row.checkpoint_id,
            "ts": row.created_at,
            "channel_values": dict(self.values),
            "channel_versions": dict(self.record.channel_versions),
            "versions_seen": {k: dict(v) for k, v in self.record.versions_seen.items()},
            "updated_channels": list(self.record.updated_channels),
        }
        parent = config_for(row.thread_id, row.ns, row.parent_id) if row.parent_id else None
        return CheckpointTuple(
            config=config_for(row.thread_id, row.ns, row.checkpoint_id),
            checkpoint=checkpoint,
            metadata=dict(self.metadata),  # type: ignore[arg-type]
            parent_config=parent,
            pending_writes=[(t, c, v) for t, c, v, _ in self.writes],
        )


class _Resolver:
    """Rebuilds channel values from blobs spread over several rows (sans I/O: the caller
    fetches the rows it asks for)."""

    def __init__(self, saver: BaseCheckpointSaver, row: CheckpointRow, record: CheckpointRecord) -> None:
        self.saver = saver
        self.row = row
        self.record = record
        self.rows: dict[str, CheckpointRow] = {row.checkpoint_id: row}

    def first_fetch(self) -> tuple[list[str], tuple[str, str] | None]:
        """Rows to read up front: the writers of full values by id, and one id range that
        covers every delta chain (snapshot to writer)."""
        ids: set[str] = set()
        lo: str | None = None
        hi: str | None = None
        roots = self.record.blob_roots
        for chan, writer in self.record.blob_writers.items():
            root = roots.get(chan)
            if root is None or root == writer:
                if writer not in self.rows:
                    ids.add(writer)
                continue
            lo = root if lo is None or root < lo else lo
            hi = writer if hi is None or writer > hi else hi
        return sorted(ids), (lo, hi) if lo is not None and hi is not None else None

    def missing(self) -> list[str]:
        need: set[str] = set()
        for chan, writer in self.record.blob_writers.items():
            cur: str | None = writer
            while cur is not None:
                r = self.rows.get(cur)
                if r is None:
                    need.add(cur)
                    break
                blob = r.blobs.get(chan)
                if blob is None or blob.kind == FULL:
                    break
                cur = blob.base
        return sorted(need)

    def add(self, rows: dict[str, CheckpointRow], asked: list[str] | None = None) -> None:
        for cid in asked or ():
            if cid not in rows:
                raise CheckpointError(
                    f"Thread '{self.row.thread_id}' checkpoint '{self.row.checkpoint_id}' refers to "
                    f"checkpoint '{cid}', which is missing from the saver (deleted or corrupt data)"
                )
        self.rows.update(rows)

    def chains(self) -> dict[str, Blob]:
        return {
            chan: self.rows[writer].blobs[chan]
            for chan, writer in self.record.blob_writers.items()
            if chan in self.rows[writer].blobs
        }

    def values(self) -> dict[str, Any]:
        loads = self.saver.serde.loads
        out: dict[str, Any] = {}
        for chan, writer in self.record.blob_writers.items():
            chain: list[Blob] = []
            cur: str | None = writer
            while cur is not None:
                blob = self.rows[cur].blobs.get(chan)
                if blob is None:
                    raise CheckpointError(
                        f"Thread '{self.row.thread_id}' checkpoint '{self.row.checkpoint_id}': the "
                        f"value of channel '{chan}' is missing from checkpoint '{cur}'"
                    )
                chain.append(blob)
                cur = blob.base if blob.kind == DELTA else None
            try:
                value = loads(chain[-1].data)
                if len(chain) > 1:
                    value = list(value)
                    for blob in reversed(chain[:-1]):
                        value.extend(loads(blob.data))
            except SerializationError as exc:
                raise CheckpointError(
                    f"Thread '{self.row.thread_id}' checkpoint '{self.row.checkpoint_id}': channel "
                    f"'{chan}' can't be read: {exc}"
                ) from exc
            out[chan] = value
        return out


class BaseCheckpointSaver(ABC):
    """Stores checkpoints of threads. Subclasses implement the storage primitives."""

    serde: Serializer

    def __init__(self, *, serde: Serializer | None = None) -> None:
        self.serde = serde or Serializer()

    # -- storage primitives ------------------------------------------------------------
    @abstractmethod
    def _write(self, rows: Sequence[CheckpointRow], writes: Sequence[tuple[str, str, str, WriteRow]]) -> None:
        """Store checkpoint rows and (thread, ns, checkpoint_id, write) rows, atomically."""

    @abstractmethod
    def _read_row(self, thread: str, ns: str, checkpoint_id: str | None) -> CheckpointRow | None:
        """One row; the newest of the thread's namespace when ``checkpoint_id`` is None."""

    @abstractmethod
    def _read_rows(self, thread: str, ns: str, ids: Sequence[str]) -> dict[str, CheckpointRow]: ...

    @abstractmethod
    def _read_range(self, thread: str, ns: str, lo: str, hi: str) -> dict[str, CheckpointRow]:
        """Rows with ``lo <= checkpoint_id <= hi`` (ids are time-ordered)."""

    @abstractmethod
    def _read_writes(self, thread: str, ns: str, checkpoint_id: str) -> list[WriteRow]: ...

    @abstractmethod
    def _list_rows(
        self, thread: str | None, ns: str | None, before: str | None, limit: int | None
    ) -> list[CheckpointRow]:
        """Rows newest first (by checkpoint id, which is time-ordered)."""

    @abstractmethod
    def _delete(self, thread: str, ns: str | None, ids: Sequence[str] | None) -> None:
        """Delete a whole thread (``ns`` None), or the given checkpoints of one namespace."""

    @abstractmethod
    def _namespaces(self, thread: str) -> list[str]: ...

    # async primitives: by default the sync ones (savers doing I/O override them)
    async def _awrite(self, rows: Sequence[CheckpointRow], writes: Sequence[tuple[str, str, str, WriteRow]]) -> None:
        self._write(rows, writes)

    async def _aread_row(self, thread: str, ns: str, checkpoint_id: str | None) -> CheckpointRow | None:
        return self._read_row(thread, ns, checkpoint_id)

    async def _aread_rows(self, thread: str, ns: str, ids: Sequence[str]) -> dict[str, CheckpointRow]:
        return self._read_rows(thread, ns, ids)

    async def _aread_range(self, thread: str, ns: str, lo: str, hi: str) -> dict[str, CheckpointRow]:
        return self._read_range(thread, ns, lo, hi)

    async def _aread_writes(self, thread: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        return self._read_writes(thread, ns, checkpoint_id)

    async def _alist_rows(
        self, thread: str | None, ns: str | None, before: str | None, limit: int | None
    ) -> list[CheckpointRow]:
        return self._list_rows(thread, ns, before, limit)

    async def _adelete(self, thread: str, ns: str | None, ids: Sequence[str] | None) -> None:
        self._delete(thread, ns, ids)

    async def _anamespaces(self, thread: str) -> list[str]:
        return self._namespaces(thread)

    # -- decoding ----------------------------------------------------------------------
    def _record(self, row: CheckpointRow) -> CheckpointRecord:
        try:
            return _record_decoder.decode(row.record)
        except Exception as exc:
            raise CheckpointError(
                f"Thread '{row.thread_id}' checkpoint '{row.checkpoint_id}' is corrupt or was not "
                f"written by actorgraph: {exc}"
            ) from exc

    def _metadata(self, row: CheckpointRow) -> dict[str, Any]:
        try:
            meta = self.serde.loads(row.metadata) if row.metadata else {}
        except SerializationError as exc:
            raise CheckpointError(
                f"Thread '{row.thread_id}' checkpoint '{row.checkpoint_id}': metadata can't be read: {exc}"
            ) from exc
        return meta if isinstance(meta, dict) else {}

    def _decode_writes(self, row: CheckpointRow, writes: list[WriteRow]) -> list[tuple[str, str, Any, str]]:
        out = []
        for w in sorted(writes, key=lambda w: (w.task_path, w.task_id, w.idx)):
            try:
                value = self.serde.loads(w.value)
            except SerializationError as exc:
                raise CheckpointError(
                    f"Thread '{row.thread_id}' checkpoint '{row.checkpoint_id}': a pending write of "
                    f"task '{w.task_id}' to '{w.channel}' can't be read: {exc}"
                ) from exc
            out.append((w.task_id, w.channel, value, w.task_path))
        return out

    # -- loading -----------------------------------------------------------------------
    def load(self, thread: str, ns: str = "", checkpoint_id: str | None = None) -> LoadedCheckpoint | None:
        row = self._read_row(thread, ns, checkpoint_id)
        if row is None:
            return None
        record = self._record(row)
        resolver = _Resolver(self, row, record)
        ids, span = resolver.first_fetch()
        if span is not None:
            resolver.add(self._read_range(thread, ns, *span))
        if ids:
            resolver.add(self._read_rows(thread, ns, ids), ids)
        while need := resolver.missing():
            resolver.add(self._read_rows(thread, ns, need), need)
        writes = self._decode_writes(row, self._read_writes(thread, ns, row.checkpoint_id))
        return LoadedCheckpoint(row, record, resolver.values(), writes, self._metadata(row), resolver.chains())

    async def aload(self, thread: str, ns: str = "", checkpoint_id: str | None = None) -> LoadedCheckpoint | None:
        row = await self._aread_row(thread, ns, checkpoint_id)
        if row is None:
            return None
        record = self._record(row)
        resolver = _Resolver(self, row, record)
        ids, span = resolver.first_fetch()
        if span is not None:
            resolver.add(await self._aread_range(thread, ns, *span))
        if ids:
            resolver.add(await self._aread_rows(thread, ns, ids), ids)
        while need := resolver.missing():
            resolver.add(await self._aread_rows(thread, ns, need), need)
        writes = await self._aread_writes(thread, ns, row.checkpoint_id)
        return LoadedCheckpoint(
            row, record, resolver.values(), self._decode_writes(row, writes), self._metadata(row), resolver.chains()
        )

    def latest_id(self, thread: str, ns: str = "") -> str | None:
        """The id of the newest checkpoint of a thread's namespace."""
        row = self._read_row(thread, ns, None)
        return row.checkpoint_id if row is not None else None

    async def alatest_id(self, thread: str, ns: str = "") -> str | None:
        row = await self._aread_row(thread, ns, None)
        return row.checkpoint_id if row is not None else None

    # -- the runtime's writes ------------------------------------------------------------
    def save(self, rows: Sequence[CheckpointRow], writes: Sequence[tuple[str, str, str, WriteRow]] = ()) -> None:
        self._write(rows, writes)

    async def asave(self, rows: Sequence[CheckpointRow], writes: Sequence[tuple[str, str, str, WriteRow]] = ()) -> None:
        await self._awrite(rows, writes)

    # -- LangGraph's public API ----------------------------------------------------------
    def get_tuple(self, config: Any) -> CheckpointTuple | None:
        """The checkpoint ``config`` names (its thread's newest when it names none)."""
        thread, ns, cid = self._require_thread(config)
        loaded = self.load(thread, ns, cid)
        return loaded.to_tuple() if loaded else None

    async def aget_tuple(self, config: Any) -> CheckpointTuple | None:
        thread, ns, cid = self._require_thread(config)
        loaded = await self.aload(thread, ns, cid)
        return loaded.to_tuple() if loaded else None

    def get(self, config: Any) -> Checkpoint | None:
        t = self.get_tuple(config)
        return t.checkpoint if t else None

    async def aget(self, config: Any) -> Checkpoint | None:
        t = await self.aget_tuple(config)
        return t.checkpoint if t else None

    def list(
        self,
        config: Any,
        *,
        filter: dict[str, Any] | None = None,
        before: Any = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints newest first; ``config`` None lists every thread."""
        thread, ns, cid, before_id = self._list_args(config, before)
        rows = self._list_rows(thread, ns, before_id, None if filter else limit)
        yield from self._tuples(rows, filter, limit, cid)

    async def alist(
        self,
        config: Any,
        *,
        filter: dict[str, Any] | None = None,
        before: Any = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        thread, ns, cid, before_id = self._list_args(config, before)
        rows = await self._alist_rows(thread, ns, before_id, None if filter else limit)
        count = 0
        for row in rows:
            if cid is not None and row.checkpoint_id != cid:
                continue
            if filter and not self._matches(row, filter):
                continue
            loaded = await self.aload(row.thread_id, row.ns, row.checkpoint_id)
            if loaded is not None:
                yield loaded.to_tuple()
                count += 1
                if limit is not None and count >= limit:
                    return

    def _tuples(
        self, rows: builtins.list[CheckpointRow], filter: dict[str, Any] | None, limit: int | None, cid: str | None
    ) -> Iterator[CheckpointTuple]:
        count = 0
        for row in rows:
            if cid is not None and row.checkpoint_id != cid:
                continue
            if filter and not self._matches(row, filter):
                continue
            loaded = self.load(row.thread_id, row.ns, row.checkpoint_id)
            if loaded is not None:
                yield loaded.to_tuple()
                count += 1
                if limit is not None and count >= limit:
                    return

    def _matches(self, row: CheckpointRow, filter: dict[str, Any]) -> bool:
        meta = self._metadata(row)
        return all(meta.get(k) == v for k, v in filter.items())

    def _list_args(self, config: Any, before: Any) -> tuple[str | None, str | None, str | None, str | None]:
        if config is None:
            thread, ns, cid = None, None, None
        else:
            thread, ns_, cid = _config_parts(config)
            ns = ns_ if "checkpoint_ns" in ((config or {}).get("configurable") or {}) else None
        before_id = _config_parts(before)[2] if before is not None else None
        return thread, ns, cid, before_id

    def _require_thread(self, config: Any) -> tuple[str, str, str | None]:
        thread, ns, cid = _config_parts(config)
        if thread is None:
            raise CheckpointError(
                "The config names no thread: pass {'configurable': {'thread_id': ...}}"
            )
        return thread, ns, cid

    def put(self, config: Any, checkpoint: Checkpoint, metadata: dict[str, Any], new_versions: dict[str, Any]) -> dict[str, Any]:
        """Store a LangGraph-shaped checkpoint (every value in ``channel_values`` whose
        channel is in ``new_versions`` becomes a blob of this checkpoint)."""
        thread, ns, parent = self._require_thread(config)
        previous = self.load(thread, ns, parent) if parent else None
        row = self._row_from_checkpoint(config, checkpoint, metadata, new_versions, previous)
        self._write([row], [])
        return config_for(row.thread_id, row.ns, row.checkpoint_id)

    async def aput(self, config: Any, checkpoint: Checkpoint, metadata: dict[str, Any], new_versions: dict[str, Any]) -> dict[str, Any]:
        thread, ns, parent = self._require_thread(config)
        previous = await self.aload(thread, ns, parent) if parent else None
        row = self._row_from_checkpoint(config, checkpoint, metadata, new_versions, previous)
        await self._awrite([row], [])
        return config_for(row.thread_id, row.ns, row.checkpoint_id)

    def _row_from_checkpoint(
        self,
        config: Any,
        checkpoint: Checkpoint,
        metadata: dict[str, Any],
        new_versions: dict[str, Any],
        previous: LoadedCheckpoint | None = None,
    ) -> CheckpointRow:
        thread, ns, parent = self._require_thread(config)
        cid = checkpoint["id"]
        writers = dict(previous.record.blob_writers) if previous else {}
        blobs: dict[str, Blob] = {}
        for chan in new_versions:
            if chan in checkpoint.get("channel_values", {}):
                blobs[chan] = Blob(FULL, self.serde.dumps(checkpoint["channel_values"][chan]))
                writers[chan] = cid
        versions = {k: int(v) if not isinstance(v, int) else v for k, v in checkpoint.get("channel_versions", {}).items()}
        record = CheckpointRecord(
            channel_versions=versions,
            blob_writers={k: w for k, w in writers.items() if k in versions},
            versions_seen={n: {c: int(v) for c, v in s.items()} for n, s in checkpoint.get("versions_seen", {}).items()},
        )
        return CheckpointRow(
            thread_id=thread,
            ns=ns,
            checkpoint_id=cid,
            parent_id=parent,
            step=int(metadata.get("step", -1)),
            source=str(metadata.get("source", "update")),
            created_at=checkpoint.get("ts", ""),
            record=_record_encoder.encode(record),
            blobs=blobs,
            metadata=self.serde.dumps(dict(metadata)),
        )

    def put_writes(self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = "") -> None:
        """Save a task's writes as pending writes of the checkpoint ``config`` names."""
        thread, ns, cid = self._require_thread(config)
        if cid is None:
            raise CheckpointError("put_writes needs a config that names a checkpoint_id")
        rows = [(thread, ns, cid, WriteRow(task_id, i, c, self.serde.dumps(v), task_path)) for i, (c, v) in enumerate(writes)]
        self._write([], rows)

    async def aput_writes(self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = "") -> None:
        thread, ns, cid = self._require_thread(config)
        if cid is None:
            raise CheckpointError("put_writes needs a config that names a checkpoint_id")
        rows = [(thread, ns, cid, WriteRow(task_id, i, c, self.serde.dumps(v), task_path)) for i, (c, v) in enumerate(writes)]
        await self._awrite([], rows)

    def get_next_version(self, current: int | None, channel: Any = None) -> int:
        return (current or 0) + 1

    # -- threads -----------------------------------------------------------------------
    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint and write of a thread (all namespaces)."""
        self._delete(str(thread_id), None, None)

    async def adelete_thread(self, thread_id: str) -> None:
        await self._adelete(str(thread_id), None, None)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy a thread's whole history (all namespaces) to another thread id."""
        src, dst = str(source_thread_id), str(target_thread_id)
        rows: builtins.list[CheckpointRow] = []
        writes: builtins.list[tuple[str, str, str, WriteRow]] = []
        for ns in self._namespaces(src):
            for row in self._list_rows(src, ns, None, None):
                rows.append(msgspec.structs.replace(row, thread_id=dst))
                writes.extend((dst, ns, row.checkpoint_id, w) for w in self._read_writes(src, ns, row.checkpoint_id))
        self._write(rows, writes)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        src, dst = str(source_thread_id), str(target_thread_id)
        rows: builtins.list[CheckpointRow] = []
        writes: builtins.list[tuple[str, str, str, WriteRow]] = []
        for ns in await self._anamespaces(src):
            for row in await self._alist_rows(src, ns, None, None):
                rows.append(msgspec.structs.replace(row, thread_id=dst))
                writes.extend((dst, ns, row.checkpoint_id, w) for w in await self._aread_writes(src, ns, row.checkpoint_id))
        await self._awrite(rows, writes)

    def prune(
        self, thread_ids: Sequence[str] | str, *, strategy: str = "keep_latest", keep_last: int = 1
    ) -> None:
        """Keep only the newest ``keep_last`` checkpoints of each thread namespace
        (LangGraph's ``strategy="keep_latest"``), or delete the threads
        (``strategy="delete"``).

        Kept checkpoints stay fully readable: a value they take from a deleted checkpoint
        (an unchanged channel, or the base of a delta) is copied into them first.
        """
        threads = _prune_threads(thread_ids, strategy, keep_last)
        if strategy == "delete":
            for thread in threads:
                self.delete_thread(thread)
            return
        for thread in threads:
            for ns in self._namespaces(thread):
                rows = self._list_rows(thread, ns, None, None)
                kept, dropped = rows[:keep_last], {r.checkpoint_id for r in rows[keep_last:]}
                if not dropped:
                    continue
                rewritten = []
                for row in kept:
                    if _needs(self._record(row), dropped):
                        loaded = self.load(thread, ns, row.checkpoint_id)
                        assert loaded is not None
                        rewritten.append(self._materialize(row, loaded, dropped))
                self._write(rewritten, [])
                self._delete(thread, ns, sorted(dropped))

    async def aprune(
        self, thread_ids: Sequence[str] | str, *, strategy: str = "keep_latest", keep_last: int = 1
    ) -> None:
        threads = _prune_threads(thread_ids, strategy, keep_last)
        if strategy == "delete":
            for thread in threads:
                await self.adelete_thread(thread)
            return
        for thread in threads:
            for ns in await self._anamespaces(thread):
                rows = await self._alist_rows(thread, ns, None, None)
                kept, dropped = rows[:keep_last], {r.checkpoint_id for r in rows[keep_last:]}
                if not dropped:
                    continue
                rewritten = []
                for row in kept:
                    if _needs(self._record(row), dropped):
                        loaded = await self.aload(thread, ns, row.checkpoint_id)
                        assert loaded is not None
                        rewritten.append(self._materialize(row, loaded, dropped))
                await self._awrite(rewritten, [])
                await self._adelete(thread, ns, sorted(dropped))

    def _materialize(self, row: CheckpointRow, loaded: LoadedCheckpoint, dropped: set[str]) -> CheckpointRow:
        """``row`` with full copies of the values it takes from ``dropped`` checkpoints."""
        record = loaded.record
        blobs = dict(row.blobs)
        writers = dict(record.blob_writers)
        roots = dict(record.blob_roots)
        for chan in _needs(record, dropped):
            blobs[chan] = Blob(FULL, self.serde.dumps(loaded.values[chan]))
            writers[chan] = row.checkpoint_id
            roots.pop(chan, None)
        new_record = msgspec.structs.replace(record, blob_writers=writers, blob_roots=roots)
        return msgspec.structs.replace(row, blobs=blobs, record=_record_encoder.encode(new_record))


def _needs(record: CheckpointRecord, dropped: set[str]) -> builtins.list[str]:
    """Channels whose value a checkpoint takes from a dropped one: last written there, or
    stored as a delta chain that starts there. (Dropped checkpoints are the oldest; a
    chain whose snapshot is kept has all its links kept, as they are newer.)"""
    roots = record.blob_roots
    return [c for c, w in record.blob_writers.items() if w in dropped or roots.get(c) in dropped]


def _prune_threads(thread_ids: Sequence[str] | str, strategy: str, keep_last: int) -> builtins.list[str]:
    if strategy not in ("keep_latest", "delete"):
        raise ValueError(f"prune(strategy={strategy!r}): expected 'keep_latest' or 'delete'")
    if keep_last < 1:
        raise ValueError(f"prune(keep_last={keep_last}): keep at least one checkpoint")
    return [str(thread_ids)] if isinstance(thread_ids, str) else [str(t) for t in thread_ids]


def encode_record(record: CheckpointRecord) -> bytes:
    return _record_encoder.encode(record)
