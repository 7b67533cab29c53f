"""``ToolNode``, ``tools_condition`` and ``ValidationNode``: tool calls of the last AI
message run (in parallel, answered in call order), with injected arguments, error
handling, interceptors, and Commands returned by tools."""

from __future__ import annotations

import functools
import operator
import threading
import time
from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolCall, ToolMessage
from langchain_core.tools import InjectedToolCallId, ToolException, tool
from pydantic import BaseModel, ValidationError
from typing_extensions import TypedDict

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.errors import is_invalid_resume
from actorgraph.graph import END, START, MessagesState, StateGraph, add_messages
from actorgraph.prebuilt import InjectedState, InjectedStore, ToolNode, ToolRuntime, ValidationNode, tools_condition
from actorgraph.prebuilt.tool_node import ToolCallRequest, ToolInvocationError
from actorgraph.store.memory import InMemoryStore
from actorgraph.types import Command, Send, interrupt

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def anyio_backend() -> str:
    # LangChain runs sync tools from async code with asyncio's executor
    return "asyncio"


def _call(name: str, args: dict[str, Any] | None = None, id: str = "c1") -> ToolCall:
    return ToolCall(name=name, args=args or {}, id=id, type="tool_call")


def _asking(*calls: ToolCall) -> dict[str, Any]:
    return {"messages": [HumanMessage("hi"), AIMessage("", tool_calls=list(calls))]}


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool
def fail(kind: str) -> str:
    """Raise the named error."""
    raise {"value": ValueError, "type": TypeError, "tool": ToolException}[kind](f"{kind} went wrong")


# -- running calls ---------------------------------------------------------------------
def test_parallel_calls_are_answered_in_call_order() -> None:
    both_running = threading.Barrier(2, timeout=10)  # breaks unless the calls overlap

    @tool
    def meet(seconds: float) -> float:
        """Wait for the other call, then sleep."""
        both_running.wait()
        time.sleep(seconds)
        return seconds

    out = ToolNode([meet]).invoke(_asking(_call("meet", {"seconds": 0.2}, "a"), _call("meet", {"seconds": 0.0}, "b")))
    assert [(m.tool_call_id, m.content, m.name) for m in out["messages"]] == [("a", "0.2", "meet"), ("b", "0.0", "meet")]


@pytest.mark.anyio
async def test_async_run_answers_every_call() -> None:
    @tool
    async def double(x: int) -> int:
        """Double."""
        return 2 * x

    out = await ToolNode([double, add]).ainvoke(
        _asking(_call("double", {"x": 4}, "a"), _call("add", {"a": 1, "b": 2}, "b"))
    )
    assert [m.content for m in out["messages"]] == ["8", "3"]


def test_input_shapes_give_matching_output_shapes() -> None:
    node = ToolNode([add])
    message = AIMessage("", tool_calls=[_call("add", {"a": 1, "b": 1})])
    assert [m.content for m in node.invoke([message])] == ["2"]  # a list of messages
    assert node.invoke({"messages": [message]})["messages"][0].content == "2"
    assert node.invoke([_call("add", {"a": 2, "b": 2})])["messages"][0].content == "4"  # bare tool calls
    with pytest.raises(ValueError, match="No message found in input"):
        node.invoke({"messages": []})
    with pytest.raises(ValueError, match="No AIMessage found in input"):
        node.invoke([HumanMessage("hi")])


def test_unknown_tool_gets_an_error_message_naming_the_tools() -> None:
    out = ToolNode([add, fail]).invoke(_asking(_call("nope")))
    (msg,) = out["messages"]
    assert msg.status == "error"
    assert msg.content == "Error: nope is not a valid tool, try one of [add, fail]."


def test_non_json_output_and_utf8_are_kept_readable() -> None:
    @tool
    def days() -> list[str]:
        """Days."""
        return ["星期一", "Friday"]

    (msg,) = ToolNode([days]).invoke(_asking(_call("days")))["messages"]
    assert msg.content == '["星期一", "Friday"]'


