"""``ToolCallTransformer``: turns the ``tools`` stream's events into ``ToolCallStream``
handles on ``run.tool_calls`` (``compile(transformers=[ToolCallTransformer])``).

The events themselves stay in the run's main log for consumers that rebuild the calls
on their own; the handles are live objects, so they travel on a nameless channel that is
never forwarded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.messages import ToolMessage

from actorgraph.prebuilt._tool_call_stream import ToolCallStream
from actorgraph.stream._channel import StreamChannel
from actorgraph.stream._types import ProtocolEvent, StreamTransformer

__all__ = ("ToolCallTransformer",)


def _output_value(output: Any) -> Any:
    """A finished call's output: a ToolMessage's content (also when it arrives
    serialized, as a LangChain ``constructor`` dict), anything else as it is."""
    if isinstance(output, ToolMessage):
        return output.content
    if (
        isinstance(output, dict)
        and output.get("type") == "constructor"
        and isinstance(output.get("id"), list)
        and output["id"][-1] == "ToolMessage"
    ):
        kwargs = output.get("kwargs")
        return kwargs.get("content") if isinstance(kwargs, dict) else None
    return output


class ToolCallTransformer(StreamTransformer):
    """Projects ``tools`` events of its own namespace into ``run.tool_calls``: a
    ``ToolCallStream`` per started call, fed its deltas and closed by its end."""

    _native = True
    required_stream_modes = ("tools",)

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._log: StreamChannel[ToolCallStream] = StreamChannel()
        self._active: dict[str, ToolCallStream] = {}
        self._is_async = False
        self._pump_fn: Callable[[], bool] | None = None
        self._apump_fn: Callable[[], Awaitable[bool]] | None = None

    def init(self) -> dict[str, Any]:
        return {"tool_calls": self._log}

    def _bind_pump(self, fn: Callable[[], bool]) -> None:
        # the handles made later pull the run forward through it when read dry
        self._pump_fn = fn
        self._is_async = False

    def _bind_apump(self, fn: Callable[[], Awaitable[bool]]) -> None:
        self._apump_fn = fn
        self._is_async = True

    def _new_stream(self, tool_call_id: str, tool_name: str, tool_input: dict[str, Any] | None) -> ToolCallStream:
        stream = ToolCallStream(tool_call_id, tool_name, tool_input)
        stream._bind(is_async=self._is_async)
        deltas = stream._output_deltas
        if self._pump_fn is not None:
            deltas._request_more = self._pump_fn
        if self._apump_fn is not None:
            deltas._arequest_more = self._apump_fn
        return stream

    def process(self, event: ProtocolEvent) -> bool:
        # every event stays in the main log; only this scope's tool events are projected
        # (a subgraph's calls belong to that subgraph's own run.tool_calls)
        if event["method"] != "tools" or tuple(event["params"]["namespace"]) != self.scope:
            return True
        data = event["params"]["data"]
        call_id = data.get("tool_call_id")
        if call_id is None:
            return True
        kind = data.get("event")
        if kind == "tool-started":
            stream = self._new_stream(call_id, data.get("tool_name", ""), data.get("input"))
            self._active[call_id] = stream
            self._log.push(stream)
        elif kind == "tool-output-delta":
            active = self._active.get(call_id)
            if active is not None:
                active._push_delta(data.get("delta"))
        elif kind == "tool-finished":
            done = self._active.pop(call_id, None)
            if done is not None:
                done._finish(_output_value(data.get("output")))
        elif kind == "tool-error":
            failed = self._active.pop(call_id, None)
            if failed is not None:
                failed._fail(data.get("message", ""))
        return True

    def finalize(self) -> None:
        """The run ended: calls still open end without an output."""
        for stream in self._active.values():
            if not stream.completed:
                stream._finish(None)
        self._active.clear()

    def fail(self, err: BaseException) -> None:
        """The run failed: calls still open fail with its message."""
        for stream in self._active.values():
            if not stream.completed:
                stream._fail(str(err))
        self._active.clear()
