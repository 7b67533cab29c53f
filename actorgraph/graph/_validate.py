"""Compile-time checks of a ``StateGraph``: every edge names real nodes, there is an entry
point, and every node can be reached. Each failure is a ``GraphValidationError`` (a
``ValueError``) that names the node or edge at fault."""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from actorgraph._constants import DEFAULT_ERROR_HANDLER, END, ERROR_HANDLER_PREFIX, START
from actorgraph.errors import GraphValidationError

if TYPE_CHECKING:
    from actorgraph.graph._state import StateGraph

__all__ = ("validate_graph",)


def validate_graph(
    graph: StateGraph[Any, Any, Any, Any], interrupt: Sequence[str] | None = None, *, strict: bool = False
) -> None:
    nodes = set(graph.nodes)
    known = sorted(nodes)
    # sources
    sources = {s for s, _ in graph.edges}
    sources.update(s for starts, _ in graph.waiting_edges for s in starts)
    sources.update(graph.branches)
    for s in sorted(sources):
        if s != START and s not in nodes:
            raise GraphValidationError(
                f"Found edge starting at unknown node '{s}'. Known nodes: {known}", node=s
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
                f"Found edge ending at unknown node `{e}` (from '{s}'). Known nodes: {known}", node=e
            )
    for starts, e in sorted(graph.waiting_edges):
        if e != END and e not in nodes:
            raise GraphValidationError(
                f"Found edge ending at unknown node `{e}` (from {list(starts)}). Known nodes: {known}", node=e
            )
    for source, branches in graph.branches.items():
        for branch in branches.values():
            branch.validate(known)
    for name, spec in graph.nodes.items():
        for end in _targets(spec.ends):
            if end != END and end not in nodes:
                raise GraphValidationError(
                    f"Node '{name}' declares destination '{end}' (in its Command[Literal[...]] "
                    f"return type or destinations=), which is not a node. Known nodes: {known}",
                    node=name,
                )
    handlers = {f"{ERROR_HANDLER_PREFIX}{n}" for n, spec in graph.nodes.items() if spec.error_handler is not None}
    if graph._node_defaults.error_handler is not None:
        if DEFAULT_ERROR_HANDLER in nodes:
            raise GraphValidationError(
                f"Auto-generated default error handler node `{DEFAULT_ERROR_HANDLER}` already exists.",
                node=DEFAULT_ERROR_HANDLER,
            )
        handlers.add(DEFAULT_ERROR_HANDLER)
    for name in interrupt or ():
        # an error handler's node may be named too (as in LangGraph, a handler runs in the
        # step of the node it handles, so it never waits at such a breakpoint)
        if name not in nodes and name not in handlers:
            raise GraphValidationError(f"Interrupt node `{name}` not found. Known nodes: {known}", node=name)
    if strict:
        # LangGraph compiles such graphs (the node just never runs): only strict refuses
        _check_reachable(graph, nodes)


def _check_reachable(graph: StateGraph[Any, Any, Any, Any], nodes: set[str]) -> None:
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
        succ[name].update(_targets(spec.ends))
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
            "type as Command[Literal[...]] or pass destinations=(...) to add_node.",
            node=unreachable[0],
        )


def _targets(ends: object) -> tuple[str, ...]:
    """Node names a ``destinations``/``Command[Literal]`` declaration routes to (a dict
    declaration maps node name -> edge label)."""
    if isinstance(ends, dict):
        return tuple(ends)
    return tuple(ends)  # type: ignore[arg-type]


_ROUTING_NAMES = frozenset({"Command", "Send", "PARENT"})
_MAX_DEPTH = 4


def _may_route_dynamically(action: object) -> bool:
    """Whether a node could return a Command or Send, or run a graph that sends one to us.

    Reads the node's code and, recursively, the code of the functions and methods it
    names (through its globals, closure, or own class), looking for ``Command``/``Send``
    or a compiled graph. Anything that can't be read counts as dynamic.
    """
    return _dynamic(action, 0, set())


def _dynamic(obj: object, depth: int, seen: set[int]) -> bool:
    from actorgraph.graph._subgraph import is_compiled_graph

    if id(obj) in seen:
        return False
    seen.add(id(obj))
    if is_compiled_graph(obj):
        return True
    while isinstance(obj, functools.partial):
        obj = obj.func
    owner: object = None
    if inspect.ismethod(obj):
        owner = type(obj.__self__)
        obj = obj.__func__
    elif not inspect.isfunction(obj):
        call = getattr(type(obj), "__call__", None)  # noqa: B004
        if call is None or not inspect.isfunction(call):
            return True  # a builtin or something we can't read
        owner, obj = type(obj), call
    code = getattr(obj, "__code__", None)
    if not isinstance(code, types.CodeType):
        return True
    names = _code_names(code)
    if _ROUTING_NAMES & names:
        return True
    if depth >= _MAX_DEPTH:
        return False
    scope: dict[str, object] = dict(getattr(obj, "__globals__", {}))
    closure = getattr(obj, "__closure__", None) or ()
    for name, cell in zip(code.co_freevars, closure):
        try:
            scope[name] = cell.cell_contents
        except ValueError:
            continue
    for name in names:
        target = scope.get(name, _NOTHING)
        if target is _NOTHING and owner is not None:
            target = getattr(owner, name, _NOTHING)
        if target is _NOTHING or isinstance(target, (types.ModuleType, type)):
            continue
        if is_compiled_graph(target):
            return True
        if callable(target) and _dynamic(target, depth + 1, seen):
            return True
    return False


_NOTHING = object()


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names) | set(code.co_freevars)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names