# -- errors ----------------------------------------------------------------------------
def test_by_default_bad_arguments_go_back_to_the_model_and_other_errors_raise() -> None:
    node = ToolNode([add, fail])
    (msg,) = node.invoke(_asking(_call("add", {"a": "x", "b": 1})))["messages"]
    assert msg.status == "error"
    assert msg.content.startswith("Error invoking tool 'add' with kwargs {'a': 'x', 'b': 1} with error:\n a:")
    with pytest.raises(ValueError, match="value went wrong"):
        node.invoke(_asking(_call("fail", {"kind": "value"})))


def test_handle_tool_errors_true_string_and_false() -> None:
    (msg,) = ToolNode([fail], handle_tool_errors=True).invoke(_asking(_call("fail", {"kind": "type"})))["messages"]
    assert msg.content == "Error: TypeError('type went wrong')\n Please fix your mistakes."
    (msg,) = ToolNode([fail], handle_tool_errors="try again").invoke(_asking(_call("fail", {"kind": "type"})))[
        "messages"
    ]
    assert (msg.content, msg.status) == ("try again", "error")
    with pytest.raises(ToolInvocationError) as info:
        ToolNode([add], handle_tool_errors=False).invoke(_asking(_call("add", {"a": "x", "b": 1})))
    assert info.value.tool_name == "add"
    assert [e["loc"] for e in info.value.filtered_errors or []] == [("a",)]


def test_handler_annotation_and_exception_types_choose_what_is_handled() -> None:
    def on_value_error(e: ValueError | ToolException) -> str:
        return f"handled {e}"

    node = ToolNode([fail], handle_tool_errors=on_value_error)
    assert node.invoke(_asking(_call("fail", {"kind": "value"})))["messages"][0].content == "handled value went wrong"
    with pytest.raises(TypeError):
        node.invoke(_asking(_call("fail", {"kind": "type"})))
    node = ToolNode([fail], handle_tool_errors=(TypeError,))
    assert node.invoke(_asking(_call("fail", {"kind": "type"})))["messages"][0].status == "error"
    with pytest.raises(ValueError):
        node.invoke(_asking(_call("fail", {"kind": "value"})))


def test_handler_with_a_non_exception_annotation_is_refused_when_it_would_be_used() -> None:
    def bad(e: str) -> str:
        return e

    node = ToolNode([fail], handle_tool_errors=bad)
    with pytest.raises(ValueError, match="Arbitrary types are not supported"):
        node.invoke(_asking(_call("fail", {"kind": "value"})))


def test_validation_errors_hide_injected_arguments() -> None:
    @tool
    def lookup(key: int, state: Annotated[dict, InjectedState]) -> str:
        """Look up."""
        return "x"

    (msg,) = ToolNode([lookup]).invoke(_asking(_call("lookup", {"key": "nan"})))["messages"]
    assert "key" in msg.content and "state" not in msg.content


def test_an_interrupt_in_a_tool_is_never_an_error_message() -> None:
    @tool
    def ask() -> str:
        """Ask a person."""
        return str(interrupt("ok?"))

    graph = (
        StateGraph(MessagesState)
        .add_node("tools", ToolNode([ask], handle_tool_errors=True))
        .add_edge(START, "tools")
        .compile(checkpointer=InMemorySaver())
    )
    cfg = {"configurable": {"thread_id": "t"}}
    out = graph.invoke(_asking(_call("ask")), cfg)
    assert [i.value for i in out["__interrupt__"]] == ["ok?"]
    assert graph.invoke(Command(resume="yes"), cfg)["messages"][-1].content == "yes"


def test_a_bad_answer_to_a_typed_interrupt_fails_the_run_and_can_be_answered_again() -> None:
    class Approval(BaseModel):
        approved: bool

    @tool
    def approve() -> str:
        """Ask for approval."""
        return f"approved={interrupt('ok?', response_schema=Approval).approved}"

    graph = (
        StateGraph(MessagesState)
        .add_node("tools", ToolNode([approve], handle_tool_errors=True))
        .add_edge(START, "tools")
        .compile(checkpointer=InMemorySaver())
    )
    cfg = {"configurable": {"thread_id": "t"}}
    (pending,) = graph.invoke(_asking(_call("approve")), cfg)["__interrupt__"]
    assert pending.response_schema["properties"] == {"approved": {"title": "Approved", "type": "boolean"}}
    with pytest.raises(ValidationError) as info:
        graph.invoke(Command(resume={pending.id: {"approved": "maybe"}}), cfg)
    assert is_invalid_resume(info.value)
    assert [i.id for i in graph.get_state(cfg).interrupts] == [pending.id]
    out = graph.invoke(Command(resume={pending.id: {"approved": True}}), cfg)
    assert out["messages"][-1].content == "approved=True"


