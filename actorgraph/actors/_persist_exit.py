"""``durability="exit"`` with delta channels: what the one stored checkpoint needs so a
reader can rebuild them.

An exit run stores only its last checkpoint, on the checkpoint it started from. A delta
channel that doesn't snapshot in it keeps the writes the run made to it, stored on that
parent (or, on a new thread, on an empty stub checkpoint) under task ids that sort in
step order, so a reader replays them; the snapshots are decided once, at the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from actorgraph._constants import NULL_TASK_ID
from actorgraph.actors._delta import COUNTERS_KEY, delta_channels_to_snapshot, exit_delta_late_task_id, exit_delta_task_id
from actorgraph.actors._ids import now_iso
from actorgraph.channels._base import MISSING
from actorgraph.channels._snapshot import _DeltaSnapshot
from actorgraph.persistence._base import encode_record
from actorgraph.persistence._model import FULL, Blob, CheckpointRecord, CheckpointRow, WriteRow, encode_metadata

if TYPE_CHECKING:
    from actorgraph.actors._checkpoint import CheckpointBuilder

__all__ = ("ExitRun",)

StoredWrite = tuple[str, str, str, WriteRow]

_record_decoder = msgspec.msgpack.Decoder(CheckpointRecord)


class ExitRun:
    """The delta-channel side of an ``exit`` run's one stored checkpoint."""

    __slots__ = ("base", "base_latest", "base_step", "stub_id", "steps", "delta_values", "delta_writes", "metadata")

    def __init__(self, stub_id: str) -> None:
        self.base: str | None = None
        """The checkpoint the run started from (stored before it)."""
        self.base_latest = True
        self.base_step = -1
        self.stub_id = stub_id
        """Reserved at the start, so the stub sorts before the run's checkpoint."""
        self.steps: dict[str, int] = {}
        """checkpoint id -> its step, for the checkpoints this run built."""
        self.delta_values: dict[str, Any] = {}
        """Each delta channel's value at the newest checkpoint."""
        self.delta_writes: list[tuple[int, StoredWrite]] = []
        """(super-step, write) of the delta-channel writes of finished steps."""
        self.metadata: dict[str, Any] = {}
        """The newest checkpoint's metadata, before encoding."""

    def note_row(
        self, cid: str, step: int, state: Any, names: frozenset[str], record: CheckpointRecord, metadata: dict[str, Any]
    ) -> None:
        self.steps[cid] = step
        for chan in names:
            ch = state.channels[chan]
            self.delta_values[chan] = ch.get() if ch.is_available() else MISSING
        self.metadata = metadata

    def keep(self, current: str | None, writes: list[StoredWrite], names: frozenset[str]) -> list[StoredWrite]:
        """The writes still pending at ``current``; the delta-channel writes of finished
        steps are set aside to be stored with the parent."""
        kept = []
        for w in writes:
            if w[2] == current:
                kept.append(w)
            elif w[3].channel in names:
                self.delta_writes.append((self.steps.get(w[2], self.base_step) + 1, w))
        return kept

    def input_write(self, step: int, write: StoredWrite) -> None:
        self.delta_writes.append((step, write))

    def finish(self, builder: CheckpointBuilder, row: CheckpointRow) -> tuple[list[CheckpointRow], list[StoredWrite]]:
        """The rows to store for the run's last checkpoint ``row`` (a stub first, if it
        needs one) and the delta writes anchored on its parent."""
        book = builder.delta
        assert book is not None
        record = _record_decoder.decode(row.record)
        if self.base is not None and not self.base_latest:
            # the checkpoint the run started from may have children that read its writes
            book.forced.update(w[3].channel for _, w in self.delta_writes)
        specs = builder.program.channels
        channels = {k: specs[k].from_checkpoint(_DeltaSnapshot(v)) for k, v in self.delta_values.items() if v is not MISSING}
        due = delta_channels_to_snapshot(channels, book.counters, record.channel_versions)
        due.update(c for c in book.forced if c in record.channel_versions and c in channels)
        serde = builder.serde
        blobs = dict(row.blobs)
        writers = dict(record.blob_writers)
        counters = dict(book.counters)
        for chan in due:
            data = serde.dumps(_DeltaSnapshot(self.delta_values[chan]))
            blobs[chan] = Blob(FULL, data, size=len(data))
            writers[chan] = row.checkpoint_id
            counters[chan] = (0, 0)
        metadata = dict(self.metadata)
        live = {k: v for k, v in counters.items() if v != (0, 0)}
        if live:
            metadata[COUNTERS_KEY] = live
        else:
            metadata.pop(COUNTERS_KEY, None)
        out_rows: list[CheckpointRow] = []
        out_writes: list[StoredWrite] = []
        parent = row.parent_id
        pending = [(s, w) for s, w in self.delta_writes if w[3].channel not in due]
        if pending:
            if parent is None:
                parent = self.stub_id
                out_rows.append(self._stub(row))
            out_writes.extend(self._anchored(pending, parent))
        out_rows.append(
            msgspec.structs.replace(
                row,
                parent_id=parent,
                record=encode_record(msgspec.structs.replace(record, blob_writers=writers)),
                blobs=blobs,
                metadata=encode_metadata(metadata),
            )
        )
        return out_rows, out_writes

    def _anchored(self, pending: list[tuple[int, StoredWrite]], anchor: str) -> list[StoredWrite]:
        first = self.base_step + 1
        out: list[StoredWrite] = []
        for step, (thread, ns, _cid, w) in pending:
            if w.task_id == NULL_TASK_ID:
                tid, path = exit_delta_task_id(step, w.task_id), ""
            elif step == first:
                tid, path = exit_delta_task_id(step, w.task_id), w.task_path
            else:
                tid, path = exit_delta_late_task_id(step, w.task_id), f"~~{step:010d}{w.task_path}"
            out.append((thread, ns, anchor, WriteRow(tid, w.idx, w.channel, w.value, path)))
        return out

    def _stub(self, row: CheckpointRow) -> CheckpointRow:
        record = CheckpointRecord(channel_versions={}, blob_writers={}, versions_seen={})
        return CheckpointRow(
            thread_id=row.thread_id,
            ns=row.ns,
            checkpoint_id=self.stub_id,
            parent_id=None,
            step=-2,
            source="",
            created_at=now_iso(),
            record=encode_record(record),
            blobs={},
            metadata=encode_metadata({"step": -2}),
        )
