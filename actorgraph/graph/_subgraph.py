"""A compiled graph used as a node: it runs as a subgraph of the calling task (its own
namespace, the parent's stream and context), gets the parent's state, and its output -
restricted to the parent's keys - is the node's update."""

from __future__ import annotations

import dis
import functools
import inspect
import types
from typing import Any

from actorgraph.actors._callable import BoundCallable

__all__ = ("bind_subgraph", "find_subgraph", "is_compiled_graph")

_NOTHING = object()


def is_compiled_graph(action: Any) -> bool:
    from actorgraph.pregel._runnable import GraphRunnable

    return isinstance(action, GraphRunnable)


def bind_subgraph(graph: Any, parent_keys: frozenset[str]) -> BoundCallable:
    async def call(inp: Any, tctx: Any) -> Any:
        out = await graph.run_as_node(inp)
        if isinstance(out, dict):
            return {k: v for k, v in out.items() if k in parent_keys}
        return out

    return BoundCallable(graph, call, True, frozenset(), True)


def find_subgraph(action: Any) -> Any:
    """The compiled graph a node function runs inside it, or ``None``.

    Follows what the function's code loads, as LangGraph does: a global or captured
    name and the attribute chain read off it (``CHAIN.payload.invoke(...)``), names
    captured by functions defined inside it, then what ``__wrapped__`` points to. Code the
    compiler dropped, plain containers and instance attributes of ``self`` are not
    searched. ``get_state(subgraphs=True)`` and the ``debug`` stream show that graph's
    state for the node's tasks.
    """
    seen: set[int] = set()
    obj = action
    while obj is not None and id(obj) not in seen:
        seen.add(id(obj))
        if is_compiled_graph(obj):
            return obj
        if isinstance(obj, functools.partial):
            return None
        fn = obj.__func__ if inspect.ismethod(obj) else obj
        code = getattr(fn, "__code__", None)
        if isinstance(code, types.CodeType):
            scope = _closure(fn, code)
            found = _scan(code, dict(getattr(fn, "__globals__", {})), scope, top=True)
            if found is not None:
                return found
            # a captured graph counts even where the code that used it was compiled away
            for value in scope.values():
                if is_compiled_graph(value):
                    return value
        obj = getattr(obj, "__wrapped__", None)
    return None


def _closure(fn: Any, code: types.CodeType) -> dict[str, Any]:
    scope: dict[str, Any] = {}
    for name, cell in zip(code.co_freevars, getattr(fn, "__closure__", None) or ()):
        try:
            scope[name] = cell.cell_contents
        except ValueError:  # a cell that was never filled
            continue
    return scope


_LOADS_GLOBAL = frozenset({"LOAD_GLOBAL", "LOAD_NAME"})
_LOADS_CAPTURED = frozenset({"LOAD_DEREF", "LOAD_CLASSDEREF"})
_LOADS_ATTR = frozenset({"LOAD_ATTR", "LOAD_METHOD"})


def _scan(code: types.CodeType, globals_: dict[str, Any], captured: dict[str, Any], top: bool) -> Any:
    """The first compiled graph reached by a load (and its attribute chain) in ``code``;
    nested functions' code is searched for captured names only."""
    instructions = list(dis.get_instructions(code))
    for i, ins in enumerate(instructions):
        if ins.opname in _LOADS_CAPTURED:
            value = captured.get(ins.argval, _NOTHING)
        elif top and ins.opname in _LOADS_GLOBAL:
            value = globals_.get(ins.argval, _NOTHING)
        else:
            continue
        j = i + 1
        while True:
            if value is _NOTHING or isinstance(value, (types.ModuleType, type)):
                break
            if is_compiled_graph(value):
                return value
            if j >= len(instructions) or instructions[j].opname not in _LOADS_ATTR:
                break
            value = getattr(value, str(instructions[j].argval), _NOTHING)
            j += 1
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found = _scan(const, globals_, captured, top=False)
            if found is not None:
                return found
    return None
