"""Images of a graph, rendered on this machine by Graphviz: DOT source written here, laid
out by the ``dot`` program (or the ``pygraphviz``/``graphviz`` packages when installed).
Without Graphviz, a ``RendererNotFoundError`` says what to install - nothing is sent to a
web service."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from actorgraph._constants import END, START
from actorgraph.draw._drawable import DrawingError, RendererNotFoundError

if TYPE_CHECKING:
    from actorgraph.draw._drawable import Edge, Node

__all__ = ("render_dot", "to_dot")

_FILL = "#f2f0ff"
_LAST_FILL = "#bfb6fc"


def _q(text: Any) -> str:
    """A DOT double-quoted string."""
    s = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{s}"'


def to_dot(
    nodes: Mapping[str, Node],
    edges: list[Edge],
    *,
    fontname: str | None = None,
    labels: Mapping[str, Any] | None = None,
) -> str:
    """DOT source: rounded boxes, ``__start__``/``__end__`` as ovals, conditional edges
    dashed, each subgraph (``child:...`` ids) a labelled cluster. ``labels`` takes
    LangGraph's ``{"nodes": {id: text}, "edges": {label: text}}`` overrides."""
    node_labels = dict((labels or {}).get("nodes") or {})
    edge_labels = dict((labels or {}).get("edges") or {})
    font = f" fontname={_q(fontname)}" if fontname else ""
    lines = [
        "digraph G {",
        f"\tgraph [rankdir=TB{font}];",
        f'\tnode [shape=box style="rounded,filled" fillcolor={_q(_FILL)}{font}];',
        f"\tedge [fontsize=10{font}];",
    ]

    def node_stmt(key: str, node: Node) -> str:
        name = node.name.split(":")[-1]
        attrs = f"label={_q(node_labels.get(key, name))}"
        if name == START:
            attrs += ' shape=oval fillcolor="white"'
        elif name == END:
            attrs += f" shape=oval fillcolor={_q(_LAST_FILL)}"
        return f"{_q(key)} [{attrs}];"

    # clusters nest by id prefix: "a:b:c" lives in cluster "a:b", itself in cluster "a"
    members: dict[str, list[str]] = {}
    for key in nodes:
        members.setdefault(key.rsplit(":", 1)[0] if ":" in key else "", []).append(key)
    children: dict[str, list[str]] = {}
    for prefix in list(members):
        while prefix:
            parent = prefix.rsplit(":", 1)[0] if ":" in prefix else ""
            kids = children.setdefault(parent, [])
            if prefix in kids:
                break
            kids.append(prefix)
            prefix = parent

    def cluster(prefix: str, indent: str) -> None:
        for key in members.get(prefix, ()):
            lines.append(indent + node_stmt(key, nodes[key]))
        for kid in children.get(prefix, ()):
            lines.append(f"{indent}subgraph {_q('cluster_' + kid)} {{")
            lines.append(f'{indent}\tlabel={_q(kid.rsplit(":", 1)[-1])}; style="rounded,dashed";')
            cluster(kid, indent + "\t")
            lines.append(f"{indent}}}")

    cluster("", "\t")
    for e in edges:
        attrs = []
        if e.conditional:
            attrs.append("style=dashed")
        if e.data is not None:
            attrs.append(f"label={_q(edge_labels.get(e.data, e.data))}")
        tail = f" [{' '.join(attrs)}]" if attrs else ""
        lines.append(f"\t{_q(e.source)} -> {_q(e.target)}{tail};")
    lines.append("}")
    return "\n".join(lines) + "\n"


_INSTALL = (
    "Drawing a {fmt} image needs Graphviz on this machine, and none was found: no `dot` "
    "program on PATH, no `pygraphviz` or `graphviz` package. Install Graphviz "
    "(`apt-get install graphviz`, `brew install graphviz`, `choco install graphviz`), or "
    "`pip install pygraphviz`. draw_mermaid() and draw_ascii() need nothing installed."
)


def render_dot(source: str, fmt: str) -> bytes:
    """Lay out and render DOT ``source`` as ``fmt`` (png, svg, ...) with local Graphviz."""
    dot = shutil.which("dot")
    if dot is not None:
        try:
            proc = subprocess.run(
                [dot, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, timeout=120, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DrawingError(f"Graphviz ({dot}) could not render the graph as {fmt}: {exc}") from exc
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip()
            raise DrawingError(f"Graphviz ({dot}) failed with exit code {proc.returncode}: {err}")
        return proc.stdout
    try:
        import pygraphviz  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        try:
            return bytes(pygraphviz.AGraph(string=source).draw(format=fmt, prog="dot"))
        except Exception as exc:
            raise DrawingError(f"pygraphviz could not render the graph as {fmt}: {exc}") from exc
    try:
        import graphviz  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        try:
            return bytes(graphviz.Source(source).pipe(format=fmt))
        except graphviz.ExecutableNotFound:
            pass  # the package without the program: same as no Graphviz at all
        except Exception as exc:
            raise DrawingError(f"graphviz could not render the graph as {fmt}: {exc}") from exc
    raise RendererNotFoundError(_INSTALL.format(fmt=fmt.upper()))
