"""A plain-text picture of a graph for terminals, with no layout dependency.

Nodes are placed in layers (a node sits below every node that leads to it, cycles
aside), each layer a row of boxes; under a layer come its nodes' outgoing edges, written
like Mermaid's (``-->`` always taken, ``-.->`` conditional, labels inline), or just an
arrow when the layer hands over to a single next node.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from actorgraph._constants import END, START

if TYPE_CHECKING:
    from actorgraph.draw._drawable import Edge, Node

__all__ = ("draw_ascii",)

_MAX_WIDTH = 100


def _layers(nodes: list[str], edges: list[Edge]) -> list[list[str]]:
    """Longest-path layering of the graph with its cycles' back edges left out."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    has_pred: set[str] = set()
    for e in edges:
        if e.source in succ and e.target in succ and e.target not in succ[e.source]:
            succ[e.source].append(e.target)
            has_pred.add(e.target)
    # depth-first from the entry points marks back edges (they close a cycle)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    forward: dict[str, list[str]] = {n: [] for n in nodes}
    order: list[str] = []

    def visit(root: str) -> None:
        stack = [(root, iter(succ[root]))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                order.append(node)
                stack.pop()
            elif state.get(nxt) is None:
                forward[node].append(nxt)
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
            elif state[nxt] == 2:
                forward[node].append(nxt)

    roots = [n for n in nodes if n == START] + [n for n in nodes if n not in has_pred and n != START]
    for n in [*roots, *nodes]:
        if n not in state:
            visit(n)
    rank = dict.fromkeys(nodes, 0)
    for node in reversed(order):  # reverse post-order is a topological order
        for nxt in forward[node]:
            rank[nxt] = max(rank[nxt], rank[node] + 1)
    if END in rank:
        rank[END] = max(rank.values(), default=0) + (1 if len(rank) > 1 else 0)
        if any(r == rank[END] for n, r in rank.items() if n != END):
            rank[END] += 1
    layers: list[list[str]] = [[] for _ in range(max(rank.values(), default=-1) + 1)]
    for n in nodes:
        layers[rank[n]].append(n)
    return [layer for layer in layers if layer]


def _box_rows(labels: list[str]) -> list[list[str]]:
    """Boxes for one layer, wrapped into several rows of boxes when too wide."""
    rows: list[list[str]] = []
    current: list[list[str]] = []
    width = 0
    for label in labels:
        bar = "+" + "-" * (len(label) + 2) + "+"
        box = [bar, f"| {label} |", bar]
        if current and width + 2 + len(bar) > _MAX_WIDTH:
            rows.append(_join(current))
            current, width = [], 0
        width += (2 if current else 0) + len(bar)
        current.append(box)
    if current:
        rows.append(_join(current))
    return rows


def _join(boxes: list[list[str]]) -> list[str]:
    return ["  ".join(box[i] for box in boxes) for i in range(3)]


def _edge_text(edge: Edge) -> str:
    if edge.data is None:
        arrow = "-.->" if edge.conditional else "-->"
    elif edge.conditional:
        arrow = f"-. {edge.data} .->"
    else:
        arrow = f"-- {edge.data} -->"
    return f"{edge.source} {arrow} {edge.target}"


def draw_ascii(nodes: Mapping[str, Node], edges: list[Edge]) -> str:
    """The text picture of ``nodes`` and ``edges`` (ids as labels)."""
    if not nodes:
        return ""
    layers = _layers(list(nodes), edges)
    # (lines, centre each line?) pieces, laid out once the widest is known
    pieces: list[tuple[list[str], bool]] = []
    for i, layer in enumerate(layers):
        for row in _box_rows(layer):
            pieces.append((row, True))
        members = set(layer)
        out = [e for e in edges if e.source in members]
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        handover = (
            nxt is not None
            and len(out) == 1
            and out[0].data is None
            and not out[0].conditional
            and nxt == [out[0].target]
        )
        if handover:
            pieces.append((["|", "v"], True))
        elif out:
            pieces.append(([_edge_text(e) for e in out], False))
    width = max(len(line) for lines, _ in pieces for line in lines)
    text: list[str] = []
    for lines, centred in pieces:
        if centred:
            text.extend(line.center(width).rstrip() for line in lines)
        else:
            # an edge list stays left-aligned, the list as a whole centred
            pad = " " * ((width - max(len(line) for line in lines)) // 2)
            text.extend((pad + line).rstrip() for line in lines)
    return "\n".join(text)
