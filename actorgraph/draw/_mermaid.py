"""Mermaid flowchart text for a drawable graph, in the format LangGraph produces (so a
diagram pasted into docs or a notebook looks the same), and a local-only PNG renderer
(mermaid-cli). The YAML front matter is written here: no PyYAML dependency."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import string
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actorgraph.draw._drawable import DrawingError, NodeStyles, RendererNotFoundError

if TYPE_CHECKING:
    from actorgraph.draw._drawable import Edge, Node

__all__ = ("MMDC_MISSING", "draw_mermaid", "has_mmdc", "render_mermaid_png", "safe_id")

_SAFE = frozenset(string.ascii_letters + string.digits + "_-")
_MARKDOWN = tuple("*_`")
_ESCAPES = (
    ("#", "#35;"),  # first: the other escapes introduce '#'
    ("[", "#91;"),
    ("]", "#93;"),
    ("(", "#40;"),
    (")", "#41;"),
    ("{", "#123;"),
    ("}", "#125;"),
    ('"', "#quot;"),
    ("<", "#60;"),
    (">", "#62;"),
    ("|", "#124;"),
)


def safe_id(node_id: str) -> str:
    """A Mermaid-safe id: ``[A-Za-z0-9_-]`` kept, anything else as ``\\<hex code>``, so
    ``child:c1`` becomes ``child\\3ac1`` and distinct ids stay distinct."""
    return "".join(ch if ch in _SAFE else f"\\{ord(ch):x}" for ch in node_id)


def _escape(text: str) -> str:
    for ch, entity in _ESCAPES:
        text = text.replace(ch, entity)
    return text


def _metadata_lines(metadata: Mapping[str, Any]) -> list[str]:
    """``key = value`` for scalar values and flat collections of scalars; the rest skipped."""
    scalars = (str, int, float, bool)
    lines = []
    for key, value in metadata.items():
        if isinstance(value, scalars):
            text = str(value)
        elif isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, scalars) for v in value):
            items = [str(v) for v in value]
            text = ", ".join(sorted(items) if isinstance(value, (set, frozenset)) else items)
        else:
            continue
        lines.append(_escape(f"{key} = {text}"))
    return lines


# -- YAML front matter ------------------------------------------------------------------
_YAML_WORDS = frozenset({"yes", "no", "true", "false", "on", "off", "null", "~"})
_PLAIN = re.compile(r"[A-Za-z_/][\w ./'()+-]*")
_NUMBER = re.compile(r"[-+]?(\d[\d_]*)?\.?\d*([eE][-+]?\d+)?")


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(getattr(value, "value", value))
    if "\n" in text:
        return json.dumps(text)
    plain = (
        _PLAIN.fullmatch(text) is not None
        and not text.endswith(" ")
        and text.lower() not in _YAML_WORDS
        and _NUMBER.fullmatch(text) is None
    )
    return text if plain else "'" + text.replace("'", "''") + "'"


def _yaml_lines(value: Any, indent: str) -> list[str]:
    """Block-style YAML with sorted keys, as ``yaml.dump(default_flow_style=False)``."""
    lines: list[str] = []
    if isinstance(value, Mapping):
        for key in sorted(value, key=str):
            item = value[key]
            head = f"{indent}{_yaml_scalar(key)}:"
            if isinstance(item, Mapping) and item:
                lines.append(head)
                lines.extend(_yaml_lines(item, indent + "  "))
            elif isinstance(item, (list, tuple)) and item:
                lines.append(head)
                lines.extend(_yaml_lines(item, indent))
            else:
                lines.append(f"{head} {_yaml_inline(item)}")
    else:
        for item in value:
            if isinstance(item, (Mapping, list, tuple)) and item:
                nested = _yaml_lines(item, indent + "  ")
                lines.append(f"{indent}- {nested[0].lstrip()}")
                lines.extend(nested[1:])
            else:
                lines.append(f"{indent}- {_yaml_inline(item)}")
    return lines


def _yaml_inline(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, (list, tuple)):
        return "[]"
    return _yaml_scalar(value)


def _front_matter(config: Mapping[str, Any] | None, curve: str) -> str:
    config = dict(config or {})
    inner = dict(config.get("config") or {})
    inner["flowchart"] = {**(inner.get("flowchart") or {}), "curve": curve}
    config["config"] = inner
    return "---\n" + "\n".join(_yaml_lines(config, "")) + "\n---\n"


def _styles(node_styles: Any) -> dict[str, str]:
    if node_styles is None:
        node_styles = NodeStyles()
    if dataclasses.is_dataclass(node_styles) and not isinstance(node_styles, type):
        return dict(dataclasses.asdict(node_styles))
    return {str(k): str(v) for k, v in dict(node_styles).items()}


# -- the flowchart ----------------------------------------------------------------------
def _parent(node_id: str) -> str:
    return node_id.rsplit(":", 1)[0] if ":" in node_id else ""


def _edge_group(edge: Edge) -> str:
    """Which block an edge is written in: the deepest subgraph holding both ends. A
    self-loop gets a group of its own, written (as LangGraph does) after its block's
    other edges."""
    if edge.source == edge.target:
        return edge.source
    src, tgt = edge.source.split(":")[:-1], edge.target.split(":")[:-1]
    common: list[str] = []
    for a, b in zip(src, tgt):
        if a != b:
            break
        common.append(a)
    return ":".join(common)


def draw_mermaid(
    nodes: Mapping[str, Node],
    edges: list[Edge],
    *,
    first_node: str | None = None,
    last_node: str | None = None,
    with_styles: bool = True,
    curve_style: Any = "linear",
    node_styles: Any = None,
    wrap_label_n_words: int = 9,
    frontmatter_config: Mapping[str, Any] | None = None,
) -> str:
    """Mermaid ``graph TD`` text for ``nodes`` and ``edges``; ``first_node`` and
    ``last_node`` get the stadium shape and the ``first``/``last`` classes."""
    out: list[str] = []
    if with_styles:
        out.append(_front_matter(frontmatter_config, str(getattr(curve_style, "value", curve_style))))
    out.append("graph TD;\n")

    def node_line(key: str, node: Node) -> str:
        name = node.name.split(":")[-1]
        label = _escape(name)
        if name.startswith(_MARKDOWN) and name.endswith(_MARKDOWN):
            label = f"<p>{label}</p>"
        meta = _metadata_lines(node.metadata or {})
        if meta:
            label += "<hr/><small><em>" + "\n".join(meta) + "</em></small>"
        if key == first_node:
            return f"\t{safe_id(key)}([{label}]):::first\n"
        if key == last_node:
            return f"\t{safe_id(key)}([{label}]):::last\n"
        return f"\t{safe_id(key)}({label})\n"

    def edge_line(edge: Edge) -> str:
        if edge.data is None:
            arrow = " -.-> " if edge.conditional else " --> "
        else:
            words = str(edge.data).split()
            text = str(edge.data)
            if len(words) > wrap_label_n_words:
                text = "&nbsp<br>&nbsp".join(
                    " ".join(words[i : i + wrap_label_n_words])
                    for i in range(0, len(words), wrap_label_n_words)
                )
            arrow = f" -. &nbsp;{text}&nbsp; .-> " if edge.conditional else f" -- &nbsp;{text}&nbsp; --> "
        return f"\t{safe_id(edge.source)}{arrow}{safe_id(edge.target)};\n"

    # blocks: every subgraph prefix (and its ancestors), children in order of first use
    groups: dict[str, list[Edge]] = {}
    for edge in edges:
        groups.setdefault(_edge_group(edge), []).append(edge)
    members: dict[str, list[str]] = {}
    for key in nodes:
        members.setdefault(_parent(key), []).append(key)
    loops = {g for g in groups if g in nodes}
    children: dict[str, list[str]] = {}

    def attach(block: str) -> None:
        parent = _parent(block)
        siblings = children.setdefault(parent, [])
        if block not in siblings:
            siblings.append(block)
            if parent:
                attach(parent)

    for block in [*groups, *members]:
        if block:
            attach(block)

    titles: dict[str, int] = {}
    for block in {b for kids in children.values() for b in kids}:
        if block not in loops:
            title = block.rsplit(":", 1)[-1]
            titles[title] = titles.get(title, 0) + 1

    def write(block: str) -> None:
        wrapped = bool(block) and block not in loops
        body: list[str] = []
        if with_styles and block:
            body.extend(node_line(k, nodes[k]) for k in members.get(block, ()) if block not in loops)
        body.extend(edge_line(e) for e in groups.get(block, ()))
        start = len(out)
        for child in children.get(block, ()):
            write(child)
        nested = out[start:]
        del out[start:]
        if wrapped and not body and not nested:
            return
        if wrapped:
            title = block.rsplit(":", 1)[-1]
            # Mermaid needs unique subgraph ids: a repeated title gets the full path as id
            head = title if titles[title] == 1 else f"{safe_id(block)}[{_escape(title)}]"
            out.append(f"\tsubgraph {head}\n")
        out.extend(body)
        out.extend(nested)
        if wrapped:
            out.append("\tend\n")

    if with_styles:
        out.extend(node_line(k, nodes[k]) for k in members.get("", ()))
    write("")
    if with_styles:
        out.extend(f"\tclassDef {name} {style}\n" for name, style in _styles(node_styles).items())
    return "".join(out)


# -- local PNG --------------------------------------------------------------------------
MMDC_MISSING = (
    "draw_mermaid_png() renders on this machine, and found no renderer: neither mermaid-cli "
    "(`mmdc` on PATH: `npm install -g @mermaid-js/mermaid-cli`) nor Graphviz (`dot` on PATH: "
    "`apt-get install graphviz` or `brew install graphviz`; or `pip install pygraphviz`). "
    "Install either, or paste draw_mermaid() text into any Mermaid viewer. actorgraph never "
    "sends your graph to a web service such as mermaid.ink."
)


def has_mmdc() -> bool:
    return shutil.which("mmdc") is not None


def render_mermaid_png(
    text: str, output_file_path: str | None, background_color: str | None, padding: int
) -> bytes:
    """Render Mermaid text to PNG with mermaid-cli (``mmdc``) on this machine."""
    mmdc = shutil.which("mmdc")
    if mmdc is None:
        raise RendererNotFoundError(MMDC_MISSING)
    with tempfile.TemporaryDirectory(prefix="actorgraph-mermaid-") as tmp:
        src, dst = Path(tmp, "graph.mmd"), Path(tmp, "graph.png")
        src.write_text(text, encoding="utf-8")
        cmd = [mmdc, "-i", str(src), "-o", str(dst), "-b", background_color or "transparent"]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DrawingError(f"mermaid-cli ({mmdc}) could not render the graph: {exc}") from exc
        if proc.returncode != 0 or not dst.exists():
            err = proc.stderr.decode("utf-8", "replace").strip()
            raise DrawingError(f"mermaid-cli ({mmdc}) failed with exit code {proc.returncode}: {err}")
        image = dst.read_bytes()
    if output_file_path is not None:
        Path(output_file_path).write_bytes(image)
    return image
