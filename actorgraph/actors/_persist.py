"""A run's writer: stores the checkpoint rows the run builds (``_checkpoint``) in its
saver, per the durability mode, off the run's critical path.

- ``"sync"``: a step's checkpoint is stored before the next step starts;
- ``"async"`` (default): stored by the writer while the next steps run, in order, several
  steps per transaction when it falls behind; the run waits for it when ``MAX_BACKLOG``
  checkpoints are queued, so a crash loses a bounded number of steps;
- ``"exit"``: only the last checkpoint (and the pending writes of an interrupted or failed
  step) is stored, when the run stops.

A task's writes are saved as it finishes when its step has other tasks still running, so
a crash re-runs only what hadn't finished; a step's lone task is saved with the step's
checkpoint, in the same transaction. Every store of rows is a compare-and-set on the
thread's head (DESIGN §4).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import threading

import anyio
import msgspec

from actorgraph.actors._checkpoint import CONTROL_CHANNELS, CheckpointBuilder, StoredWrite, decode_pending
from actorgraph.errors import CheckpointConflictError
from actorgraph.persistence._base import encode_record
from actorgraph.persistence._model import CheckpointRecord, CheckpointRow
from actorgraph.persistence._threads import in_thread

if TYPE_CHECKING:
    from actorgraph.actors._run import RunState

__all__ = ("CONTROL_CHANNELS", "DURABILITY_MODES", "MAX_BACKLOG", "RunPersistence", "decode_pending")

DURABILITY_MODES = ("sync", "async", "exit")
MAX_BACKLOG = 64
"""Under ``"async"``, how many checkpoints may wait for the writer before the run waits
for it: a crash loses at most these and the batch being stored (2 x 64 steps)."""
_record_decoder = msgspec.msgpack.Decoder(CheckpointRecord)


def _newest(rows: Sequence[CheckpointRow]) -> str:
    """The newest checkpoint id of a batch (ids sort by time)."""
    return rows[0].checkpoint_id if len(rows) == 1 else max(r.checkpoint_id for r in rows)


class RunPersistence:
    """The writer of one run (one thread namespace): a queue of rows, the job that drains
    it into the saver, and ``flush``."""

    __slots__ = (
        "run",
        "saver",
        "builder",
        "durability",
        "queue",
        "backlog",
        "draining",
        "writing",
        "idle",
        "exit_row",
        "exit_writes",
        "exit_unsaved",
        "failure",
        "shield",
        "inline",
        "head",
        "save_in_thread",
        "thread_writing",
        "_qlock",
    )

    def __init__(self, run: RunState, saver: Any, thread: str, durability: str) -> None:
        self.run = run
        self.saver = saver
        # a subgraph run with its parent's config adds the same metadata as the parent
        caller = run.cfg.parent
        inherited = None
        if caller is not None and caller.run.persistence is not None and caller.run.cfg.config is run.cfg.config:
            inherited = caller.run.persistence.builder.user_metadata
        self.builder: CheckpointBuilder = CheckpointBuilder(
            run.cfg.program,
            saver.serde,
            thread,
            run.cfg.checkpoint_ns,
            config=run.cfg.config,
            parents=run.resume.parent_checkpoints,
            answers=run.resume.answers,
            deltas=getattr(saver, "deltas", True),
            exit_mode=durability == "exit",
            user_metadata=inherited,
        )
        self.durability = durability
        # a batch taken off the queue is stored even if the run is cancelled meanwhile
        # (flush_now only sees what is still queued); a store that can't suspend can't
        # be cut short, and skips the cancel scope's cost
        self.shield = not getattr(saver, "stores_without_suspending", False)
        self.queue: list[tuple[list[CheckpointRow], list[StoredWrite]]] = []
        self.backlog = 0
        """Checkpoints queued for the writer (bounded by ``MAX_BACKLOG``)."""
        # draining: a writer job is queued or running; writing: one is storing a batch now
        self.draining = False
        self.writing = False
        self.idle: anyio.Event | None = None
        self.exit_row: CheckpointRow | None = None
        self.exit_writes: list[StoredWrite] = []
        # "exit": the ids of the checkpoints the run made but won't store
        self.exit_unsaved: set[str] = set()
        self.failure: BaseException | None = None
        # the thread namespace's newest checkpoint as this run last read or wrote it (None:
        # it had none): each save of rows is a compare-and-set on it (DESIGN §4, one head)
        self.head: str | None = None
        # a saver whose sync ``save`` needs no event loop (SQLite): the writer's worker
        # thread stores batch after batch, taking what is queued meanwhile itself, so
        # rows reach the saver even while the loop's thread runs a node
        self.save_in_thread = getattr(saver, "save_in_thread", None)
        # a saver that stores in memory (it can't suspend and does no I/O): each save is
        # stored at once, with no writer job (saving keeps pace with the run by itself)
        self.inline = not self.shield and self.save_in_thread is None
        self.thread_writing = False
        self._qlock = threading.RLock()

    @property
    def thread(self) -> str:
        return self.builder.thread

    # -- saving ----------------------------------------------------------------------
    def save(self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite]) -> None:
        """Queue rows for the writer (``exit`` keeps only the newest checkpoint)."""
        if self.durability == "exit":
            for row in rows:
                self.exit_row = self._exit_row(row)
            if self.builder.exit_run is not None and self.builder.delta is not None:
                # writes of earlier checkpoints are history that isn't kept, but their delta
                # channels' writes are, for a reader to replay
                current = rows[-1].checkpoint_id if rows else self.builder.checkpoint_id
                self.exit_writes = self.builder.exit_run.keep(current, [*self.exit_writes, *writes], self.builder.delta.names)
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
        if isinstance(self.failure, CheckpointConflictError):
            return  # another run owns the thread now: nothing more of this one is stored
        if self.inline and not self.queue and not self.writing:
            # a saver that stores in this process without suspending (in memory): stored
            # now, as a writer job would store it, without the job (nor copies: the saver
            # is done with the lists when this returns)
            self._store_now(rows, writes)
            return
        with self._qlock:  # (the writer's thread may be taking the queue)
            self.queue.append((list(rows), list(writes)))
            self.backlog += len(rows)
        if not self.draining:  # (while the writer's thread runs, it takes these too)
            self.draining = True
            self.run.dispatcher.submit(self._drain)

    def _store_now(self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite]) -> None:
        try:
            if rows:
                self.saver.save(rows, writes, expect_head=self.head)
                self.head = _newest(rows)
            else:
                self.saver.save(rows, writes)
        except Exception as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        """A store failed: the run stops with the error (the first one), nothing more of it
        is stored."""
        if self.failure is None:
            self.failure = exc
            exc.add_note(f"While saving checkpoints of thread '{self.builder.thread}'")
            self.run.stop_with_error(exc)
        self.queue = []

    def lagging(self) -> bool:
        """Whether the writer has fallen ``MAX_BACKLOG`` checkpoints behind (the run then
        waits for it before its next step)."""
        return self.backlog >= MAX_BACKLOG

    def handing_over(self) -> bool:
        """Whether rows are queued for a writer job that hasn't started yet (once it
        starts, our savers have the rows: their own thread stores them)."""
        return bool(self.queue) and not self.writing

    def caught_up(self) -> bool:
        """Whether every row made so far is in the saver's hands: nothing is queued, or
        the writer's thread takes what is (it needs no turn of the loop)."""
        return not self.queue or self.thread_writing

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
            parent_id=self.builder.stored_base,
            blobs={**carried, **row.blobs},
            record=encode_record(record) if carried else row.record,
        )

    async def _store(self, rows: list[CheckpointRow], writes: list[StoredWrite]) -> None:
        """Store a batch; its rows only if the thread's head is still the one this run
        knows (``CheckpointConflictError`` if another run moved it)."""
        if not rows:
            await self.saver.asave(rows, writes)
            return
        await self.saver.asave(rows, writes, expect_head=self.head)
        self.head = _newest(rows)

    def _take_queue(self) -> tuple[list[CheckpointRow], list[StoredWrite]]:
        """Everything queued, as one batch (rows, writes); the queue is emptied."""
        with self._qlock:
            batch, self.queue = self.queue, []
            self.backlog = 0
        return [r for rs, _ in batch for r in rs], [w for _, ws in batch for w in ws]

    def _write_queued(self) -> None:
        """In the writer's worker thread: store what is queued, batch after batch, until
        the queue is empty."""
        assert self.save_in_thread is not None
        while True:
            with self._qlock:
                self.thread_writing = bool(self.queue)
                if not self.queue:
                    return
                rows, writes = self._take_queue()
            try:
                if rows:
                    self.save_in_thread(rows, writes, expect_head=self.head)
                    self.head = _newest(rows)
                else:
                    self.save_in_thread(rows, writes)
            except BaseException:
                with self._qlock:
                    self.thread_writing = False
                raise

    async def _drain(self, _: Any) -> None:
        if self.writing:
            return  # a flush is storing the queue itself
        self.writing = True
        try:
            while self.queue:
                try:
                    if self.save_in_thread is not None:
                        with anyio.CancelScope(shield=True):
                            await in_thread(self._write_queued)
                        continue
                    rows, writes = self._take_queue()
                    if self.shield:
                        with anyio.CancelScope(shield=True):
                            await self._store(rows, writes)
                    else:
                        await self._store(rows, writes)
                except Exception as exc:
                    self._failed(exc)
                    return
        finally:
            self.draining = self.writing = False
            idle = self.idle
            if idle is not None:
                self.idle = None
                idle.set()

    def drop_exit(self) -> None:
        """Under "exit", forget the checkpoint and writes the end of the run would store."""
        if self.durability == "exit":
            self.exit_row = None
            self.exit_writes = []
            self.builder.exit_values = {}

    async def _writer_idle(self) -> None:
        """Wait while the writer stores a batch."""
        while self.writing:
            if self.idle is None:
                self.idle = anyio.Event()
            await self.idle.wait()

    def settled(self) -> bool:
        """Whether everything the run saved is stored and stored well: ``flush`` would
        have nothing to wait for, store or raise."""
        return (
            self.durability != "exit" and not self.queue and not self.draining and not self.writing and self.failure is None
        )

    async def flush(self) -> None:
        """Wait until everything queued is stored (runs the I/O here if nobody is)."""
        if self.durability == "exit":
            if self.exit_row is not None:
                self.exit_row = self.builder.encode_exit_row(self.exit_row)
            rows = [self.exit_row] if self.exit_row is not None else []
            writes, self.exit_writes = self.exit_writes, []
            if self.exit_row is not None and self.builder.exit_run is not None:
                rows, anchored = self.builder.exit_run.finish(self.builder, self.exit_row)
                writes = [*anchored, *writes]
            self.exit_row = None
            if rows or writes:
                await self._store(rows, writes)
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
        rows, writes = self._take_queue()
        if rows or writes:
            await self._store(rows, writes)
