"""The LangGraph docs' graph-API examples on state, schemas and runtime,
re-expressed, run on actorgraph imports only.

Each test mirrors one example of docs.langchain.com/oss/python/langgraph ("use-graph-api"
or "graph-api"), named in its docstring, with our own identifiers but the same graph,
node logic and observable output. The expected values are what LangGraph 1.2.22 really
gives for the same code; where that differs from the text of the docs, a comment says so.
"""

import operator
import random
import threading
import time
from dataclasses import dataclass
from typing import Annotated, Literal, Sequence, TypedDict

import pytest
from pydantic import BaseModel, ValidationError

from actorgraph.config import RunnableConfig
from actorgraph.errors import GraphRecursionError
from actorgraph.graph import END, START, StateGraph
from actorgraph.runtime import Runtime
from actorgraph.types import Command, Overwrite, Send
from docs_helpers import Tally, _adder, _lines, _per_step, _seer  # noqa: F401


# -- Define and update state ----------------------------------------------------------


def test_update_state_with_plain_list_key_returns_whole_state() -> None:
    """docs: use-graph-api, 'Update state' (a node returns the full new message list)."""
    msgs = pytest.importorskip("langchain_core.messages")

    class Chat(TypedDict):
        messages: list[msgs.AnyMessage]
        extra_field: int

    def node(state: Chat) -> dict:
        return {"messages": state["messages"] + [msgs.AIMessage("Hello!")], "extra_field": 10}

    builder = StateGraph(Chat)
    builder.add_node(node)
    builder.set_entry_point("node")
    result = builder.compile().invoke({"messages": [msgs.HumanMessage("Hi")]})
    assert [(type(m).__name__, m.content) for m in result["messages"]] == [
        ("HumanMessage", "Hi"),
        ("AIMessage", "Hello!"),
    ]
    assert result["extra_field"] == 10


def test_custom_add_reducer_appends_messages() -> None:
    """docs: use-graph-api, 'Process state updates with reducers' (a hand-written add)."""
    msgs = pytest.importorskip("langchain_core.messages")

    def concat(left, right):
        return left + right

    class Chat(TypedDict):
        messages: Annotated[list[msgs.AnyMessage], concat]
        extra_field: int

    def node(state: Chat) -> dict:
        return {"messages": [msgs.AIMessage("Hello!")], "extra_field": 10}

    graph = StateGraph(Chat).add_node(node).add_edge(START, "node").compile()
    result = graph.invoke({"messages": [msgs.HumanMessage("Hi")]})
    assert [(type(m).__name__, m.content) for m in result["messages"]] == [
        ("HumanMessage", "Hi"),
        ("AIMessage", "Hello!"),
    ]


def test_overwrite_bypasses_the_reducer_in_both_spellings() -> None:
    """docs: use-graph-api, 'Bypass reducers with Overwrite' (object and JSON forms)."""

    class Log(TypedDict):
        messages: Annotated[list, operator.add]

    for replacement in (Overwrite(["replacement message"]), {"__overwrite__": ["replacement message"]}):
        builder = StateGraph(Log)
        builder.add_node("append_one", lambda s: {"messages": ["first message"]})
        builder.add_node("reset_all", lambda s, r=replacement: {"messages": r})
        builder.add_edge(START, "append_one")
        builder.add_edge("append_one", "reset_all")
        builder.add_edge("reset_all", END)
        assert builder.compile().invoke({"messages": ["initial"]})["messages"] == ["replacement message"]


# -- Reducers (graph-api) -------------------------------------------------------------


class PlainKeys(TypedDict):
    foo: int
    bar: list[str]


class AddedBar(TypedDict):
    foo: int
    bar: Annotated[list[str], operator.add]


@pytest.mark.parametrize(
    ("schema", "final_bar"),
    [(PlainKeys, ["bye"]), (AddedBar, ["hi", "bye"])],
    ids=["default-reducer", "operator-add"],
)
def test_default_and_operator_add_reducers(schema: type, final_bar: list[str]) -> None:
    """docs: graph-api, 'Reducers' - 'Default reducer' and 'Custom reducers' walkthroughs."""
    builder = StateGraph(schema)
    builder.add_node("first", lambda s: {"foo": 2})
    builder.add_node("second", lambda s: {"bar": ["bye"]})
    builder.add_edge(START, "first")
    builder.add_edge("first", "second")
    chunks = list(builder.compile().stream({"foo": 1, "bar": ["hi"]}, stream_mode="values"))
    assert chunks == [
        {"foo": 1, "bar": ["hi"]},
        {"foo": 2, "bar": ["hi"]},
        {"foo": 2, "bar": final_bar},
    ]


