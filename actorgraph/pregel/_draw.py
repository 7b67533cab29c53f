"""``Pregel.get_graph()``: a raw Pregel graph's nodes, joined where one node writes a
channel another is triggered by (``__start__`` writes the input channels, a node that
writes an output channel has an edge to ``__end__``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from actorgraph._constants import END, START
from actorgraph.draw._drawable import Graph
from actorgraph.pregel._write import ChannelWrite, ChannelWriteEntry

if TYPE_CHECKING:
    from actorgraph.pregel._pregel import Pregel

__all__ = ("draw_pregel",)


def _written(node: Any) -> set[str]:
    out: set[str] = set()
    for w in node.writers:
        if isinstance(w, ChannelWrite):
            out.update(e.channel for e in w.writes if isinstance(e, ChannelWriteEntry))
    return out


def draw_pregel(graph: Pregel[Any, Any, Any, Any]) -> Graph:
    drawn = Graph()
    start = drawn.add_node(None, START)
    ids = {name: drawn.add_node(node.bound, name) for name, node in graph.nodes.items()}
    end = drawn.add_node(None, END)
    inputs = {graph.input_channels} if isinstance(graph.input_channels, str) else set(graph.input_channels)
    outputs = {graph.output_channels} if isinstance(graph.output_channels, str) else set(graph.output_channels)
    for name, node in graph.nodes.items():
        if inputs.intersection(node.triggers):
            drawn.add_edge(start, ids[name])
    for name, node in graph.nodes.items():
        writes = _written(node)
        for other, target in graph.nodes.items():
            if writes.intersection(target.triggers):
                drawn.add_edge(ids[name], ids[other])
        if writes & outputs:
            drawn.add_edge(ids[name], end)
    return drawn
