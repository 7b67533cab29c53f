"""``RemoteGraph`` over a (mocked) ``langgraph-sdk`` client: what it sends, how it
reads the server's stream, and how it behaves as a node of a local graph."""

from __future__ import annotations

import operator
from typing import Annotated, Any
from unittest.mock import AsyncMock, MagicMock

import pytest
from typing_extensions import TypedDict

pytest.importorskip("langgraph_sdk")

from langgraph_sdk.schema import StreamPart  # noqa: E402

from actorgraph.checkpoint.memory import InMemorySaver  # noqa: E402
from actorgraph.errors import GraphInterrupt, ParentCommand  # noqa: E402
from actorgraph.graph import START, StateGraph  # noqa: E402
from actorgraph.pregel.remote import RemoteException, RemoteGraph  # noqa: E402
from actorgraph.types import Command, Interrupt  # noqa: E402


pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class S(TypedDict):
    log: Annotated[list[str], operator.add]


def _sync(parts: list[Any]) -> MagicMock:
    client = MagicMock()
    client.runs.stream.return_value = parts
    return client


def test_stream_sends_a_clean_request_and_yields_what_was_asked() -> None:
    client = _sync(
        [
            StreamPart(event="values", data={"log": ["a"]}),
            StreamPart(event="updates", data={"n": {"log": ["a"]}}),
            StreamPart(event="values|sub:1", data={"log": ["inner"]}),
        ]
    )
    rg = RemoteGraph("agent", sync_client=client, config={"tags": ["bound"]})
    config = {
        "configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "c", "key": "v", "obj": object()},
        "metadata": {"m": (1, 2)},
    }
    assert list(rg.stream({"log": []}, config, stream_mode="values")) == [{"log": ["a"]}]
    kwargs = client.runs.stream.call_args.kwargs
    assert kwargs["thread_id"] == "t" and kwargs["assistant_id"] == "agent"
    assert kwargs["config"] == {"tags": ["bound"], "metadata": {"m": [1, 2]}, "configurable": {"key": "v"}}
    # interrupts come through "updates": the wire asks for it too
    assert kwargs["stream_mode"] == ["values", "updates"] and kwargs["if_not_exists"] == "create"
    assert list(rg.stream({"log": []}, config, stream_mode=["values"], subgraphs=True)) == [
        ((), "values", {"log": ["a"]}),
        (("sub:1",), "values", {"log": ["inner"]}),
    ]


def test_invoke_returns_the_last_values_and_commands_go_as_commands() -> None:
    client = _sync([StreamPart(event="values", data={"log": ["a"]}), StreamPart(event="values", data={"log": ["a", "b"]})])
    rg = RemoteGraph("agent", sync_client=client)
    assert rg.invoke(Command(resume="yes"), {"configurable": {"thread_id": "t"}}) == {"log": ["a", "b"]}
    kwargs = client.runs.stream.call_args.kwargs
    assert kwargs["input"] is None and kwargs["command"]["resume"] == "yes"
    out = rg.invoke({"log": []}, version="v2")
    assert out.value == {"log": ["a", "b"]} and out.interrupts == ()


def test_errors_and_parent_commands_from_the_server_raise() -> None:
    rg = RemoteGraph("agent", sync_client=_sync([StreamPart(event="error", data={"message": "boom"})]))
    with pytest.raises(RemoteException, match="boom"):
        rg.invoke({"log": []})
    rg = RemoteGraph("agent", sync_client=_sync([StreamPart(event="command", data={"graph": "__parent__", "goto": "x"})]))
    with pytest.raises(ParentCommand):
        rg.invoke({"log": []})


def test_as_a_node_its_interrupt_pauses_the_parent_and_its_events_join_the_parent_stream() -> None:
    client = _sync(
        [
            StreamPart(event="values", data={"log": ["remote"]}),
            StreamPart(event="updates|inner:1", data={"x": {"log": ["deep"]}}),
            StreamPart(event="updates", data={"__interrupt__": [{"value": "ok?", "id": "i1"}]}),
        ]
    )
    rg = RemoteGraph("agent", sync_client=client, name="remote")
    g = StateGraph(S).add_node(rg).add_edge(START, "remote").compile(checkpointer=InMemorySaver())
    cfg = {"configurable": {"thread_id": "t"}}
    parts = list(g.stream({"log": []}, cfg, stream_mode="updates", subgraphs=True))
    # the remote run's events under the node's namespace, then the parent's pause
    assert [ns[0].split(":")[0] for ns, _ in parts if ns] == ["remote", "remote"]
    assert parts[-1] == ((), {"__interrupt__": (Interrupt(value="ok?", id="i1"),)})
    assert client.runs.stream.call_args.kwargs["thread_id"] == "t"  # the parent's thread
    assert g.get_state(cfg).next == ("remote",)


async def test_async_calls_and_state_methods() -> None:
    client = MagicMock()
    stream = MagicMock()
    stream.__aiter__.return_value = [StreamPart(event="values", data={"log": ["a"]})]
    client.runs.stream.return_value = stream
    state = {
        "values": {"log": ["a"]},
        "next": ["n"],
        "checkpoint": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "c2"},
        "metadata": {"step": 1},
        "created_at": "now",
        "parent_checkpoint": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "c1"},
        "tasks": [{"id": "k", "name": "n", "error": None, "interrupts": [{"value": 1, "id": "i"}], "state": None, "checkpoint": None}],
    }
    client.threads.get_state = AsyncMock(return_value=state)
    client.threads.update_state = AsyncMock(return_value={"checkpoint": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "c3"}})
    rg = RemoteGraph("agent", client=client)
    assert await rg.ainvoke({"log": []}) == {"log": ["a"]}
    snap = await rg.aget_state({"configurable": {"thread_id": "t"}})
    assert (snap.next, snap.config["configurable"]["checkpoint_id"], snap.parent_config["configurable"]["checkpoint_id"]) == (
        ("n",), "c2", "c1"
    )
    assert snap.interrupts == (Interrupt(value=1, id="i"),)
    new = await rg.aupdate_state({"configurable": {"thread_id": "t"}}, {"log": ["b"]}, as_node="n")
    assert new["configurable"]["checkpoint_id"] == "c3"


def test_without_a_client_each_call_says_what_is_missing() -> None:
    rg = RemoteGraph("agent")
    with pytest.raises(ValueError, match="Sync client is not initialized"):
        rg.invoke({})
    copy = rg.with_config({"configurable": {"a": 1}}, recursion_limit=5)
    assert copy is not rg and copy.config == {"configurable": {"a": 1}, "recursion_limit": 5}


def test_graph_interrupt_keeps_the_interrupts_as_given() -> None:
    exc = GraphInterrupt([Interrupt("v", id="i")])
    assert exc.args[0] == [Interrupt("v", id="i")] and exc.interrupts == (Interrupt("v", id="i"),)
