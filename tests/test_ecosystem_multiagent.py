"""langgraph-supervisor's and langgraph-swarm's handoffs, unmodified, on actorgraph through
``install_as_langgraph()``. Fake chat models, no network."""

from __future__ import annotations

import actorgraph

actorgraph.install_as_langgraph()

from langchain.agents import create_agent  # noqa: E402
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage  # noqa: E402
from langchain_core.tools import tool  # noqa: E402
from langgraph_supervisor import create_supervisor  # noqa: E402
from langgraph_swarm import create_handoff_tool, create_swarm  # noqa: E402

from actorgraph.checkpoint.memory import InMemorySaver  # noqa: E402
from actorgraph.prebuilt import create_react_agent  # noqa: E402

from ecosystem_models import ScriptedChatModel, call  # noqa: E402


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def _transfer(target: str, id: str) -> AIMessage:
    return AIMessage(content="", id=f"h-{id}", tool_calls=[call(f"transfer_to_{target}", {}, id)])


def test_supervisor_hands_off_to_an_agent_and_gets_control_back() -> None:
    math_model = ScriptedChatModel(
        replies=[AIMessage(content="", id="m1", tool_calls=[call("add", {"a": 2, "b": 3}, "t1")]), "2 + 3 is 5"]
    )
    math_agent = create_react_agent(math_model, tools=[add], name="math_expert")
    supervisor_model = ScriptedChatModel(replies=[_transfer("math_expert", "s1"), "The answer is 5."])
    app = create_supervisor([math_agent], model=supervisor_model).compile(checkpointer=InMemorySaver())
    out = app.invoke({"messages": [HumanMessage("what is 2 + 3?")]}, {"configurable": {"thread_id": "sup"}})
    messages = out["messages"]
    # the handoff, the agent's answer, the handoff back, the supervisor's final word
    assert [m.type for m in messages[1:3]] == ["ai", "tool"] and messages[1].name == "supervisor"
    assert messages[2].content == "Successfully transferred to math_expert"
    assert any(m.type == "ai" and m.name == "math_expert" and m.content == "2 + 3 is 5" for m in messages)
    assert any(isinstance(m, ToolMessage) and m.content == "Successfully transferred back to supervisor" for m in messages)
    assert messages[-1].content == "The answer is 5." and messages[-1].name == "supervisor"
    assert supervisor_model.bound_tools == ["transfer_to_math_expert"]
    # the agent's own tool call ran inside it: with the default output mode, only its last message is kept
    assert not any(isinstance(m, ToolMessage) and m.content == "5" for m in messages)
    assert math_model.position == 2 and supervisor_model.position == 2


def test_supervisor_with_full_history_and_a_create_agent_worker() -> None:
    worker = create_agent(
        ScriptedChatModel(replies=[AIMessage(content="", id="w1", tool_calls=[call("add", {"a": 1, "b": 1}, "t1")]), "two"]),
        tools=[add],
        name="adder",
    )
    supervisor_model = ScriptedChatModel(replies=[_transfer("adder", "s1"), "done"])
    app = create_supervisor([worker], model=supervisor_model, output_mode="full_history").compile()
    out = app.invoke({"messages": [HumanMessage("1 + 1?")]})
    # message for message what LangGraph 1.2.24 gives for this script
    assert [(m.type, m.name, m.content) for m in out["messages"][1:]] == [
        ("ai", "supervisor", ""),
        ("tool", "transfer_to_adder", "Successfully transferred to adder"),
        ("ai", "adder", ""),
        ("tool", "add", "2"),
        ("ai", "adder", "two"),
        ("ai", "adder", "Transferring back to supervisor"),
        ("tool", "transfer_back_to_supervisor", "Successfully transferred back to supervisor"),
        ("ai", "supervisor", "done"),
    ]


def _swarm_agents() -> tuple[ScriptedChatModel, ScriptedChatModel]:
    alice = ScriptedChatModel(replies=[_transfer("bob", "a1"), "alice again"])
    bob = ScriptedChatModel(replies=["bob here", _transfer("alice", "b1")])
    return alice, bob


def test_swarm_hands_off_and_remembers_the_active_agent() -> None:
    alice_model, bob_model = _swarm_agents()
    alice = create_react_agent(alice_model, [create_handoff_tool(agent_name="bob")], name="alice")
    bob = create_react_agent(bob_model, [create_handoff_tool(agent_name="alice")], name="bob")
    app = create_swarm([alice, bob], default_active_agent="alice").compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "swarm"}}
    out = app.invoke({"messages": [HumanMessage("hi")]}, config)
    assert out["active_agent"] == "bob"
    assert [m.content for m in out["messages"] if m.type == "tool"] == ["Successfully transferred to bob"]
    assert out["messages"][-1].content == "bob here" and out["messages"][-1].name == "bob"
    # the next turn starts with bob (the checkpointed active agent), who hands back to alice
    out = app.invoke({"messages": [HumanMessage("back to alice")]}, config)
    assert out["active_agent"] == "alice"
    assert out["messages"][-1].content == "alice again"
    assert alice_model.position == 2 and bob_model.position == 2
    assert app.get_state(config).values["active_agent"] == "alice"


def test_swarm_of_create_agent_agents() -> None:
    alice_model, bob_model = _swarm_agents()
    alice = create_agent(alice_model, tools=[create_handoff_tool(agent_name="bob")], name="alice")
    bob = create_agent(bob_model, tools=[create_handoff_tool(agent_name="alice")], name="bob")
    app = create_swarm([alice, bob], default_active_agent="alice").compile(checkpointer=InMemorySaver())
    out = app.invoke({"messages": [HumanMessage("hi")]}, {"configurable": {"thread_id": "s2"}})
    assert out["active_agent"] == "bob" and out["messages"][-1].content == "bob here"
