"""The ``messages`` stream mode: ``(message, metadata)`` for messages nodes produce, for
chunks pushed with ``push_message``, and for LangChain chat-model tokens."""

from __future__ import annotations

from typing import Any

import pytest

from actorgraph.config import RunnableConfig
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


# -- LangChain models and tools (with langchain-core installed) -----------------------------


def _lc() -> Any:
    """GenericFakeChatModel and LangChain's ``tool`` decorator (skips without langchain)."""
    pytest.importorskip("langchain_core")
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.tools import tool

    return GenericFakeChatModel, tool


def _one_node(fn: Any, name: str = "n") -> Any:
    return StateGraph(MessagesState).add_node(name, fn).add_edge(START, name).compile()


def test_metadata_carries_the_run_ids_of_the_config_and_the_model_tags() -> None:
    """#31, #51: run/thread/assistant/graph ids from ``configurable`` and the model's tags
    are in every token's metadata; other configurable keys are not."""
    model_cls, _ = _lc()
    model = model_cls(messages=iter(["a b"]), tags=["joke"])
    g = _one_node(lambda s: {"messages": model.invoke("hi")})
    cfg = {
        "configurable": {"thread_id": "t", "run_id": "r", "assistant_id": "as", "graph_id": "gr", "api": object()},
        "tags": ["outer"],
    }
    chunks = list(g.stream({"messages": []}, cfg, stream_mode="messages"))
    assert len(chunks) == 3
    for _, meta in chunks:
        assert (meta["thread_id"], meta["run_id"], meta["assistant_id"], meta["graph_id"]) == ("t", "r", "as", "gr")
        assert meta["tags"] == ["outer", "joke"]
        assert meta["checkpoint_ns"] == meta["langgraph_checkpoint_ns"]
        assert "api" not in meta


def test_tokens_of_a_subgraph_stream_once() -> None:
    """A node that runs a subgraph with its own config: the subgraph's tokens stream under
    its namespace with subgraphs=True (once: not again for the node), and without it the
    node's returned message streams instead."""
    model_cls, _ = _lc()

    def build() -> Any:
        model = model_cls(messages=iter(["a b"]))
        inner = _one_node(lambda s: {"messages": model.invoke("hi")}, "inner_node")
        return _one_node(lambda s, config: {"messages": inner.invoke(s, config)["messages"][-1:]})

    parts = list(build().stream({"messages": []}, stream_mode="messages", subgraphs=True))
    assert [m.content for _, (m, _) in parts] == ["a", " ", "b"]
    assert {ns[0].split(":")[0] for ns, _ in parts} == {"n"}
    (message, meta), *rest = list(build().stream({"messages": []}, stream_mode="messages"))
    assert rest == [] and message.content == "a b" and meta["langgraph_node"] == "n"


def test_a_graph_streamed_inside_a_node_is_a_subgraph_of_the_outer_stream() -> None:
    """#57: the node's own stream gets the inner events; the outer stream gets them under
    the node's namespace with subgraphs=True, and not at all without it."""
    model_cls, _ = _lc()
    received: list[str] = []

    def build() -> Any:
        model = model_cls(messages=iter(["x y"]))
        inner = _one_node(lambda s: {"messages": model.invoke("hi")}, "inner_node")

        def agent(state: MessagesState) -> dict[str, Any]:
            received.extend(m.content for m, _ in inner.stream(state, stream_mode="messages"))
            return {}

        return _one_node(agent, "agent")

    assert list(build().stream({"messages": []}, stream_mode="messages")) == []
    assert received == ["x", " ", "y"]
    received.clear()
    parts = list(build().stream({"messages": []}, stream_mode="messages", subgraphs=True))
    assert received == ["x", " ", "y"]
    assert [m.content for _, (m, _) in parts] == ["x", " ", "y"]
    assert all(len(ns) == 1 and ns[0].startswith("agent:") for ns, _ in parts)


def test_tools_mode_streams_tool_calls() -> None:
    _, tool = _lc()

    @tool
    def shout(text: str) -> str:
        """Shout the text."""
        if text == "bad":
            raise ValueError("can't shout that")
        return text.upper()

    def node(state: MessagesState) -> dict[str, Any]:
        shout.invoke({"text": "hi"})
        try:
            shout.invoke({"text": "bad"})
        except ValueError:
            pass
        return {}

    events = list(_one_node(node).stream({"messages": []}, stream_mode="tools"))
    assert [e["event"] for e in events] == ["tool-started", "tool-finished", "tool-started", "tool-error"]
    assert events[0]["tool_name"] == "shout" and events[0]["input"] == {"text": "hi"}
    assert events[1]["output"] == "HI" and events[1]["tool_call_id"] == events[0]["tool_call_id"]
    assert events[3]["message"] == "can't shout that"


