"""The checkpoint model: what one saved super-step holds, and LangGraph's shapes of it.

A checkpoint row holds the step's bookkeeping (channel versions, what each node has
seen, pending Sends) and the *blobs of the channels that step changed* - nothing else.
A channel's current value lives in the row of the step that last changed it
(``blob_writers``).

A list that only grows through an append-style reducer (``operator.add``,
``add_messages``) stores just its new items, as a delta on its previous blob. A full
snapshot is taken again once the deltas since the last one add up to more bytes than
that snapshot: snapshots then grow geometrically, so every stored item is written O(1)
times and a thread of N turns costs O(N) bytes. Reading a value takes its chain (from
the snapshot, ``root``, to the writer) in one range query.
"""

from __future__ import annotations

from typing import Any, NamedTuple, TypedDict

import msgspec

__all__ = (
    "DELTA",
    "FULL",
    "Blob",
    "Checkpoint",
    "CheckpointMetadata",
    "CheckpointRecord",
    "CheckpointRow",
    "CheckpointTuple",
    "PendingWrite",
    "WriteRow",
)

FULL, DELTA = 0, 1


class Blob(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One channel value as stored: ``FULL`` (``data`` is the value) or ``DELTA``
    (``data`` is the items appended to the value stored in checkpoint ``base``).
    ``depth`` counts deltas since the snapshot in checkpoint ``root``; ``size`` is the
    snapshot's byte size and ``growth`` the bytes of the deltas since."""

    kind: int
    data: bytes
    base: str | None = None
    depth: int = 0
    root: str | None = None
    size: int = 0
    growth: int = 0


class CheckpointRecord(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The bookkeeping of one checkpoint (values are in blobs)."""

    v: int = 1
    channel_versions: dict[str, int]
    blob_writers: dict[str, str]
    blob_roots: dict[str, str] = {}
    """For delta-stored channels: the checkpoint holding their last full snapshot."""
    versions_seen: dict[str, dict[str, int]]
    pending_sends: bytes = b""
    """Serialized ``[(node, arg), ...]`` of the Sends the next step runs."""
    updated_channels: list[str] = []


class CheckpointRow(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One stored checkpoint, as a saver keeps it."""

    thread_id: str
    ns: str
    checkpoint_id: str
    parent_id: str | None
    step: int
    source: str
    created_at: str
    record: bytes
    blobs: dict[str, Blob]
    metadata: bytes


class WriteRow(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One pending write of a task, saved as the task finished."""

    task_id: str
    idx: int
    channel: str
    value: bytes
    task_path: str = ""


PendingWrite = tuple[str, str, Any]
"""(task_id, channel, value)"""


class Checkpoint(TypedDict, total=False):
    """LangGraph's checkpoint dict (what ``get_tuple(...).checkpoint`` returns)."""

    v: int
    id: str
    ts: str
    channel_values: dict[str, Any]
    channel_versions: dict[str, Any]
    versions_seen: dict[str, dict[str, Any]]
    updated_channels: list[str] | None


class CheckpointMetadata(TypedDict, total=False):
    source: str
    step: int
    parents: dict[str, str]


class CheckpointTuple(NamedTuple):
    """A checkpoint with its config, metadata, parent and pending writes."""

    config: dict[str, Any]
    checkpoint: Checkpoint
    metadata: CheckpointMetadata
    parent_config: dict[str, Any] | None = None
    pending_writes: list[PendingWrite] | None = None