def test_reducer_gets_stored_value_left_and_update_right() -> None:
    """docs: graph-api, 'Reducer arguments' (tags ['draft'] then ['review'])."""
    seen: list[tuple[list, list]] = []

    def join_tags(left: list[str], right: list[str]) -> list[str]:
        seen.append((list(left), list(right)))
        return left + right

    class Tagged(TypedDict):
        tags: Annotated[list[str], join_tags]

    builder = StateGraph(Tagged).add_node("review", lambda s: {"tags": ["review"]})
    graph = builder.add_edge(START, "review").compile()
    assert graph.invoke({"tags": ["draft"]}) == {"tags": ["draft", "review"]}
    assert seen[-1] == (["draft"], ["review"])


# -- Input/output and private schemas -------------------------------------------------


class AskIn(TypedDict):
    question: str


class AskOut(TypedDict):
    answer: str


class AskAll(AskIn, AskOut):
    pass


def test_input_and_output_schemas_filter_the_result(capsys: pytest.CaptureFixture[str]) -> None:
    """docs: use-graph-api, 'Define input and output schemas'."""

    def answer_node(state: AskIn) -> dict:
        return {"answer": "bye", "question": state["question"]}

    builder = StateGraph(AskAll, input_schema=AskIn, output_schema=AskOut)
    builder.add_node(answer_node)
    builder.add_edge(START, "answer_node")
    builder.add_edge("answer_node", END)
    print(builder.compile().invoke({"question": "hi"}))
    assert _lines(capsys) == ["{'answer': 'bye'}"]


class Public(TypedDict):
    a: str


class Scratch(TypedDict):
    private_data: str


def _traced(name: str, output: dict, state: dict) -> dict:
    print(f"Entered node `{name}`:\n\tInput: {state}.\n\tReturned: {output}")
    return output


def test_private_state_passes_between_two_nodes_only(capsys: pytest.CaptureFixture[str]) -> None:
    """docs: use-graph-api, 'Pass private state between nodes' (add_sequence)."""

    def node_1(state: Public) -> Scratch:
        return _traced("node_1", {"private_data": "set by node_1"}, state)

    def node_2(state: Scratch) -> Public:
        return _traced("node_2", {"a": "set by node_2"}, state)

    def node_3(state: Public) -> Public:
        return _traced("node_3", {"a": "set by node_3"}, state)

    builder = StateGraph(Public).add_sequence([node_1, node_2, node_3])
    builder.add_edge(START, "node_1")
    response = builder.compile().invoke({"a": "set at start"})
    print()
    print(f"Output of graph invocation: {response}")
    assert _lines(capsys) == [
        "Entered node `node_1`:",
        "\tInput: {'a': 'set at start'}.",
        "\tReturned: {'private_data': 'set by node_1'}",
        "Entered node `node_2`:",
        "\tInput: {'private_data': 'set by node_1'}.",
        "\tReturned: {'a': 'set by node_2'}",
        "Entered node `node_3`:",
        "\tInput: {'a': 'set by node_2'}.",
        "\tReturned: {'a': 'set by node_3'}",
        "",
        "Output of graph invocation: {'a': 'set by node_3'}",
    ]


class NameIn(TypedDict):
    user_input: str


class NameOut(TypedDict):
    graph_output: str


class NameAll(TypedDict):
    foo: str
    user_input: str
    graph_output: str


class NameHidden(TypedDict):
    bar: str


