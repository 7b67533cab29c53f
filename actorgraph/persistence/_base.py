"""``RowCheckpointSaver``: actorgraph's savers' shared implementation over row storage.

The runtime stores a step as one ``CheckpointRow`` (its bookkeeping plus the blobs of the
channels it changed, reducer lists as deltas) and each task's writes as ``WriteRow``s;
that is the fast path (``load``/``save``). LangGraph's public methods (``get_tuple``,
``list``, ``put``, ``put_writes``, deletes, copies, prune, the delta-channel history and
their ``a*`` twins) are built here too: ``put`` stores a LangGraph-shaped checkpoint in
the saver's LangGraph layout (``ForeignRow`` when read back), so both kinds of row live
side by side and every method reads both.

A saver implements the storage primitives (``_write``, ``_read_row``, ...); encoding,
delta reconstruction and pruning that keeps every kept checkpoint readable live here.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

import msgspec
import structlog

from actorgraph._constants import TASKS
from actorgraph.errors import CheckpointConflictError, CheckpointError, ConfigError
from actorgraph.persistence._codec import Codec, make_codec
from actorgraph.persistence._model import (
    DELTA,
    FULL,
    Blob,
    CheckpointRecord,
    CheckpointRow,
    ForeignRow,
    WriteRow,
    decode_metadata,
)
from actorgraph.persistence._saver_api import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    Checkpoint,
    CheckpointTuple,
    DeltaChannelHistory,
    _HistoryWalk,
    get_checkpoint_metadata,
)
from actorgraph.persistence._serde_protocols import SerializerProtocol, maybe_add_typed_methods

__all__ = (
    "ANY_HEAD",
    "SaverStatistics",
    "LoadedCheckpoint",
    "RowCheckpointSaver",
    "config_for",
    "decode_writes",
    "encode_record",
    "from_foreign",
    "head_of",
    "kept_on_conflict",
)

_record_decoder = msgspec.msgpack.Decoder(CheckpointRecord)
_record_encoder = msgspec.msgpack.Encoder()
Row = CheckpointRow | ForeignRow
StoredWrite = tuple[str, str, str, WriteRow]
_CURRENT_LAYOUT = 3
"""LangGraph's first checkpoint format with today's channel names (older ones are migrated)."""
"""(thread_id, checkpoint_ns, checkpoint_id, write)"""


class _AnyHead:
    def __repr__(self) -> str:
        return "ANY_HEAD"


ANY_HEAD: Any = _AnyHead()
"""``save``'s default ``expect_head``: store without comparing the thread's head."""


def head_of(rows: Sequence[CheckpointRow]) -> tuple[str, str]:
    """The (thread, namespace) a compare-and-set batch writes: one, by construction."""
    first = rows[0]
    key = (first.thread_id, first.ns)
    for row in rows:
        if (row.thread_id, row.ns) != key:
            raise ValueError("a save that compares the thread's head stores rows of one thread namespace only")
    return key


def kept_on_conflict(rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite]) -> builtins.list[StoredWrite]:
    """What a save that lost the compare-and-set still stores: the task writes of
    checkpoints other than the rejected ones (they are valid pending writes of stored
    checkpoints); writes of the rejected checkpoints would point at nothing."""
    rejected = {r.checkpoint_id for r in rows}
    return [w for w in writes if w[2] not in rejected]


def check_head(thread: str, ns: str, expected: str | None, found: str | None) -> None:
    if found != expected:
        raise CheckpointConflictError(thread, ns, expected, found)


def config_for(thread_id: str, ns: str, checkpoint_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint_id}}


def _config_parts(config: Any) -> tuple[str | None, str, str | None]:
    if config is not None and not isinstance(config, Mapping):
        raise ConfigError(f"A checkpoint config must be a dict, got {type(config).__name__}", value=config)
    conf = (config or {}).get("configurable") or {}
    if not isinstance(conf, Mapping):
        raise ConfigError(
            f"config['configurable'] must be a dict, got {type(conf).__name__}", key="configurable", value=conf
        )
    thread = conf.get("thread_id")
    # an empty checkpoint_id names no checkpoint (the thread's newest), as in LangGraph
    return (str(thread) if thread is not None else None, conf.get("checkpoint_ns", "") or "", conf.get("checkpoint_id") or None)


def _int_version(v: Any) -> int:
    """An engine version from a stored one (LangGraph's savers store ``"000..N.<random>"``)."""
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v)
    try:
        return int(str(v).split(".")[0])
    except ValueError:
        return 0


