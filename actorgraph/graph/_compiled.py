"""``CompiledStateGraph``: what ``StateGraph.compile()`` returns - a runnable graph."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic

from actorgraph._constants import START
from actorgraph.actors._program import Program
from actorgraph.pregel._pregel import Pregel
from actorgraph.pregel._protocol import ContextT, InputT, OutputT, StateT

if TYPE_CHECKING:
    from actorgraph.draw._drawable import Graph

__all__ = ("CompiledStateGraph",)


class CompiledStateGraph(Pregel[StateT, ContextT, InputT, OutputT], Generic[StateT, ContextT, InputT, OutputT]):
    """A compiled ``StateGraph``: ``invoke``/``ainvoke``, ``stream``/``astream``,
    ``batch``/``abatch``; usable as a node of another graph. A ``Pregel`` whose program
    ``StateGraph.compile()`` built. Typed as LangGraph's:
    ``CompiledStateGraph[State, Context, Input, Output]``."""

    def __init__(self, builder: Any, program: Program, name: str) -> None:
        self.builder = builder
        self.program = program
        self.name = name

    @property
    def nodes(self) -> dict[str, Any]:  # type: ignore[override]
        """The graph's nodes by name (``__start__`` included, as in LangGraph)."""
        return dict(self.program.nodes)

    @property
    def channels(self) -> dict[str, Any]:  # type: ignore[override]
        return dict(self.program.channels)

    @property
    def input_channels(self) -> str:  # type: ignore[override]
        return START

    @property
    def output_channels(self) -> list[str]:  # type: ignore[override]
        return list(self.program.output_keys)

    @property
    def stream_channels(self) -> list[str]:  # type: ignore[override]
        return list(self.program.stream_keys)

    @property
    def context_schema(self) -> Any:  # type: ignore[override]
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
