"""Building a thread's checkpoint rows: the blobs of the channels a step changed,
delta-channel snapshots, the record and metadata, and each task's pending-write rows.

Pure: no I/O and no run. A run's writer (``_persist.RunPersistence``) stores what this
builds; ``update_state`` builds its checkpoints with it too. Values are serialized here,
synchronously, so a value that can't be stored fails at once, naming its channel.
"""

from __future__ import annotations

import functools
import itertools
import operator
import uuid
from typing import TYPE_CHECKING, Any

import msgspec

from actorgraph._constants import ERROR, ERROR_SOURCE_NODE, INPUT, INTERRUPT, NO_WRITES, NULL_TASK_ID, PULL, RESUME, RETURN, TASKS
from actorgraph.actors._delta import COUNTERS_KEY, DeltaBook
from actorgraph.actors._ids import checkpoint_id as new_checkpoint_id
from actorgraph.actors._ids import now_iso
from actorgraph.actors._messages import SendMsg, TaskResult, TaskSpec
from actorgraph.actors._persist_exit import ExitRun
from actorgraph.channels._snapshot import _DeltaSnapshot
from actorgraph.errors import SerializationError
from actorgraph.persistence._base import LoadedCheckpoint, encode_record
from actorgraph.persistence._model import DELTA, FULL, Blob, CheckpointRecord, CheckpointRow, WriteRow, encode_metadata
from actorgraph.persistence._saver_api import get_checkpoint_metadata
from actorgraph.persistence._serde import dumps_each

if TYPE_CHECKING:
    from actorgraph.actors._program import Program
    from actorgraph.actors._step import StepState

__all__ = ("CONTROL_CHANNELS", "CheckpointBuilder", "StoredWrite", "decode_pending", "node_of_path", "task_path_str")

CONTROL_CHANNELS = frozenset({ERROR, INTERRUPT, RESUME})
_WRITE_SLOTS = {ERROR: -1, INTERRUPT: -3, RESUME: -4}
_OWN_METADATA = {"source": None, "step": None, "parents": None}

StoredWrite = tuple[str, str, str, WriteRow]
"""A pending-write row as saved: (thread, namespace, checkpoint id, the write)."""


def _user_metadata(config: dict[str, Any]) -> dict[str, Any]:
    """What a run's config adds to its checkpoints' metadata, by LangGraph's rule: scalar
    values of ``config["metadata"]`` then ``config["configurable"]``, reserved and ``__``
    keys skipped (objects in ``configurable``, like clients, are never stored)."""
    try:
        meta = get_checkpoint_metadata(config, _OWN_METADATA)
    except AttributeError:
        return {}  # a config whose parts aren't dicts adds nothing
    return {k: v for k, v in meta.items() if k not in _OWN_METADATA}