class LoadedCheckpoint:
    """A checkpoint read back: its row, decoded record, channel values and pending writes."""

    __slots__ = ("row", "record", "values", "writes", "metadata", "chains", "original", "deps", "loads", "migrated")

    def __init__(
        self,
        row: CheckpointRow,
        record: CheckpointRecord,
        values: dict[str, Any],
        writes: list[tuple[str, str, Any, str]],
        metadata: dict[str, Any],
        chains: dict[str, Blob] | None = None,
        original: Checkpoint | None = None,
        deps: dict[str, set[str]] | None = None,
    ) -> None:
        self.row = row
        self.record = record
        self.values = values
        self.writes = writes
        """(task_id, channel, value, task_path) in ``writes_sort_key`` order"""
        self.metadata = metadata
        self.chains = chains or {}
        """Each channel's newest stored blob (how the next value should be stored)."""
        self.original = original
        """The checkpoint as ``put`` stored it (LangGraph-layout rows)."""
        self.deps = deps or {}
        """Per channel, the other checkpoints whose blobs its value is read from."""
        self.loads: Any = None
        """The saver's decoder (for the pending Sends)."""
        self.migrated = False

    @property
    def id(self) -> str:
        return self.row.checkpoint_id

    def to_tuple(self, config: Any = None) -> CheckpointTuple:
        row = self.row
        checkpoint: Checkpoint
        if self.original is not None:
            checkpoint = self.original
        else:
            values = dict(self.values)
            versions: dict[str, Any] = dict(self.record.channel_versions)
            if self.record.pending_sends:
                values[TASKS] = self.sends
                versions[TASKS] = row.checkpoint_id
            checkpoint = {
                "v": 4,
                "id": row.checkpoint_id,
                "ts": row.created_at,
                "channel_values": values,
                "channel_versions": versions,
                "versions_seen": {k: dict(v) for k, v in self.record.versions_seen.items()},
                "updated_channels": list(self.record.updated_channels),
            }
        parent = config_for(row.thread_id, row.ns, row.parent_id) if row.parent_id else None
        return CheckpointTuple(
            config=config if config is not None else config_for(row.thread_id, row.ns, row.checkpoint_id),
            checkpoint=checkpoint,
            metadata=dict(self.metadata),  # type: ignore[arg-type]
            parent_config=parent,
            pending_writes=[(t, c, v) for t, c, v, _ in self.writes],
        )

    def migrate(self, migration: Any) -> None:
        """Apply a graph's ``migration`` (a function that rewrites a LangGraph checkpoint
        dict saved in an older channel layout, in place) to this checkpoint, if LangGraph
        saved it in such a layout. The stored checkpoint is left as it was."""
        cp = self.original
        if migration is None or cp is None or self.migrated or self.record.v >= _CURRENT_LAYOUT:
            return
        cp = {
            **cp,
            "channel_values": dict(cp.get("channel_values") or {}),
            "channel_versions": dict(cp.get("channel_versions") or {}),
            "versions_seen": {n: dict(s) for n, s in (cp.get("versions_seen") or {}).items()},
        }
        migration(cp)
        values, versions, seen = _foreign_channels(cp)
        values.pop(TASKS, None)
        self.original = cp
        self.values = values
        self.record = msgspec.structs.replace(self.record, channel_versions=versions, versions_seen=seen)
        self.migrated = True

    @property
    def sends(self) -> list[Any]:
        """The pending Sends as ``Send`` objects."""
        from actorgraph._types import Send

        if not self.record.pending_sends or self.loads is None:
            return []
        return [Send(node, arg) for node, arg in self.loads(self.record.pending_sends)]


class SaverStatistics(msgspec.Struct, frozen=True, kw_only=True):
    """What a saver has read and refused so far (``saver.statistics()``)."""

    checkpoints_loaded: int
    """Checkpoints read back whole (values and pending writes)."""
    rows_read: int
    """Checkpoint rows fetched from storage to do so (the checkpoint's own and the ones
    its values are read from)."""
    conflicts: int
    """Saves refused because another run had moved the thread's head."""
    checkpoints_written: int = 0
    """Checkpoints stored by the runtime's saves (``save``/``asave``)."""
    bytes_written: int = 0
    """Serialized bytes those saves and ``put_writes`` stored: checkpoint records, channel
    blobs, metadata and pending writes (keys and the storage's own overhead aside)."""


class _Page:
    """What the loads of one listing share, per thread namespace: the rows fetched so far
    and every delta chain resolved so far. A list channel's value at a checkpoint of a
    resolved chain is a prefix of the chain's newest value (deltas only append), so a
    page of N checkpoints reads each chain's rows once and costs O(N), not O(N x chain)."""

    __slots__ = ("rows", "prefix")

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}
        # (channel, checkpoint id) -> (the resolved value of a chain through that
        # checkpoint, the length of the value at that checkpoint)
        self.prefix: dict[tuple[str, str], tuple[builtins.list[Any], int]] = {}


def _stale(page: _Page) -> None:
    """A load that used a listing's rows failed: a prune (or a delete) since the listing
    may have rewritten those rows and deleted the ones they read from, so the listing's
    rows are dropped and the checkpoint is read afresh (gone: ``None``, left out of the
    listing). A read that fails afresh too is real damage and raises."""
    page.rows.clear()
    page.prefix.clear()


def _page_for(pages: dict[tuple[str, str], _Page], row: Row) -> _Page:
    """The page of ``row``'s thread namespace, holding ``row`` (read by the listing)."""
    key = (row.thread_id, row.ns)
    page = pages.get(key)
    if page is None:
        page = pages[key] = _Page()
    page.rows[row.checkpoint_id] = row
    return page


