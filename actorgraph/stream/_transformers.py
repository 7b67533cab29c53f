"""The built-in transformers that project one stream mode each: ``values``, ``messages``
(as LangChain ``ChatModelStream``s), ``updates``, ``custom``, ``checkpoints``, ``debug``
and ``tasks``. Each keeps only the events of its own scope (the run's namespace):
deeper subgraphs' events reach their subgraph handle's projections instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from actorgraph.stream._channel import StreamChannel
from actorgraph.stream._types import ProtocolEvent, StreamTransformer

__all__ = (
    "CheckpointsTransformer",
    "CustomTransformer",
    "DebugTransformer",
    "MessagesTransformer",
    "TasksTransformer",
    "UpdatesTransformer",
    "ValuesTransformer",
)


class _ModeTransformer(StreamTransformer):
    """Pushes the data of its scope's ``mode`` events onto a projection named ``mode``."""

    _native = True
    mode: ClassVar[str] = ""

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._log: StreamChannel[Any] = StreamChannel()
        # a list, as the events' namespaces are: compared as they are, per event
        self._scope_list: list[str] = list(scope)

    def init(self) -> dict[str, Any]:
        return {self.mode: self._log}

    def process(self, event: ProtocolEvent) -> bool:
        if event["method"] == self.mode:
            params = event["params"]
            if params["namespace"] == self._scope_list:
                self._log.push(params["data"])
        return True


class UpdatesTransformer(_ModeTransformer):
    """``run.updates``: what each node (or task) returned, step by step."""

    mode = "updates"
    required_stream_modes = ("updates",)


class CustomTransformer(_ModeTransformer):
    """``run.custom``: what nodes sent through ``get_stream_writer()`` / ``StreamWriter``."""

    mode = "custom"
    required_stream_modes = ("custom",)


class CheckpointsTransformer(_ModeTransformer):
    """``run.checkpoints``: each checkpoint saved (empty without a checkpointer)."""

    mode = "checkpoints"
    required_stream_modes = ("checkpoints",)


class DebugTransformer(_ModeTransformer):
    """``run.debug``: checkpoint, task and task-result events with step and timestamp."""

    mode = "debug"
    required_stream_modes = ("debug",)


class TasksTransformer(_ModeTransformer):
    """``run.tasks``: task starts and results (the lifecycle transformers read the same
    events to find subgraphs)."""

    mode = "tasks"
    required_stream_modes = ("tasks",)


class ValuesTransformer(_ModeTransformer):
    """``run.values``: the state after each step. (``run.output`` and the interrupt
    accessors are tracked by the run stream itself and work without this.)"""

    mode = "values"
    required_stream_modes = ("values",)

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._latest: Any = None
        self._interrupted = False
        self._interrupts: list[Any] = []

    @property
    def error(self) -> BaseException | None:
        """The error the run failed with, if it did."""
        return self._log._error

    def process(self, event: ProtocolEvent) -> bool:
        if event["method"] == "values":
            params = event["params"]
            if params["namespace"] == self._scope_list:
                data = params["data"]
                self._latest = data
                interrupts = params.get("interrupts", ())
                if interrupts:
                    self._interrupted = True
                    self._interrupts.extend(interrupts)
                self._log.push(data)
        return True


class MessagesTransformer(StreamTransformer):
    """``run.messages``: one LangChain ``ChatModelStream`` (``AsyncChatModelStream`` on an
    async run) per chat-model reply, pushed when the reply starts.

    Two kinds of ``messages`` events feed it: protocol events (``message-start``,
    ``content-block-*``, ``message-finish``) of models streamed under
    ``stream_events(version="v3")``, matched to their stream by ``metadata["run_id"]``;
    and whole messages a node returned, replayed as a finished stream. Plain token chunks
    (``AIMessageChunk``, the v1 ``messages`` shape) and tool messages are not projected.
    Needs langchain-core; without it the projection stays empty.
    """

    _native = True
    required_stream_modes = ("messages",)

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._log: StreamChannel[Any] = StreamChannel()
        self._by_run: dict[str, Any] = {}
        self._ignored_runs: set[str] = set()
        self._pump_fn: Callable[[], bool] | None = None
        self._apump_fn: Callable[[], Awaitable[bool]] | None = None
        self._scope_list: list[str] = list(scope)

    def init(self) -> dict[str, Any]:
        return {"messages": self._log}

    def _bind_pump(self, fn: Callable[[], bool]) -> None:
        self._pump_fn = fn

    def _bind_apump(self, fn: Callable[[], Awaitable[bool]]) -> None:
        self._apump_fn = fn

    def _make_stream(self, *, namespace: list[str], node: str | None, message_id: str | None) -> Any:
        """A stream for one reply, wired to the run's pump (async if there is an async
        pump or none at all, as events dispatched by hand have none)."""
        from langchain_core.language_models.chat_model_stream import AsyncChatModelStream, ChatModelStream

        if self._apump_fn is not None or self._pump_fn is None:
            astream = AsyncChatModelStream(namespace=namespace, node=node, message_id=message_id)
            if self._apump_fn is not None:
                astream.set_arequest_more(self._apump_fn)
            return astream
        stream = ChatModelStream(namespace=namespace, node=node, message_id=message_id)
        stream.set_request_more(self._pump_fn)
        return stream

    def process(self, event: ProtocolEvent) -> bool:
        if event["method"] != "messages":
            return True
        params = event["params"]
        if params["namespace"] != self._scope_list:
            return True
        payload, metadata = params["data"]
        node = metadata.get("langgraph_node") if metadata else None
        run_id = str(metadata.get("run_id", "")) if metadata else ""
        if isinstance(payload, dict) and "event" in payload:
            self._route_protocol_event(payload, run_id=run_id, node=node)
        elif _whole_reply(payload):
            self._route_whole_message(payload, node=node)
        return True

    def _route_protocol_event(self, event: dict[str, Any], *, run_id: str, node: str | None) -> None:
        kind = event.get("event")
        if kind == "message-start":
            if event.get("role") == "tool":
                # tool results are state (and the tools stream), not chat tokens
                self._ignored_runs.add(run_id)
                return
            message_id = event.get("message_id")
            stream = self._make_stream(
                namespace=[], node=node, message_id=str(message_id) if message_id is not None else None
            )
            self._by_run[run_id] = stream
            self._log.push(stream)
            stream.dispatch(event)
        elif run_id in self._ignored_runs:
            if kind == "message-finish":
                self._ignored_runs.discard(run_id)
        else:
            stream = self._by_run.get(run_id)
            if stream is not None:
                stream.dispatch(event)
                if kind == "message-finish":
                    del self._by_run[run_id]

    def _route_whole_message(self, message: Any, *, node: str | None) -> None:
        from langchain_core.language_models._compat_bridge import message_to_events

        stream = self._make_stream(namespace=[], node=node, message_id=message.id)
        for evt in message_to_events(message, message_id=message.id):
            stream.dispatch(evt)
        self._log.push(stream)

    def finalize(self) -> None:
        self._by_run.clear()
        self._ignored_runs.clear()

    def fail(self, err: BaseException) -> None:
        for stream in list(self._by_run.values()):
            stream.fail(err)
        self._by_run.clear()
        self._ignored_runs.clear()


def _whole_reply(payload: Any) -> bool:
    """A finished LangChain message that isn't a token chunk or a tool result."""
    import sys

    messages = sys.modules.get("langchain_core.messages")
    if messages is None:
        return False
    return (
        isinstance(payload, messages.BaseMessage)
        and not isinstance(payload, messages.AIMessageChunk)
        and not isinstance(payload, messages.ToolMessage)
    )
