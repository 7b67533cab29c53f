"""``Command`` is a LangChain ``ToolOutputMixin`` whenever LangChain is loaded (so a
LangChain tool hands a returned Command to the graph instead of stringifying it), while
importing actorgraph never imports LangChain; only ``actorgraph.prebuilt`` needs it."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_importing_actorgraph_does_not_import_langchain() -> None:
    out = _run(
        """
        import sys
        import actorgraph.graph, actorgraph.types
        print(sorted(m for m in sys.modules if m.startswith("langchain")))
        """
    )
    assert out == "[]"


def test_command_is_a_tool_output_when_langchain_is_imported_after_actorgraph() -> None:
    out = _run(
        """
        from actorgraph.types import Command
        from langchain_core.tools import tool
        from langchain_core.messages.tool import ToolOutputMixin

        @tool
        def hand_off(to: str):
            \"\"\"Hand off.\"\"\"
            return Command(goto=to)

        result = hand_off.invoke({"name": "hand_off", "args": {"to": "bob"}, "id": "1", "type": "tool_call"})
        print(isinstance(Command(), ToolOutputMixin), type(result).__name__, result.goto)
        """
    )
    assert out == "True Command bob"


def test_command_is_a_tool_output_when_langchain_was_imported_first() -> None:
    out = _run(
        """
        import langchain_core.tools
        from langchain_core.messages.tool import ToolOutputMixin
        from actorgraph.types import Command
        print(isinstance(Command(update={"x": 1}), ToolOutputMixin))
        """
    )
    assert out == "True"


def test_without_langchain_actorgraph_runs_and_command_is_plain() -> None:
    out = _run(
        """
        import sys
        sys.modules["langchain_core"] = None  # as if it weren't installed
        from typing_extensions import TypedDict
        from actorgraph.graph import START, StateGraph
        from actorgraph.types import Command

        class S(TypedDict):
            x: int

        g = StateGraph(S).add_node("n", lambda s: Command(update={"x": s["x"] + 1})).add_edge(START, "n").compile()
        print(g.invoke({"x": 1})["x"], [c.__name__ for c in Command.__mro__])
        """
    )
    assert out == "2 ['Command', 'Generic', 'object']"


def test_prebuilt_without_langchain_says_what_to_install() -> None:
    out = _run(
        """
        import sys
        sys.modules["langchain_core"] = None
        try:
            import actorgraph.prebuilt
        except ImportError as e:
            print(str(e))
        """
    )
    assert "install langchain-core" in out
