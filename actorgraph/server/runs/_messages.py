"""The legacy ``messages`` stream mode as LangGraph's server frames it: the engine's
``(message, metadata)`` tuples become ``messages/metadata`` (once per message id), then
``messages/partial`` (a token chunk: the message accumulated so far) or
``messages/complete`` (a whole message, e.g. one a node returned), each carrying a list of
one message dict. ``messages-tuple`` sends the engine's tuples as they are instead."""

from __future__ import annotations

from typing import Any

__all__ = ("MessageFrames",)


class MessageFrames:
    """Per run: the messages streamed so far, by id (bounded by the run's messages)."""

    __slots__ = ("_messages",)

    def __init__(self) -> None:
        self._messages: dict[Any, Any] = {}

    def frames(self, chunk: Any) -> list[tuple[str, Any]]:
        """The events one ``(message, metadata)`` tuple of the engine gives."""
        # langchain-core is loaded already: a graph that streams messages made them
        from langchain_core.messages import BaseMessageChunk, convert_to_messages, message_chunk_to_message

        message, metadata = chunk
        if isinstance(message, dict):
            message = convert_to_messages([message])[0]
        out: list[tuple[str, Any]] = []
        so_far = self._messages.get(message.id)
        if so_far is None:
            out.append(("messages/metadata", {message.id: {"metadata": metadata}}))
            so_far = message
        elif isinstance(so_far, BaseMessageChunk) and isinstance(message, BaseMessageChunk):
            so_far = so_far + message
        else:  # a whole message under an id seen before replaces what came earlier
            so_far = message
        self._messages[message.id] = so_far
        name = "messages/partial" if isinstance(message, BaseMessageChunk) else "messages/complete"
        out.append((name, [message_chunk_to_message(so_far)]))
        return out
