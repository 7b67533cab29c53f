"""LangGraph's checkpoint-saver interface: ``BaseCheckpointSaver``, the checkpoint shapes
(``Checkpoint``, ``CheckpointMetadata``, ``CheckpointTuple``, ``DeltaChannelHistory``) and
the helpers LangGraph exports with them.

``BaseCheckpointSaver`` is what a saver written for LangGraph subclasses: it implements
``get_tuple``, ``list``, ``put``, ``put_writes`` (and their ``a*`` twins), and the runtime
speaks exactly that protocol to it. Every method raises ``NotImplementedError`` here (so
a subclass's capabilities are the methods it overrides); actorgraph's own savers override
them all on top of their row storage (``_base``).
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import AsyncIterator, Collection, Iterator, Mapping, Sequence
from typing import Any, Generic, Literal, NamedTuple, TypedDict, TypeVar

from typing_extensions import NotRequired

from actorgraph.errors import EmptyChannelError
from actorgraph.persistence._serde import JsonPlusSerializer
from actorgraph.persistence._serde_protocols import (
    ERROR,
    INTERRUPT,
    RESUME,
    SCHEDULED,
    ChannelProtocol,
    EncryptedSerializer,
    SerializerProtocol,
    maybe_add_typed_methods,
)
from actorgraph.persistence._uuid6 import uuid6

__all__ = (
    "Checkpointer",
    "EXCLUDED_METADATA_KEYS",
    "LATEST_VERSION",
    "WRITES_IDX_MAP",
    "ensure_valid_checkpointer",
    "BaseCheckpointSaver",
    "ChannelVersions",
    "Checkpoint",
    "CheckpointMetadata",
    "CheckpointTuple",
    "DeltaChannelHistory",
    "EmptyChannelError",
    "PendingWrite",
    "V",
    "_with_msgpack_allowlist",
    "copy_checkpoint",
    "create_checkpoint",
    "empty_checkpoint",
    "get_checkpoint_id",
    "get_checkpoint_metadata",
    "get_serializable_checkpoint_metadata",
    "writes_sort_key",
)

logger = logging.getLogger("langgraph.checkpoint.base")

V = TypeVar("V", int, float, str)
PendingWrite = tuple[str, str, Any]
"""(task_id, channel, value)"""
ChannelVersions = dict[str, str | int | float]


class CheckpointMetadata(TypedDict, total=False):
    """What a checkpoint records about how it was made."""

    source: Literal["input", "loop", "update", "fork"]
    """``input`` (a run's input), ``loop`` (a step), ``update`` (``update_state``) or
    ``fork`` (a copy of another checkpoint)."""
    step: int
    """-1 for the first input, 0 for the first step, then one per step."""
    parents: dict[str, str]
    """Enclosing graphs' checkpoint ids, by namespace."""
    run_id: str
    counters_since_delta_snapshot: dict[str, tuple[int, int]]


class Checkpoint(TypedDict):
    """A checkpoint as LangGraph shapes it."""

    v: int
    id: str
    ts: str
    channel_values: dict[str, Any]
    channel_versions: ChannelVersions
    versions_seen: dict[str, ChannelVersions]
    updated_channels: list[str] | None


class CheckpointTuple(NamedTuple):
    """A checkpoint with its config, metadata, parent and pending writes."""

    config: Any
    checkpoint: Checkpoint
    metadata: CheckpointMetadata
    parent_config: Any = None
    pending_writes: list[PendingWrite] | None = None


class DeltaChannelHistory(TypedDict):
    """One channel's history below a checkpoint: the ``writes`` stored at its ancestors
    (oldest first, the target's own pending writes excluded) back to the nearest ancestor
    that stores a value for the channel, which is the ``seed`` (absent when none does)."""

    writes: list[PendingWrite]
    seed: NotRequired[Any]


def writes_sort_key(task_path: str, task_id: str = "", idx: int = 0) -> tuple[str, str, int]:
    """The order a step's writes are applied in: by task path, then task id, then index."""
    return (task_path, task_id, idx)


WRITES_IDX_MAP = {ERROR: -1, SCHEDULED: -2, INTERRUPT: -3, RESUME: -4}
"""Write indexes of the special channels (regular writes use their position)."""

EXCLUDED_METADATA_KEYS = {
    "thread_id",
    "checkpoint_id",
    "checkpoint_ns",
    "checkpoint_map",
    "langgraph_step",
    "langgraph_node",
    "langgraph_triggers",
    "langgraph_path",
    "langgraph_checkpoint_ns",
}
"""Config keys never copied into checkpoint metadata."""

LATEST_VERSION = 2


def get_checkpoint_id(config: Any) -> str | None:
    return (config.get("configurable") or {}).get("checkpoint_id")


def get_checkpoint_metadata(config: Any, metadata: Any) -> Any:
    """``metadata`` plus the scalar values of ``config["metadata"]`` and
    ``config["configurable"]`` (metadata's keys win; reserved and ``__`` keys are
    skipped; NUL characters are removed from strings)."""
    out = {k: v.replace("\u0000", "") if isinstance(v, str) else v for k, v in metadata.items()}
    for source in (config.get("metadata"), config.get("configurable")):
        if not source:
            continue
        for key, value in source.items():
            if key in out or key in EXCLUDED_METADATA_KEYS or key.startswith("__"):
                continue
            if isinstance(value, str):
                out[key] = value.replace("\u0000", "")
            elif isinstance(value, (int, bool, float)):
                out[key] = value
    return out


def get_serializable_checkpoint_metadata(config: Any, metadata: Any) -> Any:
    out = get_checkpoint_metadata(config, metadata)
    out.pop("writes", None)
    return out


def copy_checkpoint(checkpoint: Checkpoint) -> Checkpoint:
    return Checkpoint(  # type: ignore[typeddict-unknown-key]
        v=checkpoint["v"],
        ts=checkpoint["ts"],
        id=checkpoint["id"],
        channel_values=checkpoint["channel_values"].copy(),
        channel_versions=checkpoint["channel_versions"].copy(),
        versions_seen={k: v.copy() for k, v in checkpoint["versions_seen"].items()},
        pending_sends=checkpoint.get("pending_sends", []).copy(),  # type: ignore[typeddict-item]
        updated_channels=checkpoint.get("updated_channels", None),
    )


def empty_checkpoint() -> Checkpoint:
    return Checkpoint(  # type: ignore[typeddict-unknown-key]
        v=LATEST_VERSION,
        id=str(uuid6(clock_seq=-2)),
        ts=dt.datetime.now(dt.timezone.utc).isoformat(),
        channel_values={},
        channel_versions={},
        versions_seen={},
        pending_sends=[],
        updated_channels=None,
    )


def create_checkpoint(
    checkpoint: Checkpoint, channels: Mapping[str, ChannelProtocol] | None, step: int, *, id: str | None = None
) -> Checkpoint:
    """A new checkpoint with ``channels``' current values (or ``checkpoint``'s)."""
    if channels is None:
        values = checkpoint["channel_values"]
    else:
        values = {}
        for name, channel in channels.items():
            if name not in checkpoint["channel_versions"]:
                continue
            try:
                values[name] = channel.checkpoint()
            except EmptyChannelError:
                pass
    return Checkpoint(  # type: ignore[typeddict-unknown-key]
        v=LATEST_VERSION,
        ts=dt.datetime.now(dt.timezone.utc).isoformat(),
        id=id or str(uuid6(clock_seq=step)),
        channel_values=values,
        channel_versions=checkpoint["channel_versions"],
        versions_seen=checkpoint["versions_seen"],
        pending_sends=checkpoint.get("pending_sends", []),  # type: ignore[typeddict-item]
        updated_channels=None,
    )


class BaseCheckpointSaver(Generic[V]):
    """Stores checkpoints of threads: subclass it and implement ``get_tuple``, ``list``,
    ``put`` and ``put_writes`` (and, for async use, ``aget_tuple``, ``alist``, ``aput``,
    ``aput_writes``); ``delete_thread``, ``delete_for_runs``, ``copy_thread`` and
    ``prune`` are optional. ``serde`` serializes what the subclass stores."""

    serde: SerializerProtocol = JsonPlusSerializer()

    def __init__(self, *, serde: SerializerProtocol | None = None) -> None:
        self.serde = maybe_add_typed_methods(serde or self.serde)

    @property
    def config_specs(self) -> list[Any]:
        return []

    # -- sync ----------------------------------------------------------------------------
    def get(self, config: Any) -> Checkpoint | None:
        value = self.get_tuple(config)
        return value.checkpoint if value else None

    def get_tuple(self, config: Any) -> CheckpointTuple | None:
        raise NotImplementedError

    def list(
        self,
        config: Any,
        *,
        filter: dict[str, Any] | None = None,
        before: Any = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        raise NotImplementedError

    def put(self, config: Any, checkpoint: Checkpoint, metadata: CheckpointMetadata, new_versions: ChannelVersions) -> Any:
        raise NotImplementedError

    def put_writes(self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = "") -> None:
        raise NotImplementedError

    def delete_thread(self, thread_id: str) -> None:
        raise NotImplementedError

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        raise NotImplementedError

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        raise NotImplementedError

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        raise NotImplementedError

    # -- async ---------------------------------------------------------------------------
    async def aget(self, config: Any) -> Checkpoint | None:
        value = await self.aget_tuple(config)
        return value.checkpoint if value else None

    async def aget_tuple(self, config: Any) -> CheckpointTuple | None:
        raise NotImplementedError

    async def alist(
        self,
        config: Any,
        *,
        filter: dict[str, Any] | None = None,
        before: Any = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        raise NotImplementedError
        yield  # pragma: no cover

    async def aput(
        self, config: Any, checkpoint: Checkpoint, metadata: CheckpointMetadata, new_versions: ChannelVersions
    ) -> Any:
        raise NotImplementedError

    async def aput_writes(
        self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        raise NotImplementedError

    async def adelete_thread(self, thread_id: str) -> None:
        raise NotImplementedError

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        raise NotImplementedError

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        raise NotImplementedError

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        raise NotImplementedError

    # -- delta channels --------------------------------------------------------------------
    def get_delta_channel_history(self, *, config: Any, channels: Sequence[str]) -> Mapping[str, DeltaChannelHistory]:
        """Each channel's ``DeltaChannelHistory`` below the checkpoint ``config`` names,
        walking ``get_tuple`` and ``parent_config`` (each ancestor read once)."""
        if not channels:
            return {}
        walk = _HistoryWalk(channels)
        target = self.get_tuple(config)
        cursor = target.parent_config if target else None
        while cursor is not None and walk.remaining:
            tup = self.get_tuple(cursor)
            if tup is None:
                break
            walk.visit(tup)
            cursor = tup.parent_config
        return walk.result()

    async def aget_delta_channel_history(
        self, *, config: Any, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        if not channels:
            return {}
        walk = _HistoryWalk(channels)
        target = await self.aget_tuple(config)
        cursor = target.parent_config if target else None
        while cursor is not None and walk.remaining:
            tup = await self.aget_tuple(cursor)
            if tup is None:
                break
            walk.visit(tup)
            cursor = tup.parent_config
        return walk.result()

    # -- versions and allow-lists ----------------------------------------------------------
    def get_next_version(self, current: Any, channel: Any = None) -> Any:
        """The version after ``current`` (integers counting up from 1)."""
        if isinstance(current, str):
            raise NotImplementedError
        return 1 if current is None else current + 1

    def with_allowlist(self, extra_allowlist: Collection[tuple[str, ...]]) -> BaseCheckpointSaver[V]:
        """A shallow copy whose serializer also rebuilds ``extra_allowlist``'s classes."""
        serde = _with_msgpack_allowlist(self.serde, extra_allowlist)
        if serde is self.serde:
            return self
        clone = copy.copy(self)
        clone.serde = maybe_add_typed_methods(serde)
        return clone


class _HistoryWalk:
    """Collects ``DeltaChannelHistory`` from ancestors visited newest first."""

    def __init__(self, channels: Sequence[str]) -> None:
        self.channels = list(channels)
        self.remaining = set(channels)
        self.collected: dict[str, list[PendingWrite]] = {c: [] for c in channels}
        self.seeds: dict[str, Any] = {}

    def visit(self, tup: CheckpointTuple) -> None:
        self.visit_parts(tup.pending_writes or (), tup.checkpoint["channel_values"])

    def visit_parts(self, writes: Sequence[PendingWrite], values: Mapping[str, Any]) -> None:
        for write in reversed(writes):
            if write[1] in self.remaining:
                self.collected[write[1]].append(write)
        for ch in list(self.remaining):
            if ch in values:
                self.seeds[ch] = values[ch]
                self.remaining.discard(ch)

    def result(self) -> dict[str, DeltaChannelHistory]:
        out: dict[str, DeltaChannelHistory] = {}
        for ch in self.channels:
            entry: DeltaChannelHistory = {"writes": list(reversed(self.collected[ch]))}
            if ch in self.seeds:
                entry["seed"] = self.seeds[ch]
            out[ch] = entry
        return out


def _with_msgpack_allowlist(serde: Any, extra_allowlist: Collection[tuple[str, ...]]) -> Any:
    if isinstance(serde, JsonPlusSerializer):
        return serde.with_msgpack_allowlist(extra_allowlist)
    if isinstance(serde, EncryptedSerializer):
        inner = serde.serde
        if isinstance(inner, JsonPlusSerializer):
            updated = inner.with_msgpack_allowlist(extra_allowlist)
            return serde if updated is inner else EncryptedSerializer(serde.cipher, updated)
    logger.warning(
        "Serializer %s does not support msgpack allowlist. Strict msgpack deserialization will not be enforced.",
        type(serde).__name__,
    )
    return serde




Checkpointer = None | bool | BaseCheckpointSaver
"""What a graph's ``checkpointer`` may be: a saver; ``True`` (a subgraph keeps its own
history across the parent's runs); ``False`` (no checkpoints, even under a parent that
has a saver); ``None`` (a subgraph uses its parent's saver)."""


def ensure_valid_checkpointer(checkpointer: Checkpointer) -> Checkpointer:
    """``checkpointer`` itself, or ``TypeError`` naming its type when it is none of a
    saver, ``True``, ``False`` or ``None``. A saver is a ``BaseCheckpointSaver`` or any
    object with its reading methods (``get_tuple`` or ``aget_tuple``/``aload``)."""
    if checkpointer is None or isinstance(checkpointer, (bool, BaseCheckpointSaver)):
        return checkpointer
    if any(hasattr(checkpointer, name) for name in ("get_tuple", "aget_tuple", "aload")):
        return checkpointer
    raise TypeError(
        "Invalid checkpointer provided. Expected an instance of `BaseCheckpointSaver`, "
        f"`True`, `False`, or `None`. Received {type(checkpointer).__name__}. Pass a "
        "proper saver (e.g., InMemorySaver, SqliteSaver)."
    )