def _name_graph(seen: list[tuple[str, dict]]):
    """Three nodes, each reading a different schema; the middle one writes a private key."""

    def first(state: NameIn) -> NameAll:
        seen.append(("node_1", dict(state)))
        return {"foo": state["user_input"] + " name"}

    def second(state: NameAll) -> NameHidden:
        seen.append(("node_2", dict(state)))
        return {"bar": state["foo"] + " is"}

    def third(state: NameHidden) -> NameOut:
        seen.append(("node_3", dict(state)))
        return {"graph_output": state["bar"] + " Lance"}

    builder = StateGraph(NameAll, input_schema=NameIn, output_schema=NameOut)
    builder.add_node("node_1", first)
    builder.add_node("node_2", second)
    builder.add_node("node_3", third)
    builder.add_edge(START, "node_1")
    builder.add_edge("node_1", "node_2")
    builder.add_edge("node_2", "node_3")
    builder.add_edge("node_3", END)
    return builder.compile()


def test_multiple_schemas_private_channel_gives_my_name_is_lance() -> None:
    """docs: graph-api, 'Multiple schemas' (the 'My name is Lance' example)."""
    seen: list[tuple[str, dict]] = []
    assert _name_graph(seen).invoke({"user_input": "My"}) == {"graph_output": "My name is Lance"}
    # Each node sees only the keys of the schema its state parameter is annotated with.
    assert seen == [
        ("node_1", {"user_input": "My"}),
        ("node_2", {"foo": "My name", "user_input": "My"}),
        ("node_3", {"bar": "My name is"}),
    ]


def test_multiple_schemas_streaming_shows_private_channel() -> None:
    """docs: graph-api, 'Multiple schemas' warning: private channels are not redacted when streaming."""
    graph = _name_graph([])
    assert list(graph.stream({"user_input": "My"}, stream_mode="values")) == [
        {"user_input": "My"},
        {"foo": "My name", "user_input": "My"},
        {"foo": "My name", "user_input": "My", "bar": "My name is"},
        {"foo": "My name", "user_input": "My", "bar": "My name is", "graph_output": "My name is Lance"},
    ]
    assert list(graph.stream({"user_input": "My"}, stream_mode="updates")) == [
        {"node_1": {"foo": "My name"}},
        {"node_2": {"bar": "My name is"}},
        {"node_3": {"graph_output": "My name is Lance"}},
    ]


# -- Pydantic state -------------------------------------------------------------------


class Greeting(BaseModel):
    a: str


def test_pydantic_state_accepts_valid_input_and_rejects_invalid() -> None:
    """docs: use-graph-api, 'Use pydantic models for graph state'."""
    builder = StateGraph(Greeting)
    builder.add_node("node", lambda state: {"a": "goodbye"})
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    graph = builder.compile()
    assert graph.invoke({"a": "hello"}) == {"a": "goodbye"}
    with pytest.raises(ValidationError) as info:
        graph.invoke({"a": 123})
    # The docs show pydantic 2.9's help URL; the lines before it are what matters.
    assert str(info.value).splitlines()[:3] == [
        "1 validation error for Greeting",
        "a",
        "  Input should be a valid string [type=string_type, input_value=123, input_type=int]",
    ]


class Inner(BaseModel):
    value: str


class Outer(BaseModel):
    text: str
    count: int
    nested: Inner


def test_pydantic_state_node_gets_models_and_graph_returns_a_dict() -> None:
    """docs: use-graph-api, pydantic accordion 'Serialization Behavior'."""
    seen: list[type] = []

    def process(state: Outer) -> dict:
        seen.extend([type(state), type(state.nested)])
        return {"text": state.text + " processed", "count": state.count + 1}

    builder = StateGraph(Outer)
    builder.add_node("process", process)
    builder.add_edge(START, "process")
    builder.add_edge("process", END)
    result = builder.compile().invoke(Outer(text="hello", count=0, nested=Inner(value="test")))
    assert seen == [Outer, Inner]
    assert type(result) is dict
    assert result == {"text": "hello processed", "count": 1, "nested": Inner(value="test")}
    assert type(Outer(**result)) is Outer


class Coerced(BaseModel):
    number: int
    flag: bool


