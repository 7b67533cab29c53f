"""``CompiledStateGraph``: what ``StateGraph.compile()`` returns - a runnable graph."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from actorgraph.actors._program import Program
from actorgraph.actors._runnable import GraphRunnable

if TYPE_CHECKING:
    from actorgraph.draw._drawable import Graph

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
    def stream_mode(self) -> str:
        return self.program.stream_mode

    def get_name(self, suffix: str | None = None) -> str:
        return self.name + suffix if suffix else self.name

    @property
    def step_timeout(self) -> float | None:
        """Seconds each super-step may take; a step still running then fails the run with
        ``TimeoutError`` (``None``: no limit)."""
        return self.program.step_timeout

    @step_timeout.setter
    def step_timeout(self, value: float | None) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
            raise ValueError(f"step_timeout must be a positive number of seconds or None, got {value!r}")
        self.program.step_timeout = value

    @property
    def context_schema(self) -> Any:
        return self.builder.context_schema

    # -- schemas (pydantic models and JSON Schema, built as LangGraph builds them) ------
    def _schema_args(self, which: str) -> tuple[Any, Any, Any, str]:
        schema = self.builder.input_schema if which == "Input" else self.builder.output_schema
        return schema, self.builder.schemas[schema], self.builder.channels, self.get_name(which)

    def get_input_schema(self, config: Any = None) -> Any:
        """A pydantic model of what ``invoke`` accepts."""
        from actorgraph._jsonschema import schema_model

        return schema_model(*self._schema_args("Input"))

    def get_output_schema(self, config: Any = None) -> Any:
        """A pydantic model of what ``invoke`` returns."""
        from actorgraph._jsonschema import schema_model

        return schema_model(*self._schema_args("Output"))

    def get_input_jsonschema(self, config: Any = None) -> dict[str, Any]:
        """JSON Schema of what ``invoke`` accepts."""
        from actorgraph._jsonschema import model_jsonschema

        return model_jsonschema(*self._schema_args("Input"))

    def get_output_jsonschema(self, config: Any = None) -> dict[str, Any]:
        """JSON Schema of what ``invoke`` returns."""
        from actorgraph._jsonschema import model_jsonschema

        return model_jsonschema(*self._schema_args("Output"))

    def get_context_jsonschema(self) -> dict[str, Any] | None:
        """JSON Schema of the graph's ``context_schema`` (``None`` without one)."""
        from actorgraph._jsonschema import context_jsonschema

        return context_jsonschema(self.builder.context_schema)

    def clear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Drop the node cache's entries of ``nodes`` (of every node when ``None``)."""
        cache = self.program.cache
        if cache is not None:
            cache.clear(self._cache_namespaces(nodes))

    async def aclear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Async twin of ``clear_cache``."""
        cache = self.program.cache
        if cache is not None:
            await cache.aclear(self._cache_namespaces(nodes))

    def _cache_namespaces(self, nodes: Sequence[str] | None) -> list[tuple[str, ...]]:
        from actorgraph.actors._policies import CACHE_NS, function_identity

        names = list(self.builder.nodes) if nodes is None else list(nodes)
        unknown = [n for n in names if n not in self.program.nodes]
        if unknown:
            raise ValueError(f"clear_cache: unknown node(s) {unknown}; nodes are {sorted(self.builder.nodes)}")
        return [
            (CACHE_NS, function_identity(self.program.nodes[n].call_target), n) for n in names
        ]

    def get_graph(self, config: Any = None, *, xray: int | bool = False) -> Graph:
        """The graph's nodes and edges, to draw: ``.draw_mermaid()``, ``.draw_ascii()``,
        ``.draw_png()``. ``xray=True`` draws subgraphs' nodes in place of the subgraph
        node (``xray=n``: n levels deep)."""
        from actorgraph.graph._draw import build_graph

        return build_graph(self, config, xray)

    async def aget_graph(self, config: Any = None, *, xray: int | bool = False) -> Graph:
        """``get_graph`` for async code (it does no I/O, so it never waits)."""
        return self.get_graph(config, xray=xray)

    def __repr__(self) -> str:
        return f"<CompiledStateGraph {self.name!r} nodes={list(self.builder.nodes)}>"
