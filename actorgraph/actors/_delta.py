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
from actorgraph.channels import BaseChannel, DeltaChannel

__all__ = (
    "DELTA_MAX_SUPERSTEPS_SINCE_SNAPSHOT",
    "delta_channels_to_snapshot",
    "exit_delta_late_task_id",
    "exit_delta_task_id",
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
