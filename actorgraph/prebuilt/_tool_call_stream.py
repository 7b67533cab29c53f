"""``ToolCallStream``: one tool call followed on the ``tools`` stream - its name and
input when it starts, its partial outputs while it runs, then its output or error.

``ToolCallTransformer`` makes one per ``tool-started`` event and feeds it the call's later
events; iterating it (``for``, or ``async for`` on an async run) yields the partial
outputs as they come.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from actorgraph.stream._channel import StreamChannel

__all__ = ("ToolCallStream",)


class ToolCallStream:
    """One tool call's progress: ``tool_call_id``, ``tool_name`` and ``input`` from the
    start; ``output_deltas`` as they are emitted; then ``output`` (finished) or ``error``
    (failed), with ``completed`` true once either came."""

    def __init__(self, tool_call_id: str, tool_name: str, input: dict[str, Any] | None = None) -> None:
        self.tool_call_id = tool_call_id
        self.tool_name = tool_name
        self.input = input
        self._output_deltas: StreamChannel[Any] = StreamChannel()
        self.output: Any = None
        self.error: str | None = None
        self.completed = False

    @property
    def output_deltas(self) -> StreamChannel[Any]:
        """The partial outputs, in the order the tool emitted them (closed when the call
        ends)."""
        return self._output_deltas

    def _bind(self, *, is_async: bool) -> None:
        self._output_deltas._bind(is_async=is_async)

    def _push_delta(self, delta: Any) -> None:
        self._output_deltas.push(delta)

    def _finish(self, output: Any) -> None:
        self.output = output
        self.completed = True
        self._output_deltas.close()

    def _fail(self, message: str) -> None:
        self.error = message
        self.completed = True
        self._output_deltas.close()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._output_deltas)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._output_deltas.__aiter__()

    def __repr__(self) -> str:
        if not self.completed:
            status = "running"
        else:
            status = "completed" if self.error is None else "failed"
        return f"ToolCallStream(tool_call_id={self.tool_call_id!r}, tool_name={self.tool_name!r}, status={status})"
