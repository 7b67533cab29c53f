"""LangChain callback handlers behind the ``messages`` and ``tools`` stream modes (imported
only when langchain-core is installed and someone streams one of them).

``StreamMessagesHandler`` / ``StreamMessagesHandlerV2`` / ``StreamToolCallHandler`` have
LangGraph's interface: each sends ``(namespace, mode, payload)`` chunks to a ``stream``
callable, for the LangChain runs whose metadata places them in a graph it streams. The
engine uses one of each per task (``Task*`` subclasses): such a handler takes only the
runs of its own task (nested graphs' tasks have handlers of their own, if their stream
wants them) and streams under its run's namespace.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextvars import Token
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, LLMResult

from actorgraph._runtime import TOOL_CALL_WRITER
from actorgraph._constants import NS_SEP, TAG_HIDDEN, TAG_NOSTREAM
from actorgraph._types import Command
from actorgraph.actors._context import CURRENT
from actorgraph.errors import GraphInterrupt

try:  # the marker LangChain's chat models look for to stream inside ``invoke``
    from langchain_core.tracers._streaming import _StreamingCallbackHandler
except ImportError:  # pragma: no cover - older langchain-core
    _StreamingCallbackHandler = object  # type: ignore[assignment,misc]
try:  # the marker that makes ``invoke`` emit protocol events (``on_stream_event``)
    from langchain_core.tracers._streaming import _V2StreamingCallbackHandler
except ImportError:  # pragma: no cover - older langchain-core
    _V2StreamingCallbackHandler = object  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from actorgraph.actors._context import TaskContext

__all__ = (
    "StreamMessagesHandler",
    "StreamMessagesHandlerV2",
    "StreamToolCallHandler",
    "graph_namespace",
    "is_v2_handler",
    "task_handlers",
    "tool_call_writer",
)

Chunk = tuple[tuple[str, ...], str, Any]
Meta = tuple[tuple[str, ...], dict[str, Any]]

# one ContextVar for the writer and its readers (ToolRuntime.emit_output_delta)
tool_call_writer = TOOL_CALL_WRITER
"""While a tool runs under the ``tools`` stream: a writer that sends ``tool-output-delta``
events for that tool call (prebuilt's ``ToolRuntime`` reads it)."""


def graph_namespace(metadata: dict[str, Any]) -> tuple[str, ...]:
    """The namespace of the graph a LangChain run belongs to, from its metadata: the
    task's checkpoint namespace without the task's own segment (a task call's namespace
    is its caller's graph's plus its own segment, like a node's)."""
    return tuple(str(metadata["langgraph_checkpoint_ns"]).split(NS_SEP))[:-1]


def _user_tags(tags: Sequence[str] | None) -> list[str] | None:
    """The tags worth reporting: all but the ``seq:step:N`` bookkeeping ones."""
    if not tags:
        return None
    kept = [t for t in tags if not t.startswith("seq:step")]
    return kept or None


def _state_values(obj: Any) -> list[Any]:
    if isinstance(obj, dict):
        return list(obj.values())
    fields = getattr(type(obj), "model_fields", None)
    if fields is not None:
        return [getattr(obj, k, None) for k in fields]
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [getattr(obj, f.name) for f in dataclasses.fields(obj)]
    return []


class StreamMessagesHandler(BaseCallbackHandler, _StreamingCallbackHandler):  # type: ignore[misc]
    """``stream_mode="messages"``: token chunks of chat models (``on_llm_new_token``), a
    model's final message when it didn't stream, and the messages a node returned
    (``on_chain_end`` of the node's run). Messages are sent once each (by id).

    ``subgraphs``: also stream runs of nested graphs; otherwise only those at namespace
    ``()`` or ``parent_ns``.
    """

    run_inline = True  # called in the running node's own thread/task, in order

    def __init__(
        self,
        stream: Callable[[Chunk], None],
        subgraphs: bool,
        *,
        parent_ns: tuple[str, ...] | None = None,
    ) -> None:
        self.stream = stream
        self.subgraphs = subgraphs
        self.parent_ns = parent_ns
        self.metadata: dict[UUID, Meta] = {}
        self.seen: set[Any] = set()

    def _namespace(self, metadata: dict[str, Any]) -> tuple[str, ...] | None:
        """Under which namespace to stream a run with this metadata (None: don't)."""
        ns = graph_namespace(metadata)
        if not self.subgraphs and ns and ns != self.parent_ns:
            return None
        return ns

    def _emit(self, meta: Meta, message: Any, *, dedupe: bool = False) -> None:
        if dedupe and message.id in self.seen:
            return
        if message.id is None:
            message.id = str(uuid4())
        self.seen.add(message.id)
        self.stream((meta[0], "messages", (message, meta[1])))

    def _message_filter(self, value: Any) -> bool:
        return isinstance(value, BaseMessage)

    def _find_and_emit_messages(self, meta: Meta, response: Any) -> None:
        keep = self._message_filter
        if keep(response):
            self._emit(meta, response, dedupe=True)
        elif isinstance(response, Sequence) and not isinstance(response, str):
            for value in response:
                if keep(value):
                    self._emit(meta, value, dedupe=True)
        else:
            for value in _state_values(response):
                if keep(value):
                    self._emit(meta, value, dedupe=True)
                elif isinstance(value, Sequence) and not isinstance(value, str):
                    for item in value:
                        if keep(item):
                            self._emit(meta, item, dedupe=True)

    def tap_output_aiter(self, run_id: UUID, output: AsyncIterator[Any]) -> AsyncIterator[Any]:
        return output

    def tap_output_iter(self, run_id: UUID, output: Iterator[Any]) -> Iterator[Any]:
        return output

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        if not metadata or (tags and TAG_NOSTREAM in tags):
            return
        ns = self._namespace(metadata)
        if ns is None:
            return
        meta = dict(metadata)
        user_tags = _user_tags(tags)
        if user_tags is not None:
            meta["tags"] = user_tags
        self.metadata[run_id] = (ns, meta)

    def on_llm_new_token(
        self,
        token: Any,
        *,
        chunk: Any = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        if not isinstance(chunk, ChatGenerationChunk):
            return
        meta = self.metadata.get(run_id)
        if meta is not None:
            self._emit(meta, chunk.message)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> Any:
        meta = self.metadata.pop(run_id, None)
        if meta is not None and response.generations and response.generations[0]:
            gen = response.generations[0][0]
            if isinstance(gen, ChatGeneration):
                self._emit(meta, gen.message, dedupe=True)

    def on_llm_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> Any:
        self.metadata.pop(run_id, None)

    def on_chain_start(
        self,
        serialized: dict[str, Any],
        inputs: dict[str, Any],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        # a node's own run: the messages it gets are not news, the ones it returns are
        if not metadata or kwargs.get("name") != metadata.get("langgraph_node") or (tags and TAG_HIDDEN in tags):
            return
        ns = self._namespace(metadata)
        if ns is None:
            return
        self.metadata[run_id] = (ns, metadata)
        for value in _state_values(inputs):
            items = value if isinstance(value, Sequence) and not isinstance(value, str) else (value,)
            for item in items:
                if isinstance(item, BaseMessage) and item.id is not None:
                    self.seen.add(item.id)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> Any:
        response = outputs
        meta = self.metadata.pop(run_id, None)
        if meta is None:
            return
        if isinstance(response, Command):
            self._find_and_emit_messages(meta, response.update)
        elif isinstance(response, Sequence) and any(isinstance(v, Command) for v in response):
            for value in response:
                self._find_and_emit_messages(meta, value.update if isinstance(value, Command) else value)
        else:
            self._find_and_emit_messages(meta, response)

    def on_chain_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> Any:
        self.metadata.pop(run_id, None)


class StreamMessagesHandlerV2(StreamMessagesHandler, _V2StreamingCallbackHandler):  # type: ignore[misc]
    """``messages`` for ``stream_events(version="v3")``: being a v2 streaming handler makes
    chat models report protocol events (``on_stream_event``: ``message-start``,
    ``content-block-*``, ``message-finish``), which it sends with the model run's id in
    the metadata (``run_id``); v1 token chunks and tool messages are not sent."""

    def __init__(
        self,
        stream: Callable[[Chunk], None],
        subgraphs: bool,
        *,
        parent_ns: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(stream, subgraphs, parent_ns=parent_ns)
        self._streamed_run_ids: set[UUID] = set()

    def on_llm_new_token(self, token: Any, *, chunk: Any = None, run_id: UUID, **kwargs: Any) -> Any:
        # v1 chunks (a node calling model.stream() itself) would duplicate the events
        return None

    def _message_filter(self, value: Any) -> bool:
        return isinstance(value, BaseMessage) and not isinstance(value, ToolMessage)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> Any:
        meta = self.metadata.pop(run_id, None)
        streamed = run_id in self._streamed_run_ids
        self._streamed_run_ids.discard(run_id)
        if meta is None or not response.generations or not response.generations[0]:
            return
        gen = response.generations[0][0]
        if not isinstance(gen, ChatGeneration):
            return
        if streamed:
            # its events were sent: the finished message (whatever its id) is not news
            if gen.message.id is None:
                gen.message.id = str(uuid4())
            self.seen.add(gen.message.id)
        else:
            self._emit(meta, gen.message, dedupe=True)

    def on_llm_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> Any:
        self._streamed_run_ids.discard(run_id)
        self.metadata.pop(run_id, None)

    def on_stream_event(
        self,
        event: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        meta = self.metadata.get(run_id)
        if meta is None:
            return
        if event.get("event") == "message-start":
            self._streamed_run_ids.add(run_id)
            message_id = event.get("message_id")
            if message_id:
                self.seen.add(message_id)
        self.stream((meta[0], "messages", (event, {**meta[1], "run_id": str(run_id)})))


class StreamToolCallHandler(BaseCallbackHandler, _StreamingCallbackHandler):  # type: ignore[misc]
    """``stream_mode="tools"``: ``tool-started`` / ``tool-output-delta`` /
    ``tool-finished`` / ``tool-error`` events of LangChain tools, keyed by tool call id.
    While a tool runs, ``tool_call_writer`` holds the writer of its deltas."""

    run_inline = True

    def __init__(
        self,
        stream: Callable[[Chunk], None],
        subgraphs: bool,
        *,
        parent_ns: tuple[str, ...] | None = None,
    ) -> None:
        self.stream = stream
        self.subgraphs = subgraphs
        self.parent_ns = parent_ns
        self._calls: dict[UUID, tuple[tuple[str, ...], str, Token[Any]]] = {}

    def _namespace(self, metadata: dict[str, Any] | None, tags: list[str] | None) -> tuple[str, ...] | None:
        if not metadata or (tags and TAG_NOSTREAM in tags):
            return None
        ns = graph_namespace(metadata) if metadata.get("langgraph_checkpoint_ns") else ()
        if not self.subgraphs and ns and ns != self.parent_ns:
            return None
        return ns

    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        ns = self._namespace(metadata, tags)
        if ns is None:
            return
        call_id = kwargs.get("tool_call_id") or str(run_id)
        name = (serialized or {}).get("name") or kwargs.get("name") or ""
        stream = self.stream

        def write_delta(delta: Any) -> None:
            stream((ns, "tools", {"event": "tool-output-delta", "tool_call_id": call_id, "delta": delta}))

        self._calls[run_id] = (ns, call_id, tool_call_writer.set(write_delta))
        payload: dict[str, Any] = {"event": "tool-started", "tool_call_id": call_id, "tool_name": name}
        if inputs is not None:
            payload["input"] = inputs
        stream((ns, "tools", payload))

    def _close(self, run_id: UUID) -> tuple[tuple[str, ...], str] | None:
        call = self._calls.pop(run_id, None)
        if call is None:
            return None
        try:
            tool_call_writer.reset(call[2])
        except ValueError:
            pass  # ended in another context than it started: the variable dies with it
        return call[0], call[1]

    def on_tool_end(self, output: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> Any:
        call = self._close(run_id)
        if call is not None:
            self.stream((call[0], "tools", {"event": "tool-finished", "tool_call_id": call[1], "output": output}))

    def on_tool_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> Any:
        call = self._close(run_id)
        # an interrupted tool hasn't failed: it runs again on resume
        if call is not None and not isinstance(error, GraphInterrupt) and type(error).__name__ != "GraphDrained":
            self.stream((call[0], "tools", {"event": "tool-error", "tool_call_id": call[1], "message": str(error)}))

    def tap_output_aiter(self, run_id: UUID, output: AsyncIterator[Any]) -> AsyncIterator[Any]:
        return output

    def tap_output_iter(self, run_id: UUID, output: Iterator[Any]) -> Iterator[Any]:
        return output


# -- the engine's per-task handlers ---------------------------------------------------------


class _OwnTask:
    """Mixin: take only the runs made by one task, and stream them under its run's
    namespace. The node's own input and output are the engine's part.

    "Made by the task" is decided by the task running in the calling context (handlers
    are called inline), not by the run's metadata: a graph run inside the task whose
    tasks stream nothing leaves LangChain's config context (and so the metadata) to the
    enclosing task, yet its models are not this task's."""

    tctx: TaskContext

    def _namespace(self, metadata: dict[str, Any] | None, tags: list[str] | None = None) -> tuple[str, ...] | None:
        if CURRENT.get() is not self.tctx or (tags and TAG_NOSTREAM in tags):
            return None
        return self.tctx.run.cfg.stream_ns

    def on_chain_start(self, *args: Any, **kwargs: Any) -> Any:
        return None

    def on_chain_end(self, *args: Any, **kwargs: Any) -> Any:
        return None

    # a model streaming into the task is progress for the task's idle timeout (LangGraph's
    # refresh_on="auto" counts callback events), even when its tokens aren't streamed;
    # under refresh_on="heartbeat" only runtime.heartbeat() counts
    def on_llm_new_token(self, *args: Any, **kwargs: Any) -> Any:
        self.tctx.progress.streamed()
        return super().on_llm_new_token(*args, **kwargs)  # type: ignore[misc]

    def on_stream_event(self, *args: Any, **kwargs: Any) -> Any:
        self.tctx.progress.streamed()
        handle = getattr(super(), "on_stream_event", None)
        return handle(*args, **kwargs) if handle is not None else None


class _TaskMessages(_OwnTask, StreamMessagesHandler):
    pass


class _TaskMessagesV2(_OwnTask, StreamMessagesHandlerV2):
    pass


class _TaskTools(_OwnTask, StreamToolCallHandler):
    pass


def task_handlers(tctx: TaskContext, messages: bool, tools: bool, v2: bool, seen: set[Any]) -> tuple[Any, ...]:
    """The handlers streaming one task's chat models (and tools), for its config."""
    run = tctx.run
    handlers: list[Any] = []
    if messages:
        cls = _TaskMessagesV2 if v2 and _V2StreamingCallbackHandler is not object else _TaskMessages
        h = cls(run.emit_chunk, False)
        h.tctx = tctx
        h.seen = seen  # shared by the run (and its subgraphs on the same stream)
        handlers.append(h)
    if tools:
        t = _TaskTools(run.emit_chunk, False)
        t.tctx = tctx
        handlers.append(t)
    return tuple(handlers)


def is_v2_handler(handler: Any) -> bool:
    return _V2StreamingCallbackHandler is not object and isinstance(handler, _V2StreamingCallbackHandler)
