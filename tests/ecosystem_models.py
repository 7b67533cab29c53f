"""Fake chat models for the ecosystem tests: scripted replies, tool calls included, no
network. ``bind_tools``/``with_structured_output`` return the model itself, so a library
that binds tools (LangChain's ``create_agent``, langgraph-supervisor) gets the script."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field


def call(name: str, args: dict[str, Any], id: str) -> dict[str, Any]:
    return {"name": name, "args": args, "id": id, "type": "tool_call"}


class ScriptedChatModel(BaseChatModel):
    """Answers each call with the next message of ``replies`` (strings become plain
    answers; ``AIMessage``s carry tool calls); records what it was sent."""

    replies: list[Any]
    """Strings (plain answers) and AIMessages (tool calls), in call order."""
    seen: list[list[BaseMessage]] = Field(default_factory=list)
    bound_tools: list[str] = Field(default_factory=list)
    position: int = 0

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.seen.append(list(messages))
        if self.position >= len(self.replies):
            raise AssertionError(f"the model was called {self.position + 1} times; the script has {len(self.replies)}")
        reply = self.replies[self.position]
        self.position += 1
        # ids unique across models: add_messages merges messages by id
        message = AIMessage(content=reply, id=f"ai-{uuid.uuid4().hex[:12]}") if isinstance(reply, str) else reply
        return ChatResult(generations=[ChatGeneration(message=message)])

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:  # type: ignore[override]
        self.bound_tools = [getattr(t, "name", None) or getattr(t, "__name__", None) or t.get("name") for t in tools]
        return self
