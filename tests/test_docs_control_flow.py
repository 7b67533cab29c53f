"""The LangGraph docs' graph-API examples on control flow,
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
