"""A compiled graph used as a node: it runs as a subgraph of the calling task (its own
namespace, the parent's stream and context), gets the parent's state, and its output -
restricted to the parent's keys - is the node's update."""

from __future__ import annotations

import functools
import inspect
import types
from typing import Any

from actorgraph.actors._callable import BoundCallable

__all__ = ("bind_subgraph", "find_subgraph", "is_compiled_graph")

_MAX_DEPTH = 2
_NOTHING = object()


def is_compiled_graph(action: Any) -> bool:
    from actorgraph.actors._runnable import GraphRunnable

    return isinstance(action, GraphRunnable)


def bind_subgraph(graph: Any, parent_keys: frozenset[str]) -> BoundCallable:
    async def call(inp: Any, tctx: Any) -> Any:
        out = await graph.run_as_node(inp)
        if isinstance(out, dict):
            return {k: v for k, v in out.items() if k in parent_keys}
        return out

    return BoundCallable(graph, call, True, frozenset(), True)


def find_subgraph(action: Any) -> Any:
    """The compiled graph a node function runs inside it (``inner.invoke(...)`` in its
    body, reached through its globals or closure, or a function it calls), or ``None``.

    ``get_state(subgraphs=True)`` and the ``debug`` stream show that graph's state for the
    node's tasks, as LangGraph's do.
    """
    return _find(action, 0, set())


def _find(obj: Any, depth: int, seen: set[int]) -> Any:
    if id(obj) in seen:
        return None
    seen.add(id(obj))
    if is_compiled_graph(obj):
        return obj
    while isinstance(obj, functools.partial):
        obj = obj.func
    if inspect.ismethod(obj):
        obj = obj.__func__
    code = getattr(obj, "__code__", None)
    if not isinstance(code, types.CodeType):
        return None
    scope: dict[str, Any] = dict(getattr(obj, "__globals__", {}))
    for name, cell in zip(code.co_freevars, getattr(obj, "__closure__", None) or ()):
        try:
            scope[name] = cell.cell_contents
        except ValueError:
            continue
    for name in _names(code):
        target = scope.get(name, _NOTHING)
        if target is _NOTHING or isinstance(target, (types.ModuleType, type)):
            continue
        if is_compiled_graph(target):
            return target
        if depth < _MAX_DEPTH and inspect.isfunction(target):
            found = _find(target, depth + 1, seen)
            if found is not None:
                return found
    return None


def _names(code: types.CodeType) -> list[str]:
    names = list(code.co_names) + list(code.co_freevars)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names.extend(_names(const))
    return names
