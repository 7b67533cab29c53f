"""``install_as_langgraph()``: ``import langgraph...`` resolves to actorgraph's modules.

Each case runs in a fresh interpreter: the alias changes the process's import system.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def run(code: str, tmp_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )


def test_langgraph_imports_are_actorgraph_modules() -> None:
    proc = run(
        """
        import actorgraph
        actorgraph.install_as_langgraph()
        import langgraph.types, actorgraph.types
        from langgraph.graph import StateGraph, START
        from actorgraph.graph import StateGraph as AG
        assert langgraph.types is actorgraph.types
        assert StateGraph is AG
        # the module keeps its own identity: name and spec stay actorgraph's
        assert langgraph.types.__name__ == "actorgraph.types"
        assert langgraph.types.__spec__.name == "actorgraph.types"
        from typing_extensions import TypedDict
        class S(TypedDict):
            x: int
        g = StateGraph(S).add_node("a", lambda s: {"x": 1}).add_edge(START, "a").compile()
        print(g.invoke({"x": 0}))
        actorgraph.install_as_langgraph()  # a second call is a no-op
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "{'x': 1}"


def test_a_missing_module_names_both_paths() -> None:
    proc = run(
        """
        import actorgraph
        actorgraph.install_as_langgraph()
        try:
            import langgraph.no_such_module
        except ModuleNotFoundError as e:
            print(e.name, "|", e)
        """
    )
    assert proc.returncode == 0, proc.stderr
    name, _, message = proc.stdout.strip().partition(" | ")
    assert name == "langgraph.no_such_module"
    assert "actorgraph.no_such_module" in message


def test_refuses_when_real_langgraph_is_already_imported(tmp_path: Path) -> None:
    fake = tmp_path / "langgraph"
    fake.mkdir()
    (fake / "__init__.py").write_text("REAL = True\n")
    proc = run(
        """
        import langgraph
        import actorgraph
        try:
            actorgraph.install_as_langgraph()
        except RuntimeError as e:
            print("refused:", e)
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("refused:") and "langgraph" in proc.stdout


def test_passthrough_loads_a_namespace_tool_as_it_is(tmp_path: Path) -> None:
    tool = tmp_path / "src" / "langgraph" / "checkpoint" / "conformance"
    tool.mkdir(parents=True)
    (tool / "__init__.py").write_text("from langgraph.checkpoint.memory import InMemorySaver\nTOOL = 'real'\n")
    (tool / "spec.py").write_text("WHAT = 'submodule'\n")
    proc = run(
        f"""
        import actorgraph
        actorgraph.install_as_langgraph(passthrough={{"langgraph.checkpoint.conformance": {str(tool.parent)!r}}})
        import langgraph.checkpoint.conformance as c
        from langgraph.checkpoint.conformance.spec import WHAT
        import actorgraph.checkpoint.memory
        assert c.InMemorySaver is actorgraph.checkpoint.memory.InMemorySaver
        print(c.TOOL, WHAT)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "real submodule"
