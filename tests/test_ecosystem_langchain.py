"""LangChain's ``create_agent`` (package ``langchain`` 1.x), unmodified, on actorgraph
through ``install_as_langgraph()``: tools, structured output, the human-in-the-loop
middleware's interrupt and resume, checkpointers. Fake chat models, no network."""

from __future__ import annotations

import actorgraph

actorgraph.install_as_langgraph()

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from langchain.agents import create_agent  # noqa: E402
from langchain.agents.middleware import HumanInTheLoopMiddleware  # noqa: E402
from langchain.agents.structured_output import ToolStrategy  # noqa: E402
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage  # noqa: E402
from langchain_core.tools import tool  # noqa: E402
from pydantic import BaseModel  # noqa: E402

from actorgraph.checkpoint.memory import InMemorySaver  # noqa: E402
from actorgraph.checkpoint.sqlite import SqliteSaver  # noqa: E402
from actorgraph.types import Command  # noqa: E402

from ecosystem_models import ScriptedChatModel, call  # noqa: E402

SENT: list[str] = []


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@tool
def send_email(to: str, body: str) -> str:
    """Send an email."""
    SENT.append(f"{to}: {body}")
    return f"sent to {to}"


class Weather(BaseModel):
    city: str
    summary: str


def test_the_agent_graph_is_an_actorgraph_graph() -> None:
    agent = create_agent(ScriptedChatModel(replies=["hi"]), tools=[get_weather])
    assert type(agent).__module__.startswith("actorgraph.")
    assert set(agent.get_graph().nodes) >= {"model", "tools"}


def test_tools_run_and_the_answer_comes_back() -> None:
    model = ScriptedChatModel(
        replies=[AIMessage(content="", id="a1", tool_calls=[call("get_weather", {"city": "Paris"}, "c1")]), "It is sunny."]
    )
    agent = create_agent(model, tools=[get_weather], system_prompt="be brief")
    out = agent.invoke({"messages": [HumanMessage("weather in Paris?")]})
    kinds = [type(m).__name__ for m in out["messages"]]
    assert kinds == ["HumanMessage", "AIMessage", "ToolMessage", "AIMessage"]
    tool_msg = out["messages"][2]
    assert isinstance(tool_msg, ToolMessage) and tool_msg.content == "sunny in Paris" and tool_msg.tool_call_id == "c1"
    assert out["messages"][-1].content == "It is sunny."
    assert model.bound_tools == ["get_weather"]
    # the second model call saw the system prompt, the question, its tool call and the result
    assert [m.type for m in model.seen[1]] == ["system", "human", "ai", "tool"]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # LangChain's chat models gather with asyncio
async def test_tools_run_under_ainvoke_and_astream() -> None:
    def script() -> ScriptedChatModel:
        return ScriptedChatModel(
            replies=[AIMessage(content="", id="a1", tool_calls=[call("get_weather", {"city": "Oslo"}, "c1")]), "cold"]
        )

    out = await create_agent(script(), tools=[get_weather]).ainvoke({"messages": [HumanMessage("Oslo?")]})
    assert out["messages"][2].content == "sunny in Oslo" and out["messages"][-1].content == "cold"
    nodes = [
        node
        async for chunk in create_agent(script(), tools=[get_weather]).astream(
            {"messages": [HumanMessage("Oslo?")]}, stream_mode="updates"
        )
        for node in chunk
    ]
    assert nodes == ["model", "tools", "model"]


def test_structured_output_through_a_tool_strategy() -> None:
    model = ScriptedChatModel(
        replies=[AIMessage(content="", id="a1", tool_calls=[call("Weather", {"city": "Rome", "summary": "warm"}, "s1")])]
    )
    agent = create_agent(model, tools=[], response_format=ToolStrategy(Weather))
    out = agent.invoke({"messages": [HumanMessage("Rome?")]})
    assert out["structured_response"] == Weather(city="Rome", summary="warm")
    assert isinstance(out["messages"][-1], ToolMessage)


def _hitl_agent(checkpointer: object, replies: list[AIMessage | str]) -> object:
    return create_agent(
        ScriptedChatModel(replies=replies),
        tools=[send_email, get_weather],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"send_email": True, "get_weather": False})],
        checkpointer=checkpointer,
    )


def _email_call() -> AIMessage:
    return AIMessage(content="", id="a1", tool_calls=[call("send_email", {"to": "alice", "body": "hi"}, "e1")])