class CheckpointBuilder:
    """The checkpoint rows of one thread namespace, built as its steps close."""

    __slots__ = (
        "program",
        "serde",
        "thread",
        "ns",
        "parents",
        "answers",
        "exit_mode",
        "user_metadata",
        "checkpoint_id",
        "parent_id",
        "blob_writers",
        "blob_roots",
        "blob_state",
        "dirty",
        "delta_channels",
        "delta",
        "delta_anchor",
        "exit_run",
        "stored_base",
        "base_parent",
        "exit_values",
        "write_bytes",
    )

    def __init__(
        self,
        program: Program,
        serde: Any,
        thread: str,
        ns: str,
        *,
        config: dict[str, Any],
        parents: dict[str, str],
        answers: dict[str, list[Any]],
        deltas: bool = True,
        exit_mode: bool = False,
        user_metadata: dict[str, Any] | None = None,
    ) -> None:
        """``parents``: the enclosing graphs' checkpoints by namespace (the metadata's
        ``parents``); ``answers``: resume values by task id, saved with each task's writes
        (a live dict: the run adds to it); ``deltas``: reducer lists may be stored as
        deltas (not for savers that can't rebuild them); ``exit_mode``: only the run's
        last checkpoint will be stored (``durability="exit"``); ``user_metadata``: what
        ``config`` adds to the metadata, when the caller has it already."""
        self.program = program
        self.serde = serde
        self.thread = thread
        self.ns = ns
        self.parents = parents
        self.answers = answers
        self.exit_mode = exit_mode
        self.user_metadata = _user_metadata(config) if user_metadata is None else user_metadata
        self.checkpoint_id: str | None = None
        self.parent_id: str | None = None
        self.blob_writers: dict[str, str] = {}
        self.blob_roots: dict[str, str] = {}
        # channel -> (the value object last stored, its newest blob): to store growth only
        self.blob_state: dict[str, tuple[Any, Blob]] = {}
        self.dirty: set[str] = set()
        # reducer lists are stored as deltas, except for savers that can't rebuild them
        # (LangGraph-protocol ones) and in "exit" mode, whose one stored checkpoint must
        # hold every value it doesn't share with the thread's earlier checkpoints
        self.delta_channels = program.delta_channels if deltas and not exit_mode else frozenset()
        names = program.delta_value_channels
        self.delta: DeltaBook | None = DeltaBook(names) if names else None
        # the loaded checkpoint when it is the thread's latest (nothing built on it yet):
        # a new input's delta-channel writes are saved on it
        self.delta_anchor: str | None = None
        # "exit" with delta channels: their writes and snapshots are settled at the end
        self.exit_run: ExitRun | None = ExitRun(new_checkpoint_id()) if exit_mode and names else None
        # "exit": the checkpoint the run started from (the parent of the one it stores)
        self.stored_base: str | None = None
        # the parent of the checkpoint the run continues: LangGraph reports it as the
        # parent of the checkpoints a run under "exit" streams but doesn't save yet
        self.base_parent: str | None = None
        # "exit": channel -> its value when it last changed (its blob is _UNENCODED so far)
        self.exit_values: dict[str, Any] = {}
        # reducer list channel -> (a list written to it since the last checkpoint, its
        # bytes): the items a step appends are encoded once, for the write and the blob
        self.write_bytes: dict[str, tuple[list[Any], bytes]] = {}

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
        serde = self.serde
        blobs: dict[str, Blob] = {}
        values = state.checkpoint_values(self.dirty)
        for chan in self.dirty:
            if chan not in values:
                self.blob_writers.pop(chan, None)
                self.blob_roots.pop(chan, None)
                self.blob_state.pop(chan, None)
                continue
            value = values[chan]
            if self.exit_mode:
                # only the run's last checkpoint is stored: a value is encoded then, once,
                # not at every step that changes it (see encode_exit_row)
                blobs[chan] = _UNENCODED
                self.exit_values[chan] = value
                self.blob_writers[chan] = cid
                continue
            try:
                blobs[chan] = self._blob(chan, value, serde, cid, state.channels.get(chan))
            except SerializationError as exc:
                raise SerializationError(
                    f"Can't save {_what(chan, value, serde)} of thread '{self.thread}': {exc}",
                    key=chan, value=exc.value, thread_id=self.thread,
                ) from exc
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
            raise SerializationError(
                f"Can't save the pending Sends of thread '{self.thread}': {exc}", value=exc.value, thread_id=self.thread
            ) from exc
        # (encoded below, at once: it holds the live dicts, not copies of them)
        record = CheckpointRecord(
            channel_versions=state.versions,
            blob_writers=self.blob_writers,
            blob_roots=self.blob_roots,
            versions_seen=state.seen,
            pending_sends=sends_bytes,
            updated_channels=sorted(written),
        )
        metadata = {"source": source, "step": step, "parents": dict(self.parents)}
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
            created_at=now_iso(),
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
        due = book.advance(state, changed, snapshot=bump and not self.exit_mode, bump=bump)
        # (one changed since its last snapshot has no value stored already: the loop over
        # the changed channels dropped it; an unchanged one still reads its snapshot)
        for chan in due:
            value = state.channels[chan].get()
            data = self._dumps(chan, value, _DeltaSnapshot(value))
            blobs[chan] = Blob(FULL, data, size=len(data))
            self.blob_writers[chan] = cid

    def _dumps(self, chan: str, value: Any, stored: Any) -> bytes:
        """``stored`` (``value``, or a wrapper of it) encoded; a value that can't be is a
        ``SerializationError`` naming the channel (or the input's key) and the thread."""
        serde = self.serde
        try:
            return serde.dumps(stored)  # type: ignore[no-any-return]
        except SerializationError as exc:
            raise SerializationError(
                f"Can't save {_what(chan, value, serde)} of thread '{self.thread}': {exc}",
                key=chan, value=exc.value, thread_id=self.thread,
            ) from exc

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

    def encode_exit_row(self, row: CheckpointRow) -> CheckpointRow:
        """``row`` with the values of its _UNENCODED blobs encoded (a carried blob's
        channel didn't change after it was written: its value then is its value now)."""
        if not any(b is _UNENCODED for b in row.blobs.values()):
            return row
        blobs = dict(row.blobs)
        for chan, blob in row.blobs.items():
            if blob is not _UNENCODED:
                continue
            value = self.exit_values[chan]
            data = self._dumps(chan, value, value)
            blobs[chan] = Blob(FULL, data, size=len(data))
        self.exit_values = {}
        return msgspec.structs.replace(row, blobs=blobs)

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
            untracked = self.program.untracked_channels
            if untracked:
                # values of UntrackedValue channels are never stored, nor are they in a Send
                writes.extend(w for w in result.writes if w[0] not in untracked)
                writes.extend((TASKS, (s.node, _without(s.arg, untracked))) for s in result.sends)
            else:
                writes.extend(result.writes)
                writes.extend((TASKS, (s.node, s.arg)) for s in result.sends)
            if not writes:
                writes.append((NO_WRITES, None))  # finished, with nothing to write
        resume = self.answers.get(spec.id)
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
        resume = self.answers.get(result.task.id)
        if not resume or self.checkpoint_id is None:
            return []
        return self.write_rows(result.task, [(RESUME, list(resume))], self.checkpoint_id)

    def write_rows(self, spec: TaskSpec, writes: list[tuple[str, Any]], cid: str) -> list[tuple[str, str, str, WriteRow]]:
        serde = self.serde
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
                raise SerializationError(
                    f"Can't save {what}: {exc}", key=chan, value=exc.value, thread_id=self.thread, node=spec.name
                ) from exc
            if type(value) is list and chan in self.delta_channels:
                self.write_bytes[chan] = (value, data)
            rows.append((self.thread, self.ns, cid, WriteRow(spec.id, i, chan, data, path)))
        return rows


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
