"""How DeltaChannels are checkpointed: when each one snapshots, the counters that decide
it, and the ids the writes of an ``exit``-durability run are stored under.

A delta channel's value is stored (as a ``_DeltaSnapshot``) only every so often; in
between, a checkpoint records just that the channel changed, and a reader rebuilds the
value from the nearest snapshot plus the writes saved since. Each checkpoint's metadata
carries ``counters_since_delta_snapshot``: per channel, (updates, super-steps) since its
last snapshot. ``DELTA_MAX_SUPERSTEPS_SINCE_SNAPSHOT`` is read when the predicate runs,
so it can be changed at run time.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from actorgraph._constants import NULL_TASK_ID
from actorgraph.channels import BaseChannel, BinaryOperatorAggregate, DeltaChannel
from actorgraph.channels._base import MISSING
from actorgraph.channels._snapshot import _DeltaSnapshot

__all__ = (
    "COUNTERS_KEY",
    "achannels_from_checkpoint",
    "channels_from_checkpoint",
    "copy_checkpoint",
    "empty_checkpoint",
    "DELTA_MAX_SUPERSTEPS_SINCE_SNAPSHOT",
    "DeltaBook",
    "delta_channels_to_snapshot",
    "delta_history",
    "ensure_message_ids",
    "exit_delta_late_task_id",
    "exit_delta_task_id",
    "rebuild_delta_channels",
)

DELTA_MAX_SUPERSTEPS_SINCE_SNAPSHOT = 5000
"""A delta channel snapshots at least this often (in super-steps), written or not, so a
read never replays an unbounded history."""


def delta_channels_to_snapshot(
    channels: Mapping[str, BaseChannel[Any, Any, Any]],
    counters_since_delta_snapshot: Mapping[str, tuple[int, int]],
    channel_versions: Mapping[str, Any],
) -> set[str]:
    """The delta channels due a snapshot: ``snapshot_frequency`` updates since the last
    one, or ``DELTA_MAX_SUPERSTEPS_SINCE_SNAPSHOT`` super-steps. A channel with no version
    was never written on this branch: it has nothing to store."""
    bound = DELTA_MAX_SUPERSTEPS_SINCE_SNAPSHOT
    due: set[str] = set()
    for name, ch in channels.items():
        if not isinstance(ch, DeltaChannel) or not ch.is_available() or name not in channel_versions:
            continue
        updates, steps = counters_since_delta_snapshot.get(name, (0, 0))
        if updates >= ch.snapshot_frequency or steps >= bound:
            due.add(name)
    return due


def exit_delta_task_id(step: int, task_id: str) -> str:
    """The task id an ``exit`` run stores a super-step's delta-channel writes under: a
    valid UUID whose first group is the step, so ordering by id keeps step order. Never
    the null task id (a reader takes writes under it as the checkpoint's own)."""
    parts = str(uuid.UUID(task_id)).split("-")
    out = f"{step:08d}-{parts[1]}-{parts[2]}-{parts[3]}-{parts[4]}"
    if out == NULL_TASK_ID:
        return f"{step:08d}-0000-0000-0000-000000000001"
    return out


def exit_delta_late_task_id(step: int, task_id: str) -> str:
    """The id for writes of a super-step after the anchor's own: sorts after every real
    task id, in step order."""
    parts = str(uuid.UUID(task_id)).split("-")
    return f"ffffffff-{step >> 16:04x}-{step & 0xFFFF:04x}-{parts[3]}-{parts[4]}"


COUNTERS_KEY = "counters_since_delta_snapshot"


class DeltaBook:
    """A run's bookkeeping for its program's delta channels: (updates, super-steps) since
    each one's last snapshot, and the ones that must snapshot at the next checkpoint
    whatever the counters say (an ``Overwrite`` arrived; or the run branches off a
    checkpoint whose pending writes belong to another branch)."""

    __slots__ = ("names", "counters", "forced")

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names
        self.counters: dict[str, tuple[int, int]] = {}
        self.forced: set[str] = set()

    def adopt(self, metadata: Mapping[str, Any], pending_channels: Any, reapplies: bool) -> None:
        """Continue from a saved checkpoint: its counters; unless this run reapplies its
        pending writes, the delta channels they touch snapshot at the first checkpoint
        (a new branch must never replay another branch's writes)."""
        saved = metadata.get(COUNTERS_KEY) or {}
        self.counters = {k: (int(v[0]), int(v[1])) for k, v in saved.items() if k in self.names}
        if not reapplies:
            self.forced.update(c for c in pending_channels if c in self.names)

    def advance(self, state: Any, changed: Any, *, snapshot: bool, bump: bool = True) -> set[str]:
        """Count a new checkpoint (a super-step, ``changed`` its changed channels) and
        return the channels it stores a snapshot of (none unless ``snapshot``)."""
        counters: dict[str, tuple[int, int]] = {}
        overwritten = state.overwritten
        if overwritten:
            self.forced.update(overwritten)
            overwritten.clear()
        for name in self.names:
            u, s = self.counters.get(name, (0, 0))
            counters[name] = (u + (name in changed), s + 1) if bump else (u, s)
        due: set[str] = set()
        if snapshot:
            channels = state.channels
            versions = state.versions
            due = delta_channels_to_snapshot({k: channels[k] for k in self.names}, counters, versions)
            due.update(c for c in self.forced if c in versions and channels[c].is_available())
            for c in due:
                counters[c] = (0, 0)
            self.forced.difference_update(due)
        self.counters = counters
        return due

    def metadata(self) -> dict[str, tuple[int, int]]:
        """The counters a checkpoint's metadata carries (channels at (0, 0) left out)."""
        return {k: v for k, v in self.counters.items() if v != (0, 0)}


async def rebuild_delta_channels(program: Any, state: Any, loaded: Any, saver: Any) -> None:
    """Give ``state`` (restored from ``loaded``) the values of its delta channels that
    ``loaded`` stores none of: the nearest snapshot on its ancestors, plus the writes
    saved since, replayed. Never-written channels (no version) are empty as they are."""
    values = loaded.values
    names: list[str] = []
    for name in program.replay_channels:
        spec = program.channels[name]
        stored = values.get(name, MISSING)
        if stored is MISSING:
            if name in state.versions:
                names.append(name)
        elif isinstance(spec, DeltaChannel) and _is_packed_snapshot(stored):
            _set(state, name, spec.from_checkpoint(_DeltaSnapshot(stored[0])))
    if not names:
        return
    histories = await delta_history(saver, loaded, names)
    for name in names:
        spec = program.channels[name]
        history = histories.get(name) or {}
        seed = history.get("seed", MISSING)
        if _is_packed_snapshot(seed):
            seed = _DeltaSnapshot(seed[0])
        ch = spec.from_checkpoint(seed)
        writes = history.get("writes") or []
        if isinstance(ch, DeltaChannel):
            ch.replay_writes(writes)
        else:
            # a key stored as a delta channel before it became a plain reducer: one
            # update per write (they span several steps)
            for w in writes:
                ch.update([w[2]])
        _set(state, name, ch)


def _defined_at(cls: type, name: str) -> int:
    for i, klass in enumerate(cls.__mro__):
        if name in vars(klass):
            return i
    return len(cls.__mro__)


def _is_packed_snapshot(value: Any) -> bool:
    # a snapshot read back by a serializer that doesn't know _DeltaSnapshot: a 1-tuple
    return type(value) is tuple and len(value) == 1


def _set(state: Any, name: str, ch: Any) -> None:
    state.channels[name] = ch
    if name in state.program.state_key_set:
        if ch.is_available():
            state.state_values[name] = ch.get()
        else:
            state.state_values.pop(name, None)


async def delta_history(saver: Any, loaded: Any, names: list[str]) -> Mapping[str, Any]:
    """Per channel, ``{"seed": value, "writes": [(task_id, channel, value), ...]}``: the
    nearest value stored on ``loaded``'s ancestors and the writes saved on them since,
    oldest first (``seed`` absent when no ancestor stores one)."""
    row = loaded.row
    # the checkpointer itself (the runtime may talk to it through an adapter): it may
    # override either twin, and the more specific one is called
    target = getattr(saver, "saver", saver)
    config = {"configurable": {"thread_id": row.thread_id, "checkpoint_ns": row.ns, "checkpoint_id": row.checkpoint_id}}
    sync = getattr(target, "get_delta_channel_history", None)
    asyn = getattr(target, "aget_delta_channel_history", None)
    if sync is not None and (asyn is None or _defined_at(type(target), "get_delta_channel_history") < _defined_at(type(target), "aget_delta_channel_history")):
        import anyio.to_thread

        return await anyio.to_thread.run_sync(lambda: sync(config=config, channels=names))  # type: ignore[no-any-return]
    if asyn is not None:
        return await asyn(config=config, channels=names)  # type: ignore[no-any-return]
    remaining = set(names)
    collected: dict[str, list[tuple[str, str, Any]]] = {n: [] for n in names}
    seeds: dict[str, Any] = {}
    parent = row.parent_id
    while parent is not None and remaining:
        ancestor = await saver.aload(row.thread_id, row.ns, parent)
        if ancestor is None:
            break
        for w in reversed(ancestor.writes):
            if w[1] in remaining:
                collected[w[1]].append((w[0], w[1], w[2]))
        for n in list(remaining):
            if n in ancestor.values:
                seeds[n] = ancestor.values[n]
                remaining.discard(n)
        parent = ancestor.row.parent_id
    out: dict[str, Any] = {}
    for n in names:
        entry: dict[str, Any] = {"writes": list(reversed(collected[n]))}
        if n in seeds:
            entry["seed"] = seeds[n]
        out[n] = entry
    return out


# -- message ids ----------------------------------------------------------------------------
def ensure_message_ids(channels: Mapping[str, Any], writes: list[tuple[str, Any]]) -> None:
    """Give the messages written to delta channels ids, before the writes are saved or
    applied: a delta channel replays its saved writes on every read, so a message saved
    without an id would come back without one (or with a new one each time).

    In a channel whose reducer reads messages (``_messages_delta_reducer``) every
    message-like value (a message, a message dict, a string, a ``(role, content)``
    tuple; alone, in a list or in an ``Overwrite``) becomes a message with an id; other
    delta channels only get ids on message objects, and on message dicts (one in a list
    becomes a message). A changed write is replaced in ``writes``; containers the node
    returned are never changed in place."""
    for i, (chan, value) in enumerate(writes):
        spec = channels.get(chan)
        if not isinstance(spec, DeltaChannel):
            continue
        if getattr(spec.reducer, "reads_messages", False):
            new = _all_messages_with_ids(value)
        else:
            new = _message_objects_with_ids(value)
        if new is not value:
            writes[i] = (chan, new)


def _is_message(value: Any) -> bool:
    from actorgraph._message_types import BaseMessage as OwnMessage

    if isinstance(value, OwnMessage):
        return True
    import sys

    lc = sys.modules.get("langchain_core.messages")
    return lc is not None and isinstance(value, lc.BaseMessage)


_ROLES = frozenset({"user", "human", "assistant", "ai", "tool", "system", "function"})
_TYPES = frozenset({"human", "ai", "tool", "system", "function", "remove"})


def _is_message_dict(value: dict[str, Any]) -> bool:
    return value.get("role") in _ROLES or value.get("type") in _TYPES


def _stamp(value: Any) -> None:
    if _is_message(value) and not value.id:
        value.id = str(uuid.uuid4())


def _as_message(value: Any, strict: bool = False) -> Any:
    """``value`` as a message with an id; left as it is when it isn't message-like
    (unless ``strict``: then the conversion's error is raised)."""
    if _is_message(value):
        _stamp(value)
        return value
    from actorgraph._message_types import coerce_messages, langchain_installed

    try:
        if strict and langchain_installed():
            # LangChain's own conversion, so a bad message dict fails as it does there
            from langchain_core.messages import convert_to_messages

            (message,) = convert_to_messages([value])
        else:
            (message,) = coerce_messages([value])
    except Exception:
        if strict:
            raise
        return value
    if not message.id:
        message.id = str(uuid.uuid4())
    return message


def _mapped(items: Any, fn: Any) -> Any:
    out = [fn(x) for x in items]
    if all(a is b for a, b in zip(out, items)):
        return items
    return out if isinstance(items, list) else tuple(out)


def _all_messages_with_ids(value: Any) -> Any:
    from actorgraph._types import Overwrite
    from actorgraph.channels._aggregate import overwrite_value

    is_over, inner = overwrite_value(value)
    if not is_over:
        if isinstance(value, list):
            return _mapped(value, lambda x: _as_message(x, strict=isinstance(x, dict) and _is_message_dict(x)))
        return _as_message(value)
    if isinstance(inner, (list, tuple)):
        items = _mapped(inner, _as_message)
        if items is not inner:
            return Overwrite(items)
    return value


def _message_objects_with_ids(value: Any) -> Any:
    from actorgraph.channels._aggregate import overwrite_value

    is_over, inner = overwrite_value(value)
    if is_over:
        if isinstance(inner, (list, tuple)):
            for x in inner:
                _stamp(x)
        return value
    if isinstance(value, list):

        def item(x: Any) -> Any:
            if isinstance(x, dict) and _is_message_dict(x):
                return _as_message(x, strict=True)
            _stamp(x)
            return x

        return _mapped(value, item)
    if isinstance(value, dict) and _is_message_dict(value) and not value.get("id"):
        return {**value, "id": str(uuid.uuid4())}
    _stamp(value)
    return value


# -- LangGraph-shaped checkpoints --------------------------------------------------------------
def empty_checkpoint() -> dict[str, Any]:
    """A checkpoint with nothing in it, in LangGraph's layout."""
    from actorgraph.actors._ids import checkpoint_id, now_iso

    return {
        "v": 4,
        "id": checkpoint_id(),
        "ts": now_iso(),
        "channel_values": {},
        "channel_versions": {},
        "versions_seen": {},
        "updated_channels": None,
    }


def copy_checkpoint(checkpoint: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a LangGraph-layout checkpoint whose dicts can be changed freely."""
    return {
        "v": checkpoint["v"],
        "ts": checkpoint["ts"],
        "id": checkpoint["id"],
        "channel_values": dict(checkpoint["channel_values"]),
        "channel_versions": dict(checkpoint["channel_versions"]),
        "versions_seen": {k: dict(v) for k, v in checkpoint["versions_seen"].items()},
        "updated_channels": checkpoint.get("updated_channels"),
    }


def _to_replay(specs: Mapping[str, Any], checkpoint: Mapping[str, Any]) -> list[str]:
    """The reducer channels written on this branch (they have a version) whose value the
    checkpoint doesn't hold: rebuilt from their history."""
    versions = checkpoint["channel_versions"]
    values = checkpoint["channel_values"]
    return [
        k
        for k, spec in specs.items()
        if isinstance(spec, (DeltaChannel, BinaryOperatorAggregate))
        and k in versions
        and values.get(k, MISSING) is MISSING
    ]


def _hydrate(
    specs: Mapping[str, Any], checkpoint: Mapping[str, Any], histories: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    channels: dict[str, Any] = {}
    managed: dict[str, Any] = {}
    values = checkpoint["channel_values"]
    for k, spec in specs.items():
        if not isinstance(spec, BaseChannel):
            managed[k] = spec
            continue
        if k in histories:
            history = histories[k]
            ch = spec.from_checkpoint(history.get("seed", MISSING))
            writes = history.get("writes") or []
            if isinstance(ch, DeltaChannel):
                ch.replay_writes(writes)
            else:
                for w in writes:
                    ch.update([w[2]])
        else:
            ch = spec.from_checkpoint(values.get(k, MISSING))
        channels[k] = ch
    return channels, managed


def _need_saver(names: list[str], saver: Any, config: Any) -> None:
    if names and (saver is None or config is None):
        raise ValueError(
            f"DeltaChannel {names} has history to replay but no checkpointer or config was passed to read it"
        )


def channels_from_checkpoint(
    specs: Mapping[str, Any], checkpoint: Mapping[str, Any], *, saver: Any = None, config: Any = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Channels holding a LangGraph-layout checkpoint's values (and the managed values
    among ``specs``); delta channels without a stored value are rebuilt from
    ``saver.get_delta_channel_history`` at ``config``."""
    names = _to_replay(specs, checkpoint)
    _need_saver(names, saver, config)
    histories = saver.get_delta_channel_history(config=config, channels=names) if names else {}
    return _hydrate(specs, checkpoint, histories)


async def achannels_from_checkpoint(
    specs: Mapping[str, Any], checkpoint: Mapping[str, Any], *, saver: Any = None, config: Any = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Async ``channels_from_checkpoint``."""
    names = _to_replay(specs, checkpoint)
    _need_saver(names, saver, config)
    histories = await saver.aget_delta_channel_history(config=config, channels=names) if names else {}
    return _hydrate(specs, checkpoint, histories)