# -- injected arguments ----------------------------------------------------------------
class _State(MessagesState):
    user: str


def test_injected_state_store_and_runtime_reach_the_tool() -> None:
    store = InMemoryStore()
    store.put(("prefs",), "ann", {"color": "green"})

    @tool
    def prefs(
        topic: str,
        user: Annotated[str, InjectedState("user")],
        state: Annotated[dict, InjectedState],
        store: Annotated[Any, InjectedStore()],
        runtime: ToolRuntime,
    ) -> str:
        """Read the user's preferences."""
        color = store.get(("prefs",), user).value["color"]
        return f"{topic}:{color}:{len(state['messages'])}:{runtime.tool_call_id}:{[t.name for t in runtime.tools]}"

    graph = StateGraph(_State).add_node("tools", ToolNode([prefs])).add_edge(START, "tools").compile(store=store)
    out = graph.invoke({**_asking(_call("prefs", {"topic": "ui"}, "call-7")), "user": "ann"})
    assert out["messages"][-1].content == "ui:green:2:call-7:['prefs']"


def test_the_model_cannot_forge_injected_arguments() -> None:
    @tool
    def whoami(user: Annotated[str, InjectedState("user")]) -> str:
        """Who am I."""
        return user

    out = ToolNode([whoami]).invoke({**_asking(_call("whoami", {"user": "admin"})), "user": "ann"})
    assert out["messages"][-1].content == "ann"


def test_injected_store_without_a_store_is_a_clear_error() -> None:
    @tool
    def remember(store: Annotated[Any, InjectedStore()]) -> str:
        """Remember."""
        return "ok"

    graph = StateGraph(MessagesState).add_node("tools", ToolNode([remember])).add_edge(START, "tools").compile()
    with pytest.raises(ValueError, match="please compile your graph with a store"):
        graph.invoke(_asking(_call("remember")))


def test_missing_state_key_is_a_key_error_unless_the_argument_has_a_default() -> None:
    def needs(x: int, user: Annotated[str, InjectedState("user")]) -> str:
        """Needs the user."""
        return user

    def optional(x: int, user: Annotated[str | None, InjectedState("user")] = None) -> str:
        """Optional user."""
        return str(user)

    node = ToolNode([needs, optional], handle_tool_errors=False)
    with pytest.raises(KeyError, match="user"):
        node.invoke(_asking(_call("needs", {"x": 1})))
    assert node.invoke(_asking(_call("optional", {"x": 1})))["messages"][-1].content == "None"


def test_bare_tool_calls_sent_to_the_node_see_the_graph_state() -> None:
    seen: list[Any] = []

    @tool
    def record(runtime: ToolRuntime) -> str:
        """Record the state."""
        seen.append(runtime.state)
        return "ok"

    graph = (
        StateGraph(_State)
        .add_node("tools", ToolNode([record]))
        .add_conditional_edges(START, lambda s: [Send("tools", [_call("record")])], ["tools"])
        .compile()
    )
    graph.invoke({"messages": [HumanMessage("hi", id="h")], "user": "ann"})
    assert seen == [{"messages": [HumanMessage("hi", id="h")], "user": "ann"}]


def _langgraph_reader(values: dict[str, Any]) -> Any:
    """A reader shaped as LangGraph installs ``__pregel_read``: a partial of
    ``(scratchpad, channels, managed, task)``, called with ``(select, fresh)``."""

    def read(scratchpad: Any, channels: Any, managed: Any, task: Any, select: Any, fresh: bool) -> Any:
        return {k: values[k] for k in select if k in values}

    return functools.partial(read, None, dict.fromkeys(values), {}, None)


