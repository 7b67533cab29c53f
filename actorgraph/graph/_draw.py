"""``get_graph()``: a ``StateGraph``'s nodes and edges as a drawable ``Graph``.

Edges are read from what the builder declares (LangGraph instead simulates a run), in
LangGraph's order and with its conventions: plain edges, and conditional ones - routers,
``Command[Literal[...]]`` returns, ``destinations=`` - labelled with their path-map key; a
node with no way out gets an edge to ``__end__``; a deferred node gets dashed edges from the
nodes that run last before it (see ``_deferred_edges``); with ``xray`` a subgraph node is
replaced by the subgraph's own nodes, ids prefixed ``<node>:``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from actorgraph._constants import END, START
from actorgraph.actors._runnable import GraphRunnable
from actorgraph.draw._drawable import Edge, Graph, RunnableCallableMarker

if TYPE_CHECKING:
    from actorgraph.graph._compiled import CompiledStateGraph

__all__ = ("build_graph", "nested_graph")

# (source, target, conditional, label)
_Edge = tuple[str, str, bool, "str | None"]


def nested_graph(action: Any) -> GraphRunnable | None:
    """The compiled graph a node runs: the node itself, or one its function refers to
    (a closure variable or a global it names), as LangGraph finds subgraphs for xray."""
    if isinstance(action, GraphRunnable):
        return action if getattr(action, "checkpointer", None) is not False else None
    fn = action
    while isinstance(fn, functools.partial):
        fn = fn.func
    fn = getattr(fn, "__wrapped__", fn)
    fn = getattr(fn, "__func__", fn)
    if not inspect.isfunction(fn):
        return None
    try:
        refs = inspect.getclosurevars(fn)
    except (TypeError, ValueError):
        return None
    for value in (*refs.nonlocals.values(), *refs.globals.values()):
        value = getattr(value, "__self__", value)
        if isinstance(value, GraphRunnable) and getattr(value, "checkpointer", None) is not False:
            return value
    return None


def _label(label: Any, target: str) -> str | None:
    text = str(label)
    return None if text == target else text


def _declared_edges(builder: Any) -> set[_Edge]:
    nodes = builder.nodes
    known = set(nodes) | {END}
    found: set[_Edge] = set()
    for source, target in builder.edges:
        found.add((source, target, False, None))
    for starts, target in builder.waiting_edges:
        found.update((s, target, False, None) for s in starts)
    for source, branches in builder.branches.items():
        for branch in branches.values():
            if branch.path_map is not None:
                routes = [(_label(k, t), t) for k, t in branch.path_map.items()]
            elif branch.ends:
                routes = [(None, t) for t in branch.ends]
            else:
                # a router without a path map or a Literal return type may pick any node
                routes = [(None, t) for t in (*nodes, END)]
            found.update((source, t, True, label) for label, t in routes)
    for name, spec in nodes.items():
        if isinstance(spec.ends, Mapping):
            found.update((name, t, True, _label(label, t)) for t, label in spec.ends.items())
        else:
            found.update((name, t, True, None) for t in spec.ends)
    return {e for e in found if e[1] in known and e[0] != END}


def _deferred_edges(builder: Any, declared: set[_Edge]) -> set[_Edge]:
    """Dashed edges into deferred nodes, as LangGraph draws them: walk the steps a run
    could take (every route of a router, but each node's routes only the first time it
    runs, as LangGraph's drawing does), and when a deferred node finally runs without
    being triggered by the step just before it, draw an edge from each node of that step."""
    nodes = builder.nodes
    deferred = {n for n, spec in nodes.items() if spec.defer}
    if not deferred:
        return set()
    plain: dict[str, set[str]] = {}
    routed: dict[str, set[str]] = {}
    for source, target, conditional, _ in declared:
        if target != END:
            (routed if conditional else plain).setdefault(source, set()).add(target)
    for source, target in builder.edges:
        if target != END:
            plain.setdefault(source, set()).add(target)
    joins = [(frozenset(starts), target) for starts, target in sorted(builder.waiting_edges)]
    join_seen: list[set[str]] = [set() for _ in joins]
    routed_done: set[str] = set()
    pending: dict[str, set[str]] = {}  # deferred node -> the nodes that triggered it
    step = {START}
    states: set[Any] = set()
    found: set[_Edge] = set()
    for _ in range(250):  # LangGraph's drawing stops after as many steps
        triggered: dict[str, set[str]] = {}
        for n in sorted(step):
            targets = set(plain.get(n, ()))
            if n not in routed_done:
                routed_done.add(n)
                targets |= routed.get(n, set())
            for t in targets:
                triggered.setdefault(t, set()).add(n)
        for i, (starts, target) in enumerate(joins):
            join_seen[i] |= starts & step
            if join_seen[i] == starts:
                join_seen[i] = set()
                triggered.setdefault(target, set()).update(starts & step)
        following = set()
        for t, sources in triggered.items():
            if t in deferred:
                pending.setdefault(t, set()).update(sources)
            elif t in nodes:
                following.add(t)
        if not following and pending:
            for t, sources in pending.items():
                if not sources & step:
                    found.update((n, t, True, None) for n in step if n != START)
            following, pending = set(pending), {}
        state = (
            frozenset(following),
            frozenset((t, frozenset(v)) for t, v in pending.items()),
            tuple(frozenset(j) for j in join_seen),
            len(routed_done),
        )
        if not following or state in states:
            break
        states.add(state)
        step = following
    return found


def _ordered_edges(builder: Any) -> list[_Edge]:
    """One edge per (source, target) - a plain edge wins over a conditional one, the
    smallest label over the others - sorted as LangGraph sorts them: everything but the
    plain edges to END first, then those, one per source."""
    best: dict[tuple[str, str], _Edge] = {}
    declared = _declared_edges(builder)
    declared |= _deferred_edges(builder, declared)
    for edge in sorted(
        declared, key=lambda e: (e[0], e[1], e[2], e[3] is not None, e[3] or "")
    ):
        best.setdefault((edge[0], edge[1]), edge)
    edges = list(best.values())
    has_exit = {e[0] for e in edges}
    termini = [n for n in builder.nodes if n not in has_exit]
    to_end = sorted({e[0] for e in edges if e[1] == END and not e[2]} | set(termini))
    body = [e for e in edges if not (e[1] == END and not e[2])]
    return body + [(s, END, False, None) for s in to_end]


def _interrupts(value: Any, nodes: Any) -> frozenset[str]:
    if value == "*":
        return frozenset(nodes)
    return frozenset(value or ())


def _metadata(name: str, spec: Any, before: frozenset[str], after: frozenset[str]) -> dict[str, Any] | None:
    meta = dict(spec.metadata or {})
    if spec.defer:
        meta["defer"] = True
    if name in before and name in after:
        meta["__interrupt"] = "before,after"
    elif name in before:
        meta["__interrupt"] = "before"
    elif name in after:
        meta["__interrupt"] = "after"
    tools = getattr(spec.action, "tools_by_name", None)  # a prebuilt ToolNode, duck-typed
    if isinstance(tools, Mapping) and tools:
        meta["__tools"] = list(tools)
    return meta or None


def _expand(graph: Graph, name: str, sub: Graph) -> None:
    """Replace node ``name`` by the subgraph's nodes (ids ``name:<id>``), trimming its
    own start and end nodes when that leaves it a single entry and exit."""
    if len(sub.nodes) <= 1 or name not in graph.nodes or not sub.first_node() or not sub.last_node():
        return
    sub.trim_first_node()
    sub.trim_last_node()
    graph.nodes.pop(name)
    first, last = graph.extend(sub, prefix=name)
    for i, edge in enumerate(graph.edges):
        if edge.source == name and last is not None:
            edge = edge.copy(source=last.id)
        if edge.target == name and first is not None:
            edge = edge.copy(target=first.id)
        graph.edges[i] = edge


def build_graph(
    compiled: CompiledStateGraph,
    config: Any = None,
    xray: int | bool = False,
    _outer: frozenset[int] = frozenset(),
) -> Graph:
    """The drawable graph of ``compiled``; ``xray`` expands subgraphs (``True``: all
    levels, ``n``: n levels)."""
    builder = compiled.builder
    program = compiled.program
    before = _interrupts(program.interrupt_before, builder.nodes)
    after = _interrupts(program.interrupt_after, builder.nodes)
    graph = Graph()
    graph.add_node(RunnableCallableMarker, START)
    for name, spec in builder.nodes.items():
        graph.add_node(spec.action, name, metadata=_metadata(name, spec, before, after))
    for source, target, conditional, label in _ordered_edges(builder):
        if target == END and END not in graph.nodes:
            graph.add_node(None, END)
        graph.edges.append(Edge(source, target, label, conditional))
    if xray:
        inner_xray = xray if isinstance(xray, bool) or xray <= 0 else xray - 1
        outer = _outer | {id(compiled)}
        for name, spec in builder.nodes.items():
            child = nested_graph(spec.action)
            if child is None or id(child) in outer:
                continue  # a node that runs its own (outer) graph: draw it as one node
            if getattr(child, "builder", None) is not None and getattr(child, "program", None) is not None:
                sub = build_graph(child, config, inner_xray, outer)  # type: ignore[arg-type]
            elif callable(getattr(child, "get_graph", None)):
                sub = child.get_graph(config, xray=inner_xray)  # type: ignore[attr-defined]
            else:
                continue
            _expand(graph, name, sub)
    return graph