class _Resolver:
    """Rebuilds channel values from blobs spread over several rows (sans I/O: the caller
    fetches the rows it asks for)."""

    def __init__(self, saver: RowCheckpointSaver, row: CheckpointRow, record: CheckpointRecord, page: _Page | None = None) -> None:
        self.saver = saver
        self.row = row
        self.record = record
        self.page = page
        self.rows: dict[str, Row] = page.rows if page is not None else {}
        self.rows[row.checkpoint_id] = row
        self.fetched = 0
        # channels whose value a resolved chain of the page already holds
        self.known: frozenset[str] = frozenset(
            c for c, w in record.blob_writers.items() if (c, w) in page.prefix
        ) if page is not None and page.prefix else frozenset()  # fmt: skip

    def first_fetch(self) -> tuple[list[str], tuple[str, str] | None]:
        """Rows to read up front: the writers of full values by id, and one id range that
        covers every delta chain (snapshot to writer)."""
        ids: set[str] = set()
        lo: str | None = None
        hi: str | None = None
        roots = self.record.blob_roots
        rows = self.rows
        for chan, writer in self.record.blob_writers.items():
            if chan in self.known:
                continue
            root = roots.get(chan)
            if root is None or root == writer:
                if writer not in rows:
                    ids.add(writer)
                continue
            lo = root if lo is None or root < lo else lo
            hi = writer if hi is None or writer > hi else hi
        return sorted(ids), (lo, hi) if lo is not None and hi is not None else None

    def missing(self) -> list[str]:
        need: set[str] = set()
        seen: set[tuple[str, str]] = set()
        for chan, writer in self.record.blob_writers.items():
            if chan in self.known:
                continue
            cur: str | None = writer
            while cur is not None:
                if (chan, cur) in seen:
                    self._corrupt(f"the delta chain of channel '{chan}' loops at checkpoint '{cur}'")
                seen.add((chan, cur))
                r = self.rows.get(cur)
                if r is None:
                    need.add(cur)
                    break
                blob = r.blobs.get(chan) if isinstance(r, CheckpointRow) else None
                if blob is None or blob.kind == FULL:
                    break
                cur = blob.base
        return sorted(need)

    def add(self, rows: Mapping[str, Row], asked: list[str] | None = None) -> None:
        for cid in asked or ():
            if cid not in rows:
                self._corrupt(f"refers to checkpoint '{cid}', which is missing from the saver (deleted or corrupt data)")
        self.fetched += len(rows)
        self.rows.update(rows)

    def _corrupt(self, what: str) -> None:
        raise CheckpointError(
            f"Thread '{self.row.thread_id}' checkpoint '{self.row.checkpoint_id}' {what}",
            thread_id=self.row.thread_id,
            checkpoint_ns=self.row.ns,
            checkpoint_id=self.row.checkpoint_id,
        )

    def chains(self) -> dict[str, Blob]:
        out = {}
        for chan, writer in self.record.blob_writers.items():
            r = self.rows[writer]
            if isinstance(r, CheckpointRow) and chan in r.blobs:
                out[chan] = r.blobs[chan]
        return out

    def values(self, deps: dict[str, set[str]]) -> dict[str, Any]:
        """Each channel's value (``deps``: filled with the checkpoints each reads from,
        except for values a page's resolved chain already held)."""
        loads = self.saver._codec.loads
        page = self.page
        out: dict[str, Any] = {}
        own = self.row.checkpoint_id
        for chan, writer in self.record.blob_writers.items():
            if chan in self.known:
                assert page is not None
                full, n = page.prefix[(chan, writer)]
                out[chan] = full[:n]
                continue
            chain: list[tuple[str, Blob]] = []
            cur: str | None = writer
            if writer != own:
                deps[chan] = set()
            while cur is not None:
                r = self.rows[cur]
                blob = r.blobs.get(chan) if isinstance(r, CheckpointRow) else None
                if blob is None:
                    self._corrupt(f": the value of channel '{chan}' is missing from checkpoint '{cur}'")
                assert blob is not None
                if cur != own:
                    deps.setdefault(chan, set()).add(cur)
                chain.append((cur, blob))
                cur = blob.base if blob.kind == DELTA else None
                if len(chain) > 100_000:
                    self._corrupt(f": the delta chain of channel '{chan}' does not end")
            try:
                value = loads(chain[-1][1].data)
                if len(chain) > 1:
                    value = list(value)
                    lengths = [(chain[-1][0], len(value))]
                    for cid, blob in reversed(chain[:-1]):
                        value.extend(loads(blob.data))
                        lengths.append((cid, len(value)))
                    if page is not None:
                        # every checkpoint of the chain now reads its value as a prefix
                        for cid, n in lengths:
                            page.prefix[(chan, cid)] = (value, n)
                        value = value[:]
            except CheckpointError:
                raise
            except Exception as exc:
                self._corrupt(f": channel '{chan}' can't be read: {exc}")
            out[chan] = value
        return out


