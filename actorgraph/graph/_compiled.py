"""``CompiledStateGraph``: what ``StateGraph.compile()`` returns - a runnable graph."""

from __future__ import annotations

from typing import Any

from actorgraph.actors._program import Program
from actorgraph.actors._runnable import GraphRunnable

__all__ = ("CompiledStateGraph",)


class CompiledStateGraph(GraphRunnable):
    """A compiled ``StateGraph``: ``invoke``/``ainvoke``, ``stream``/``astream``,
    ``batch``/``abatch``; usable as a node of another graph."""

    def __init__(self, builder: Any, program: Program, name: str) -> None:
        self.builder = builder
        self.program = program
        self.name = name

    @property
    def nodes(self) -> dict[str, Any]:
        """The graph's nodes by name (``__start__`` included, as in LangGraph)."""
        return dict(self.program.nodes)

    @property
    def checkpointer(self) -> Any:
        return self.program.checkpointer

    @property
    def store(self) -> Any:
        return self.program.store

    @property
    def stream_mode(self) -> str:
        return self.program.stream_mode

    def get_name(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<CompiledStateGraph {self.name!r} nodes={list(self.builder.nodes)}>"