def test_pydantic_state_coerces_what_the_node_sees() -> None:
    """docs: use-graph-api, pydantic accordion 'Runtime Type Coercion'."""
    seen: list[tuple[object, object]] = []

    def inspect_node(state: Coerced) -> dict:
        seen.append((state.number, state.flag))
        return {}

    builder = StateGraph(Coerced)
    builder.add_node("inspect", inspect_node)
    builder.add_edge(START, "inspect")
    builder.add_edge("inspect", END)
    graph = builder.compile()
    result = graph.invoke({"number": "42", "flag": "true"})
    assert seen == [(42, True)]
    assert type(seen[0][0]) is int and type(seen[0][1]) is bool
    # LangGraph 1.2.22 validates what a node reads, not what it stores: the (unshown) result
    # keeps the raw input strings.
    assert result == {"number": "42", "flag": "true"}
    with pytest.raises(ValidationError, match="unable to parse string as an integer"):
        graph.invoke({"number": "not-a-number", "flag": "true"})


# -- Runtime configuration / context --------------------------------------------------


class RunValue(TypedDict):
    my_runtime_value: str


class StateValue(TypedDict):
    my_state_value: str


def _runtime_value_graph():
    def node(state: StateValue, runtime: Runtime[RunValue]) -> dict:
        if runtime.context["my_runtime_value"] == "a":
            return {"my_state_value": 1}
        if runtime.context["my_runtime_value"] == "b":
            return {"my_state_value": 2}
        raise ValueError("Unknown values.")

    builder = StateGraph(StateValue, context_schema=RunValue)
    builder.add_node(node)
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    return builder.compile()


def test_runtime_context_selects_the_node_output(capsys: pytest.CaptureFixture[str]) -> None:
    """docs: use-graph-api, 'Add runtime configuration' (context_schema TypedDict)."""
    graph = _runtime_value_graph()
    print(graph.invoke({}, context={"my_runtime_value": "a"}))
    print(graph.invoke({}, context={"my_runtime_value": "b"}))
    assert _lines(capsys) == ["{'my_state_value': 1}", "{'my_state_value': 2}"]
    with pytest.raises(ValueError, match="Unknown values."):
        graph.invoke({}, context={"my_runtime_value": "z"})


@pytest.mark.anyio
async def test_runtime_context_selects_the_node_output_async() -> None:
    """docs: use-graph-api, 'Add runtime configuration', via ainvoke."""
    graph = _runtime_value_graph()
    assert await graph.ainvoke({}, context={"my_runtime_value": "a"}) == {"my_state_value": 1}
    assert await graph.ainvoke({}, context={"my_runtime_value": "b"}) == {"my_state_value": 2}


@dataclass
class ModelChoice:
    model_provider: str = "anthropic"
    system_message: str | None = None


class Conversation(TypedDict):
    turns: Annotated[list[str], operator.add]


# Stand-ins for the docs' chat models: each answers with its name and what it was shown.
_FAKE_MODELS = {
    "anthropic": lambda turns: f"claude-like saw {turns}",
    "openai": lambda turns: f"gpt-like saw {turns}",
}


def _model_graph():
    def call_model(state: Conversation, runtime: Runtime[ModelChoice]) -> dict:
        model = _FAKE_MODELS[runtime.context.model_provider]
        turns = state["turns"]
        if system := runtime.context.system_message:
            turns = [f"system: {system}"] + turns
        return {"turns": [model(turns)]}

    builder = StateGraph(Conversation, context_schema=ModelChoice)
    builder.add_node("model", call_model)
    builder.add_edge(START, "model")
    builder.add_edge("model", END)
    return builder.compile()


def test_dataclass_context_defaults_and_dict_overrides() -> None:
    """docs: use-graph-api, 'Extended example: specifying LLM / system message at runtime'."""
    graph = _model_graph()
    start = {"turns": ["user: hi"]}
    assert graph.invoke(start, context=ModelChoice())["turns"][-1] == "claude-like saw ['user: hi']"
    # A dict is turned into the dataclass, so unset fields take the dataclass defaults.
    assert graph.invoke(start, context={"model_provider": "openai"})["turns"][-1] == (
        "gpt-like saw ['user: hi']"
    )
    both = {"model_provider": "openai", "system_message": "Respond in Italian."}
    assert graph.invoke(start, context=both)["turns"] == [
        "user: hi",
        "gpt-like saw ['system: Respond in Italian.', 'user: hi']",
    ]


@dataclass
class Provider:
    llm_provider: str = "openai"


class Job(TypedDict):
    inputs: str
    used: str


