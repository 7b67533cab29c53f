"""The ``messages`` and ``tools`` stream modes: per run, what the engine itself streams
and the LangChain handlers it gives each task.

``messages`` yields ``(message, metadata)`` for the chat messages a run makes, each once
(by id) within a stream:

- the messages a node returns (found in its writes) that weren't already in its input;
- ``push_message(...)`` calls, and token chunks a node pushes through it;
- with langchain-core installed, the tokens of LangChain chat models a task calls (a
  callback handler per task, also set as LangChain's config context, so a model called
  without ``config`` streams too). Under ``stream_events(version="v3")`` models report
  protocol events (``message-start`` ...) instead of token chunks, and tool messages a
  node returns are left to the state.

``tools`` yields LangChain tools' ``tool-started`` / ``tool-finished`` / ``tool-error``
events. ``metadata`` is the task's config metadata (``langgraph_node``,
``langgraph_step``, ``langgraph_triggers``, ``langgraph_path``,
``langgraph_checkpoint_ns``, the run's metadata and the propagated config keys), with
the model's own metadata and ``tags``. Nothing here runs unless a caller streams one of
the two modes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from actorgraph._constants import TAG_NOSTREAM
from actorgraph._message_types import BaseMessage, langchain_installed

if TYPE_CHECKING:
    import contextvars

    from actorgraph.actors._context import TaskContext
    from actorgraph.actors._run import RunState

__all__ = ("MessageStreamer", "is_message", "merge_callbacks")


def is_message(value: Any) -> bool:
    if isinstance(value, BaseMessage):
        return True
    lc = sys.modules.get("langchain_core.messages")
    return lc is not None and isinstance(value, lc.BaseMessage)


def _is_tool_message(value: Any) -> bool:
    if type(value).__name__ != "ToolMessage":
        return False
    lc = sys.modules.get("langchain_core.messages")
    return lc is not None and isinstance(value, lc.ToolMessage)


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
    """Per run (shared ``seen`` with subgraph runs on the same stream): emits messages
    once each, with their task's metadata, and equips tasks with LangChain handlers and
    LangChain's config context. (A run that streams neither mode has one for that
    context alone when its config has callbacks.)"""

    __slots__ = ("run", "seen", "messages", "tools", "v2")

    def __init__(
        self,
        run: RunState,
        seen: set[str] | None = None,
        *,
        messages: bool = True,
        tools: bool = False,
        v2: bool = False,
    ) -> None:
        self.run = run
        # shared with subgraph runs: a message a subgraph streamed is not news to its parent
        self.seen: set[str] = seen if seen is not None else set()
        self.messages = messages
        self.tools = tools
        self.v2 = v2

    def _silent(self, tctx: TaskContext) -> bool:
        return TAG_NOSTREAM in tctx.node.tags or tctx.node.hidden

    def setup(self, tctx: TaskContext, ctx: contextvars.Context) -> None:
        """Prepare a task before it runs: the messages it receives are not news, and the
        LangChain components it calls report to its handlers."""
        if self.messages:
            self.note_input(tctx)
        if not langchain_installed():
            return
        from actorgraph.actors._langchain_stream import task_handlers

        handlers = task_handlers(tctx, self.messages, self.tools, self.v2, self.seen)
        if handlers:
            tctx.extra_callbacks = handlers
        from langchain_core.runnables.config import var_child_runnable_config

        ctx.run(var_child_runnable_config.set, tctx.config)  # type: ignore[arg-type]

    def note_input(self, tctx: TaskContext) -> None:
        """Messages a task receives are not its output: remember their ids."""
        for message in _messages_in(tctx.spec.input):
            mid = getattr(message, "id", None)
            if mid:
                self.seen.add(mid)

    def emit(self, tctx: TaskContext, message: Any, *, dedupe: bool = True, metadata: Any = None) -> None:
        """Stream a message a task produced (returned or pushed), unless already seen."""
        if not self.messages:
            return
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
        run.emit_chunk((run.cfg.stream_ns, "messages", (message, meta)))

    def task_output(self, tctx: TaskContext, writes: list[tuple[str, Any]]) -> None:
        """Emit the messages a finished task wrote that weren't seen yet."""
        if not self.messages:
            return
        v2 = self.v2
        meta = None
        for _, value in writes:
            for message in _messages_in(value):
                if v2 and _is_tool_message(message):
                    continue  # under v3, tool results belong to the state and ``tools``
                if meta is None:
                    meta = self._output_metadata(tctx)
                self.emit(tctx, message, metadata=meta)

    def _output_metadata(self, tctx: TaskContext) -> dict[str, Any]:
        """The metadata of messages a node returned, as LangGraph's node run has it: the
        task's, with ``checkpoint_ns`` the graph's own (at the root: the caller's, if any) and
        ``ls_integration`` "langgraph"."""
        meta = dict(tctx.config["metadata"])
        run = self.run
        ns = (run.cfg.config.get("configurable") or {}).get("checkpoint_ns") or run.cfg.checkpoint_ns
        if ns:
            meta["checkpoint_ns"] = ns
        else:
            meta.pop("checkpoint_ns", None)
        meta.setdefault("ls_integration", "langgraph")
        return meta


def merge_callbacks(callbacks: Any, extra: tuple[Any, ...]) -> Any:
    """A task's callbacks: the ones it inherits plus its stream handlers. A task that
    streams v1 ``messages`` drops inherited v2 handlers (an enclosing
    ``stream_events(version="v3")``'s): with one present, chat models would report
    protocol events instead of the token chunks this stream wants."""
    from actorgraph.actors._langchain_stream import StreamMessagesHandler, is_v2_handler

    drop_v2 = any(isinstance(h, StreamMessagesHandler) and not is_v2_handler(h) for h in extra)
    if callbacks is None or isinstance(callbacks, list):
        kept = [h for h in callbacks or () if not (drop_v2 and is_v2_handler(h))]
        return [*kept, *extra]
    manager = callbacks.copy()  # a LangChain callback manager: the node gets a copy
    if drop_v2:
        manager.handlers = [h for h in manager.handlers if not is_v2_handler(h)]
        manager.inheritable_handlers = [h for h in manager.inheritable_handlers if not is_v2_handler(h)]
    for handler in extra:
        manager.add_handler(handler, inherit=True)
    return manager
