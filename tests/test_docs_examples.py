"""The LangGraph docs' graph-API examples, re-expressed, run on actorgraph imports only.

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


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


class Tally(TypedDict):
    aggregate: Annotated[list, operator.add]


def _adder(letter: str):
    """A node that reports what it sees, then appends its own letter."""

    def node(state: Tally) -> dict:
        print(f'Adding "{letter}" to {state["aggregate"]}')
        return {"aggregate": [letter]}

    node.__name__ = letter.lower()
    return node


def _seer(letter: str):
    """The loop examples' node: prints ``Node X sees [...]`` and appends ``X``."""

    def node(state: Tally) -> dict:
        print(f"Node {letter} sees {state['aggregate']}")
        return {"aggregate": [letter]}

    node.__name__ = letter.lower()
    return node


def _per_step(lines: list[str]) -> list[object]:
    """Prints of parallel nodes come in thread order: compare those steps as sets."""
    out: list[object] = []
    for line in lines:
        if line.startswith(("Node C", "Node D")) and out and isinstance(out[-1], set):
            out[-1].add(line)
        elif line.startswith(("Node C", "Node D")):
            out.append({line})
        else:
            out.append(line)
    return out


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


# -- Sequences and branches -----------------------------------------------------------


class TwoValues(TypedDict):
    value_1: str
    value_2: int


def step_1(state: TwoValues) -> dict:
    return {"value_1": "a"}


def step_2(state: TwoValues) -> dict:
    return {"value_1": f"{state['value_1']} b"}


def step_3(state: TwoValues) -> dict:
    return {"value_2": 10}


def test_sequence_by_edges_and_by_add_sequence() -> None:
    """docs: use-graph-api, 'Create a sequence of steps' (and the add_sequence shorthand)."""
    by_edges = StateGraph(TwoValues)
    for step in (step_1, step_2, step_3):
        by_edges.add_node(step)
    by_edges.add_edge(START, "step_1")
    by_edges.add_edge("step_1", "step_2")
    by_edges.add_edge("step_2", "step_3")
    shorthand = StateGraph(TwoValues).add_sequence([step_1, step_2, step_3])
    shorthand.add_edge(START, "step_1")
    for builder in (by_edges, shorthand):
        assert builder.compile().invoke({"value_1": "c"}) == {"value_1": "a b", "value_2": 10}


def _diamond():
    builder = StateGraph(Tally)
    for letter in "ABCD":
        builder.add_node(_adder(letter))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("a", "c")
    builder.add_edge("b", "d")
    builder.add_edge("c", "d")
    builder.add_edge("d", END)
    return builder.compile()


def test_parallel_fan_out_and_fan_in(capsys: pytest.CaptureFixture[str]) -> None:
    """docs: use-graph-api, 'Run graph nodes in parallel' (a -> b, c -> d)."""
    # The docs pass a thread_id without a checkpointer; it is simply unused.
    result = _diamond().invoke({"aggregate": []}, {"configurable": {"thread_id": "foo"}})
    assert result == {"aggregate": ["A", "B", "C", "D"]}
    lines = _lines(capsys)
    assert lines[0] == 'Adding "A" to []'
    assert set(lines[1:3]) == {"Adding \"B\" to ['A']", "Adding \"C\" to ['A']"}
    assert lines[3:] == ["Adding \"D\" to ['A', 'B', 'C']"]


@pytest.mark.anyio
async def test_parallel_fan_out_and_fan_in_async() -> None:
    """docs: use-graph-api, 'Run graph nodes in parallel' with async nodes and ainvoke ('Async')."""

    def async_adder(letter: str):
        async def node(state: Tally) -> dict:
            return {"aggregate": [letter]}

        node.__name__ = letter.lower()
        return node

    builder = StateGraph(Tally)
    for letter in "ABCD":
        builder.add_node(async_adder(letter))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("a", "c")
    builder.add_edge(["b", "c"], "d")
    assert await builder.compile().ainvoke({"aggregate": []}) == {"aggregate": ["A", "B", "C", "D"]}


class Fanned(TypedDict):
    out: Annotated[list, operator.add]


