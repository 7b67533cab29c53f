"""The shapes of ``version="v2"`` stream parts and of ``invoke(..., version="v2")``'s
result: typed dicts discriminated by ``type``, and ``GraphOutput``. Types only (and
``GraphOutput``'s dict-style access); the engine builds plain dicts of these shapes."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from typing_extensions import NotRequired, TypeAliasType, TypedDict

from actorgraph._constants import INTERRUPT
from actorgraph._types import Interrupt
from actorgraph.warnings import LangGraphDeprecatedSinceV11

__all__ = (
    "MESSAGES_V2_FLAG",
    "CheckpointPayload",
    "CheckpointStreamPart",
    "CheckpointTask",
    "CustomStreamPart",
    "DebugPayload",
    "DebugStreamPart",
    "GraphOutput",
    "MessagesStreamPart",
    "StreamPart",
    "TaskPayload",
    "TaskResultPayload",
    "TasksStreamPart",
    "UpdatesStreamPart",
    "ValuesStreamPart",
)

MESSAGES_V2_FLAG = "__pregel_stream_messages_v2"
"""Configurable key (LangGraph's name) by which a ``stream_events(version="v3")`` run asks
its ``version="v2"`` stream for chat-model protocol events (``message-start``,
``content-block-*`` ...) on ``messages`` instead of token chunks."""

StateT = TypeVar("StateT")
OutputT = TypeVar("OutputT")


class TaskPayload(TypedDict):
    """A task start (``tasks`` stream, ``debug`` ``task`` events)."""

    id: str
    name: str
    input: Any
    triggers: list[str]
    metadata: NotRequired[dict[str, Any]]
    """The task's user metadata (config metadata without the ``langgraph_*`` and
    checkpoint keys, plus its ``tags``), when there is any."""


class TaskResultPayload(TypedDict):
    """A task result (``tasks`` stream, ``debug`` ``task_result`` events)."""

    id: str
    name: str
    error: Any
    """The exception the task failed with, or ``None``."""
    interrupts: list[dict[str, Any]]
    result: dict[str, Any]
    """The state keys the task wrote, with their values."""


class CheckpointTask(TypedDict):
    """A task of a checkpoint payload: ``error`` if it failed, ``result`` if it finished,
    ``interrupts`` while it waits."""

    id: str
    name: str
    error: NotRequired[str]
    interrupts: NotRequired[list[dict[str, Any]]]
    state: NotRequired[Any]
    result: NotRequired[dict[str, Any]]


class CheckpointPayload(TypedDict, Generic[StateT]):
    """A saved checkpoint (``checkpoints`` stream), as ``get_state`` shows it."""

    config: Any
    metadata: Any
    values: StateT
    next: list[str]
    parent_config: Any
    tasks: list[CheckpointTask]


class _DebugCheckpointPayload(TypedDict, Generic[StateT]):
    step: int
    timestamp: str
    type: Literal["checkpoint"]
    payload: CheckpointPayload[StateT]


class _DebugTaskPayload(TypedDict):
    step: int
    timestamp: str
    type: Literal["task"]
    payload: TaskPayload


class _DebugTaskResultPayload(TypedDict):
    step: int
    timestamp: str
    type: Literal["task_result"]
    payload: TaskResultPayload


DebugPayload = TypeAliasType(
    "DebugPayload",
    _DebugCheckpointPayload[StateT] | _DebugTaskPayload | _DebugTaskResultPayload,
    type_params=(StateT,),
)
"""A ``debug`` event: discriminate on ``type``."""


class ValuesStreamPart(TypedDict, Generic[OutputT]):
    """``values``: the output state after a step (a pydantic model or dataclass when the
    output schema is one); ``interrupts`` holds the pauses instead of ``__interrupt__``."""

    type: Literal["values"]
    ns: tuple[str, ...]
    data: OutputT
    interrupts: tuple[Interrupt, ...]


class UpdatesStreamPart(TypedDict):
    """``updates``: ``{node: update}`` (plus ``__interrupt__`` / ``__metadata__``)."""

    type: Literal["updates"]
    ns: tuple[str, ...]
    data: dict[str, Any]


class MessagesStreamPart(TypedDict):
    """``messages``: ``(message or token chunk, metadata)``."""

    type: Literal["messages"]
    ns: tuple[str, ...]
    data: tuple[Any, dict[str, Any]]


class CustomStreamPart(TypedDict):
    """``custom``: whatever a node sent through its stream writer."""

    type: Literal["custom"]
    ns: tuple[str, ...]
    data: Any


class CheckpointStreamPart(TypedDict, Generic[StateT]):
    """``checkpoints``: a checkpoint just saved."""

    type: Literal["checkpoints"]
    ns: tuple[str, ...]
    data: CheckpointPayload[StateT]


class TasksStreamPart(TypedDict):
    """``tasks``: a task start (``triggers`` present) or result (``result`` present)."""

    type: Literal["tasks"]
    ns: tuple[str, ...]
    data: TaskPayload | TaskResultPayload


class DebugStreamPart(TypedDict, Generic[StateT]):
    """``debug``: checkpoints and task events with step and timestamp."""

    type: Literal["debug"]
    ns: tuple[str, ...]
    data: DebugPayload[StateT]


StreamPart = TypeAliasType(
    "StreamPart",
    ValuesStreamPart[OutputT]
    | UpdatesStreamPart
    | MessagesStreamPart
    | CustomStreamPart
    | CheckpointStreamPart[StateT]
    | TasksStreamPart
    | DebugStreamPart[StateT],
    type_params=(StateT, OutputT),
)
"""Any ``version="v2"`` stream part; ``part["type"]`` narrows it."""


class GraphOutputDeprecationWarning(LangGraphDeprecatedSinceV11):
    """Reading a ``GraphOutput`` like a dict: use ``.value`` / ``.interrupts``."""


@dataclass(frozen=True)
class GraphOutput(Generic[OutputT]):
    """What ``invoke(..., version="v2")`` returns: the output ``value`` (a dict, or the
    output schema's model/dataclass) and the ``interrupts`` that paused the run."""

    value: OutputT
    interrupts: tuple[Interrupt, ...] = ()

    def __getitem__(self, key: str) -> Any:
        """Dict-style access, as a v1 result allows (deprecated)."""
        warnings.warn(
            "Accessing GraphOutput via `result[key]` is deprecated. Use `result.value` to access "
            "the output value directly, or `result.interrupts` for interrupts.",
            GraphOutputDeprecationWarning,
            stacklevel=2,
        )
        if key == INTERRUPT:
            return self.interrupts
        value: Any = self.value
        if isinstance(value, dict):
            return value[key]
        try:
            return getattr(value, key)
        except AttributeError:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        warnings.warn(
            "Accessing GraphOutput via `key in result` is deprecated. Use `result.value` to access "
            "the output value directly, or `result.interrupts` for interrupts.",
            GraphOutputDeprecationWarning,
            stacklevel=2,
        )
        if key == INTERRUPT:
            return bool(self.interrupts)
        value: Any = self.value
        if isinstance(value, dict):
            return key in value
        return isinstance(key, str) and hasattr(value, key)
