"""LangChain chat-model tokens into the ``messages`` stream (imported only when
langchain-core is installed and someone streams ``messages``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from collections.abc import AsyncIterator, Iterator

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import ChatGenerationChunk, LLMResult

try:  # the marker LangChain's chat models look for to stream inside ``invoke``
    from langchain_core.tracers._streaming import _StreamingCallbackHandler
except ImportError:  # pragma: no cover - older langchain-core
    _StreamingCallbackHandler = object  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from actorgraph.actors._context import TaskContext
    from actorgraph.actors._message_stream import MessageStreamer

__all__ = ("make_handler",)


class _TokenHandler(BaseCallbackHandler, _StreamingCallbackHandler):  # type: ignore[misc]
    """Forwards ``on_llm_new_token`` chunks; on ``on_llm_end`` forwards the final message
    of a model that didn't stream. Being a streaming handler makes LangChain models called
    with ``invoke`` stream their tokens, as they do under LangGraph."""

    run_inline = True  # called in the node's own thread/task, in order

    def __init__(self, streamer: MessageStreamer, tctx: TaskContext) -> None:
        self.streamer = streamer
        self.tctx = tctx
        self.runs: dict[UUID, dict[str, Any]] = {}
        self.streamed: set[UUID] = set()

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        if tags and "nostream" in tags:
            return
        meta = dict(self.tctx.config["metadata"])
        if metadata:
            meta.update(metadata)
        self.runs[run_id] = meta

    def on_llm_new_token(
        self,
        token: str | list[str | dict[str, Any]],
        *,
        chunk: Any = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        meta = self.runs.get(run_id)
        if meta is None or not isinstance(chunk, ChatGenerationChunk):
            return
        self.streamed.add(run_id)
        self.streamer.emit(self.tctx, chunk.message, dedupe=False, metadata=meta)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> Any:
        meta = self.runs.pop(run_id, None)
        if meta is None:
            return
        if run_id in self.streamed:
            self.streamed.discard(run_id)
            # the streamed chunks carried the message's id: the node's output won't repeat it
            for gens in response.generations:
                for gen in gens:
                    mid = getattr(getattr(gen, "message", None), "id", None)
                    if mid:
                        self.streamer.seen.add(mid)
            return
        for gens in response.generations:
            for gen in gens:
                message = getattr(gen, "message", None)
                if message is not None:
                    self.streamer.emit(self.tctx, message, metadata=meta)

    def tap_output_aiter(self, run_id: UUID, output: AsyncIterator[Any]) -> AsyncIterator[Any]:
        return output

    def tap_output_iter(self, run_id: UUID, output: Iterator[Any]) -> Iterator[Any]:
        return output

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> Any:
        self.runs.pop(run_id, None)
        self.streamed.discard(run_id)


def make_handler(streamer: MessageStreamer, tctx: TaskContext) -> _TokenHandler:
    return _TokenHandler(streamer, tctx)