def test_max_concurrency_is_a_top_level_config_key() -> None:
    """docs: use-graph-api, tip 'Set max concurrency'."""
    lock = threading.Lock()
    gauge = {"now": 0, "peak": 0}

    def work(item: int) -> dict:
        with lock:
            gauge["now"] += 1
            gauge["peak"] = max(gauge["peak"], gauge["now"])
        time.sleep(0.05)
        with lock:
            gauge["now"] -= 1
        return {"out": [item]}

    builder = StateGraph(Fanned)
    builder.add_node("work", work)
    builder.add_conditional_edges(START, lambda s: [Send("work", i) for i in range(10)], ["work"])
    graph = builder.compile()

    assert graph.invoke({"out": []}, {"max_concurrency": 2}) == {"out": list(range(10))}
    assert gauge["peak"] == 2
    # The tip shows {"configurable": {"max_concurrency": 10}}; LangGraph 1.2.22 ignores the
    # key there, so it does not cap anything.
    gauge.update(now=0, peak=0)
    assert graph.invoke({"out": []}, {"configurable": {"max_concurrency": 2}}) == {"out": list(range(10))}
    assert gauge["peak"] > 2


def test_defer_waits_for_the_longer_branch(capsys: pytest.CaptureFixture[str]) -> None:
    """docs: use-graph-api, 'Defer node execution' (b -> b_2 branch, d deferred)."""
    builder = StateGraph(Tally)
    for letter in ("A", "B", "B_2", "C"):
        builder.add_node(_adder(letter))
    builder.add_node(_adder("D"), defer=True)
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("a", "c")
    builder.add_edge("b", "b_2")
    builder.add_edge("b_2", "d")
    builder.add_edge("c", "d")
    builder.add_edge("d", END)
    assert builder.compile().invoke({"aggregate": []}) == {"aggregate": ["A", "B", "C", "B_2", "D"]}
    lines = _lines(capsys)
    assert lines[0] == 'Adding "A" to []'
    assert set(lines[1:3]) == {"Adding \"B\" to ['A']", "Adding \"C\" to ['A']"}
    assert lines[3:] == [
        "Adding \"B_2\" to ['A', 'B', 'C']",
        "Adding \"D\" to ['A', 'B', 'C', 'B_2']",
    ]


class Branching(TypedDict):
    aggregate: Annotated[list, operator.add]
    which: str


def test_conditional_branching_with_literal_router(capsys: pytest.CaptureFixture[str]) -> None:
    """docs: use-graph-api, 'Conditional branching'."""

    def a(state: Branching) -> dict:
        print(f'Adding "A" to {state["aggregate"]}')
        return {"aggregate": ["A"], "which": "c"}

    def choose(state: Branching) -> Literal["b", "c"]:
        return state["which"]

    builder = StateGraph(Branching)
    builder.add_node(a)
    builder.add_node(_adder("B"))
    builder.add_node(_adder("C"))
    builder.add_edge(START, "a")
    builder.add_edge("b", END)
    builder.add_edge("c", END)
    builder.add_conditional_edges("a", choose)
    print(builder.compile().invoke({"aggregate": []}))
    assert _lines(capsys) == [
        'Adding "A" to []',
        "Adding \"C\" to ['A']",
        "{'aggregate': ['A', 'C'], 'which': 'c'}",
    ]


@pytest.mark.parametrize(("which", "expected"), [("bc", ["A", "B", "C"]), ("cd", ["A", "C", "D"])])
def test_router_may_return_several_destinations(which: str, expected: list[str]) -> None:
    """docs: use-graph-api, 'Conditional branching' tip (route_bc_or_cd returns a list)."""

    def two_of_three(state: Branching) -> Sequence[str]:
        return ["c", "d"] if state["which"] == "cd" else ["b", "c"]

    builder = StateGraph(Branching)
    builder.add_node("a", lambda s: {"aggregate": ["A"]})
    for letter in "BCD":
        builder.add_node(_adder(letter))
    builder.add_edge(START, "a")
    builder.add_conditional_edges("a", two_of_three)
    assert builder.compile().invoke({"aggregate": [], "which": which}) == {
        "aggregate": expected,
        "which": which,
    }


class Parity(TypedDict):
    n: int
    trail: Annotated[list[str], operator.add]


