"""``PregelProtocol``: what every runnable graph offers (compiled graphs, ``Pregel``,
remote graphs), and ``StreamProtocol``, a stream sink with the modes it wants."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, Generic

from typing_extensions import TypeVar

from actorgraph._types import StateSnapshot, StateUpdate

__all__ = ("ContextT", "InputT", "OutputT", "PregelProtocol", "StateT", "StreamChunk", "StreamProtocol")

# LangGraph's order and defaults: CompiledStateGraph[State] is [State, None, State, State]
StateT = TypeVar("StateT")
ContextT = TypeVar("ContextT", default=None)
InputT = TypeVar("InputT", default=StateT)
OutputT = TypeVar("OutputT", default=StateT)


class PregelProtocol(ABC, Generic[StateT, ContextT, InputT, OutputT]):
    """The interface of a runnable graph: run it, stream it, read and edit its threads."""

    @abstractmethod
    def with_config(self, config: Any = None, **kwargs: Any) -> Any: ...

    @abstractmethod
    def get_graph(self, config: Any = None, *, xray: int | bool = False) -> Any: ...

    @abstractmethod
    async def aget_graph(self, config: Any = None, *, xray: int | bool = False) -> Any: ...

    @abstractmethod
    def get_state(self, config: Any, *, subgraphs: bool = False) -> StateSnapshot: ...

    @abstractmethod
    async def aget_state(self, config: Any, *, subgraphs: bool = False) -> StateSnapshot: ...

    @abstractmethod
    def get_state_history(
        self, config: Any, *, filter: dict[str, Any] | None = None, before: Any = None, limit: int | None = None
    ) -> Iterator[StateSnapshot]: ...

    @abstractmethod
    def aget_state_history(
        self, config: Any, *, filter: dict[str, Any] | None = None, before: Any = None, limit: int | None = None
    ) -> AsyncIterator[StateSnapshot]: ...

    @abstractmethod
    def bulk_update_state(self, config: Any, supersteps: Sequence[Sequence[StateUpdate]]) -> Any: ...

    @abstractmethod
    async def abulk_update_state(self, config: Any, supersteps: Sequence[Sequence[StateUpdate]]) -> Any: ...

    @abstractmethod
    def update_state(self, config: Any, values: Any, as_node: str | None = None) -> Any: ...

    @abstractmethod
    async def aupdate_state(self, config: Any, values: Any, as_node: str | None = None) -> Any: ...

    @abstractmethod
    def stream(self, input: Any, config: Any = None, **kwargs: Any) -> Iterator[Any]: ...

    @abstractmethod
    def astream(self, input: Any, config: Any = None, **kwargs: Any) -> AsyncIterator[Any]: ...

    @abstractmethod
    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any: ...

    @abstractmethod
    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any: ...


StreamChunk = tuple[tuple[str, ...], str, Any]
"""(namespace, mode, payload)."""


class StreamProtocol:
    """A stream sink: called with each chunk of the ``modes`` it wants."""

    __slots__ = ("modes", "__call__")

    def __init__(self, __call__: Callable[[StreamChunk], None], modes: set[str]) -> None:
        self.__call__ = __call__  # type: ignore[method-assign]
        self.modes = modes
