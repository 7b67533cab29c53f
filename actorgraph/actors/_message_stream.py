"""The ``messages`` stream mode: ``(message, metadata)`` for the chat messages a run makes.

Three sources, all deduplicated by message id within a run:

- the messages a node returns (found in its writes) that weren't already in its input;
- ``push_message(...)`` calls, and token chunks a node pushes through it;
- with langchain-core installed, the tokens of LangChain chat models called inside a node:
  a callback handler is put in the node's config (and in LangChain's config context
  variable, so a model called without passing ``config`` streams too).

``metadata`` is the node's config metadata: ``langgraph_node``, ``langgraph_step``,
``langgraph_triggers``, ``langgraph_path``, ``langgraph_checkpoint_ns`` and the run's own
metadata. Nothing here runs unless a caller streams ``messages``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from actorgraph._constants import TAG_NOSTREAM
from actorgraph._message_types import BaseMessage, langchain_installed

if TYPE_CHECKING:
    from actorgraph.actors._context import TaskContext
    from actorgraph.actors._run import RunState

__all__ = ("MessageStreamer", "is_message")


def is_message(value: Any) -> bool:
    if isinstance(value, BaseMessage):
        return True
    lc = sys.modules.get("langchain_core.messages")
    return lc is not None and isinstance(value, lc.BaseMessage)


def _messages_in(value: Any) -> Iterator[Any]:
    if is_message(value):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            if is_message(item):
                yield item
    elif isinstance(value, dict):
        for item in value.values():
            if is_message(item):
                yield item
            elif isinstance(item, (list, tuple)):
                for sub in item:
                    if is_message(sub):
                        yield sub


class MessageStreamer:
    """Per run: emits messages once each, with their task's metadata."""

    __slots__ = ("run", "seen")

    def __init__(self, run: RunState, seen: set[str] | None = None) -> None:
        self.run = run
        # shared with subgraph runs: a message a subgraph streamed is not news to its parent
        self.seen: set[str] = seen if seen is not None else set()

    def _silent(self, tctx: TaskContext) -> bool:
        return TAG_NOSTREAM in tctx.node.tags or tctx.node.hidden

    def note_input(self, tctx: TaskContext) -> None:
        """Messages a task receives are not its output: remember their ids."""
        for message in _messages_in(tctx.spec.input):
            mid = getattr(message, "id", None)
            if mid:
                self.seen.add(mid)

    def emit(self, tctx: TaskContext, message: Any, *, dedupe: bool = True, metadata: Any = None) -> None:
        mid = getattr(message, "id", None)
        if dedupe and mid:
            if mid in self.seen:
                return
        if mid:
            self.seen.add(mid)
        if self._silent(tctx):
            return
        run = self.run
        meta = metadata if metadata is not None else tctx.config["metadata"]
        run.sink.emit(run.stream_ns, "messages", (message, meta))

    def task_output(self, tctx: TaskContext, writes: list[tuple[str, Any]]) -> None:
        """Emit the messages a finished task wrote that weren't seen yet."""
        for _, value in writes:
            for message in _messages_in(value):
                self.emit(tctx, message)

    def langchain_handler(self, tctx: TaskContext) -> Any:
        """A LangChain callback handler streaming this task's chat-model tokens, or None."""
        if not langchain_installed():
            return None
        from actorgraph.actors._langchain_stream import make_handler

        return make_handler(self, tctx)