def test_conditional_edges_with_a_path_map() -> None:
    """docs: graph-api, 'Conditional edges' and 'Conditional entry point' with {True: ..., False: ...}."""

    def is_even(state: Parity) -> bool:
        return state["n"] % 2 == 0

    builder = StateGraph(Parity)
    builder.add_node("node_a", lambda s: {"trail": ["a"], "n": s["n"] + 1})
    builder.add_node("node_b", lambda s: {"trail": ["b"]})
    builder.add_node("node_c", lambda s: {"trail": ["c"]})
    builder.add_edge(START, "node_a")
    builder.add_conditional_edges("node_a", is_even, {True: "node_b", False: "node_c"})
    graph = builder.compile()
    assert graph.invoke({"n": 1, "trail": []}) == {"n": 2, "trail": ["a", "b"]}
    assert graph.invoke({"n": 2, "trail": []}) == {"n": 3, "trail": ["a", "c"]}

    entry = StateGraph(Parity)
    entry.add_node("node_b", lambda s: {"trail": ["b"]})
    entry.add_node("node_c", lambda s: {"trail": ["c"]})
    entry.add_conditional_edges(START, is_even, {True: "node_b", False: "node_c"})
    graph = entry.compile()
    assert graph.invoke({"n": 4, "trail": []}) == {"n": 4, "trail": ["b"]}
    assert graph.invoke({"n": 5, "trail": []}) == {"n": 5, "trail": ["c"]}


# -- Map-reduce with Send -------------------------------------------------------------


class Jokes(TypedDict):
    topic: str
    subjects: list[str]
    jokes: Annotated[list[str], operator.add]
    best_selected_joke: str


# Our own one-liners stand in for the docs' jokes; the graph does not care what they say.
_PUNCHLINES = {
    "otters": "Otters hold hands so nobody drifts off mid-pun.",
    "owls": "Owls give a hoot about nothing else.",
    "bees": "Bees keep their meetings brief: buzz, done.",
}


def _jokes_graph():
    def list_subjects(state: Jokes) -> dict:
        return {"subjects": list(_PUNCHLINES)}

    def tell_one(state: dict) -> dict:
        return {"jokes": [_PUNCHLINES[state["subject"]]]}

    def one_send_per_subject(state: Jokes) -> list[Send]:
        return [Send("generate_joke", {"subject": s}) for s in state["subjects"]]

    builder = StateGraph(Jokes)
    builder.add_node("generate_topics", list_subjects)
    builder.add_node("generate_joke", tell_one)
    builder.add_node("best_joke", lambda state: {"best_selected_joke": "bees"})
    builder.add_edge(START, "generate_topics")
    builder.add_conditional_edges("generate_topics", one_send_per_subject, ["generate_joke"])
    builder.add_edge("generate_joke", "best_joke")
    builder.add_edge("best_joke", END)
    return builder.compile()


_JOKE_STEPS = [
    {"generate_topics": {"subjects": ["otters", "owls", "bees"]}},
    *({"generate_joke": {"jokes": [line]}} for line in _PUNCHLINES.values()),
    {"best_joke": {"best_selected_joke": "bees"}},
]

_JOKE_RESULT = {
    "topic": "animals",
    "subjects": ["otters", "owls", "bees"],
    "jokes": list(_PUNCHLINES.values()),
    "best_selected_joke": "bees",
}


def _assert_joke_steps(steps: list[dict]) -> None:
    # The updates stream follows task completion, and the three joke tasks run in parallel
    # threads, so only the middle of the stream is compared without order.
    assert steps[0] == _JOKE_STEPS[0] and steps[-1] == _JOKE_STEPS[-1]
    assert sorted(map(repr, steps[1:-1])) == sorted(map(repr, _JOKE_STEPS[1:-1]))


def test_map_reduce_with_send_streams_one_update_per_task() -> None:
    """docs: use-graph-api, 'Map-Reduce and the send API'."""
    graph = _jokes_graph()
    _assert_joke_steps(list(graph.stream({"topic": "animals"})))
    # The reduced state keeps Send order whatever the completion order.
    assert graph.invoke({"topic": "animals"}) == _JOKE_RESULT