def test_context_schema_reaches_nodes_and_routers() -> None:
    """docs: graph-api, 'Runtime context' (context_schema dataclass, used in a node and an edge)."""

    def pick_llm(state: Job, runtime: Runtime[Provider]) -> dict:
        return {"used": runtime.context.llm_provider}

    def after(state: Job, runtime: Runtime[Provider]) -> str:
        return "anthropic_only" if runtime.context.llm_provider == "anthropic" else END

    builder = StateGraph(Job, context_schema=Provider)
    builder.add_node("pick_llm", pick_llm)
    builder.add_node("anthropic_only", lambda s: {"inputs": s["inputs"] + "!"})
    builder.add_edge(START, "pick_llm")
    builder.add_conditional_edges("pick_llm", after, ["anthropic_only", END])
    graph = builder.compile()
    assert graph.invoke({"inputs": "q"}, context={"llm_provider": "anthropic"}) == {
        "inputs": "q!",
        "used": "anthropic",
    }
    assert graph.invoke({"inputs": "q"}, context=Provider()) == {"inputs": "q", "used": "openai"}
    # recursion_limit is a top-level config key and combines with context=.
    assert graph.invoke({"inputs": "q"}, config={"recursion_limit": 5}, context={"llm_provider": "x"}) == {
        "inputs": "q",
        "used": "x",
    }


class Greet(TypedDict):
    input: str
    results: str


@dataclass
class Caller:
    user_id: str


def test_nodes_take_state_runtime_and_execution_info(capsys: pytest.CaptureFixture[str]) -> None:
    """docs: graph-api, 'Nodes' (plain node, node with runtime, node with execution_info)."""

    def plain_node(state: Greet) -> Greet:
        return state

    def node_with_runtime(state: Greet, runtime: Runtime[Caller]) -> dict:
        print("In node: ", runtime.context.user_id)
        return {"results": f"Hello, {state['input']}!"}

    def node_with_execution_info(state: Greet, runtime: Runtime) -> dict:
        print("In node with thread_id: ", runtime.execution_info.thread_id)
        return {"results": f"Hello again, {state['input']}!"}

    builder = StateGraph(Greet, context_schema=Caller)
    builder.add_node("plain_node", plain_node)
    builder.add_node("node_with_runtime", node_with_runtime)
    builder.add_node("node_with_execution_info", node_with_execution_info)
    builder.add_edge(START, "plain_node")
    builder.add_edge("plain_node", "node_with_runtime")
    builder.add_edge("node_with_runtime", "node_with_execution_info")
    graph = builder.compile()  # thread_id reaches execution_info even without a checkpointer
    out = graph.invoke(
        {"input": "Ada"}, {"configurable": {"thread_id": "thread-7"}}, context={"user_id": "user-42"}
    )
    assert out == {"input": "Ada", "results": "Hello again, Ada!"}
    assert _lines(capsys) == ["In node:  user-42", "In node with thread_id:  thread-7"]


def test_config_metadata_carries_step_and_node(capsys: pytest.CaptureFixture[str]) -> None:
    """docs: graph-api, 'Accessing the current step counter' and 'Other available metadata'."""

    def my_node(state: dict, config: RunnableConfig) -> dict:
        print(f"Currently on step: {config['metadata']['langgraph_step']}")
        return state

    def inspect_metadata(state: dict, config: RunnableConfig) -> dict:
        metadata = config["metadata"]
        print(f"Step: {metadata['langgraph_step']}")
        print(f"Node: {metadata['langgraph_node']}")
        print(f"Triggers: {metadata['langgraph_triggers']}")
        print(f"Path: {metadata['langgraph_path']}")
        print(f"Checkpoint NS: {metadata['langgraph_checkpoint_ns'].split(':')[0]}")
        return state

    builder = StateGraph(Job)
    builder.add_node("my_node", my_node)
    builder.add_node("inspect", inspect_metadata)
    builder.add_edge(START, "my_node")
    builder.add_edge("my_node", "inspect")
    assert builder.compile().invoke({"inputs": "x"}) == {"inputs": "x"}
    assert _lines(capsys) == [
        "Currently on step: 1",
        "Step: 2",
        "Node: inspect",
        "Triggers: ('branch:to:inspect',)",
        "Path: ('__pregel_pull', 'inspect')",
        "Checkpoint NS: inspect",
    ]