class RowCheckpointSaver(BaseCheckpointSaver[int]):
    """actorgraph's savers: row storage below, LangGraph's saver API on top."""

    _codec: Codec
    _serde: SerializerProtocol = BaseCheckpointSaver.serde
    # statistics() (class defaults: an instance counts from its first read)
    _loads = 0
    _rows_read = 0
    _conflicts = 0
    _checkpoints_written = 0
    _bytes_written = 0
    _sends_from_parent = False
    """Read the pending Sends of a LangGraph checkpoint of layout < 4 from its parent's
    ``__pregel_tasks`` writes, as LangGraph's saver of the same kind does (its Postgres
    saver does; its in-memory and SQLite savers don't)."""

    def __init__(self, *, serde: SerializerProtocol | None = None) -> None:
        super().__init__(serde=serde)

    @property  # type: ignore[override]
    def serde(self) -> SerializerProtocol:
        return self._serde

    @serde.setter
    def serde(self, value: Any) -> None:
        # assigning a serializer after construction (e.g. an EncryptedSerializer) takes
        # effect for everything stored and read from then on
        self._serde = maybe_add_typed_methods(value)
        self._codec = make_codec(self._serde)

    @property
    def stores_without_suspending(self) -> bool:
        """Whether ``asave`` never suspends (its rows are stored in this process), so a
        cancellation can't cut a store short."""
        cls = type(self)
        return cls._awrite is RowCheckpointSaver._awrite and cls.asave is RowCheckpointSaver.asave

    @property
    def saves_from_any_thread(self) -> bool:
        """Whether ``save`` may be called from any thread while the event loop is busy
        (its I/O needs no loop): the runtime's writer then stores batch after batch from
        its worker thread, and never waits for the loop to hand over the next one."""
        return False

    # -- damaged rows --------------------------------------------------------------------
    def _skipped(self, error: CheckpointError) -> None:
        """A damaged checkpoint left out of a listing of every thread, logged."""
        structlog.get_logger("actorgraph").warning("checkpoint.damaged_skipped", error=str(error))

    def _row_or_skip(self, convert: Any, skip: bool) -> Any:
        """``convert()``; when ``skip``, a CheckpointError it raises is logged and the row is
        left out (``None``)."""
        if not skip:
            return convert()
        try:
            return convert()
        except CheckpointError as error:
            self._skipped(error)
            return None

    # -- storage primitives ------------------------------------------------------------
    def _write(
        self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite], *, replace: bool = True, expect_head: Any = ANY_HEAD
    ) -> None:
        """Store rows and writes atomically (``replace=False``: keep writes already there).
        ``expect_head`` (a checkpoint id, or None for an empty thread namespace): store the
        rows only if the newest checkpoint of their thread namespace is still that one, in
        the same transaction (else store ``kept_on_conflict`` and raise
        ``CheckpointConflictError``)."""
        raise NotImplementedError

    def _read_row(self, thread: str, ns: str, checkpoint_id: str | None) -> Row | None:
        """One row; the newest of the thread's namespace when ``checkpoint_id`` is None."""
        raise NotImplementedError

    def _read_rows(self, thread: str, ns: str, ids: Sequence[str]) -> dict[str, Row]:
        raise NotImplementedError

    def _read_range(self, thread: str, ns: str, lo: str, hi: str) -> dict[str, Row]:
        """Rows with ``lo <= checkpoint_id <= hi`` (ids are time-ordered)."""
        raise NotImplementedError

    def _read_writes(self, thread: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        raise NotImplementedError

    def _list_rows(
        self,
        thread: str | None,
        ns: str | None,
        before: str | None,
        limit: int | None,
        filter: dict[str, Any] | None = None,
    ) -> builtins.list[Row]:
        """Rows newest first (by checkpoint id), whose metadata matches ``filter``."""
        raise NotImplementedError

    def _delete(self, thread: str, ns: str | None, ids: Sequence[str] | None) -> None:
        """Delete a whole thread (``ns`` None), or the given checkpoints of one namespace."""
        raise NotImplementedError

    def _namespaces(self, thread: str) -> builtins.list[str]:
        raise NotImplementedError

    def _copy_thread(self, source: str, target: str) -> None:
        """Copy every row, write (and stored value) of a thread to another thread id."""
        raise NotImplementedError

    async def _acopy_thread(self, source: str, target: str) -> None:
        self._copy_thread(source, target)

    def _put_foreign(self, thread: str, ns: str, parent: str | None, checkpoint: Checkpoint, metadata: dict[str, Any], new_versions: dict[str, Any]) -> None:
        """Store a LangGraph-shaped checkpoint in the saver's LangGraph layout."""
        raise NotImplementedError

    # async primitives: by default the sync ones (savers doing I/O override them)
    async def _awrite(
        self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite], *, replace: bool = True, expect_head: Any = ANY_HEAD
    ) -> None:
        self._write(rows, writes, replace=replace, expect_head=expect_head)

    async def _aread_row(self, thread: str, ns: str, checkpoint_id: str | None) -> Row | None:
        return self._read_row(thread, ns, checkpoint_id)

    async def _aread_rows(self, thread: str, ns: str, ids: Sequence[str]) -> dict[str, Row]:
        return self._read_rows(thread, ns, ids)

    async def _aread_range(self, thread: str, ns: str, lo: str, hi: str) -> dict[str, Row]:
        return self._read_range(thread, ns, lo, hi)

    async def _aread_writes(self, thread: str, ns: str, checkpoint_id: str) -> builtins.list[WriteRow]:
        return self._read_writes(thread, ns, checkpoint_id)

    async def _alist_rows(
        self,
        thread: str | None,
        ns: str | None,
        before: str | None,
        limit: int | None,
        filter: dict[str, Any] | None = None,
    ) -> builtins.list[Row]:
        return self._list_rows(thread, ns, before, limit, filter)

    async def _adelete(self, thread: str, ns: str | None, ids: Sequence[str] | None) -> None:
        self._delete(thread, ns, ids)

    async def _anamespaces(self, thread: str) -> builtins.list[str]:
        return self._namespaces(thread)

    async def _aput_foreign(self, thread: str, ns: str, parent: str | None, checkpoint: Checkpoint, metadata: dict[str, Any], new_versions: dict[str, Any]) -> None:
        self._put_foreign(thread, ns, parent, checkpoint, metadata, new_versions)

    # -- decoding ----------------------------------------------------------------------
    def _record(self, row: CheckpointRow) -> CheckpointRecord:
        try:
            return _record_decoder.decode(row.record)
        except Exception as exc:
            raise CheckpointError(
                f"Thread '{row.thread_id}' checkpoint '{row.checkpoint_id}' is corrupt or was not "
                f"written by actorgraph: {exc}",
                thread_id=row.thread_id,
                checkpoint_ns=row.ns,
                checkpoint_id=row.checkpoint_id,
            ) from exc

    def _metadata(self, row: Row) -> dict[str, Any]:
        if isinstance(row, ForeignRow):
            return dict(row.metadata)
        try:
            return decode_metadata(row.metadata)
        except Exception as exc:
            raise CheckpointError(
                f"Thread '{row.thread_id}' checkpoint '{row.checkpoint_id}': metadata can't be read: {exc}",
                thread_id=row.thread_id,
                checkpoint_ns=row.ns,
                checkpoint_id=row.checkpoint_id,
            ) from exc

    def _decode_writes(self, row: Row, writes: builtins.list[WriteRow]) -> builtins.list[tuple[str, str, Any, str]]:
        return decode_writes(row, writes, self._codec)

    def _from_foreign(self, row: ForeignRow, writes: builtins.list[WriteRow]) -> LoadedCheckpoint:
        try:
            return from_foreign(row, writes, self._codec)
        except CheckpointError:
            raise
        except Exception as exc:
            raise CheckpointError(
                f"Thread '{row.thread_id}' checkpoint '{row.checkpoint_id}' is not a checkpoint: {exc}",
                thread_id=row.thread_id,
                checkpoint_ns=row.ns,
                checkpoint_id=row.checkpoint_id,
            ) from exc

    # -- the runtime's reads -------------------------------------------------------------
    def load(
        self, thread: str, ns: str = "", checkpoint_id: str | None = None, page: _Page | None = None
    ) -> LoadedCheckpoint | None:
        """A checkpoint read back whole (the newest when ``checkpoint_id`` is None);
        ``page``: rows and chains shared with the other loads of a listing."""
        if page is None:
            return self._load(thread, ns, checkpoint_id, None)
        try:
            return self._load(thread, ns, checkpoint_id, page)
        except CheckpointError:
            _stale(page)
            return self._load(thread, ns, checkpoint_id, None)

    async def aload(
        self, thread: str, ns: str = "", checkpoint_id: str | None = None, page: _Page | None = None
    ) -> LoadedCheckpoint | None:
        if page is None:
            return await self._aload(thread, ns, checkpoint_id, None)
        try:
            return await self._aload(thread, ns, checkpoint_id, page)
        except CheckpointError:
            _stale(page)
            return await self._aload(thread, ns, checkpoint_id, None)

    def _load(self, thread: str, ns: str, checkpoint_id: str | None, page: _Page | None) -> LoadedCheckpoint | None:
        row = page.rows.get(checkpoint_id) if page is not None and checkpoint_id is not None else None
        if row is None:
            row = self._read_row(thread, ns, checkpoint_id)
            self._rows_read += 1
            if row is None:
                return None
        self._loads += 1
        if isinstance(row, ForeignRow):
            if self._sends_from_parent and _sends_in_parent(row):
                row = _with_sends(row, self._read_writes(thread, ns, row.parent_id), self._codec)  # type: ignore[arg-type]
            return self._from_foreign(row, self._read_writes(thread, ns, row.checkpoint_id))
        record = self._record(row)
        resolver = _Resolver(self, row, record, page)
        ids, span = resolver.first_fetch()
        if span is not None:
            resolver.add(self._read_range(thread, ns, *span))
        if ids:
            resolver.add(self._read_rows(thread, ns, ids), ids)
        while need := resolver.missing():
            resolver.add(self._read_rows(thread, ns, need), need)
        self._rows_read += resolver.fetched
        writes = self._read_writes(thread, ns, row.checkpoint_id)
        return self._loaded(row, record, resolver, writes)

    async def _aload(self, thread: str, ns: str, checkpoint_id: str | None, page: _Page | None) -> LoadedCheckpoint | None:
        row = page.rows.get(checkpoint_id) if page is not None and checkpoint_id is not None else None
        if row is None:
            row = await self._aread_row(thread, ns, checkpoint_id)
            self._rows_read += 1
            if row is None:
                return None
        self._loads += 1
        if isinstance(row, ForeignRow):
            if self._sends_from_parent and _sends_in_parent(row):
                row = _with_sends(row, await self._aread_writes(thread, ns, row.parent_id), self._codec)  # type: ignore[arg-type]
            return self._from_foreign(row, await self._aread_writes(thread, ns, row.checkpoint_id))
        record = self._record(row)
        resolver = _Resolver(self, row, record, page)
        ids, span = resolver.first_fetch()
        if span is not None:
            resolver.add(await self._aread_range(thread, ns, *span))
        if ids:
            resolver.add(await self._aread_rows(thread, ns, ids), ids)
        while need := resolver.missing():
            resolver.add(await self._aread_rows(thread, ns, need), need)
        self._rows_read += resolver.fetched
        writes = await self._aread_writes(thread, ns, row.checkpoint_id)
        return self._loaded(row, record, resolver, writes)

    def statistics(self) -> SaverStatistics:
        """What this saver has read and refused since it was made."""
        return SaverStatistics(
            checkpoints_loaded=self._loads,
            rows_read=self._rows_read,
            conflicts=self._conflicts,
            checkpoints_written=self._checkpoints_written,
            bytes_written=self._bytes_written,
        )

    def _written(self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite]) -> None:
        # (inline: this runs on every save)
        size = 0
        for w in writes:
            size += len(w[3].value)
        for row in rows:
            size += len(row.record) + len(row.metadata)
            for b in row.blobs.values():
                size += len(b.data)
        self._checkpoints_written += len(rows)
        self._bytes_written += size

    def _loaded(self, row: CheckpointRow, record: CheckpointRecord, resolver: _Resolver, writes: builtins.list[WriteRow]) -> LoadedCheckpoint:
        deps: dict[str, set[str]] = {}
        values = resolver.values(deps)
        loaded = LoadedCheckpoint(
            row, record, values, self._decode_writes(row, writes), self._metadata(row), resolver.chains(), deps=deps
        )
        loaded.loads = self._codec.loads
        return loaded

    def latest_id(self, thread: str, ns: str = "") -> str | None:
        """The id of the newest checkpoint of a thread's namespace."""
        row = self._read_row(thread, ns, None)
        return row.checkpoint_id if row is not None else None

    async def alatest_id(self, thread: str, ns: str = "") -> str | None:
        row = await self._aread_row(thread, ns, None)
        return row.checkpoint_id if row is not None else None

    # -- the runtime's writes ------------------------------------------------------------
    def save(self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite] = (), *, expect_head: Any = ANY_HEAD) -> None:
        """Store a run's checkpoint rows (of one thread namespace) and task writes in one
        transaction. ``expect_head``: the newest checkpoint id the run read or wrote there
        (None: it found none); the rows are stored only if it is still the newest (a
        compare-and-set on the thread's head), else ``CheckpointConflictError``."""
        if rows and expect_head is not ANY_HEAD:
            if len(rows) > 1:
                head_of(rows)
            try:
                self._write(rows, writes, expect_head=expect_head)
            except CheckpointConflictError:
                self._conflicts += 1
                raise
        else:
            self._write(rows, writes)
        self._written(rows, writes)

    async def asave(
        self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite] = (), *, expect_head: Any = ANY_HEAD
    ) -> None:
        if rows and expect_head is not ANY_HEAD:
            if len(rows) > 1:
                head_of(rows)
            try:
                await self._awrite(rows, writes, expect_head=expect_head)
            except CheckpointConflictError:
                self._conflicts += 1
                raise
        else:
            await self._awrite(rows, writes)
        self._written(rows, writes)

    # -- LangGraph's public API ----------------------------------------------------------
    def _require_thread(self, config: Any) -> tuple[str, str, str | None]:
        thread, ns, cid = _config_parts(config)
        if thread is None:
            raise ConfigError("The config names no thread: pass {'configurable': {'thread_id': ...}}", key="thread_id")
        return thread, ns, cid

    def get_tuple(self, config: Any) -> CheckpointTuple | None:
        """The checkpoint ``config`` names (its thread's newest when it names none)."""
        thread, ns, cid = self._require_thread(config)
        loaded = self.load(thread, ns, cid)
        if loaded is None:
            return None
        return loaded.to_tuple(config if cid is not None else None)

    async def aget_tuple(self, config: Any) -> CheckpointTuple | None:
        thread, ns, cid = self._require_thread(config)
        loaded = await self.aload(thread, ns, cid)
        if loaded is None:
            return None
        return loaded.to_tuple(config if cid is not None else None)

    def list(
        self,
        config: Any,
        *,
        filter: dict[str, Any] | None = None,
        before: Any = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints newest first; ``config`` None lists every thread."""
        for loaded in self.list_loaded(config, filter=filter, before=before, limit=limit):
            yield loaded.to_tuple()

    async def alist(
        self,
        config: Any,
        *,
        filter: dict[str, Any] | None = None,
        before: Any = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        async for loaded in self.alist_loaded(config, filter=filter, before=before, limit=limit):
            yield loaded.to_tuple()

    def list_loaded(
        self, config: Any, *, filter: dict[str, Any] | None = None, before: Any = None, limit: int | None = None
    ) -> Iterator[LoadedCheckpoint]:
        if limit is not None and limit <= 0:
            return
        thread, ns, cid, before_id = self._list_args(config, before, filter)
        # every thread: a damaged checkpoint is logged and left out, so one broken thread
        # doesn't hide the others; a listing of one thread fails on it
        skip = thread is None
        pages: dict[tuple[str, str], _Page] = {}
        listed = self._list_rows(thread, ns, before_id, None if cid else limit, filter or None)
        self._rows_read += len(listed)
        for row in listed:
            if cid is not None and row.checkpoint_id != cid:
                continue
            page = _page_for(pages, row)
            loaded = self._row_or_skip(lambda row=row: self.load(row.thread_id, row.ns, row.checkpoint_id, page), skip)
            if loaded is not None:
                yield loaded
                if cid is not None:
                    return

    async def alist_loaded(
        self, config: Any, *, filter: dict[str, Any] | None = None, before: Any = None, limit: int | None = None
    ) -> AsyncIterator[LoadedCheckpoint]:
        if limit is not None and limit <= 0:
            return
        thread, ns, cid, before_id = self._list_args(config, before, filter)
        skip = thread is None
        pages: dict[tuple[str, str], _Page] = {}
        listed = await self._alist_rows(thread, ns, before_id, None if cid else limit, filter or None)
        self._rows_read += len(listed)
        for row in listed:
            if cid is not None and row.checkpoint_id != cid:
                continue
            try:
                loaded = await self.aload(row.thread_id, row.ns, row.checkpoint_id, _page_for(pages, row))
            except CheckpointError as error:
                if not skip:
                    raise
                self._skipped(error)
                continue
            if loaded is not None:
                yield loaded
                if cid is not None:
                    return

    def _list_args(self, config: Any, before: Any, filter: Any = None) -> tuple[str | None, str | None, str | None, str | None]:
        if filter is not None and not isinstance(filter, Mapping):
            raise TypeError(f"list(filter=...) takes a dict of metadata keys and values, got {type(filter).__name__}: {filter!r:.80}")
        if config is None:
            thread, ns, cid = None, None, None
        else:
            thread, ns_, cid = _config_parts(config)
            ns = ns_ if "checkpoint_ns" in ((config or {}).get("configurable") or {}) else None
        before_id = _config_parts(before)[2] if before is not None else None
        return thread, ns, cid, before_id

    def put(self, config: Any, checkpoint: Checkpoint, metadata: Any, new_versions: Any) -> dict[str, Any]:
        """Store a LangGraph-shaped checkpoint: the values of the channels in
        ``new_versions`` are stored, the rest are read from earlier checkpoints."""
        thread, ns, parent = self._require_thread(config)
        self._put_foreign(thread, ns, parent, checkpoint, get_checkpoint_metadata(config, metadata), dict(new_versions))
        return config_for(thread, ns, checkpoint["id"])

    async def aput(self, config: Any, checkpoint: Checkpoint, metadata: Any, new_versions: Any) -> dict[str, Any]:
        thread, ns, parent = self._require_thread(config)
        meta = get_checkpoint_metadata(config, metadata)
        await self._aput_foreign(thread, ns, parent, checkpoint, meta, dict(new_versions))
        return config_for(thread, ns, checkpoint["id"])

    def _write_rows(
        self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str
    ) -> tuple[builtins.list[StoredWrite], bool]:
        thread, ns, cid = self._require_thread(config)
        if cid is None:
            raise ConfigError(
                "put_writes needs a config that names a checkpoint_id", key="checkpoint_id", thread_id=thread
            )
        dumps = self._codec.dumps
        rows = [
            (thread, ns, cid, WriteRow(task_id, WRITES_IDX_MAP.get(c, i), c, dumps(v), task_path))
            for i, (c, v) in enumerate(writes)
        ]
        # special writes (errors, interrupts) replace earlier ones; regular ones are kept
        return rows, all(c in WRITES_IDX_MAP for c, _ in writes)

    def put_writes(self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = "") -> None:
        """Save a task's writes as pending writes of the checkpoint ``config`` names."""
        rows, replace = self._write_rows(config, writes, task_id, task_path)
        self._write([], rows, replace=replace)
        self._written((), rows)

    async def aput_writes(self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = "") -> None:
        rows, replace = self._write_rows(config, writes, task_id, task_path)
        await self._awrite([], rows, replace=replace)
        self._written((), rows)

    # -- delta channels ------------------------------------------------------------------
    def _ancestors(self, thread: str, ns: str, checkpoint_id: str | None) -> Iterator[str]:
        """The ids of a checkpoint's ancestors, parent first (stops where the chain ends,
        or loops)."""
        row = self._read_row(thread, ns, checkpoint_id)
        seen = {row.checkpoint_id} if row is not None else set()
        parent = row.parent_id if row is not None else None
        while parent is not None and parent not in seen:
            seen.add(parent)
            yield parent
            row = self._read_row(thread, ns, parent)
            parent = row.parent_id if row is not None else None

    async def _aancestors(self, thread: str, ns: str, checkpoint_id: str | None) -> AsyncIterator[str]:
        row = await self._aread_row(thread, ns, checkpoint_id)
        seen = {row.checkpoint_id} if row is not None else set()
        parent = row.parent_id if row is not None else None
        while parent is not None and parent not in seen:
            seen.add(parent)
            yield parent
            row = await self._aread_row(thread, ns, parent)
            parent = row.parent_id if row is not None else None

    def get_delta_channel_history(self, *, config: Any, channels: Sequence[str]) -> Mapping[str, DeltaChannelHistory]:
        """Each channel's writes stored at the ancestors of the checkpoint ``config``
        names (oldest first), back to the nearest ancestor that stores a value for it
        (its ``seed``)."""
        if not channels:
            return {}
        thread, ns, cid = self._require_thread(config)
        walk = _HistoryWalk(channels)
        for ancestor in self._ancestors(thread, ns, cid):
            loaded = self.load(thread, ns, ancestor)
            if loaded is None:
                break
            walk.visit_parts([(t, c, v) for t, c, v, _ in loaded.writes], loaded.values)
            if not walk.remaining:
                break
        return walk.result()

    async def aget_delta_channel_history(self, *, config: Any, channels: Sequence[str]) -> Mapping[str, DeltaChannelHistory]:
        if not channels:
            return {}
        thread, ns, cid = self._require_thread(config)
        walk = _HistoryWalk(channels)
        async for ancestor in self._aancestors(thread, ns, cid):
            loaded = await self.aload(thread, ns, ancestor)
            if loaded is None:
                break
            walk.visit_parts([(t, c, v) for t, c, v, _ in loaded.writes], loaded.values)
            if not walk.remaining:
                break
        return walk.result()

    # -- threads, runs, pruning ---------------------------------------------------------------
    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint and write of a thread (all namespaces)."""
        self._delete(str(thread_id), None, None)

    async def adelete_thread(self, thread_id: str) -> None:
        await self._adelete(str(thread_id), None, None)

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints (and their writes) whose metadata names one of
        ``run_ids``; checkpoints that stay keep every value they read from them."""
        from actorgraph.persistence._prune import delete_for_runs

        delete_for_runs(self, run_ids)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        from actorgraph.persistence._prune import adelete_for_runs

        await adelete_for_runs(self, run_ids)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy a thread's whole history (all namespaces) to another thread id."""
        from actorgraph.persistence._prune import copy_thread

        copy_thread(self, str(source_thread_id), str(target_thread_id))

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        from actorgraph.persistence._prune import acopy_thread

        await acopy_thread(self, str(source_thread_id), str(target_thread_id))

    def prune(self, thread_ids: Sequence[str] | str, *, strategy: str = "keep_latest", keep_last: int = 1) -> None:
        """Keep only the newest ``keep_last`` checkpoints of each thread namespace
        (``strategy="keep_latest"``), or delete the threads (``strategy="delete"``).
        Kept checkpoints stay fully readable."""
        from actorgraph.persistence._prune import prune

        prune(self, thread_ids, strategy, keep_last)

    async def aprune(self, thread_ids: Sequence[str] | str, *, strategy: str = "keep_latest", keep_last: int = 1) -> None:
        from actorgraph.persistence._prune import aprune

        await aprune(self, thread_ids, strategy, keep_last)


def encode_record(record: CheckpointRecord) -> bytes:
    return _record_encoder.encode(record)


def decode_writes(row: Row, writes: builtins.list[WriteRow], codec: Codec) -> builtins.list[tuple[str, str, Any, str]]:
    """A checkpoint's writes as (task_id, channel, value, task_path), in apply order."""
    out = []
    loads = codec.loads
    for w in sorted(writes, key=lambda w: (w.task_path, w.task_id, w.idx)):
        try:
            value = loads(w.value)
        except Exception as exc:
            raise CheckpointError(
                f"Thread '{row.thread_id}' checkpoint '{row.checkpoint_id}': a pending write of "
                f"task '{w.task_id}' to channel '{w.channel}' can't be read: {exc}",
                thread_id=row.thread_id,
                checkpoint_ns=row.ns,
                checkpoint_id=row.checkpoint_id,
                task_id=w.task_id,
                key=w.channel,
            ) from exc
        out.append((w.task_id, w.channel, value, w.task_path))
    return out


def from_foreign(row: ForeignRow, writes: builtins.list[WriteRow], codec: Codec) -> LoadedCheckpoint:
    """A LangGraph-shaped checkpoint as the runtime reads it: pending Sends out of the
    ``__pregel_tasks`` channel, versions as integers, every value in hand."""
    cp = row.checkpoint
    values, versions, seen = _foreign_channels(cp)
    raw_sends = values.pop(TASKS, None) or cp.get("pending_sends") or []
    sends = [(s.node, s.arg) if hasattr(s, "node") else tuple(s) for s in raw_sends]
    record = CheckpointRecord(
        v=int(cp.get("v", 1) or 1),
        channel_versions=versions,
        blob_writers={},
        versions_seen=seen,
        pending_sends=codec.dumps(sends) if sends else b"",
        updated_channels=list(cp.get("updated_channels") or []),
    )
    meta = row.metadata
    step = meta.get("step", -1)
    synthetic = CheckpointRow(
        thread_id=row.thread_id,
        ns=row.ns,
        checkpoint_id=row.checkpoint_id,
        parent_id=row.parent_id,
        step=step if isinstance(step, int) else -1,
        source=str(meta.get("source", "update")),
        created_at=str(cp.get("ts", "")),
        record=b"",
        blobs={},
        metadata=b"",
    )
    loaded = LoadedCheckpoint(synthetic, record, values, decode_writes(row, writes, codec), dict(meta), original=cp)
    loaded.loads = codec.loads
    return loaded


def _sends_in_parent(row: ForeignRow) -> bool:
    """A checkpoint LangGraph stored before layout 4 keeps its pending Sends as its parent's
    writes to ``__pregel_tasks``, not in its own channel values."""
    cp = row.checkpoint
    if row.parent_id is None or not isinstance(cp, Mapping) or TASKS in (cp.get("channel_values") or {}):
        return False
    try:
        return int(cp.get("v", 1) or 1) < 4
    except (TypeError, ValueError):
        return False


def _with_sends(row: ForeignRow, parent_writes: builtins.list[WriteRow], codec: Codec) -> ForeignRow:
    """``row`` with its parent's ``__pregel_tasks`` writes as its pending Sends (as LangGraph
    reads such a checkpoint), versioned like its newest channel."""
    sends = [w for w in parent_writes if w.channel == TASKS]
    if not sends:
        return row
    cp = dict(row.checkpoint)
    values = dict(cp.get("channel_values") or {})
    versions = dict(cp.get("channel_versions") or {})
    values[TASKS] = [v for _, _, v, _ in decode_writes(row, sends, codec)]
    versions[TASKS] = max(versions.values()) if versions else 1
    cp["channel_values"], cp["channel_versions"] = values, versions
    return row._replace(checkpoint=cp)


def _foreign_channels(cp: Any) -> tuple[dict[str, Any], dict[str, int], dict[str, dict[str, int]]]:
    """A LangGraph-shaped checkpoint's channel values, and its versions as integers
    (without the ``__pregel_tasks`` channel's)."""
    values = dict(cp.get("channel_values") or {})
    versions = {k: _int_version(v) for k, v in (cp.get("channel_versions") or {}).items() if k != TASKS}
    seen = {
        n: {c: _int_version(v) for c, v in s.items() if c != TASKS} for n, s in (cp.get("versions_seen") or {}).items()
    }
    return values, versions, seen