def test_human_in_the_loop_interrupts_and_an_approval_resumes() -> None:
    SENT.clear()
    agent = _hitl_agent(InMemorySaver(), [_email_call(), "done"])
    config = {"configurable": {"thread_id": "t1"}}
    first = agent.invoke({"messages": [HumanMessage("email alice")]}, config)  # type: ignore[attr-defined]
    (pending,) = first["__interrupt__"]
    assert pending.value["action_requests"][0]["name"] == "send_email"
    assert pending.value["action_requests"][0]["args"] == {"to": "alice", "body": "hi"}
    assert SENT == []  # nothing ran before the decision
    state = agent.get_state(config)  # type: ignore[attr-defined]
    assert state.interrupts and state.interrupts[0].id == pending.id
    out = agent.invoke(Command(resume={"decisions": [{"type": "approve"}]}), config)  # type: ignore[attr-defined]
    assert SENT == ["alice: hi"]
    assert out["messages"][-2].content == "sent to alice" and out["messages"][-1].content == "done"
    assert "__interrupt__" not in out


def test_human_in_the_loop_edit_and_reject(tmp_path: Path) -> None:
    SENT.clear()
    with SqliteSaver.from_conn_string(str(tmp_path / "cp.sqlite")) as saver:
        edited = _hitl_agent(saver, [_email_call(), "edited"])
        config = {"configurable": {"thread_id": "edit"}}
        edited.invoke({"messages": [HumanMessage("email alice")]}, config)  # type: ignore[attr-defined]
        decision = {"type": "edit", "edited_action": {"name": "send_email", "args": {"to": "bob", "body": "yo"}}}
        out = edited.invoke(Command(resume={"decisions": [decision]}), config)  # type: ignore[attr-defined]
        assert SENT == ["bob: yo"] and out["messages"][-1].content == "edited"

        rejected = _hitl_agent(saver, [_email_call(), "ok, not sending"])
        config = {"configurable": {"thread_id": "reject"}}
        rejected.invoke({"messages": [HumanMessage("email alice")]}, config)  # type: ignore[attr-defined]
        out = rejected.invoke(  # type: ignore[attr-defined]
            Command(resume={"decisions": [{"type": "reject", "message": "no emails today"}]}), config
        )
        assert SENT == ["bob: yo"]
        tool_msgs = [m for m in out["messages"] if isinstance(m, ToolMessage)]
        assert tool_msgs[-1].content.endswith("no emails today") and tool_msgs[-1].status == "error"
        assert out["messages"][-1].content == "ok, not sending"


def test_a_checkpointer_keeps_the_conversation_across_invokes() -> None:
    model = ScriptedChatModel(replies=["first answer", "second answer"])
    agent = create_agent(model, tools=[get_weather], checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "chat"}}
    agent.invoke({"messages": [HumanMessage("one")]}, config)
    out = agent.invoke({"messages": [HumanMessage("two")]}, config)
    assert [m.content for m in out["messages"]] == ["one", "first answer", "two", "second answer"]
    assert [m.content for m in model.seen[1]] == ["one", "first answer", "two"]
    history = list(agent.get_state_history(config))
    assert len(history) >= 4 and history[0].values["messages"][-1].content == "second answer"


def test_per_call_interrupts_are_answered_by_id_with_version_v2() -> None:
    SENT.clear()
    two_calls = AIMessage(
        content="",
        id="a1",
        tool_calls=[call("send_email", {"to": "alice", "body": "1"}, "e1"), call("send_email", {"to": "carol", "body": "2"}, "e2")],
    )
    agent = create_agent(
        ScriptedChatModel(replies=[two_calls, "half sent"]),
        tools=[send_email],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"send_email": True}, interrupt_mode="per_call")],
        checkpointer=InMemorySaver(),
    )
    config = {"configurable": {"thread_id": "per-call"}}
    result = agent.invoke({"messages": [HumanMessage("email both")]}, config, version="v2")
    assert len(result.interrupts) == 2 and SENT == []
    answers = {
        i.id: {"type": "approve"} if i.value["args"]["to"] == "alice" else {"type": "reject", "message": "not carol"}
        for i in result.interrupts
    }
    out = agent.invoke(Command(resume=answers), config, version="v2")
    assert SENT == ["alice: 1"] and not out.interrupts
    assert out.value["messages"][-1].content == "half sent"
