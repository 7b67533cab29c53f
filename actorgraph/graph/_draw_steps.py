"""The edges ``get_graph()`` draws for a ``StateGraph``, found as LangGraph finds them: by
walking the graph's super-steps with no state, on the same trigger channels the engine uses
(``branch:to:<node>``, ``join:<a+b>:<node>``, their after-finish kinds for deferred nodes).

A conditional edge (router path map, ``Command`` destinations) is taken once, to every target
at the same time; a node is drawn with an edge from whoever wrote its trigger. A node run
by a step that wrote none of its triggers (a deferred node released when the rest of the
graph is done) gets a conditional edge from each node of the step before. A node with no
way out ends at ``__end__``; a graph that never ends (a cycle with no exit) gets a
conditional edge to ``__end__`` from the node the walk stopped at, when it stopped at one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any, NamedTuple

from actorgraph._constants import END, START
from actorgraph.channels import (
    BaseChannel,
    EphemeralValue,
    LastValueAfterFinish,
    NamedBarrierValue,
    NamedBarrierValueAfterFinish,
)

__all__ = ("DrawnEdge", "walk_edges")

# steps walked before giving up on a graph that never ends (LangGraph's figure)
_LIMIT = 250


class DrawnEdge(NamedTuple):
    source: str
    target: str
    conditional: bool
    label: str | None


class _Trigger(NamedTuple):
    """A write a node makes to a trigger channel, as an edge will show it."""

    channel: str
    conditional: bool
    label: str | None


class _Writer:
    """What one of a node's outputs writes with no state: ``writes`` on every run, and
    ``static`` - (channel or END, label) - the conditional targets it may pick."""

    __slots__ = ("static", "writes")

    def __init__(
        self,
        writes: tuple[tuple[str, Any], ...] = (),
        static: tuple[tuple[str, str | None], ...] = (),
    ) -> None:
        self.writes = writes
        self.static = static


def _to(node: str) -> str:
    return node if node == END else f"branch:to:{node}"


_Channels = dict[str, BaseChannel[Any, Any, Any]]


def _model(builder: Any) -> tuple[_Channels, dict[str, list[str]], dict[str, list[_Writer]]]:
    """Fresh trigger channels, each node's triggers and each node's writers, in the order
    the compiled graph attaches them (node output, plain edges, joins, routers)."""
    channels: _Channels = {START: EphemeralValue(Any)}
    triggers: dict[str, list[str]] = {START: [START]}
    writers: dict[str, list[_Writer]] = {START: [_Writer()]}
    for name, spec in builder.nodes.items():
        channel = _to(name)
        channels[channel] = (
            LastValueAfterFinish(Any) if spec.defer else EphemeralValue(Any, guard=False)
        )
        triggers[name] = [channel]
        ends = spec.ends
        if isinstance(ends, Mapping):
            static = tuple((_to(t), label) for t, label in ends.items())
        else:
            static = tuple((_to(t), None) for t in ends or ())
        writers[name] = [_Writer(static=static)]
    for source, target in sorted(builder.edges):
        if target != END and source in writers:
            writers[source].append(_Writer(writes=((_to(target), None),)))
    for starts, target in sorted(builder.waiting_edges):
        if target == END:
            continue
        channel = f"join:{'+'.join(starts)}:{target}"
        kind = NamedBarrierValueAfterFinish if builder.nodes[target].defer else NamedBarrierValue
        channels[channel] = kind(str, set(starts))
        triggers[target].append(channel)
        for start in starts:
            writers[start].append(_Writer(writes=((channel, start),)))
    for source, branches in builder.branches.items():
        for branch in branches.values():
            if branch.path_map:
                routes = branch.path_map.items()
            elif branch.ends:
                routes = ((t, t) for t in branch.ends)
            else:
                continue  # a router that names no targets draws no edges
            static = tuple((_to(t), str(label)) for label, t in routes)
            writers[source].append(_Writer(static=static))
    return channels, triggers, writers


class _Walk:
    """The channels, versions and seen versions of a walk with no state."""

    def __init__(self, channels: _Channels, triggers: dict[str, list[str]]) -> None:
        self.channels = channels
        self.triggers = triggers
        self.by_channel: dict[str, list[str]] = defaultdict(list)
        for node, chans in triggers.items():
            for chan in chans:
                self.by_channel[chan].append(node)
        self.versions: dict[str, int] = {}
        self.seen: dict[str, dict[str, int]] = {}

    def apply(self, tasks: Mapping[str, list[tuple[str, Any]]], *, step: bool = True) -> set[str]:
        """One step's writes; returns the channels that can now trigger a node."""
        channels, versions = self.channels, self.versions
        if step:
            for name in tasks:
                seen = self.seen.setdefault(name, {})
                seen.update((c, versions[c]) for c in self.triggers[name] if c in versions)
        version = max(versions.values(), default=0) + 1
        if step:  # the tasks read their triggers: barriers and after-finish values reset
            for chan in {c for name in tasks for c in self.triggers[name]}:
                if channels[chan].consume():
                    versions[chan] = version
        pending: dict[str, list[Any]] = defaultdict(list)
        for name in sorted(tasks):
            for chan, value in tasks[name]:
                if chan in channels:
                    pending[chan].append(value)
        updated: set[str] = set()
        for chan, values in pending.items():
            if channels[chan].update(values):
                versions[chan] = version
                if channels[chan].is_available():
                    updated.add(chan)
        if not step:
            return updated
        for chan, ch in channels.items():
            if chan not in updated and ch.is_available() and ch.update([]):
                versions[chan] = version
                if ch.is_available():
                    updated.add(chan)
        if not updated:  # the run would end here: release what waits for the finish
            for chan, ch in channels.items():
                if ch.finish():
                    versions[chan] = version
                    if ch.is_available():
                        updated.add(chan)
        return updated

    def next_tasks(self, updated: set[str]) -> list[str]:
        if updated:
            candidates = sorted({n for c in updated for n in self.by_channel.get(c, ())})
        elif self.versions:
            candidates = list(self.triggers)
        else:
            candidates = []
        return [n for n in candidates if self._triggered(n)]

    def _triggered(self, node: str) -> bool:
        seen = self.seen.get(node)
        for chan in self.triggers[node]:
            if not self.channels[chan].is_available():
                continue
            if seen is None or self.versions.get(chan, 0) > seen.get(chan, 0):
                return True
        return False


