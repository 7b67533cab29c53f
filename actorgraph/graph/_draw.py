"""``get_graph()``: a ``StateGraph``'s nodes and edges as a drawable ``Graph``.

Edges come from ``_draw_steps`` (a walk of the graph's steps, as LangGraph draws): plain
edges, and conditional ones - routers, ``Command[Literal[...]]`` returns, ``destinations=``
- labelled with their path-map key; with ``xray`` a subgraph node is replaced by the
subgraph's own nodes, ids prefixed ``<node>:``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from actorgraph._constants import END, START
from actorgraph.pregel._runnable import GraphRunnable
from actorgraph.draw._drawable import Edge, Graph, RunnableCallableMarker
from actorgraph.graph._draw_steps import walk_edges

if TYPE_CHECKING:
    from actorgraph.graph._compiled import CompiledStateGraph

__all__ = ("build_graph", "nested_graph")


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
    compiled: CompiledStateGraph[Any, Any, Any, Any],
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
    drawn: set[tuple[str, str]] = set()
    for source, target, conditional, label in walk_edges(builder):
        if (source, target) in drawn:
            continue
        drawn.add((source, target))
        if target == END and END not in graph.nodes:
            graph.add_node(None, END)
        graph.edges.append(Edge(source, target, None if label == target else label, conditional))
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
