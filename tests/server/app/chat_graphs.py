"""Chat graphs for the messages stream modes: a fake chat model that streams its reply
token by token (no network), and nodes that return whole messages."""

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage

from actorgraph.graph import START, MessagesState, StateGraph


def _model(text: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(content=text)]))


def model_node(state: MessagesState) -> dict:
    return {"messages": [_model("hello there friend").invoke(state["messages"])]}


def two_calls(state: MessagesState) -> dict:
    first = _model("one two").invoke(state["messages"])
    second = _model("three four").invoke(state["messages"])
    return {"messages": [first, second]}


def plain_node(state: MessagesState) -> dict:
    """Whole messages, not streamed by a model."""
    return {
        "messages": [
            AIMessage(content="plain reply", id="plain-1"),
            ToolMessage(content="tool out", tool_call_id="call-1", id="tool-1"),
        ]
    }


_chat = StateGraph(MessagesState)
_chat.add_node("model_node", model_node)
_chat.add_node("two_calls", two_calls)
_chat.add_node("plain_node", plain_node)
_chat.add_edge(START, "model_node")
_chat.add_edge("model_node", "two_calls")
_chat.add_edge("two_calls", "plain_node")
chat = _chat.compile()

_inner = StateGraph(MessagesState)
_inner.add_node("model_node", model_node)
_inner.add_edge(START, "model_node")
_outer = StateGraph(MessagesState)
_outer.add_node("sub", _inner.compile())
_outer.add_edge(START, "sub")
chat_parent = _outer.compile()
