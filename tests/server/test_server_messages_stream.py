"""The legacy ``messages`` stream mode, framed as LangGraph's server frames it (recorded
from ``langgraph dev`` on the same graphs): per message id one ``messages/metadata``, then
``messages/partial`` with the message accumulated so far for each streamed token, or one
``messages/complete`` for a whole message a node returned; each a list of one message dict."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from tests.server.conftest import Server, make_app_folder

pytestmark = pytest.mark.anyio

INPUT = {"messages": [{"role": "user", "content": "hi"}]}
AI_KEYS = ["content", "additional_kwargs", "response_metadata", "type", "name", "id", "tool_calls", "invalid_tool_calls", "usage_metadata"]
TOOL_KEYS = ["content", "additional_kwargs", "response_metadata", "type", "name", "id", "tool_call_id", "artifact", "status"]
# what LangGraph's server sent for the chat graph (langgraph-api 0.16.7): event, content
LANGGRAPH_CHAT = [
    ("metadata", None),
    ("messages/metadata", None), *[("messages/partial", c) for c in ("hello", "hello ", "hello there", "hello there ", "hello there friend")],
    ("messages/metadata", None), *[("messages/partial", c) for c in ("one", "one ", "one two")],
    ("messages/metadata", None), *[("messages/partial", c) for c in ("three", "three ", "three four")],
    ("messages/metadata", None), ("messages/complete", "plain reply"),
    ("messages/metadata", None), ("messages/complete", "tool out"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    graphs = {"chat": "./chat_graphs.py:chat", "chat_parent": "./chat_graphs.py:chat_parent"}
    srv = Server(make_app_folder(tmp_path_factory.mktemp("messages"), graphs)).start()
    try:
        yield srv
    finally:
        srv.stop()


def _shape(parts: list[Any]) -> list[tuple[str, Any]]:
    """(event, content) per event, each payload's shape checked on the way."""
    out: list[tuple[str, Any]] = []
    current: str | None = None
    for p in parts:
        if p.event == "metadata":
            out.append((p.event, None))
        elif p.event == "messages/metadata":
            ((current, meta),) = p.data.items()
            assert set(meta) == {"metadata"}
            assert {"langgraph_node", "langgraph_step", "langgraph_path", "langgraph_triggers", "run_id", "thread_id",
                    "graph_id", "assistant_id"} <= set(meta["metadata"])
            out.append((p.event, None))
        else:
            assert p.event in ("messages/partial", "messages/complete"), p.event
            (message,) = p.data
            assert message["id"] == current  # after its own messages/metadata
            assert list(message) == (TOOL_KEYS if message["type"] == "tool" else AI_KEYS)
            assert message["type"] in ("ai", "tool")  # whole messages, not chunks
            out.append((p.event, message["content"]))
    return out


async def test_messages_mode_frames_tokens_as_langgraph_does(server: Server) -> None:
    client = get_client(url=server.url)
    thread = await client.threads.create()
    parts = [p async for p in client.runs.stream(thread["thread_id"], "chat", input=INPUT, stream_mode="messages")]
    assert _shape(parts) == LANGGRAPH_CHAT
    first = parts[1].data
    (meta,) = first.values()
    assert meta["metadata"]["langgraph_node"] == "model_node" and meta["metadata"]["ls_model_type"] == "chat"
    # the streamed messages end as the state has them
    state = await client.threads.get_state(thread["thread_id"])
    streamed = {p.data[0]["id"]: p.data[0]["content"] for p in parts if p.event.startswith("messages/") and p.event != "messages/metadata"}
    assert {m["id"]: m["content"] for m in state["values"]["messages"][1:]} == streamed


async def test_messages_with_other_modes_and_with_messages_tuple(server: Server) -> None:
    client = get_client(url=server.url)
    parts = [p async for p in client.runs.stream(None, "chat", input=INPUT, stream_mode=["messages", "values"])]
    assert _shape([p for p in parts if p.event != "values"]) == LANGGRAPH_CHAT
    assert [p.event for p in parts].count("values") == 4
    # with messages-tuple too, the tuples win (LangGraph's server sends only them)
    parts = [p async for p in client.runs.stream(None, "chat", input=INPUT, stream_mode=["messages", "messages-tuple"])]
    assert {p.event for p in parts} == {"metadata", "messages"}
    assert [p.data[0]["type"] for p in parts[1:4]] == ["AIMessageChunk"] * 3


async def test_messages_of_a_subgraph(server: Server) -> None:
    client = get_client(url=server.url)
    # without subgraphs: the subgraph's reply arrives whole, from the parent's node
    parts = [p async for p in client.runs.stream(None, "chat_parent", input=INPUT, stream_mode="messages")]
    assert _shape(parts) == [("metadata", None), ("messages/metadata", None), ("messages/complete", "hello there friend")]
    # with subgraphs: its tokens, under the same names (no "|namespace" on these)
    parts = [
        p async for p in client.runs.stream(None, "chat_parent", input=INPUT, stream_mode="messages", stream_subgraphs=True)
    ]
    assert _shape(parts) == LANGGRAPH_CHAT[:7]


async def test_join_stream_filtered_to_messages_replays_the_frames(server: Server) -> None:
    client = get_client(url=server.url)
    thread = await client.threads.create()
    tid = thread["thread_id"]
    run = await client.runs.create(tid, "chat", input=INPUT, stream_mode=["messages", "values"], stream_resumable=True)
    await client.runs.join(tid, run["run_id"])
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.get(
            f"/threads/{tid}/runs/{run['run_id']}/stream", params={"stream_mode": "messages"}, headers={"Last-Event-ID": "0"}
        )
    events = [line.split(": ", 1)[1] for line in r.text.splitlines() if line.startswith("event: ")]
    assert [e for e in events if e != "metadata"] == [name for name, _ in LANGGRAPH_CHAT[1:]]
