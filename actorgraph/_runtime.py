"""``Runtime``: what a node can ask for besides its state (context, store, stream writer,
where it runs, which server asked for it, and the run's drain control)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

ContextT = TypeVar("ContextT")

__all__ = (
    "BaseUser",
    "DEFAULT_RUNTIME",
    "ExecutionInfo",
    "Runtime",
    "RunControl",
    "ServerInfo",
    "ContextT",
    "TOOL_CALL_WRITER",
    "coerce_parent_runtime",
    "server_info_from",
)


TOOL_CALL_WRITER: ContextVar[Callable[[Any], None] | None] = ContextVar("actorgraph_tool_call_writer", default=None)
"""While a tool call runs under a run that streams ``tools``: the writer of its partial
output (``ToolRuntime.emit_output_delta`` writes through it); ``None`` otherwise."""


def _no_op_writer(_: Any) -> None:
    return None


def _no_op_heartbeat() -> None:
    return None


@runtime_checkable
class BaseUser(Protocol):
    """The authenticated user a LangGraph-compatible server passes to a run: attributes
    (``user.identity``) and mapping access (``user["identity"]``) both work."""

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def display_name(self) -> str: ...

    @property
    def identity(self) -> str: ...

    @property
    def permissions(self) -> Sequence[str]: ...

    def __getitem__(self, key: str) -> Any: ...

    def __contains__(self, key: str) -> bool: ...

    def __iter__(self) -> Iterator[str]: ...


@dataclasses.dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """Where a node is running: checkpoint, namespace, task and attempt.

    ``thread_id`` is ``None`` without a thread, ``run_id`` without a ``run_id`` in the
    config; ``node_attempt`` counts from 1 (retries add one); ``node_first_attempt_time``
    is the Unix time the task's first attempt started."""

    checkpoint_id: str
    checkpoint_ns: str
    task_id: str
    thread_id: str | None = None
    run_id: str | None = None
    node_attempt: int = 1
    node_first_attempt_time: float | None = None

    def patch(self, **overrides: Any) -> ExecutionInfo:
        """A copy with ``overrides`` replacing fields."""
        return dataclasses.replace(self, **overrides)


@dataclasses.dataclass(frozen=True, slots=True)
class ServerInfo:
    """Which deployed assistant and graph a run belongs to, and who asked for it (set
    when a LangGraph-compatible server runs the graph; ``None`` otherwise)."""

    assistant_id: str
    graph_id: str
    user: BaseUser | None = None


class RunControl:
    """Lets code outside the graph (a signal handler, another thread) ask a run to stop.

    ``request_drain(reason)``: the run stops at its next super-step boundary, with
    everything up to there saved, and raises ``GraphDrained(reason)``; invoking the thread
    again with ``None`` goes on from there. One control per run: once drained, it stays
    drained. Safe to call from any thread (a single attribute write).
    """

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
    ``context_schema`` when that is a dataclass or pydantic model); ``heartbeat()``
    counts as progress for an ``idle_timeout``; ``execution_info`` says where the node
    runs; ``server_info`` is set when a server runs the graph; ``control`` is the run's
    ``RunControl``.
    """

    context: ContextT = None  # type: ignore[assignment]
    store: Any = None
    stream_writer: Callable[[Any], None] = _no_op_writer
    heartbeat: Callable[[], None] = _no_op_heartbeat
    previous: Any = None
    execution_info: ExecutionInfo | None = None
    server_info: ServerInfo | None = None
    control: RunControl | None = None

    def merge(self, other: Runtime[ContextT]) -> Runtime[ContextT]:
        """``other``'s fields on top of this runtime's (empty/falsy ones don't override)."""
        return Runtime(
            context=other.context or self.context,
            store=other.store or self.store,
            stream_writer=(
                other.stream_writer if other.stream_writer is not _no_op_writer else self.stream_writer
            ),
            heartbeat=other.heartbeat if other.heartbeat is not _no_op_heartbeat else self.heartbeat,
            previous=self.previous if other.previous is None else other.previous,
            execution_info=other.execution_info or self.execution_info,
            server_info=other.server_info or self.server_info,
            control=other.control or self.control,
        )

    def override(self, **overrides: Any) -> Runtime[ContextT]:
        """A copy with ``overrides`` replacing fields."""
        return dataclasses.replace(self, **overrides)

    def patch_execution_info(self, **overrides: Any) -> Runtime[ContextT]:
        """A copy whose ``execution_info`` has ``overrides`` replacing fields."""
        if self.execution_info is None:
            raise RuntimeError("Cannot patch execution_info before it has been set")
        return dataclasses.replace(self, execution_info=self.execution_info.patch(**overrides))

    @property
    def drain_requested(self) -> bool:
        return self.control is not None and self.control.drain_requested

    @property
    def drain_reason(self) -> str | None:
        return self.control.drain_reason if self.control is not None else None


DEFAULT_RUNTIME: Runtime[Any] = Runtime()
"""The runtime with nothing set (outside a run)."""


def coerce_parent_runtime(value: Any) -> Runtime[Any]:
    """What the caller put under ``configurable["__pregel_runtime"]`` as a ``Runtime``: a
    ``Runtime`` as it is; any other object (a server's own runtime-like object) lends its
    ``context``."""
    if isinstance(value, Runtime):
        return value
    return Runtime(context=getattr(value, "context", None))


def server_info_from(configurable: Mapping[str, Any]) -> ServerInfo | None:
    """``ServerInfo`` from the keys a LangGraph-compatible server puts in the config's
    ``configurable`` (``assistant_id``, ``graph_id``, ``langgraph_auth_user``); ``None``
    when there are none."""
    assistant_id = configurable.get("assistant_id")
    graph_id = configurable.get("graph_id")
    user = configurable.get("langgraph_auth_user")
    # a server's user proxy may serve some attributes through __getattr__, which a
    # Protocol check doesn't see: having an identity is enough
    if user is not None and not (isinstance(user, BaseUser) or hasattr(user, "identity")):
        user = None
    if assistant_id is None and graph_id is None and user is None:
        return None
    return ServerInfo(
        assistant_id=str(assistant_id) if assistant_id else "",
        graph_id=str(graph_id) if graph_id else "",
        user=user,
    )