@pytest.mark.anyio
async def test_bare_tool_calls_outside_a_graph_see_the_state_a_langgraph_reader_reads() -> None:
    seen: list[Any] = []

    @tool
    def record(runtime: ToolRuntime) -> str:
        """Record the state."""
        seen.append(runtime.state)
        return "ok"

    values = {"messages": [AIMessage("from channels")], "files": {"/a.md": "body"}}
    config = {"configurable": {"__pregel_read": _langgraph_reader(values)}}
    ToolNode([record]).invoke([_call("record")], config=config)
    await ToolNode([record]).ainvoke([_call("record")], config=config)
    assert seen == [values, values]


# -- Commands from tools ---------------------------------------------------------------
class _Handoff(MessagesState):
    agent: str


@tool
def transfer(to: str, tool_call_id: Annotated[str, InjectedToolCallId]) -> Command:
    """Hand the conversation over."""
    return Command(update={"agent": to, "messages": [ToolMessage(f"now {to}", tool_call_id=tool_call_id)]})


def test_langchain_tool_returning_command_updates_the_state() -> None:
    """Known gap #56: a @tool's Command reaches the graph instead of becoming text."""
    assert isinstance(transfer.invoke(_call("transfer", {"to": "bob"})), Command)
    graph = StateGraph(_Handoff).add_node("tools", ToolNode([transfer])).add_edge(START, "tools").compile()
    out = graph.invoke({**_asking(_call("transfer", {"to": "bob"})), "agent": "ann"})
    assert out["agent"] == "bob"
    assert (out["messages"][-1].content, out["messages"][-1].name) == ("now bob", "transfer")


def test_commands_and_messages_of_parallel_calls_all_apply() -> None:
    graph = StateGraph(_Handoff).add_node("tools", ToolNode([transfer, add])).add_edge(START, "tools").compile()
    out = graph.invoke(
        {**_asking(_call("add", {"a": 1, "b": 2}, "a"), _call("transfer", {"to": "eve"}, "b")), "agent": "ann"}
    )
    assert out["agent"] == "eve"
    assert [m.content for m in out["messages"][2:]] == ["3", "now eve"]


def test_a_node_may_return_commands_and_updates_in_one_list() -> None:
    """Known gap #39: the items apply in order (what ToolNode returns for parallel calls)."""

    class F(TypedDict):
        foo: Annotated[str, operator.add]

    graph = (
        StateGraph(F)
        .add_node("n", lambda s: [Command(update={"foo": "a"}), {"foo": "b"}, Command(goto="m")])
        .add_node("m", lambda s: {"foo": "m"})
        .add_edge(START, "n")
        .compile()
    )
    assert graph.invoke({"foo": ""}) == {"foo": "abm"}


def test_command_without_the_answering_tool_message_is_refused() -> None:
    @tool
    def sloppy() -> Command:
        """Forgets the ToolMessage."""
        return Command(update={"agent": "x"})

    with pytest.raises(ValueError, match="Expected to have a matching ToolMessage in Command.update for tool 'sloppy'"):
        ToolNode([sloppy]).invoke(_asking(_call("sloppy")))


def test_command_to_the_parent_graph_moves_the_parent() -> None:
    @tool
    def escalate(tool_call_id: Annotated[str, InjectedToolCallId]) -> Command:
        """Escalate to a human."""
        return Command(
            graph=Command.PARENT,
            goto="human",
            update={"messages": [ToolMessage("escalated", tool_call_id=tool_call_id)]},
        )

    inner = StateGraph(MessagesState).add_node("tools", ToolNode([escalate])).add_edge(START, "tools").compile()
    outer = (
        StateGraph(MessagesState)
        .add_node("team", inner)
        .add_node("human", lambda s: {"messages": [AIMessage("a human here", id="hu")]})
        .add_edge(START, "team")
        .add_edge("human", END)
        .compile()
    )
    out = outer.invoke(_asking(_call("escalate")))
    assert [m.content for m in out["messages"][2:]] == ["escalated", "a human here"]


