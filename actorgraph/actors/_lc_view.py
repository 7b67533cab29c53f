"""A compiled graph inside a LangChain chain: ``graph | other`` and ``other | graph``
build LangChain's ``RunnableSequence`` around ``LangChainView(graph)``, a LangChain
``Runnable`` whose calls are the graph's own (LangChain is imported only here, when a
chain is built)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.base import coerce_to_runnable

__all__ = ("LangChainView", "as_langchain")


class LangChainView(Runnable[Any, Any]):
    """A LangChain ``Runnable`` that runs an actorgraph graph: invoke, stream and their
    async twins call the graph's with the same input, config and keyword arguments."""

    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self.name = graph.name

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self.graph.invoke(input, config, **kwargs)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return await self.graph.ainvoke(input, config, **kwargs)

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        yield from self.graph.stream(input, config, **kwargs)

    async def astream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        async for chunk in self.graph.astream(input, config, **kwargs):
            yield chunk

    def get_graph(self, config: RunnableConfig | None = None) -> Any:
        return self.graph.get_graph(config)


def as_langchain(thing: Any) -> Runnable[Any, Any]:
    """``thing`` as a LangChain runnable: a graph of ours in a view, anything else as
    LangChain coerces it (a function, a dict, a runnable)."""
    from actorgraph.actors._callable import is_our_runnable

    if is_our_runnable(thing):
        return LangChainView(thing)
    return coerce_to_runnable(thing)
