"""A run's link to its checkpoint saver: restoring a thread, building checkpoint rows,
saving them per the durability mode, and the writer that does the I/O.

Rows are built (and values serialized) synchronously at the barrier, so a value that
can't be stored fails right there, naming its channel. Only the I/O is deferred:

- ``"sync"``: a step's checkpoint is stored before the next step starts;
- ``"async"`` (default): stored by the writer while the next step runs, in order, several
  steps per transaction when it falls behind;
- ``"exit"``: only the last checkpoint (and the pending writes of an interrupted or failed
  step) is stored, when the run stops.

A task's writes are saved as it finishes when its step has other tasks still running, so
a crash re-runs only what hadn't finished; a step's lone task is saved with the step's
checkpoint, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import operator
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio

from actorgraph._constants import ERROR, ERROR_SOURCE_NODE, INPUT, INTERRUPT, NO_WRITES, NULL_TASK_ID, PULL, RESUME, RETURN, TASKS
from actorgraph.actors._delta import COUNTERS_KEY, DeltaBook
from actorgraph.actors._ids import checkpoint_id as new_checkpoint_id
from actorgraph.actors._messages import SendMsg, TaskResult, TaskSpec
from actorgraph.actors._persist_exit import ExitRun
from actorgraph.channels._snapshot import _DeltaSnapshot
import msgspec

from actorgraph.persistence._base import LoadedCheckpoint, encode_record
from actorgraph.persistence._model import DELTA, FULL, Blob, CheckpointRecord, CheckpointRow, WriteRow, encode_metadata
from actorgraph.persistence._saver_api import get_checkpoint_metadata
from actorgraph.persistence._serde import dumps_each
from actorgraph.errors import SerializationError

if TYPE_CHECKING:
    from actorgraph.actors._run import RunState
    from actorgraph.actors._step import StepState

__all__ = ("CONTROL_CHANNELS", "DURABILITY_MODES", "RunPersistence", "decode_pending")

DURABILITY_MODES = ("sync", "async", "exit")
CONTROL_CHANNELS = frozenset({ERROR, INTERRUPT, RESUME})
_WRITE_SLOTS = {ERROR: -1, INTERRUPT: -3, RESUME: -4}
_record_decoder = msgspec.msgpack.Decoder(CheckpointRecord)
_OWN_METADATA = {"source": None, "step": None, "parents": None}


def _user_metadata(config: dict[str, Any]) -> dict[str, Any]:
    """What a run's config adds to its checkpoints' metadata, by LangGraph's rule: scalar
    values of ``config["metadata"]`` then ``config["configurable"]``, reserved and ``__``
    keys skipped (objects in ``configurable``, like clients, are never stored)."""
    try:
        meta = get_checkpoint_metadata(config, _OWN_METADATA)
    except AttributeError:
        return {}  # a config whose parts aren't dicts adds nothing
    return {k: v for k, v in meta.items() if k not in _OWN_METADATA}


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


class RunPersistence:
    __slots__ = (
        "run",
        "saver",
        "thread",
        "ns",
        "durability",
        "checkpoint_id",
        "parent_id",
        "blob_writers",
        "blob_roots",
        "blob_state",
        "dirty",
        "queue",
        "draining",
        "writing",
        "idle",
        "exit_row",
        "exit_writes",
        "exit_values",
        "write_bytes",
        "failure",
        "user_metadata",
        "delta_channels",
        "stored_base",
        "exit_unsaved",
        "delta",
        "delta_anchor",
        "exit_run",
        "base_parent",
        "shield",
    )

    def __init__(self, run: RunState, saver: Any, thread: str, durability: str) -> None:
        self.run = run
        self.saver = saver
        # a batch taken off the queue is stored even if the run is cancelled meanwhile
        # (flush_now only sees what is still queued); a store that can't suspend can't
        # be cut short, and skips the cancel scope's cost
        self.shield = not getattr(saver, "stores_without_suspending", False)
        self.thread = thread
        self.ns = run.checkpoint_ns
        self.durability = durability
        self.checkpoint_id: str | None = None
        self.parent_id: str | None = None
        self.blob_writers: dict[str, str] = {}
        self.blob_roots: dict[str, str] = {}
        # channel -> (the value object last stored, its newest blob): to store growth only
        self.blob_state: dict[str, tuple[Any, Blob]] = {}
        self.dirty: set[str] = set()
        self.queue: list[tuple[list[CheckpointRow], list[tuple[str, str, str, WriteRow]]]] = []
        # draining: a writer job is queued or running; writing: one is storing a batch now
        self.draining = False
        self.writing = False
        self.idle: anyio.Event | None = None
        self.exit_row: CheckpointRow | None = None
        self.exit_writes: list[tuple[str, str, str, WriteRow]] = []
        # "exit": channel -> its value when it last changed (its blob is _UNENCODED so far)
        self.exit_values: dict[str, Any] = {}
        # reducer list channel -> (a list written to it since the last checkpoint, its
        # bytes): the items a step appends are encoded once, for the write and the blob
        self.write_bytes: dict[str, tuple[list[Any], bytes]] = {}
        self.failure: BaseException | None = None
        self.user_metadata = _user_metadata(run.config)
        # reducer lists are stored as deltas, except for savers that can't rebuild them
        # (LangGraph-protocol ones) and in "exit" mode, whose one stored checkpoint must
        # hold every value it doesn't share with the thread's earlier checkpoints
        deltas = getattr(saver, "deltas", True) and durability != "exit"
        self.delta_channels = run.program.delta_channels if deltas else frozenset()
        # "exit": the checkpoint the run started from (the parent of the one it stores)
        # and the ids of the ones it made but won't store
        self.stored_base: str | None = None
        self.exit_unsaved: set[str] = set()
        # the parent of the checkpoint the run continues: LangGraph reports it as the
        # parent of the checkpoints a run under "exit" streams but doesn't save yet
        self.base_parent: str | None = None
        names = run.program.delta_value_channels
        self.delta: DeltaBook | None = DeltaBook(names) if names else None
        # the loaded checkpoint when it is the thread's latest (nothing built on it yet):
        # a new input's delta-channel writes are saved on it
        self.delta_anchor: str | None = None
        # "exit" with delta channels: their writes and snapshots are settled at the end
        self.exit_run: ExitRun | None = ExitRun(new_checkpoint_id()) if durability == "exit" and names else None

    # -- restoring -----------------------------------------------------------------------
    def adopt(self, loaded: LoadedCheckpoint, reapplies: bool = True) -> None:
        """Continue from ``loaded``: new checkpoints are its children and reuse its blobs.
        ``reapplies``: this run applies the checkpoint's pending writes (a resume)."""
        if self.delta is not None:
            self.delta.adopt(loaded.metadata, (w[1] for w in loaded.writes), reapplies)
        if self.exit_run is not None:
            self.exit_run.base = loaded.id
            self.exit_run.base_step = loaded.row.step
        self.checkpoint_id = self.stored_base = loaded.id
        self.base_parent = loaded.row.parent_id
        self.blob_writers = dict(loaded.record.blob_writers)
        self.blob_roots = dict(loaded.record.blob_roots)
        for chan, value in loaded.values.items():
            blob = loaded.chains.get(chan)
            if blob is not None:
                self.blob_state[chan] = (value, blob)
            elif chan not in self.blob_writers:
                # read from a checkpoint stored in LangGraph's shape: the next checkpoint
                # stores it (there is no blob of ours to point at)
                self.dirty.add(chan)

    # -- building rows -------------------------------------------------------------------
    def reserve_id(self) -> str:
        """The id of the next checkpoint (the next step's task ids derive from it)."""
        return new_checkpoint_id()

    def checkpoint(
        self,
        state: StepState,
        source: str,
        step: int,
        changed: set[str],
        cid: str,
        written: set[str] = frozenset(),  # type: ignore[assignment]
        bump: bool = True,
    ) -> CheckpointRow:
        """A new checkpoint ``cid`` of ``state``; becomes the current one. Blobs are
        stored for the channels changed since the last checkpoint, and a snapshot of the
        delta channels due one (``bump``: it counts as a super-step for them)."""
        self.dirty |= changed
        serde = self.saver.serde
        blobs: dict[str, Blob] = {}
        values = state.checkpoint_values(self.dirty)
        for chan in self.dirty:
            if chan not in values:
                self.blob_writers.pop(chan, None)
                self.blob_roots.pop(chan, None)
                self.blob_state.pop(chan, None)
                continue
            value = values[chan]
            if self.durability == "exit":
                # only the run's last checkpoint is stored: a value is encoded then, once,
                # not at every step that changes it (see _encode_exit_row)
                blobs[chan] = _UNENCODED
                self.exit_values[chan] = value
                self.blob_writers[chan] = cid
                continue
            try:
                blobs[chan] = self._blob(chan, value, serde, cid, state.channels.get(chan))
            except SerializationError as exc:
                raise SerializationError(f"Can't save {_what(chan, value, serde)} of thread '{self.thread}': {exc}") from exc
            self.blob_writers[chan] = cid
        self.dirty = set()
        self.write_bytes = {}
        book = self.delta
        if book is not None:
            self._delta_blobs(book, state, changed, cid, blobs, bump)
        untracked = state.program.untracked_channels
        sends = [
            (s.node, {k: v for k, v in s.arg.items() if k not in untracked})
            if untracked and type(s.arg) is dict
            else (s.node, s.arg)
            for s in state.pending_sends
        ]  # (a Send's copy of an untracked value isn't stored either, as in LangGraph)
        try:
            sends_bytes = serde.dumps(sends) if sends else b""
        except SerializationError as exc:
            raise SerializationError(f"Can't save the pending Sends of thread '{self.thread}': {exc}") from exc
        record = CheckpointRecord(
            channel_versions=dict(state.versions),
            blob_writers=dict(self.blob_writers),
            blob_roots=dict(self.blob_roots),
            versions_seen={k: dict(v) for k, v in state.seen.items()},
            pending_sends=sends_bytes,
            updated_channels=sorted(written),
        )
        metadata = {"source": source, "step": step, "parents": dict(self.run.parent_checkpoints)}
        if self.user_metadata:
            metadata.update(self.user_metadata)
        if book is not None and (counters := book.metadata()):
            metadata[COUNTERS_KEY] = counters
        row = CheckpointRow(
            thread_id=self.thread,
            ns=self.ns,
            checkpoint_id=cid,
            parent_id=self.checkpoint_id,
            step=step,
            source=source,
            created_at=_now(),
            record=encode_record(record),
            blobs=blobs,
            metadata=encode_metadata(metadata),
        )
        if self.exit_run is not None and book is not None:
            self.exit_run.note_row(cid, step, state, book.names, record, metadata)
        self.parent_id = self.checkpoint_id
        self.checkpoint_id = cid
        return row

    def _delta_blobs(
        self, book: DeltaBook, state: StepState, changed: set[str], cid: str, blobs: dict[str, Blob], bump: bool
    ) -> None:
        """A delta channel's value is stored only as a snapshot; a checkpoint where it
        changed without one holds none (a reader replays the writes saved on its
        ancestors since the snapshot)."""
        if not bump:
            # a copy of a checkpoint (update_state as __copy__): the same values, stored
            # as they were; what the branch it starts must snapshot is settled after it
            book.forced.clear()
        due = book.advance(state, changed, snapshot=bump and self.durability != "exit", bump=bump)
        serde = self.saver.serde
        # (one changed since its last snapshot has no value stored already: the loop over
        # the changed channels dropped it; an unchanged one still reads its snapshot)
        for chan in due:
            value = state.channels[chan].get()
            try:
                data = serde.dumps(_DeltaSnapshot(value))
            except SerializationError as exc:
                raise SerializationError(f"Can't save {_what(chan, value, serde)} of thread '{self.thread}': {exc}") from exc
            blobs[chan] = Blob(FULL, data, size=len(data))
            self.blob_writers[chan] = cid

    def _blob(self, chan: str, value: Any, serde: Any, cid: str, channel: Any = None) -> Blob:
        """A list that only grew (by an append-style reducer) is stored as its new items;
        a full snapshot is taken when those deltas outweigh the last snapshot."""
        prev = self.blob_state.get(chan)
        if prev is not None and chan in self.delta_channels and chan in self.blob_writers:
            old, last = prev
            if type(value) is list and type(old) is list and value is not old and len(value) >= len(old):
                n = len(old)
                # (the channel knows when it extended that very list; else compare, in C)
                grown_from = getattr(channel, "grown_from", None)
                if grown_from is old or all(map(operator.is_, old, value)):
                    data = self._dumps_list(chan, value, n, serde, grown_from is not None)
                    root = last.root if last.kind == DELTA and last.root else self.blob_writers[chan]
                    growth = last.growth + len(data)
                    if growth <= last.size:
                        blob = Blob(DELTA, data, self.blob_writers[chan], last.depth + 1, root, last.size, growth)
                        self.blob_state[chan] = (value, blob)
                        self.blob_roots[chan] = root
                        return blob
        if type(value) is list:
            data = self._dumps_list(chan, value, 0, serde, getattr(channel, "grown_from", None) is not None)
        else:
            data = serde.dumps(value)
        blob = Blob(FULL, data, size=len(data))
        self.blob_state[chan] = (value, blob)
        self.blob_roots.pop(chan, None)
        return blob

    def _dumps_list(self, chan: str, value: list[Any], start: int, serde: Any, extended: bool) -> bytes:
        """``serde.dumps(value[start:])``: the bytes of a write of the very same items
        when there was one (the items a step appended are usually its one write), if the
        channel only ``extended`` its list (a reducer such as add_messages may change the
        items it is given, e.g. give a message its id, after they were written)."""
        written = self.write_bytes.get(chan) if extended else None
        if written is not None:
            items, data = written
            if len(items) == len(value) - start and all(map(operator.is_, items, itertools.islice(value, start, None))):
                return data
        return serde.dumps(value[start:] if start else value)

    def task_rows(
        self, result: TaskResult, base: str | None = None, handled: bool = False
    ) -> list[tuple[str, str, str, WriteRow]]:
        """The pending-write rows of one task, against the current checkpoint; ``handled``:
        the task failed and its error handler runs instead (a resume runs the handler)."""
        cid = base or self.checkpoint_id
        assert cid is not None
        spec = result.task
        writes: list[tuple[str, Any]] = []
        if result.error is not None:
            writes.append((ERROR, repr(result.error)))
            if handled:
                writes.append((ERROR_SOURCE_NODE, spec.name))
        elif result.paused:
            writes.append((INTERRUPT, list(result.interrupts)))
        else:
            untracked = self.run.program.untracked_channels
            if untracked:
                # values of UntrackedValue channels are never stored, nor are they in a Send
                writes.extend(w for w in result.writes if w[0] not in untracked)
                writes.extend((TASKS, (s.node, _without(s.arg, untracked))) for s in result.sends)
            else:
                writes.extend(result.writes)
                writes.extend((TASKS, (s.node, s.arg)) for s in result.sends)
            if not writes:
                writes.append((NO_WRITES, None))  # finished, with nothing to write
        resume = self.run.answers.get(spec.id)
        if resume:
            writes.append((RESUME, list(resume)))
        return self.write_rows(spec, writes, cid)

    def input_rows(self, writes: list[tuple[str, Any]], step: int) -> list[tuple[str, str, str, WriteRow]]:
        """Where a run's input to delta channels is kept: as pending writes of the
        checkpoint it starts from, when that is the thread's latest; else (a new thread,
        or a branch off an older checkpoint) the input checkpoint snapshots them."""
        book = self.delta
        assert book is not None
        ws = [(c, v) for c, v in writes if c in book.names]
        if not ws:
            return []
        exit_run = self.exit_run
        if exit_run is not None:
            # stored with the run's last checkpoint, with the other steps' delta writes
            spec = TaskSpec(id=NULL_TASK_ID, name="", path=(INPUT,), order=(0, INPUT), step=step, input=None, triggers=())
            for w in self.write_rows(spec, ws, self.checkpoint_id or ""):
                exit_run.input_write(step, w)
            return []
        anchor = self.delta_anchor
        if anchor is None:
            book.forced.update(c for c, _ in ws)
            return []
        tid = str(uuid.uuid5(uuid.UUID(anchor), INPUT))
        spec = TaskSpec(id=tid, name=INPUT, path=(INPUT,), order=(0, INPUT), step=-1, input=None, triggers=())
        return self.write_rows(spec, ws, anchor)

    def resume_rows(self, result: TaskResult) -> list[tuple[str, str, str, WriteRow]]:
        """The answers a paused task call got so far (its interrupt is saved by its caller)."""
        resume = self.run.answers.get(result.task.id)
        if not resume or self.checkpoint_id is None:
            return []
        return self.write_rows(result.task, [(RESUME, list(resume))], self.checkpoint_id)

    def write_rows(self, spec: TaskSpec, writes: list[tuple[str, Any]], cid: str) -> list[tuple[str, str, str, WriteRow]]:
        serde = self.saver.serde
        # LangGraph's task path string: stored writes sort by it in the order the step
        # applied them (pull tasks by node, then Sends by index)
        path = "" if spec.id == NULL_TASK_ID else task_path_str(spec.path)  # no task: first
        rows = []
        regular = 0
        encoded = dumps_each(serde, [v for _, v in writes]) if len(writes) > 1 else None
        for n, (chan, value) in enumerate(writes):
            special = _WRITE_SLOTS.get(chan)
            if special is None:
                i = regular
                regular += 1
            else:
                # control writes have slots of their own: a later success of the task adds
                # its writes next to its earlier interrupt or error instead of replacing it
                i = special
            try:
                data = serde.dumps(value) if encoded is None else encoded[n]
            except SerializationError as exc:
                what = (
                    f"the result of task '{spec.name}'"
                    if chan == RETURN
                    else f"the write of node '{spec.name}' to channel '{chan}'"
                )
                raise SerializationError(f"Can't save {what}: {exc}") from exc
            if type(value) is list and chan in self.delta_channels:
                self.write_bytes[chan] = (value, data)
            rows.append((self.thread, self.ns, cid, WriteRow(spec.id, i, chan, data, path)))
        return rows

    # -- saving ----------------------------------------------------------------------
    def save(self, rows: Sequence[CheckpointRow], writes: Sequence[tuple[str, str, str, WriteRow]]) -> None:
        """Queue rows for the writer (``exit`` keeps only the newest checkpoint)."""
        if self.durability == "exit":
            for row in rows:
                self.exit_row = self._exit_row(row)
            if self.exit_run is not None and self.delta is not None:
                # writes of earlier checkpoints are history that isn't kept, but their delta
                # channels' writes are, for a reader to replay
                current = rows[-1].checkpoint_id if rows else self.checkpoint_id
                self.exit_writes = self.exit_run.keep(current, [*self.exit_writes, *writes], self.delta.names)
                return
            if rows:
                # writes of earlier checkpoints are history that isn't kept
                self.exit_writes = [w for w in self.exit_writes if w[2] == rows[-1].checkpoint_id]
            if writes:
                # (nor are those of a checkpoint this run has moved past)
                current = self.exit_row.checkpoint_id if self.exit_row is not None else None
                self.exit_writes.extend(w for w in writes if current is None or w[2] == current)
            return
        if not rows and not writes:
            return
        self.queue.append((list(rows), list(writes)))
        if not self.draining:
            self.draining = True
            self.run.dispatcher.submit((self._drain, None, None, False))

    def _exit_row(self, row: CheckpointRow) -> CheckpointRow:
        """``row`` as "exit" mode stores it: its parent is the last stored checkpoint,
        and it carries the values the unsaved checkpoints before it held."""
        previous = self.exit_row
        self.exit_unsaved.add(row.checkpoint_id)
        record = _record_decoder.decode(row.record)
        carried = {}
        if previous is not None:
            carried = {
                c: b for c, b in previous.blobs.items()
                if c not in row.blobs and record.blob_writers.get(c) in self.exit_unsaved
            }  # fmt: skip
        if carried:
            writers = dict(record.blob_writers)
            for chan in carried:
                writers[chan] = row.checkpoint_id
            record = msgspec.structs.replace(record, blob_writers=writers)
        return msgspec.structs.replace(
            row,
            parent_id=self.stored_base,
            blobs={**carried, **row.blobs},
            record=encode_record(record) if carried else row.record,
        )

    async def _drain(self, _: Any) -> None:
        if self.writing:
            return  # a flush is storing the queue itself
        self.writing = True
        try:
            while self.queue:
                batch, self.queue = self.queue, []
                rows = [r for rs, _ in batch for r in rs]
                writes = [w for _, ws in batch for w in ws]
                try:
                    if self.shield:
                        with anyio.CancelScope(shield=True):
                            await self.saver.asave(rows, writes)
                    else:
                        await self.saver.asave(rows, writes)
                except Exception as exc:
                    if self.failure is None:
                        self.failure = exc
                        exc.add_note(f"While saving checkpoints of thread '{self.thread}'")
                        self.run.stop_with_error(exc)
                    self.queue = []
                    return
        finally:
            self.draining = self.writing = False
            idle = self.idle
            if idle is not None:
                self.idle = None
                idle.set()

    def _encode_exit_row(self, row: CheckpointRow) -> CheckpointRow:
        """``row`` with the values of its _UNENCODED blobs encoded (a carried blob's
        channel didn't change after it was written: its value then is its value now)."""
        if not any(b is _UNENCODED for b in row.blobs.values()):
            return row
        serde = self.saver.serde
        blobs = dict(row.blobs)
        for chan, blob in row.blobs.items():
            if blob is not _UNENCODED:
                continue
            value = self.exit_values[chan]
            try:
                data = serde.dumps(value)
            except SerializationError as exc:
                raise SerializationError(f"Can't save {_what(chan, value, serde)} of thread '{self.thread}': {exc}") from exc
            blobs[chan] = Blob(FULL, data, size=len(data))
        self.exit_values = {}
        return msgspec.structs.replace(row, blobs=blobs)

    def drop_exit(self) -> None:
        """Under "exit", forget the checkpoint and writes the end of the run would store."""
        if self.durability == "exit":
            self.exit_row = None
            self.exit_writes = []
            self.exit_values = {}

    async def _writer_idle(self) -> None:
        """Wait while the writer stores a batch."""
        while self.writing:
            if self.idle is None:
                self.idle = anyio.Event()
            await self.idle.wait()

    async def flush(self) -> None:
        """Wait until everything queued is stored (runs the I/O here if nobody is)."""
        if self.durability == "exit":
            if self.exit_row is not None:
                self.exit_row = self._encode_exit_row(self.exit_row)
            rows = [self.exit_row] if self.exit_row is not None else []
            writes, self.exit_writes = self.exit_writes, []
            if self.exit_row is not None and self.exit_run is not None:
                rows, anchored = self.exit_run.finish(self, self.exit_row)
                writes = [*anchored, *writes]
            self.exit_row = None
            if rows or writes:
                await self.saver.asave(rows, writes)
            return
        await self._writer_idle()
        if self.queue:
            # store it here rather than wait for the queued writer job to get a turn
            self.draining = True
            await self._drain(None)
        if self.failure is not None:
            raise self.failure

    async def flush_now(self) -> None:
        """Once the batch the writer is storing is stored, store what's still queued from
        here, not through the writer (the run is being cancelled and its workers may be
        gone)."""
        if self.durability == "exit":
            await self.flush()
            return
        await self._writer_idle()  # a batch being stored finishes first
        batch, self.queue = self.queue, []
        rows = [r for rs, _ in batch for r in rs]
        writes = [w for _, ws in batch for w in ws]
        if rows or writes:
            await self.saver.asave(rows, writes)