@pytest.mark.anyio
async def test_map_reduce_with_send_async() -> None:
    """docs: use-graph-api, 'Map-Reduce and the send API', via astream and ainvoke."""
    graph = _jokes_graph()
    _assert_joke_steps([step async for step in graph.astream({"topic": "animals"})])
    assert await graph.ainvoke({"topic": "animals"}) == _JOKE_RESULT


# -- Loops and the recursion limit ----------------------------------------------------


def _until_seven(state: Tally) -> Literal["b", END]:
    return "b" if len(state["aggregate"]) < 7 else END


def _ab_loop():
    builder = StateGraph(Tally)
    builder.add_node(_seer("A"))
    builder.add_node(_seer("B"))
    builder.add_edge(START, "a")
    builder.add_conditional_edges("a", _until_seven)
    builder.add_edge("b", "a")
    return builder.compile()


def test_loop_ends_on_its_termination_condition(capsys: pytest.CaptureFixture[str]) -> None:
    """docs: use-graph-api, 'Create and control loops' (a <-> b until 7 entries)."""
    assert _ab_loop().invoke({"aggregate": []}) == {"aggregate": ["A", "B", "A", "B", "A", "B", "A"]}
    assert _lines(capsys) == [
        "Node A sees []",
        "Node B sees ['A']",
        "Node A sees ['A', 'B']",
        "Node B sees ['A', 'B', 'A']",
        "Node A sees ['A', 'B', 'A', 'B']",
        "Node B sees ['A', 'B', 'A', 'B', 'A']",
        "Node A sees ['A', 'B', 'A', 'B', 'A', 'B']",
    ]


def test_recursion_limit_error_is_caught_in_the_loop(capsys: pytest.CaptureFixture[str]) -> None:
    """docs: use-graph-api, 'Impose a recursion limit' (catch GraphRecursionError, limit 4)."""
    try:
        _ab_loop().invoke({"aggregate": []}, {"recursion_limit": 4})
    except GraphRecursionError:
        print("Recursion Error")
    # The docs' output for this snippet shows "Node C/D sees" lines copied from the branching
    # example; this a <-> b loop runs exactly four supersteps and then raises.
    assert _lines(capsys) == [
        "Node A sees []",
        "Node B sees ['A']",
        "Node A sees ['A', 'B']",
        "Node B sees ['A', 'B', 'A']",
        "Recursion Error",
    ]


@pytest.mark.anyio
async def test_recursion_limit_error_is_caught_in_the_loop_async() -> None:
    """docs: use-graph-api, 'Impose a recursion limit', via ainvoke."""
    with pytest.raises(GraphRecursionError):
        await _ab_loop().ainvoke({"aggregate": []}, {"recursion_limit": 4})
    assert await _ab_loop().ainvoke({"aggregate": []}, {"recursion_limit": 8}) == {
        "aggregate": ["A", "B", "A", "B", "A", "B", "A"]
    }


def test_remaining_steps_returns_state_before_the_limit(capsys: pytest.CaptureFixture[str]) -> None:
    """docs: use-graph-api, 'Extended example: return state on hitting recursion limit'."""
    from actorgraph.managed.is_last_step import RemainingSteps  # the docs' import path

    class Budgeted(TypedDict):
        aggregate: Annotated[list, operator.add]
        remaining_steps: RemainingSteps

    def stop_early(state: Budgeted) -> Literal["b", END]:
        return END if state["remaining_steps"] <= 2 else "b"

    builder = StateGraph(Budgeted)
    builder.add_node(_seer("A"))
    builder.add_node(_seer("B"))
    builder.add_edge(START, "a")
    builder.add_conditional_edges("a", stop_early)
    builder.add_edge("b", "a")
    print(builder.compile().invoke({"aggregate": []}, {"recursion_limit": 4}))
    assert _lines(capsys) == [
        "Node A sees []",
        "Node B sees ['A']",
        "Node A sees ['A', 'B']",
        "{'aggregate': ['A', 'B', 'A']}",
    ]


class Thinking(TypedDict):
    messages: Annotated[list, lambda x, y: x + y]