# -- interceptors ----------------------------------------------------------------------
def test_wrap_tool_call_can_change_the_call_retry_or_answer_itself() -> None:
    attempts: list[int] = []

    def wrapper(request: ToolCallRequest, execute: Any) -> Any:
        if request.tool_call["name"] == "nope":
            return ToolMessage("answered by the wrapper", tool_call_id=request.tool_call["id"])
        call = {**request.tool_call, "args": {**request.tool_call["args"], "b": 100}}
        result = execute(request.override(tool_call=call))
        attempts.append(int(result.content))
        return result

    out = ToolNode([add], wrap_tool_call=wrapper).invoke(
        _asking(_call("add", {"a": 1, "b": 2}, "a"), _call("nope", {}, "b"))
    )
    assert [m.content for m in out["messages"]] == ["101", "answered by the wrapper"]
    assert attempts == [101]


@pytest.mark.anyio
async def test_awrap_tool_call_runs_under_ainvoke() -> None:
    async def wrapper(request: ToolCallRequest, execute: Any) -> Any:
        first = await execute(request)
        return ToolMessage(f"wrapped {first.content}", tool_call_id=request.tool_call["id"])

    out = await ToolNode([add], awrap_tool_call=wrapper).ainvoke(_asking(_call("add", {"a": 2, "b": 2})))
    assert out["messages"][0].content == "wrapped 4"


def _wrapped_graph() -> Any:
    def sync_wrap(request: ToolCallRequest, execute: Any) -> Any:
        return ToolMessage(f"sync {execute(request).content}", tool_call_id=request.tool_call["id"])

    async def async_wrap(request: ToolCallRequest, execute: Any) -> Any:
        return ToolMessage(f"async {(await execute(request)).content}", tool_call_id=request.tool_call["id"])

    node = ToolNode([add], wrap_tool_call=sync_wrap, awrap_tool_call=async_wrap)
    return StateGraph(MessagesState).add_node("tools", node).add_edge(START, "tools").compile()


def test_a_graph_called_synchronously_runs_the_sync_interceptor() -> None:
    assert _wrapped_graph().invoke(_asking(_call("add", {"a": 1, "b": 1})))["messages"][-1].content == "sync 2"


@pytest.mark.anyio
async def test_a_graph_called_asynchronously_runs_the_async_interceptor() -> None:
    out = await _wrapped_graph().ainvoke(_asking(_call("add", {"a": 1, "b": 1})))
    assert out["messages"][-1].content == "async 2"


def test_setting_a_request_field_is_deprecated_in_favour_of_override() -> None:
    request = ToolCallRequest(tool_call=_call("add"), tool=None, state={}, runtime=None)  # type: ignore[arg-type]
    with pytest.warns(DeprecationWarning, match="Use the override"):
        request.state = {"x": 1}
    assert request.override(state={"y": 2}).state == {"y": 2}


# -- routing and validation ------------------------------------------------------------
def test_tools_condition_routes_on_pending_tool_calls() -> None:
    assert tools_condition(_asking(_call("add"))) == "tools"
    assert tools_condition({"messages": [AIMessage("done")]}) == END
    assert tools_condition([AIMessage("", tool_calls=[_call("add")])]) == "tools"
    with pytest.raises(ValueError, match="No messages found"):
        tools_condition({"messages": []})


def test_tool_loop_with_tools_condition() -> None:
    class S(TypedDict):
        messages: Annotated[list, add_messages]

    replies = iter([AIMessage("", id="1", tool_calls=[_call("add", {"a": 2, "b": 3})]), AIMessage("5", id="2")])
    graph = (
        StateGraph(S)
        .add_node("agent", lambda s: {"messages": [next(replies)]})
        .add_node("tools", ToolNode([add]))
        .add_edge(START, "agent")
        .add_conditional_edges("agent", tools_condition)
        .add_edge("tools", "agent")
        .compile()
    )
    out = graph.invoke({"messages": [HumanMessage("2+3?")]})
    assert [type(m).__name__ for m in out["messages"]] == ["HumanMessage", "AIMessage", "ToolMessage", "AIMessage"]


def test_validation_node_answers_each_call_with_its_validation() -> None:
    class Point(BaseModel):
        x: int
        y: int

    out = ValidationNode([Point]).invoke(
        _asking(_call("Point", {"x": 1, "y": 2}, "ok"), _call("Point", {"x": "no"}, "bad"))
    )
    ok, bad = out["messages"]
    assert ok.content == '{"x":1,"y":2}'
    assert bad.additional_kwargs == {"is_error": True} and "validation error" in bad.content