def walk_edges(builder: Any) -> list[DrawnEdge]:
    """Every edge to draw, in the order LangGraph draws them; the first edge between two
    nodes is the one drawn."""
    channels, triggers, writers = _model(builder)
    walk = _Walk(channels, triggers)
    edges: set[DrawnEdge] = set()
    sources: dict[str, set[_Trigger]] = {}
    step_sources: dict[str, set[_Trigger]] = {}
    declared: dict[str, set[_Trigger]] = defaultdict(set)
    taken: set[int] = set()  # writers whose conditional targets were already taken
    tasks = walk.next_tasks(walk.apply({START: [(START, {})]}, step=False))
    for _ in range(_LIMIT + 1):
        if not tasks:
            break
        labels: dict[tuple[str, str, Any], str | None] = {}
        writes: dict[str, list[tuple[str, Any]]] = {}
        for name in tasks:
            out = writes[name] = []
            for writer in writers[name]:
                out.extend(writer.writes)
                if writer.static and id(writer) not in taken:
                    taken.add(id(writer))
                    for chan, label in writer.static:
                        if chan == END:
                            edges.add(DrawnEdge(name, END, True, label))
                            continue
                        labels[(name, chan, None)] = label
                        declared[name].add(_Trigger(chan, True, label))
                        out.append((chan, None))
        # a plain write to a channel a router of the step also declared is drawn as the
        # router's conditional edge
        step_sources = {}
        for name in tasks:
            keys = ((chan, (name, chan, value or None)) for chan, value in writes[name])
            step_sources[name] = {_Trigger(c, k in labels, labels.get(k)) for c, k in keys}
            step_sources[name] |= declared.get(name, set())
        sources.update(step_sources)
        by_trigger: dict[str, set[tuple[str, bool, str | None]]] = defaultdict(set)
        for src, written in sources.items():
            for chan, cond, label in written:
                by_trigger[chan].add((src, cond, label))
        tasks = walk.next_tasks(walk.apply(writes))
        for name in tasks:
            from_this_step = False
            for chan in triggers[name]:
                for src, cond, label in by_trigger[chan]:
                    edges.add(DrawnEdge(src, name, cond, label))
                    if _Trigger(chan, cond, label) in step_sources.get(src, ()):
                        from_this_step = True
                    else:  # an older write, now read: it triggers no later node
                        sources[src].discard(_Trigger(chan, cond, label))
            if not from_this_step:
                edges.update(DrawnEdge(src, name, True, None) for src in step_sources)
    body = sorted(edges, key=_order)
    termini = {e.target for e in edges if e.target != END} - {e.source for e in edges}
    if termini:
        return body + [DrawnEdge(t, END, False, None) for t in sorted(termini)]
    if len(step_sources) == 1 and not any(e.target == END for e in edges):
        return body + [DrawnEdge(s, END, True, None) for s in step_sources]
    return body


def _order(edge: DrawnEdge) -> tuple[str, str, bool, bool, str]:
    return (edge.source, edge.target, edge.conditional, edge.label is not None, edge.label or "")