def test_remaining_steps_proactive_fallback() -> None:
    """docs: graph-api, 'Proactive recursion handling' (RemainingSteps routes to a fallback)."""
    from actorgraph.managed import RemainingSteps

    class Budget(Thinking):
        remaining_steps: RemainingSteps

    def reasoning(state: Budget) -> dict:
        if state["remaining_steps"] <= 2:
            return {"messages": ["wrapping up"]}
        return {"messages": [f"thinking ({state['remaining_steps']} left)"]}

    def route(state: Budget) -> Literal["reasoning_node", "fallback_node"]:
        return "fallback_node" if state["remaining_steps"] <= 2 else "reasoning_node"

    builder = StateGraph(Budget)
    builder.add_node("reasoning_node", reasoning)
    builder.add_node("fallback_node", lambda s: {"messages": ["best effort"]})
    builder.add_edge(START, "reasoning_node")
    builder.add_conditional_edges("reasoning_node", route)
    builder.add_edge("fallback_node", END)
    result = builder.compile().invoke({"messages": []}, {"recursion_limit": 10})
    assert result == {
        "messages": [f"thinking ({n} left)" for n in range(9, 2, -1)] + ["wrapping up", "best effort"]
    }


def _branchy_loop():
    builder = StateGraph(Tally)
    for letter in "ABCD":
        builder.add_node(_seer(letter))
    builder.add_edge(START, "a")
    builder.add_conditional_edges("a", _until_seven)
    builder.add_edge("b", "c")
    builder.add_edge("b", "d")
    builder.add_edge(["c", "d"], "a")
    return builder.compile()


def test_loop_with_branches_runs_two_laps(capsys: pytest.CaptureFixture[str]) -> None:
    """docs: use-graph-api, 'Extended example: loops with branches' (no limit)."""
    assert _branchy_loop().invoke({"aggregate": []}) == {
        "aggregate": ["A", "B", "C", "D", "A", "B", "C", "D", "A"]
    }
    # The docs print D before C; C and D run in parallel, so only the step matters.
    assert _per_step(_lines(capsys)) == [
        "Node A sees []",
        "Node B sees ['A']",
        {"Node C sees ['A', 'B']", "Node D sees ['A', 'B']"},
        "Node A sees ['A', 'B', 'C', 'D']",
        "Node B sees ['A', 'B', 'C', 'D', 'A']",
        {"Node C sees ['A', 'B', 'C', 'D', 'A', 'B']", "Node D sees ['A', 'B', 'C', 'D', 'A', 'B']"},
        "Node A sees ['A', 'B', 'C', 'D', 'A', 'B', 'C', 'D']",
    ]


def test_loop_with_branches_hits_limit_after_one_lap(capsys: pytest.CaptureFixture[str]) -> None:
    """docs: use-graph-api, 'Extended example: loops with branches' (recursion_limit 4)."""
    try:
        _branchy_loop().invoke({"aggregate": []}, {"recursion_limit": 4})
    except GraphRecursionError:
        print("Recursion Error")
    assert _per_step(_lines(capsys)) == [
        "Node A sees []",
        "Node B sees ['A']",
        {"Node C sees ['A', 'B']", "Node D sees ['A', 'B']"},
        "Node A sees ['A', 'B', 'C', 'D']",
        "Recursion Error",
    ]


# -- Command --------------------------------------------------------------------------


class Foo(TypedDict):
    foo: str


def _command_graph():
    def node_a(state: Foo) -> Command[Literal["node_b", "node_c"]]:
        print("Called A")
        value = random.choice(["b", "c"])
        return Command(update={"foo": value}, goto="node_b" if value == "b" else "node_c")

    def node_b(state: Foo) -> dict:
        print("Called B")
        return {"foo": state["foo"] + "b"}

    def node_c(state: Foo) -> dict:
        print("Called C")
        return {"foo": state["foo"] + "c"}

    builder = StateGraph(Foo)
    builder.add_edge(START, "node_a")
    builder.add_node(node_a)
    builder.add_node(node_b)
    builder.add_node(node_c)
    # No edges between node_a, node_b and node_c: node_a's Command does the routing.
    return builder.compile()


