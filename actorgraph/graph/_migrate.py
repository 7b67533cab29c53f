"""Threads LangGraph saved in its older channel layouts, brought to the current one on load.

Before checkpoint format 3, LangGraph named a node's trigger channel ``start:<node>`` (entry
edges), ``branch:<source>:<condition>:<node>`` (conditional edges) or after the node an
edge leaves (``<node>``, written by that node). Today every edge into a node writes
``branch:to:<node>``. A checkpoint in an old layout is rewritten in place so its versions,
seen versions and values name the current channels: the thread then shows the same state
and next nodes, and continues, as it would under LangGraph.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from actorgraph._constants import END, INTERRUPT, START

__all__ = ("LayoutMigration",)

_ABSENT = object()
_LAYOUT_VERSION = 3
"""The checkpoint format whose channels are already named ``branch:to:<node>``."""


def _target(node: str) -> str:
    return f"branch:to:{node}"


class LayoutMigration:
    """The migration for one compiled graph: which nodes it has, and where each plain
    edge leads (what a node-named channel fed). Called with a checkpoint dict; changes it
    in place."""

    __slots__ = ("nodes", "successors")

    def __init__(self, nodes: Collection[str], edges: Iterable[tuple[str, str]]) -> None:
        self.nodes = frozenset(nodes)
        successors: dict[str, list[str]] = {}
        for start, end in sorted(edges):
            if start != START and end != END:
                successors.setdefault(start, []).append(end)
        self.successors: Mapping[str, tuple[str, ...]] = {k: tuple(v) for k, v in successors.items()}

    def __call__(self, checkpoint: dict[str, Any]) -> None:
        versions = checkpoint["channel_versions"]
        if not versions or checkpoint.get("v", 1) >= _LAYOUT_VERSION:
            return
        values = checkpoint["channel_values"]
        seen = checkpoint["versions_seen"]
        # ``start:<node>``, then ``branch:<source>:<condition>:<node>``: each renamed to
        # the node's trigger channel
        for conditional in (False, True):
            for chan in list(versions):
                if conditional:
                    if not (chan.startswith("branch:") and chan.count(":") == 3):
                        continue
                    node = chan.rsplit(":", 1)[1]
                elif chan.startswith("start:"):
                    node = chan.split(":")[1]
                else:
                    continue
                if node in self.nodes:
                    # (its value moves only if the trigger channel has none; else it stays)
                    value = values.pop(chan) if chan in values and _target(node) not in values else _ABSENT
                    self._rename(checkpoint, chan, node, versions.pop(chan), value)
        # ``<node>``: the channel a node wrote for the edges leaving it feeds each target
        if self.nodes.isdisjoint(versions):
            return
        for chan in list(versions):
            if chan == START or chan not in self.nodes:
                continue
            version = versions.pop(chan)
            value = values.pop(chan, _ABSENT)
            for node in self.successors.get(chan, ()):
                self._rename(checkpoint, chan, node, version, value)
            interrupt_seen = seen.get(INTERRUPT)
            if interrupt_seen is not None:
                interrupt_seen.pop(chan, None)

    @staticmethod
    def _rename(checkpoint: dict[str, Any], old: str, node: str, version: Any, value: Any) -> None:
        """Fold channel ``old`` (already taken out of the versions and values) into
        ``node``'s trigger channel, keeping the newer version of the two."""
        new = _target(node)
        versions = checkpoint["channel_versions"]
        values = checkpoint["channel_values"]
        seen = checkpoint["versions_seen"]
        versions[new] = max(versions[new], version) if new in versions else version
        for node_seen in (seen.get(node), seen.get(INTERRUPT)):
            if node_seen is not None and old in node_seen:
                was = node_seen.pop(old)
                node_seen[new] = max(was, node_seen[new]) if new in node_seen else was
        if value is not _ABSENT and new not in values:
            values[new] = value
