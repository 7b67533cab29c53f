"""The ``messages`` stream mode: ``(message, metadata)`` for messages nodes produce, for
chunks pushed with ``push_message``, and for LangChain chat-model tokens."""

from __future__ import annotations

from typing import Any

import pytest

from actorgraph.errors import InvalidUpdateError
from actorgraph.graph import START, MessagesState, StateGraph
from actorgraph.graph.message import push_message
from actorgraph.messages import AIMessage, HumanMessage


def _streaming_bot(state: MessagesState) -> dict[str, Any]:
    for token in ["Hel", "lo"]:
        push_message(AIMessage(token, id="reply-1"), state_key=None)
    return {"messages": [AIMessage("Hello", id="reply-1")]}


def _echo(state: MessagesState) -> dict[str, Any]:
    return {"messages": [AIMessage("again", id="reply-2"), state["messages"][0]]}


def _graph() -> Any:
    g = StateGraph(MessagesState)
    g.add_node("bot", _streaming_bot)
    g.add_node("echo", _echo)
    g.add_edge(START, "bot")
    g.add_edge("bot", "echo")
    return g.compile()


def test_pushed_chunks_stream_and_returned_messages_are_not_repeated() -> None:
    chunks = list(_graph().stream({"messages": [HumanMessage("hi", id="h1")]}, stream_mode="messages"))
    assert [(m.content, meta["langgraph_node"]) for m, meta in chunks] == [
        ("Hel", "bot"),
        ("lo", "bot"),
        # bot's returned "Hello" has the pushed id: not repeated; echo's re-returned
        # input message h1 is not news either
        ("again", "echo"),
    ]


def test_metadata_names_the_node_step_and_namespace() -> None:
    (_, meta), *_ = _graph().stream({"messages": [HumanMessage("hi", id="h1")]}, stream_mode="messages")
    assert meta["langgraph_node"] == "bot"
    assert meta["langgraph_step"] == 1
    assert meta["langgraph_triggers"] == ("branch:to:bot",)
    assert meta["langgraph_path"] == ("__pregel_pull", "bot")
    assert meta["langgraph_checkpoint_ns"].startswith("bot:")


def test_messages_mode_with_other_modes_yields_tagged_tuples() -> None:
    items = list(_graph().stream({"messages": [HumanMessage("hi", id="h1")]}, stream_mode=["messages", "updates"]))
    modes = [mode for mode, _ in items]
    assert modes.count("messages") == 3
    assert modes.count("updates") == 2
    # a node's messages come before its update
    assert modes.index("messages") < modes.index("updates")


@pytest.mark.anyio
async def test_messages_from_a_subgraph_carry_its_namespace() -> None:
    child = StateGraph(MessagesState)
    child.add_node("inner", lambda s: {"messages": [AIMessage("from child", id="c1")]})
    child.add_edge(START, "inner")
    parent = StateGraph(MessagesState)
    parent.add_node("sub", child.compile())
    parent.add_edge(START, "sub")
    items = [
        item
        async for item in parent.compile().astream(
            {"messages": [HumanMessage("hi", id="h1")]}, stream_mode="messages", subgraphs=True
        )
    ]
    assert len(items) == 1
    ns, (message, meta) = items[0]
    assert ns[0].startswith("sub:")
    assert message.content == "from child"
    assert meta["langgraph_node"] == "inner"


def test_push_message_appends_to_the_state_key() -> None:
    def node(state: MessagesState) -> None:
        push_message(AIMessage("pushed", id="p1"))

    g = StateGraph(MessagesState)
    g.add_node("node", node)
    g.add_edge(START, "node")
    out = g.compile().invoke({"messages": [HumanMessage("hi", id="h1")]})
    assert [m.content for m in out["messages"]] == ["hi", "pushed"]


def test_push_message_outside_a_run_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="push_message"):
        push_message(AIMessage("x", id="x"))


def test_push_message_to_an_unknown_key_names_the_key_and_node() -> None:
    def node(state: MessagesState) -> None:
        push_message(AIMessage("x", id="x"), state_key="nope")

    g = StateGraph(MessagesState)
    g.add_node("node", node)
    g.add_edge(START, "node")
    with pytest.raises(InvalidUpdateError, match="'nope'.*'node'"):
        g.compile().invoke({"messages": []})


def test_no_messages_are_collected_unless_the_mode_is_streamed() -> None:
    out = _graph().invoke({"messages": [HumanMessage("hi", id="h1")]})
    assert [m.content for m in out["messages"]] == ["hi", "Hello", "again"]


def test_langchain_chat_model_tokens_stream_from_invoke() -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage as LCAIMessage

    llm = GenericFakeChatModel(messages=iter([LCAIMessage("hello there")]))

    def bot(state: MessagesState) -> dict[str, Any]:
        return {"messages": [llm.invoke(state["messages"])]}

    g = StateGraph(MessagesState)
    g.add_node("bot", bot)
    g.add_edge(START, "bot")
    chunks = list(g.compile().stream({"messages": [("user", "hi")]}, stream_mode="messages"))
    assert "".join(m.content for m, _ in chunks) == "hello there"
    assert {meta["langgraph_node"] for _, meta in chunks} == {"bot"}
    assert len(chunks) == 3  # "hello", " ", "there": the final message is not repeated
