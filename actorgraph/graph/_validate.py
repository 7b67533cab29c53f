"""Compile-time checks of a ``StateGraph``: every edge names real nodes, there is an entry
point, and every node can be reached. Each failure is a ``GraphValidationError`` (a
``ValueError``) that names the node or edge at fault."""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Sequence
from typing import TYPE_CHECKING

from actorgraph._constants import END, START
from actorgraph.errors import GraphValidationError

if TYPE_CHECKING:
    from actorgraph.graph._state import StateGraph

__all__ = ("validate_graph",)


def validate_graph(graph: StateGraph, interrupt: Sequence[str] | None = None) -> None:  # type: ignore[type-arg]
    nodes = set(graph.nodes)
    known = sorted(nodes)
    # sources
    sources = {s for s, _ in graph.edges}
    sources.update(s for starts, _ in graph.waiting_edges for s in starts)
    sources.update(graph.branches)
    for s in sorted(sources):
        if s != START and s not in nodes:
            raise GraphValidationError(
                f"Found edge starting at unknown node '{s}'. Known nodes: {known}"
            )
    if START not in sources:
        raise GraphValidationError(
            "Graph must have an entrypoint: add at least one edge from START to another node "
            "(e.g. builder.add_edge(START, 'first_node'))."
        )
    # targets
    for s, e in sorted(graph.edges):
        if e != END and e not in nodes:
            raise GraphValidationError(
                f"Found edge ending at unknown node `{e}` (from '{s}'). Known nodes: {known}"
            )
    for starts, e in sorted(graph.waiting_edges):
        if e != END and e not in nodes:
            raise GraphValidationError(
                f"Found edge ending at unknown node `{e}` (from {list(starts)}). Known nodes: {known}"
            )
    for source, branches in graph.branches.items():
        for branch in branches.values():
            branch.validate(known)
    for name, spec in graph.nodes.items():
        ends = spec.ends.values() if isinstance(spec.ends, dict) else spec.ends
        for end in ends:
            if end != END and end not in nodes:
                raise GraphValidationError(
                    f"Node '{name}' declares destination '{end}' (in its Command[Literal[...]] "
                    f"return type or destinations=), which is not a node. Known nodes: {known}"
                )
    for name in interrupt or ():
        if name not in nodes:
            raise GraphValidationError(f"Interrupt node `{name}` not found. Known nodes: {known}")
    _check_reachable(graph, nodes)


def _check_reachable(graph: StateGraph, nodes: set[str]) -> None:  # type: ignore[type-arg]
    """Reject nodes nothing can route to.

    Routing we can't see makes every node reachable: a router with no path map (it may
    return any name or Send), a node that may return a ``Command`` without declaring its
    destinations, a subgraph (its nodes may send ``Command.PARENT``). So only graphs whose
    routing is fully visible are checked, and a false alarm is impossible.
    """
    for branches in graph.branches.values():
        for branch in branches.values():
            if branch.ends is None:
                return
    for spec in graph.nodes.values():
        if not spec.ends and _may_route_dynamically(spec.action):
            return
    succ: dict[str, set[str]] = {n: set() for n in (*nodes, START)}
    for s, e in graph.edges:
        succ.setdefault(s, set()).add(e)
    for starts, e in graph.waiting_edges:
        for s in starts:
            succ.setdefault(s, set()).add(e)
    for source, branches in graph.branches.items():
        for branch in branches.values():
            succ.setdefault(source, set()).update(branch.ends or ())
    for name, spec in graph.nodes.items():
        ends = spec.ends.values() if isinstance(spec.ends, dict) else spec.ends
        succ[name].update(ends)
    seen = {START}
    frontier = [START]
    while frontier:
        n = frontier.pop()
        for m in succ.get(n, ()):
            if m not in seen:
                seen.add(m)
                frontier.append(m)
    unreachable = sorted(nodes - seen)
    if unreachable:
        names = ", ".join(f"'{n}'" for n in unreachable)
        raise GraphValidationError(
            f"Node(s) {names} can't be reached: no edge, conditional-edge path map or declared "
            "Command destination leads there from START. Add an edge to it, remove it, or, if a "
            "node routes to it with Command(goto=...), declare that: annotate that node's return "
            "type as Command[Literal[...]] or pass destinations=(...) to add_node."
        )


def _code_mentions(code: types.CodeType, names: frozenset[str]) -> bool:
    if names.intersection(code.co_names):
        return True
    return any(isinstance(c, types.CodeType) and _code_mentions(c, names) for c in code.co_consts)


_ROUTING_NAMES = frozenset({"Command", "Send"})


def _may_route_dynamically(action: object) -> bool:
    """Whether a node could return a Command or Send (or run a subgraph that does)."""
    from actorgraph.graph._subgraph import is_compiled_graph

    if is_compiled_graph(action):
        return True
    while isinstance(action, functools.partial):
        action = action.func
    fn = action if inspect.isfunction(action) or inspect.ismethod(action) else getattr(action, "__call__", None)  # noqa: B004
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    if not isinstance(code, types.CodeType):
        return True
    return _code_mentions(code, _ROUTING_NAMES)