_UNENCODED = Blob(FULL, b"")
"""The blob of a value an "exit" run encodes when it stores its last checkpoint."""


@functools.lru_cache(maxsize=4096)
def task_path_str(path: Any) -> str:
    """``("__pregel_pull", "a")`` -> ``"~__pregel_pull, a"``; numbers zero-padded."""
    if isinstance(path, (tuple, list)):
        return "~" + ", ".join(task_path_str(p) for p in path)
    if isinstance(path, int) and not isinstance(path, bool):
        return f"{path:010d}"
    return str(path)


_PULL_PREFIX = f"~{PULL}, "


def node_of_path(path: str) -> str:
    """The node a stored write's task path names (``""`` for a Send's: it names none)."""
    if path.startswith(_PULL_PREFIX):
        return path[len(_PULL_PREFIX) :]
    if path.startswith("~"):
        return ""
    return path  # stored before paths were LangGraph's: the node's name


def _without(arg: Any, keys: frozenset[str]) -> Any:
    """A Send's argument without the values of untracked channels (top-level keys)."""
    if type(arg) is dict and not keys.isdisjoint(arg):
        return {k: v for k, v in arg.items() if k not in keys}
    return arg


def _what(chan: str, value: Any, serde: Any) -> str:
    """Names what failed to serialize: the channel, or for a dict (the run's input) the key."""
    if isinstance(value, dict):
        for key, item in value.items():
            try:
                serde.dumps(item)
            except SerializationError:
                where = "the run's input" if chan.startswith("__") else f"channel '{chan}'"
                return f"key '{key}' of {where}"
    return f"channel '{chan}'"