def test_v3_messages_projection_streams_model_replies_and_returned_messages() -> None:
    model_cls, _ = _lc()
    from langchain_core.messages import AIMessage as LCAIMessage

    model = model_cls(messages=iter(["live reply"]))
    g = StateGraph(MessagesState)
    g.add_node("llm", lambda s: {"messages": model.invoke(s["messages"])})
    g.add_node("fixed", lambda s: {"messages": [LCAIMessage("canned", id="fixed-1")]})
    g.add_edge(START, "llm")
    g.add_edge("llm", "fixed")
    streams = list(g.compile().stream_events({"messages": "hi"}, version="v3").messages)
    assert [(s.node, "".join(s.text)) for s in streams] == [("llm", "live reply"), ("fixed", "canned")]
    assert streams[1].message_id == "fixed-1"


def test_v1_messages_inside_a_v3_run_stay_token_chunks() -> None:
    model_cls, _ = _lc()
    from langchain_core.messages import AIMessageChunk

    model = model_cls(messages=iter(["p q"]))
    inner = _one_node(lambda s: {"messages": model.invoke("hi")})
    kinds: list[str] = []

    def node(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
        kinds.extend(type(m).__name__ for m, _ in inner.stream({"messages": []}, config, stream_mode="messages"))
        return {}

    _one_node(node, "outer").stream_events({"messages": []}, version="v3").output
    assert kinds == [AIMessageChunk.__name__] * 3


def test_tool_messages_a_node_returns_are_not_chat_replies_under_v3() -> None:
    _lc()
    from langchain_core.messages import ToolMessage

    g = _one_node(lambda s: {"messages": [ToolMessage("42", tool_call_id="c1", id="t1")]})
    assert [m.id for m, _ in g.stream({"messages": []}, stream_mode="messages")] == ["t1"]
    assert list(g.stream_events({"messages": []}, version="v3").messages) == []


def test_callbacks_in_the_config_reach_models_called_without_config() -> None:
    model_cls, _ = _lc()
    from langchain_core.callbacks import BaseCallbackHandler

    seen: list[str] = []

    class Recorder(BaseCallbackHandler):
        def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
            seen.append(kwargs["metadata"]["langgraph_node"])

    model = model_cls(messages=iter(["ok"]))
    g = _one_node(lambda s: {"messages": model.invoke("hi")}, "chat")
    g.invoke({"messages": []}, {"callbacks": [Recorder()], "run_name": "mine"})
    assert seen == ["chat"]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # LangChain's event stream is asyncio's
@pytest.mark.anyio
async def test_astream_events_v2_streams_the_models_events() -> None:
    model_cls, _ = _lc()
    model = model_cls(messages=iter(["hi there"]))
    g = _one_node(lambda s: {"messages": model.invoke(s["messages"])}, "chat")
    events = [e async for e in g.astream_events({"messages": "hi"}, version="v2")]
    kinds = [e["event"] for e in events if e["name"] == "GenericFakeChatModel"]
    assert kinds == ["on_chat_model_start"] + ["on_chat_model_stream"] * 3 + ["on_chat_model_end"]
    chunks = [e["data"]["chunk"].content for e in events if e["event"] == "on_chat_model_stream"]
    assert "".join(chunks) == "hi there"
    model_events = [e for e in events if e["name"] == "GenericFakeChatModel"]
    assert model_events[0]["metadata"]["langgraph_node"] == "chat"
    # as in LangGraph, the graph's own run and its node's run come first
    assert [(e["event"], e["name"]) for e in events[:2]] == [("on_chain_start", "LangGraph"), ("on_chain_start", "chat")]


def test_a_graph_on_its_own_thread_streams_its_messages_at_the_root() -> None:
    """A graph invoked in a node with a thread of its own is a root run (#23): as in
    LangGraph, its messages reach a caller that streams subgraphs at namespace (), and
    its other events don't reach the caller at all."""
    model_cls, _ = _lc()

    def build() -> Any:
        model = model_cls(messages=iter(["m n"]))
        child = _one_node(lambda s: {"messages": model.invoke("hi")}, "inner_node")

        def node(state: MessagesState) -> dict[str, Any]:
            child.invoke({"messages": []}, {"configurable": {"thread_id": "child"}})
            return {}

        return _one_node(node)

    parts = list(build().stream({"messages": []}, stream_mode=["messages", "updates"], subgraphs=True))
    assert [(ns, mode) for ns, mode, _ in parts] == [((), "messages")] * 3 + [((), "updates")]
    assert [p[2][0].content for p in parts[:3]] == ["m", " ", "n"]
    assert list(build().stream({"messages": []}, stream_mode="messages")) == []


def test_returned_messages_carry_the_run_ids_of_the_config() -> None:
    """#31: the metadata of a message a node returns has the config's run_id (and the
    other ids LangGraph copies from ``configurable``)."""
    g = _one_node(lambda s: {"messages": [AIMessage("hi", id="m1")]})
    cfg = {"configurable": {"thread_id": "t", "run_id": "r", "assistant_id": "a", "secret_key": "x"}}
    ((message, meta),) = list(g.stream({"messages": []}, cfg, stream_mode="messages"))
    assert message.id == "m1"
    assert (meta["run_id"], meta["assistant_id"], meta["thread_id"]) == ("r", "a", "t")
    assert "secret_key" not in meta
