"""A compiled graph used as a node: it runs as a subgraph of the calling task (its own
namespace, the parent's stream and context), gets the parent's state, and its output -
restricted to the parent's keys - is the node's update."""

from __future__ import annotations

from typing import Any

from actorgraph.actors._callable import BoundCallable

__all__ = ("bind_subgraph", "is_compiled_graph")


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