def decode_pending(loaded: LoadedCheckpoint) -> dict[str, dict[str, Any]]:
    """A loaded checkpoint's pending writes by task id: ``{"writes": [...], "sends": [...],
    "interrupts": [...], "resume": [...], "error": str | None, "node": name, "done": bool,
    "handled": bool}`` (``done``: the task finished and these are all its writes;
    ``handled``: it failed and its error handler took over)."""
    out: dict[str, dict[str, Any]] = {}
    for task_id, chan, value, path in loaded.writes:
        entry = out.setdefault(
            task_id,
            {
                "writes": [],
                "sends": [],
                "interrupts": [],
                "resume": [],
                "error": None,
                "node": node_of_path(path),
                "done": False,
                "handled": False,
            },
        )
        if chan == NO_WRITES:
            entry["done"] = True
        elif chan == ERROR:
            entry["error"] = value
        elif chan == ERROR_SOURCE_NODE:
            entry["handled"] = True
        elif chan == INTERRUPT:
            entry["interrupts"] = list(value)
        elif chan == RESUME:
            entry["resume"] = list(value)
        elif chan == TASKS:
            node, arg = value
            entry["sends"].append(SendMsg(node=node, arg=arg))
            entry["done"] = True
        else:
            entry["writes"].append((chan, value))
            entry["done"] = True
    return out
