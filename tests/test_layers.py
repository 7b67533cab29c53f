"""Dependencies flow one way: channels <- actors <- graph/func <- server, persistence is
reached through a protocol, and only the public re-export modules sit on top. The server
is a client of the public API: it never imports the actors, and nothing imports it."""

from __future__ import annotations

import ast
from pathlib import Path

import actorgraph

ROOT = Path(actorgraph.__file__).parent

BOTTOM = {
    "actorgraph._constants",
    "actorgraph._types",
    "actorgraph._runtime",
    "actorgraph._schema_values",
    "actorgraph._cache_key",
    "actorgraph._config_types",
    "actorgraph._message_types",
    "actorgraph._stream_types",
    "actorgraph._jsonschema",
    "actorgraph._typevars",
    "actorgraph._callbacks",
    "actorgraph.errors",
    "actorgraph.warnings",
}
# package -> packages it may import from (besides the bottom layer)
ALLOWED = {
    "channels": set(),
    "draw": set(),
    # transformers over a run's stream parts: they know nothing of the engine
    "stream": set(),
    "persistence": {"channels"},
    "actors": {"channels", "persistence", "stream"},
    "pregel": {"channels", "actors", "persistence", "draw", "stream"},
    "graph": {"channels", "actors", "persistence", "draw", "stream", "pregel"},
    "func": {"channels", "actors", "persistence", "draw", "stream", "pregel"},
    "prebuilt": {"channels", "actors", "persistence", "graph", "func", "draw", "stream", "pregel"},
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _runtime_imports(path: Path) -> list[tuple[int, str]]:
    """Modules imported at run time (imports under ``if TYPE_CHECKING:`` don't count)."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and getattr(child.test, "id", None) == "TYPE_CHECKING":
                continue
            if isinstance(child, ast.Import):
                found.extend((child.lineno, a.name) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.append((child.lineno, child.module))
            visit(child)

    visit(tree)
    return [(line, m) for line, m in found if m == "actorgraph" or m.startswith("actorgraph.")]


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in ALLOWED:
        return parts[1]
    return None


def test_no_import_points_back_up() -> None:
    violations = []
    for path in sorted(ROOT.rglob("*.py")):
        module = _module_name(path)
        layer = _layer(module)
        if module in BOTTOM:
            for line, imported in _runtime_imports(path):
                if imported not in BOTTOM:
                    violations.append(f"{module}:{line} (bottom layer) imports {imported}")
            continue
        if layer is None:
            continue  # public re-export modules and examples sit on top
        for line, imported in _runtime_imports(path):
            if imported in BOTTOM:
                continue
            target = _layer(imported)
            if target == layer or target in ALLOWED[layer]:
                continue
            violations.append(f"{module}:{line} ({layer}) imports {imported}")
    assert not violations, "imports that point back up the layers:\n" + "\n".join(violations)


# the server sits on top: it may import any public module (the LangGraph-compatible paths
# such as actorgraph.checkpoint.sqlite.aio) but not the engine's insides
SERVER_FORBIDDEN = ("actorgraph.actors", "actorgraph.persistence", "actorgraph.channels._")


def test_the_server_uses_only_the_public_api_and_nothing_imports_it() -> None:
    violations = []
    for path in sorted(ROOT.rglob("*.py")):
        module = _module_name(path)
        in_server = module == "actorgraph.server" or module.startswith("actorgraph.server.")
        for line, imported in _runtime_imports(path):
            if in_server and imported.startswith(SERVER_FORBIDDEN):
                violations.append(f"{module}:{line} (server) imports the engine's insides: {imported}")
            if not in_server and (imported == "actorgraph.server" or imported.startswith("actorgraph.server.")):
                violations.append(f"{module}:{line} imports the server, which sits on top: {imported}")
    assert (ROOT / "server").is_dir(), "actorgraph/server is missing"
    assert not violations, "\n".join(violations)


def test_the_check_sees_a_violation(tmp_path: Path) -> None:
    """The import scanner itself finds imports (so the test above can fail)."""
    sample = tmp_path / "m.py"
    sample.write_text("from actorgraph.graph import StateGraph\nif TYPE_CHECKING:\n    import actorgraph.func\n")
    assert [m for _, m in _runtime_imports(sample)] == ["actorgraph.graph"]
