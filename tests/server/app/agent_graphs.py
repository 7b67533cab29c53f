"""Graphs the MCP and A2A tests serve: a chat agent that answers each message (and
streams its reply through a fake chat model), a plain-state graph, and one that fails."""

import asyncio
from typing import TypedDict

from typing_extensions import NotRequired

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from actorgraph.graph import START, MessagesState, StateGraph
from actorgraph.types import interrupt


async def reply(state: MessagesState) -> dict:
    last = state["messages"][-1]
    text = last.content if isinstance(last.content, str) else str(last.content)
    if text.startswith("sleep"):
        await asyncio.sleep(float(text.split()[1]))
    if text == "fail":
        raise RuntimeError("the agent failed on purpose")
    if text == "ask me":
        text = f"you said {interrupt('what should I say?')}"
    model = GenericFakeChatModel(messages=iter([AIMessage(content=f"echo: {text}")]))
    return {"messages": [await model.ainvoke(state["messages"])]}


_echo = StateGraph(MessagesState)
_echo.add_node("reply", reply)
_echo.add_edge(START, "reply")
echo = _echo.compile()


class Numbers(TypedDict):
    x: int
    y: NotRequired[int]


def double(state: Numbers) -> dict:
    if state["x"] == 13:
        raise ValueError("13 is unlucky")
    return {"y": state["x"] * 2}


_double = StateGraph(Numbers)
_double.add_node("double", double)
_double.add_edge(START, "double")
doubler = _double.compile()
