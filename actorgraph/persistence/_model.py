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

Metadata is JSON (what SQLite's ``json_extract`` filters on). A checkpoint stored through
LangGraph's ``put`` keeps LangGraph's layout and reads back as a ``ForeignRow``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import msgspec

__all__ = (
    "DELTA",
    "FULL",
    "Blob",
    "CheckpointRecord",
    "CheckpointRow",
    "ForeignRow",
    "NATIVE",
    "WriteRow",
    "decode_metadata",
    "encode_metadata",
    "pack_row",
    "unpack_row",
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


NATIVE = "actorgraph"
"""The type tag savers store a checkpoint the runtime saved under (one packed row; a
checkpoint stored through LangGraph's ``put`` is tagged with its serializer's type)."""

_pack = msgspec.msgpack.Encoder().encode
_unpack = msgspec.msgpack.Decoder(tuple[int, str, str, bytes, dict[str, Blob]]).decode


def pack_row(row: CheckpointRow) -> bytes:
    """The parts of ``row`` a saver stores as one value (its keys and metadata aside)."""
    return _pack((row.step, row.source, row.created_at, row.record, row.blobs))


def unpack_row(thread: str, ns: str, cid: str, parent: str | None, packed: bytes, metadata: bytes) -> CheckpointRow:
    """The row ``pack_row`` packed, with the keys and metadata stored beside it."""
    step, source, created, record, blobs = _unpack(packed)
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


class WriteRow(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One pending write of a task, saved as the task finished."""

    task_id: str
    idx: int
    channel: str
    value: bytes
    task_path: str = ""


class ForeignRow(NamedTuple):
    """A checkpoint stored in LangGraph's layout (by ``put``, or by LangGraph itself), read
    back: the checkpoint dict with its channel values, and its metadata."""

    thread_id: str
    ns: str
    checkpoint_id: str
    parent_id: str | None
    checkpoint: Any
    metadata: dict[str, Any]


_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.Decoder().decode


def encode_metadata(metadata: dict[str, Any]) -> bytes:
    try:
        return _json_encode(metadata)
    except (TypeError, OverflowError):
        # metadata handed to put() may hold values JSON can't: stored as their text
        return _json_encode({k: v if _jsonable(v) else repr(v) for k, v in metadata.items()})


def _jsonable(value: Any) -> bool:
    try:
        _json_encode(value)
    except (TypeError, OverflowError):
        return False
    return True


def decode_metadata(data: bytes) -> dict[str, Any]:
    if not data:
        return {}
    out = _json_decode(data)
    if not isinstance(out, dict):
        raise ValueError(f"metadata is a {type(out).__name__}, not an object")
    return out
