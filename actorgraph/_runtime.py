"""``Runtime``: what a node can ask for besides its state (context, store, stream writer)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

ContextT = TypeVar("ContextT")

__all__ = ("ExecutionInfo", "Runtime", "RunControl", "ServerInfo", "ContextT", "TOOL_CALL_WRITER")


TOOL_CALL_WRITER: ContextVar[Callable[[Any], None] | None] = ContextVar("actorgraph_tool_call_writer", default=None)
"""While a tool call runs under a run that streams ``tools``: the writer of its partial
output (``ToolRuntime.emit_output_delta`` writes through it); ``None`` otherwise."""


def _no_op_writer(_: Any) -> None:
    return None


def _no_op_heartbeat() -> None:
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """Where a node is running: checkpoint, namespace, task and attempt."""

    checkpoint_id: str
    checkpoint_ns: str
    task_id: str
    thread_id: str | None = None
    run_id: str | None = None
    node_attempt: int = 1
    node_first_attempt_time: float | None = None

    def patch(self, **overrides: Any) -> ExecutionInfo:
        return dataclasses.replace(self, **overrides)


@dataclasses.dataclass(frozen=True, slots=True)
class ServerInfo:
    """Which deployed assistant and graph a run belongs to, and who asked for it (set
    when a LangGraph-compatible server runs the graph; ``None`` otherwise)."""

    assistant_id: str
    graph_id: str
    user: Any = None


class RunControl:
    """Lets code outside the graph ask a run to stop at the next step boundary."""

    __slots__ = ("_drain_reason",)

    def __init__(self) -> None:
        self._drain_reason: str | None = None

    def request_drain(self, reason: str = "shutdown") -> None:
        self._drain_reason = reason

    @property
    def drain_requested(self) -> bool:
        return self._drain_reason is not None

    @property
    def drain_reason(self) -> str | None:
        return self._drain_reason


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Runtime(Generic[ContextT]):
    """Run-scoped things injected into nodes that declare a ``runtime`` parameter.

    ``context`` is what the caller passed as ``context=`` (coerced to the graph's
    ``context_schema`` when that is a dataclass or pydantic model).
    """

    context: ContextT = None  # type: ignore[assignment]
    store: Any = None
    stream_writer: Callable[[Any], None] = _no_op_writer
    heartbeat: Callable[[], None] = _no_op_heartbeat
    previous: Any = None
    execution_info: ExecutionInfo | None = None
    server_info: Any = None
    control: RunControl | None = None

    def merge(self, other: Runtime[ContextT]) -> Runtime[ContextT]:
        """``other``'s non-default fields on top of this runtime's."""
        return Runtime(
            context=other.context if other.context is not None else self.context,
            store=other.store if other.store is not None else self.store,
            stream_writer=(
                other.stream_writer if other.stream_writer is not _no_op_writer else self.stream_writer
            ),
            heartbeat=other.heartbeat if other.heartbeat is not _no_op_heartbeat else self.heartbeat,
            previous=other.previous if other.previous is not None else self.previous,
            execution_info=other.execution_info or self.execution_info,
            server_info=other.server_info or self.server_info,
            control=other.control or self.control,
        )

    def override(self, **overrides: Any) -> Runtime[ContextT]:
        return dataclasses.replace(self, **overrides)
