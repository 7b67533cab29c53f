"""User-style prebuilt use: a ToolNode and create_react_agent over LangChain tools."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.tools import tool
from typing_extensions import assert_type

from actorgraph.graph import START, StateGraph, add_messages
from actorgraph.graph.state import CompiledStateGraph
from actorgraph.prebuilt import ToolNode, create_react_agent, tools_condition


@tool
def weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


class ToolModel(FakeMessagesListChatModel):
    """Replies from a script and accepts tools, as a real chat model would."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self


class Chat(TypedDict):
    messages: Annotated[list[BaseMessage], add_messages]


builder = StateGraph(Chat)
builder.add_node("tools", ToolNode([weather]))
builder.add_edge(START, "tools")
tools_graph = builder.compile()
assert_type(tools_graph, CompiledStateGraph[Chat, None, Chat, Chat])
call = AIMessage(content="", tool_calls=[{"name": "weather", "args": {"city": "Oslo"}, "id": "1"}])
result = tools_graph.invoke({"messages": [call]})
assert result["messages"][-1].content == "sunny in Oslo"

script: list[BaseMessage] = [call, AIMessage(content="It is sunny.")]
agent = create_react_agent(ToolModel(responses=script), [weather])
assert_type(agent, CompiledStateGraph[Any, Any, Any, Any])
answer = agent.invoke({"messages": [("user", "weather in Oslo?")]})
assert answer["messages"][-1].content == "It is sunny."
_ = tools_condition
