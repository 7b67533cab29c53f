"""The drawable graph ``get_graph()`` returns: plain ``Node``/``Edge`` records and the
operations LangGraph users call on them (``draw_mermaid``, ``draw_ascii``, ``draw_png``,
``to_json``). Rendering to an image happens locally or not at all: nothing here talks to a
network service."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NamedTuple
from uuid import UUID, uuid4

from actorgraph.errors import DrawingError, RendererNotFoundError

__all__ = (
    "CurveStyle",
    "DrawingError",
    "Edge",
    "Graph",
    "MermaidDrawMethod",
    "Node",
    "NodeStyles",
    "RendererNotFoundError",
)


class Edge(NamedTuple):
    """An edge: ``data`` is its label (a path-map key, a ``destinations`` label) or None;
    ``conditional`` edges are taken only when a router or ``Command`` picks them."""

    source: str
    target: str
    data: Any = None
    conditional: bool = False

    def copy(self, *, source: str | None = None, target: str | None = None) -> Edge:
        return Edge(source or self.source, target or self.target, self.data, self.conditional)


class Node(NamedTuple):
    """A node: ``id`` is unique in the graph (``child:c1`` inside subgraph ``child``),
    ``name`` is what it is called (``c1``), ``data`` the function or graph it runs."""

    id: str
    name: str
    data: Any
    metadata: dict[str, Any] | None

    def copy(self, *, id: str | None = None, name: str | None = None) -> Node:
        return Node(id or self.id, name or self.name, self.data, self.metadata)


class CurveStyle(Enum):
    """How Mermaid draws edges (``draw_mermaid(curve_style=...)``)."""

    BASIS = "basis"
    BUMP_X = "bumpX"
    BUMP_Y = "bumpY"
    CARDINAL = "cardinal"
    CATMULL_ROM = "catmullRom"
    LINEAR = "linear"
    MONOTONE_X = "monotoneX"
    MONOTONE_Y = "monotoneY"
    NATURAL = "natural"
    STEP = "step"
    STEP_AFTER = "stepAfter"
    STEP_BEFORE = "stepBefore"


class MermaidDrawMethod(Enum):
    """Accepted by ``draw_mermaid_png`` for compatibility; rendering is always local."""

    PYPPETEER = "pyppeteer"
    API = "api"


@dataclass
class NodeStyles:
    """Mermaid ``classDef`` styles for ordinary, first and last nodes."""

    default: str = "fill:#f2f0ff,line-height:1.2"
    first: str = "fill-opacity:0"
    last: str = "fill:#bfb6fc"


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


def _data_name(data: Any) -> str:
    get_name = getattr(data, "get_name", None)
    if callable(get_name) and not inspect.isclass(data):
        try:
            return str(get_name())
        except Exception:
            pass
    return str(getattr(data, "__name__", type(data).__name__))


# LangGraph runs a function node (and a StateGraph's start) as its RunnableCallable: the
# id its ``to_json`` gives them, which LangGraph Studio and the server's clients see
RUNNABLE_CALLABLE_ID = ("langgraph", "_internal", "_runnable", "RunnableCallable")
# where LangGraph keeps the classes of ours that can be a node's data
_LANGGRAPH_HOMES = {
    "CompiledStateGraph": "langgraph.graph.state",
    "CompiledGraph": "langgraph.graph.state",
    "Pregel": "langgraph.pregel.main",
    "ToolNode": "langgraph.prebuilt.tool_node",
    "ValidationNode": "langgraph.prebuilt.tool_validator",
}


def _data_id(data: Any) -> list[str] | None:
    """The ``id`` LangGraph's ``to_json`` gives a node's data (None: it gives no data)."""
    if data is RunnableCallableMarker or inspect.isfunction(data) or inspect.ismethod(data):
        return list(RUNNABLE_CALLABLE_ID)
    cls = type(data)
    module = getattr(cls, "__module__", "") or "builtins"
    if module.split(".")[0] == "actorgraph":
        home = _LANGGRAPH_HOMES.get(cls.__name__)
        if home is None:
            if callable(data) and not hasattr(data, "invoke"):
                return list(RUNNABLE_CALLABLE_ID)
            home = ".".join(p for p in module.replace("actorgraph", "langgraph", 1).split(".") if not p.startswith("_"))
        return [*home.split("."), cls.__name__]
    lc_id = getattr(data, "lc_id", None)
    if callable(lc_id) and getattr(cls, "is_lc_serializable", None) is not None:
        try:
            return list(lc_id())
        except Exception:
            pass
    if hasattr(data, "invoke"):
        return [*module.split("."), cls.__name__]
    if callable(data):
        return list(RUNNABLE_CALLABLE_ID)  # a callable object: LangGraph wraps it too
    return None


class RunnableCallableMarker:
    """The data of a StateGraph's start node: LangGraph's runs its input mapping."""


def _data_json(node: Node, with_schemas: bool = False) -> dict[str, Any]:
    """A node's data as LangGraph's ``to_json`` shapes it: kind, import path and name (a
    pydantic model: its name, or its JSON schema ``with_schemas``)."""
    data = node.data
    out: dict[str, Any] = {}
    if data is not None:
        name = node.id if not _is_uuid(node.id) else _data_name(data)
        if inspect.isclass(data) and data is not RunnableCallableMarker:
            schema = getattr(data, "model_json_schema", None)
            if schema is not None:
                out = {"type": "schema", "data": schema() if with_schemas else name}
        else:
            ident = _data_id(data)
            if ident is not None:
                out = {"type": "runnable", "data": {"id": ident, "name": name}}
    if node.metadata is not None:
        out["metadata"] = node.metadata
    return out


def _first(graph: Graph, exclude: Sequence[str] = ()) -> Node | None:
    targets = {e.target for e in graph.edges if e.source not in exclude}
    found = [n for n in graph.nodes.values() if n.id not in exclude and n.id not in targets]
    return found[0] if len(found) == 1 else None


def _last(graph: Graph, exclude: Sequence[str] = ()) -> Node | None:
    sources = {e.source for e in graph.edges if e.target not in exclude}
    found = [n for n in graph.nodes.values() if n.id not in exclude and n.id not in sources]
    return found[0] if len(found) == 1 else None


@dataclass
class Graph:
    """Nodes by id and the edges between them, as ``CompiledStateGraph.get_graph()``
    returns them."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.nodes)

    # -- building ----------------------------------------------------------------------
    def next_id(self) -> str:
        return uuid4().hex

    def add_node(self, data: Any, id: str | None = None, *, metadata: dict[str, Any] | None = None) -> Node:
        """Add a node; raises ``ValueError`` if ``id`` is taken."""
        if id is not None and id in self.nodes:
            raise ValueError(f"Node with id {id} already exists")
        node_id = id or self.next_id()
        name = node_id if (not _is_uuid(node_id) or data is None) else _data_name(data)
        node = Node(node_id, name, data, metadata)
        self.nodes[node_id] = node
        return node

    def remove_node(self, node: Node) -> None:
        """Remove a node and every edge touching it."""
        self.nodes.pop(node.id)
        self.edges = [e for e in self.edges if node.id not in (e.source, e.target)]

    def add_edge(self, source: Node, target: Node, data: Any = None, conditional: bool = False) -> Edge:
        """Add an edge between two nodes of this graph."""
        for end, role in ((source, "Source"), (target, "Target")):
            if end.id not in self.nodes:
                raise ValueError(f"{role} node {end.id} not in graph")
        edge = Edge(source.id, target.id, data, conditional)
        self.edges.append(edge)
        return edge

    def extend(self, graph: Graph, *, prefix: str = "") -> tuple[Node | None, Node | None]:
        """Copy in another graph's nodes and edges, ids prefixed ``prefix:``; returns that
        graph's (prefixed) first and last nodes. The graphs are not connected."""
        if graph.nodes and all(_is_uuid(n) for n in graph.nodes):
            prefix = ""

        def pre(node_id: str) -> str:
            return f"{prefix}:{node_id}" if prefix else node_id

        self.nodes.update({pre(k): v.copy(id=pre(k)) for k, v in graph.nodes.items()})
        self.edges.extend(e.copy(source=pre(e.source), target=pre(e.target)) for e in graph.edges)
        first, last = graph.first_node(), graph.last_node()
        return (
            first.copy(id=pre(first.id)) if first else None,
            last.copy(id=pre(last.id)) if last else None,
        )

    def reid(self) -> Graph:
        """A copy whose generated (uuid) ids are replaced by readable, unique names."""
        by_name: dict[str, list[str]] = {}
        for node in self.nodes.values():
            by_name.setdefault(node.name, []).append(node.id)
        label = {
            nid: name if len(ids) == 1 else f"{name}_{i + 1}"
            for name, ids in by_name.items()
            for i, nid in enumerate(ids)
        }

        def new(nid: str) -> str:
            return label[nid] if _is_uuid(nid) else nid

        return Graph(
            nodes={new(k): v.copy(id=new(k)) for k, v in self.nodes.items()},
            edges=[e.copy(source=new(e.source), target=new(e.target)) for e in self.edges],
        )

    # -- shape -------------------------------------------------------------------------
    def first_node(self) -> Node | None:
        """The one node no edge leads to (``__start__``), or None if there isn't exactly one."""
        return _first(self)

    def last_node(self) -> Node | None:
        """The one node no edge leaves (``__end__``), or None if there isn't exactly one."""
        return _last(self)

    def trim_first_node(self) -> None:
        """Drop the first node when it has one outgoing edge and another node would be first."""
        first = self.first_node()
        if first and _first(self, exclude=[first.id]) and len(
            {e for e in self.edges if e.source == first.id}
        ) == 1:
            self.remove_node(first)

    def trim_last_node(self) -> None:
        """Drop the last node when it has one incoming edge and another node would be last."""
        last = self.last_node()
        if last and _last(self, exclude=[last.id]) and len(
            {e for e in self.edges if e.target == last.id}
        ) == 1:
            self.remove_node(last)

    def to_json(self, *, with_schemas: bool = False) -> dict[str, list[dict[str, Any]]]:
        """Nodes and edges as JSON-ready dicts, in the shape LangGraph's server returns."""
        ids: dict[str, Any] = {
            n.id: (i if _is_uuid(n.id) else n.id) for i, n in enumerate(self.nodes.values())
        }
        edges: list[dict[str, Any]] = []
        for e in self.edges:
            item: dict[str, Any] = {"source": ids[e.source], "target": ids[e.target]}
            if e.data is not None:
                item["data"] = e.data
            if e.conditional:
                item["conditional"] = True
            edges.append(item)
        nodes = [{"id": ids[n.id], **_data_json(n, with_schemas)} for n in self.nodes.values()]
        return {"nodes": nodes, "edges": edges}

    # -- drawing -----------------------------------------------------------------------
    def draw_mermaid(
        self,
        *,
        with_styles: bool = True,
        curve_style: Any = CurveStyle.LINEAR,
        node_colors: NodeStyles | None = None,
        wrap_label_n_words: int = 9,
        frontmatter_config: dict[str, Any] | None = None,
    ) -> str:
        """Mermaid flowchart text, in LangGraph's format: plain edges ``-->``, conditional
        ones dashed (``-.->``, labelled ``-. label .->``), subgraphs as ``subgraph`` blocks."""
        from actorgraph.draw._mermaid import draw_mermaid

        graph = self.reid()
        first, last = graph.first_node(), graph.last_node()
        return draw_mermaid(
            graph.nodes,
            graph.edges,
            first_node=first.id if first else None,
            last_node=last.id if last else None,
            with_styles=with_styles,
            curve_style=curve_style,
            node_styles=node_colors,
            wrap_label_n_words=wrap_label_n_words,
            frontmatter_config=frontmatter_config,
        )

    def draw_mermaid_png(
        self,
        *,
        curve_style: Any = CurveStyle.LINEAR,
        node_colors: NodeStyles | None = None,
        wrap_label_n_words: int = 9,
        output_file_path: str | None = None,
        draw_method: Any = MermaidDrawMethod.API,
        background_color: str = "white",
        padding: int = 10,
        max_retries: int = 1,
        retry_delay: float = 1.0,
        frontmatter_config: dict[str, Any] | None = None,
        base_url: str | None = None,
        proxies: dict[str, str] | None = None,
    ) -> bytes:
        """A PNG of the graph, rendered on this machine: by mermaid-cli (``mmdc`` on PATH)
        from the Mermaid text, else by Graphviz (as ``draw_png``), so the usual notebook
        line ``Image(graph.get_graph().draw_mermaid_png())`` works with either installed.

        Unlike LangGraph, never sends the graph to mermaid.ink or any other service:
        ``draw_method``, ``base_url``, ``proxies`` and the retry options are accepted and
        ignored. Raises ``RendererNotFoundError`` when neither renderer is installed.
        """
        from actorgraph.draw._graphviz import render_dot
        from actorgraph.draw._mermaid import MMDC_MISSING, has_mmdc, render_mermaid_png

        if has_mmdc():
            text = self.draw_mermaid(
                curve_style=curve_style,
                node_colors=node_colors,
                wrap_label_n_words=wrap_label_n_words,
                frontmatter_config=frontmatter_config,
            )
            return render_mermaid_png(text, output_file_path, background_color, padding)
        try:
            image = render_dot(self.draw_dot(), "png")
        except RendererNotFoundError:
            raise RendererNotFoundError(MMDC_MISSING) from None
        if output_file_path is not None:
            with open(output_file_path, "wb") as f:
                f.write(image)
        return image

    def draw_ascii(self) -> str:
        """A plain-text picture for terminals: the nodes in layers, from ``__start__``
        down, each followed by its outgoing edges."""
        from actorgraph.draw._ascii import draw_ascii

        return draw_ascii(self.nodes, self.edges)

    def print_ascii(self) -> None:
        """Print ``draw_ascii()``."""
        print(self.draw_ascii())  # noqa: T201

    def draw_dot(self, *, fontname: str | None = None, labels: dict[str, Any] | None = None) -> str:
        """Graphviz DOT source for the graph (what ``draw_png``/``draw_svg`` render)."""
        from actorgraph.draw._graphviz import to_dot

        return to_dot(self.nodes, self.edges, fontname=fontname, labels=labels)

    def draw_png(
        self,
        output_file_path: str | None = None,
        fontname: str | None = None,
        labels: dict[str, Any] | None = None,
    ) -> bytes | None:
        """PNG bytes rendered locally with Graphviz, or None after writing them to
        ``output_file_path``. Raises ``RendererNotFoundError`` when Graphviz is missing."""
        return self._render("png", output_file_path, fontname, labels)

    def draw_svg(
        self,
        output_file_path: str | None = None,
        fontname: str | None = None,
        labels: dict[str, Any] | None = None,
    ) -> str | None:
        """SVG text rendered locally with Graphviz, or None after writing it to
        ``output_file_path``. Raises ``RendererNotFoundError`` when Graphviz is missing."""
        out = self._render("svg", output_file_path, fontname, labels)
        return out.decode("utf-8") if out is not None else None

    def _render(self, fmt: str, path: str | None, fontname: str | None, labels: Any) -> bytes | None:
        from actorgraph.draw._graphviz import render_dot

        image = render_dot(self.draw_dot(fontname=fontname, labels=labels), fmt)
        if path is None:
            return image
        with open(path, "wb") as f:
            f.write(image)
        return None