@pytest.mark.parametrize(("pick", "expected"), [("c", "cc"), ("b", "bb")])
def test_command_updates_state_and_routes(
    pick: str, expected: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs: use-graph-api, 'Combine control flow and state updates with Command'."""
    monkeypatch.setattr(random, "choice", lambda options: pick)
    assert _command_graph().invoke({"foo": ""}) == {"foo": expected}
    assert _lines(capsys) == ["Called A", f"Called {pick.upper()}"]


@pytest.mark.anyio
async def test_command_updates_state_and_routes_async(monkeypatch: pytest.MonkeyPatch) -> None:
    """docs: use-graph-api, 'Combine control flow and state updates with Command', via astream."""
    monkeypatch.setattr(random, "choice", lambda options: "c")
    steps = [step async for step in _command_graph().astream({"foo": ""})]
    assert steps == [{"node_a": {"foo": "c"}}, {"node_c": {"foo": "cc"}}]


def test_command_goto_adds_to_static_edges() -> None:
    """docs: graph-api, 'Command' - 'update and goto', and the warning that static edges still run."""

    class Trail(TypedDict):
        foo: str
        visited: Annotated[list[str], operator.add]

    def my_node(state: Trail) -> Command[Literal["my_other_node"]]:
        if state["foo"] == "bar":
            return Command(update={"foo": "baz"}, goto="my_other_node")
        return Command(update={"foo": "qux"})

    builder = StateGraph(Trail)
    builder.add_node("my_node", my_node)
    builder.add_node("my_other_node", lambda s: {"visited": ["my_other_node"]})
    builder.add_node("node_b", lambda s: {"visited": ["node_b"]})
    builder.add_edge(START, "my_node")
    builder.add_edge("my_node", "node_b")
    graph = builder.compile()
    assert graph.invoke({"foo": "bar", "visited": []}) == {
        "foo": "baz",
        "visited": ["my_other_node", "node_b"],
    }
    assert graph.invoke({"foo": "zzz", "visited": []}) == {"foo": "qux", "visited": ["node_b"]}


class FooAdded(TypedDict):
    foo: Annotated[str, operator.add]


def _parent_command_graph(schema: type):
    def chooser(state: dict) -> Command:
        print("Called A")
        value = random.choice(["a", "b"])
        return Command(
            update={"foo": value},
            goto="node_b" if value == "a" else "node_c",
            graph=Command.PARENT,
        )

    def node_b(state: dict) -> dict:
        print("Called B")
        return {"foo": "b"}

    def node_c(state: dict) -> dict:
        print("Called C")
        return {"foo": "c"}

    subgraph = StateGraph(schema).add_node("node_a", chooser).add_edge(START, "node_a").compile()
    builder = StateGraph(schema)
    builder.add_edge(START, "subgraph")
    builder.add_node("subgraph", subgraph)
    builder.add_node("node_b", node_b)
    builder.add_node("node_c", node_c)
    return builder.compile()


@pytest.mark.parametrize(("pick", "called", "expected"), [("b", "C", "bc"), ("a", "B", "ab")])
def test_command_parent_navigates_from_subgraph_to_parent_node(
    pick: str,
    called: str,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """docs: use-graph-api, 'Navigate to a node in a parent graph' (foo has an add reducer)."""
    monkeypatch.setattr(random, "choice", lambda options: pick)
    graph = _parent_command_graph(FooAdded)
    # The docs show only the prints; the state gets the subgraph's update, then the target's.
    assert graph.invoke({"foo": ""}) == {"foo": expected}
    assert _lines(capsys) == ["Called A", f"Called {called}"]
    updates = list(graph.stream({"foo": ""}, stream_mode="updates"))
    assert updates == [{"subgraph": {"foo": pick}}, {f"node_{called.lower()}": {"foo": called.lower()}}]


@pytest.mark.anyio
async def test_command_parent_navigates_from_subgraph_to_parent_node_async(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs: use-graph-api, 'Navigate to a node in a parent graph', via ainvoke."""
    monkeypatch.setattr(random, "choice", lambda options: "b")
    assert await _parent_command_graph(FooAdded).ainvoke({"foo": ""}) == {"foo": "bc"}


def test_command_parent_without_a_reducer_still_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    """docs: use-graph-api, 'Navigate to a node in a parent graph', warning about reducers."""
    # The docs say the shared key "must" have a reducer; LangGraph 1.2.22 also runs it
    # without one when nothing else writes the key in that step: node_c's value wins.
    monkeypatch.setattr(random, "choice", lambda options: "b")
    assert _parent_command_graph(Foo).invoke({"foo": ""}) == {"foo": "c"}
