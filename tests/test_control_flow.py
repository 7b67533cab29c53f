"""Control flow: conditional edges, Send, Command (incl. Command.PARENT), subgraphs,
recursion limit, loops and deferred nodes."""

from __future__ import annotations

import operator
from typing import Annotated, Literal, TypedDict

import pytest

from actorgraph.errors import GraphRecursionError
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import Command, Send


class State(TypedDict):
    log: Annotated[list, operator.add]
    x: int
    y: int


def _appender(name: str):
    def node(state: State) -> dict:
        return {"log": [name]}

    node.__name__ = name
    return node


# -- conditional edges ----------------------------------------------------------------


@pytest.mark.anyio
async def test_router_sees_its_own_nodes_writes_but_not_its_siblings() -> None:
    seen: list = []

    def route(state: State) -> str:
        seen.append(dict(state))
        return END

    g = StateGraph(State)
    g.add_node("a", lambda s: {"x": 1, "log": ["a"]}).add_node("b", lambda s: {"y": 2, "log": ["b"]})
    g.add_edge(START, "a").add_edge(START, "b")
    g.add_conditional_edges("a", route, [END])
    out = await g.compile().ainvoke({"log": ["in"], "x": 0, "y": 0})
    assert seen == [{"log": ["in", "a"], "x": 1, "y": 0}]
    assert out == {"log": ["in", "a", "b"], "x": 1, "y": 2}


@pytest.mark.anyio
async def test_async_router() -> None:
    async def route(state: State) -> str:
        return "b" if state["x"] else END

    g = StateGraph(State).add_node("a", _appender("a")).add_node("b", _appender("b"))
    g.add_edge(START, "a").add_conditional_edges("a", route, ["b", END])
    assert await g.compile().ainvoke({"log": [], "x": 1}) == {"log": ["a", "b"], "x": 1}
    assert await g.compile().ainvoke({"log": [], "x": 0}) == {"log": ["a"], "x": 0}


@pytest.mark.anyio
async def test_router_returning_a_list_runs_every_target_and_end_is_skipped() -> None:
    g = StateGraph(State)
    for n in ("a", "b", "c"):
        g.add_node(n, _appender(n))
    g.add_edge(START, "a")
    g.add_conditional_edges("a", lambda s: ["c", END, "b", "c"], ["b", "c", END])
    assert await g.compile().ainvoke({"log": []}) == {"log": ["a", "b", "c"]}


@pytest.mark.anyio
async def test_router_returning_an_empty_list_ends_the_branch() -> None:
    g = StateGraph(State).add_node("a", _appender("a")).add_node("b", _appender("b"))
    g.add_edge(START, "a").add_conditional_edges("a", lambda s: [], ["b"])
    assert await g.compile().ainvoke({"log": []}) == {"log": ["a"]}


# -- Send -----------------------------------------------------------------------------


class Jokes(TypedDict):
    topic: str
    subjects: list
    jokes: Annotated[list, operator.add]
    best: str


class JokeTask(TypedDict):
    subject: str


@pytest.mark.anyio
async def test_send_map_reduce_runs_one_task_per_item_and_reduces_in_send_order() -> None:
    got_inputs: list = []

    def generate_topics(state: Jokes) -> dict:
        return {"subjects": [f"{state['topic']}-{i}" for i in ("lions", "owls", "bees")]}

    async def generate_joke(task: JokeTask) -> dict:
        got_inputs.append(task)
        return {"jokes": [f"a joke about {task['subject']}"]}

    def fan_out(state: Jokes) -> list[Send]:
        return [Send("generate_joke", {"subject": s}) for s in state["subjects"]]

    def best_joke(state: Jokes) -> dict:
        return {"best": max(state["jokes"], key=len)}

    g = StateGraph(Jokes)
    g.add_node(generate_topics).add_node(generate_joke).add_node(best_joke)
    g.add_edge(START, "generate_topics")
    g.add_conditional_edges("generate_topics", fan_out, ["generate_joke"])
    g.add_edge("generate_joke", "best_joke").add_edge("best_joke", END)
    chunks = [c async for c in g.compile().astream({"topic": "zoo"}, stream_mode="updates")]
    jokes = ["a joke about zoo-lions", "a joke about zoo-owls", "a joke about zoo-bees"]
    assert sorted(got_inputs, key=str) == sorted(({"subject": s[13:]} for s in jokes), key=str)
    assert [next(iter(c)) for c in chunks] == [
        "generate_topics",
        "generate_joke",
        "generate_joke",
        "generate_joke",
        "best_joke",
    ]
    out = await g.compile().ainvoke({"topic": "zoo"})
    assert out == {
        "topic": "zoo",
        "subjects": ["zoo-lions", "zoo-owls", "zoo-bees"],
        "jokes": jokes,
        "best": "a joke about zoo-lions",
    }


@pytest.mark.anyio
async def test_send_from_the_entry_point() -> None:
    g = StateGraph(State).add_node("w", lambda arg: {"log": [arg * 2]})
    g.set_conditional_entry_point(lambda s: [Send("w", i) for i in (3, 1, 2)], ["w"])
    assert await g.compile().ainvoke({"log": []}) == {"log": [6, 2, 4]}


# -- Command --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_command_update_and_goto_add_to_static_edges() -> None:
    def a(state: State) -> Command[Literal["c"]]:
        return Command(update={"log": ["a"], "x": 7}, goto="c")

    g = StateGraph(State)
    g.add_node("a", a).add_node("b", _appender("b")).add_node("c", _appender("c"))
    g.add_edge(START, "a").add_edge("a", "b")
    assert await g.compile().ainvoke({"log": []}) == {"log": ["a", "b", "c"], "x": 7}


def test_command_goto_end_does_not_suppress_static_edges() -> None:
    def a(state: State) -> Command:
        return Command(update={"log": ["a"]}, goto=END)

    g = StateGraph(State).add_node("a", a).add_node("b", _appender("b"))
    g.add_edge(START, "a").add_edge("a", "b")
    assert g.compile().invoke({"log": []}) == {"log": ["a", "b"]}


@pytest.mark.anyio
async def test_command_goto_list_of_names() -> None:
    def a(state: State) -> Command:
        return Command(goto=["c", "b"])

    g = StateGraph(State).add_node("a", a).add_node("b", _appender("b")).add_node("c", _appender("c"))
    g.add_edge(START, "a")
    assert await g.compile().ainvoke({"log": []}) == {"log": ["b", "c"]}


@pytest.mark.anyio
async def test_command_goto_sends() -> None:
    def a(state: State) -> Command:
        return Command(update={"log": ["a"]}, goto=[Send("w", "s1"), Send("w", "s2")])

    g = StateGraph(State).add_node("a", a).add_node("w", lambda arg: {"log": [arg]})
    g.add_edge(START, "a")
    assert await g.compile().ainvoke({"log": []}) == {"log": ["a", "s1", "s2"]}


@pytest.mark.anyio
async def test_node_returning_a_list_of_commands() -> None:
    def a(state: State) -> list[Command]:
        return [Command(update={"log": ["first"]}), Command(update={"log": ["second"]}, goto="b")]

    g = StateGraph(State).add_node("a", a).add_node("b", _appender("b")).add_edge(START, "a")
    assert await g.compile().ainvoke({"log": []}) == {"log": ["first", "second", "b"]}


# -- Command.PARENT -------------------------------------------------------------------


class Foo(TypedDict):
    foo: Annotated[str, operator.add]


def _jump_to(target: str, value: str):
    def jump(state: Foo) -> Command:
        return Command(update={"foo": value}, goto=target, graph=Command.PARENT)

    return jump


@pytest.mark.anyio
async def test_command_parent_from_a_subgraph_node_updates_and_routes_the_parent() -> None:
    child = StateGraph(Foo)
    child.add_node("jump", _jump_to("node_c", "b")).add_node("never", lambda s: {"foo": "!"})
    child.add_edge(START, "jump").add_edge("jump", "never")
    g = StateGraph(Foo)
    g.add_node("sub", child.compile())
    g.add_node("node_b", lambda s: {"foo": "X"}).add_node("node_c", lambda s: {"foo": "c"})
    g.add_edge(START, "sub")
    compiled = g.compile()
    chunks = [c async for c in compiled.astream({"foo": ""}, stream_mode="updates")]
    assert chunks == [{"sub": {"foo": "b"}}, {"node_c": {"foo": "c"}}]
    assert await compiled.ainvoke({"foo": ""}) == {"foo": "bc"}


def test_command_parent_without_a_reducer_when_no_one_else_writes_the_key() -> None:
    class Plain(TypedDict):
        foo: str

    def jump(state: Plain) -> Command:
        return Command(update={"foo": "b"}, goto="node_c", graph=Command.PARENT)

    child = StateGraph(Plain).add_node("jump", jump).add_edge(START, "jump").compile()
    g = StateGraph(Plain).add_node("sub", child).add_node("node_c", lambda s: {"foo": s["foo"] + "c"})
    g.add_edge(START, "sub")
    assert g.compile().invoke({"foo": ""}) == {"foo": "bc"}


@pytest.mark.anyio
async def test_static_edges_out_of_the_subgraph_node_still_fire_after_command_parent() -> None:
    child = StateGraph(Foo).add_node("jump", _jump_to("node_c", "j")).add_edge(START, "jump")
    g = StateGraph(Foo).add_node("sub", child.compile())
    g.add_node("after", lambda s: {"foo": "a"}).add_node("node_c", lambda s: {"foo": "c"})
    g.add_edge(START, "sub").add_edge("sub", "after")
    assert await g.compile().ainvoke({"foo": ""}) == {"foo": "jac"}


@pytest.mark.anyio
async def test_command_parent_from_a_subgraph_invoked_inside_a_node() -> None:
    child = StateGraph(Foo).add_node("jump", _jump_to("node_c", "b")).add_edge(START, "jump").compile()

    async def wrapper(state: Foo) -> dict:
        await child.ainvoke({"foo": ""})
        return {"foo": "unreachable"}

    g = StateGraph(Foo).add_node("w", wrapper).add_node("node_c", lambda s: {"foo": "c"})
    g.add_edge(START, "w")
    assert await g.compile().ainvoke({"foo": ""}) == {"foo": "bc"}


@pytest.mark.anyio
async def test_command_parent_from_a_subgraph_invoked_inside_a_node_with_destinations() -> None:
    child = StateGraph(Foo).add_node("jump", _jump_to("node_c", "b")).add_edge(START, "jump").compile()

    async def wrapper(state: Foo) -> dict:
        await child.ainvoke({"foo": ""})
        return {"foo": "unreachable"}

    g = StateGraph(Foo).add_node("w", wrapper, destinations=("node_c",))
    g.add_node("node_c", lambda s: {"foo": "c"}).add_edge(START, "w")
    assert await g.compile().ainvoke({"foo": ""}) == {"foo": "bc"}


# -- subgraphs ------------------------------------------------------------------------


class Parent(TypedDict):
    log: Annotated[list, operator.add]
    shared: str
    parent_only: str


class Child(TypedDict):
    shared: str
    child_only: str


@pytest.mark.anyio
async def test_subgraph_node_gets_parent_state_and_returns_only_parent_keys() -> None:
    seen: list = []

    def c1(state: Child) -> dict:
        seen.append(dict(state))
        return {"shared": state["shared"] + "+child", "child_only": "hidden"}

    child = StateGraph(Child).add_node("c1", c1).add_edge(START, "c1").compile()
    g = StateGraph(Parent).add_node("child", child).add_edge(START, "child")
    compiled = g.compile()
    chunks = [
        c async for c in compiled.astream({"shared": "p", "parent_only": "q"}, stream_mode="updates")
    ]
    assert seen == [{"shared": "p"}]
    assert chunks == [{"child": {"shared": "p+child"}}]
    out = await compiled.ainvoke({"shared": "p", "parent_only": "q"})
    assert out == {"log": [], "shared": "p+child", "parent_only": "q"}


@pytest.mark.anyio
async def test_shared_reducer_key_gets_the_childs_full_list_appended_again() -> None:
    """LangGraph-compatible: the child's final list is the node's update, and it reduces."""

    class L(TypedDict):
        log: Annotated[list, operator.add]

    child = StateGraph(L).add_node("c", lambda s: {"log": ["c"]}).add_edge(START, "c").compile()
    g = StateGraph(L).add_node("a", lambda s: {"log": ["a"]}).add_node("child", child)
    g.add_edge(START, "a").add_edge("a", "child")
    assert await g.compile().ainvoke({"log": ["in"]}) == {"log": ["in", "a", "in", "a", "c"]}


def test_subgraph_invoked_inside_a_node_function() -> None:
    child = StateGraph(Child).add_node("c1", lambda s: {"shared": s["shared"] * 2}).add_edge(START, "c1")
    compiled_child = child.compile()

    def wrapper(state: Parent) -> dict:
        result = compiled_child.invoke({"shared": state["shared"]})
        return {"shared": result["shared"], "log": ["wrapped"]}

    g = StateGraph(Parent).add_node("w", wrapper).add_edge(START, "w")
    assert g.compile().invoke({"shared": "ab"}) == {"log": ["wrapped"], "shared": "abab"}


@pytest.mark.anyio
async def test_nested_subgraphs_three_levels_deep() -> None:
    class L(TypedDict):
        log: Annotated[list, operator.add]

    leaf = StateGraph(L).add_node("leaf_node", lambda s: {"log": ["leaf"]}).add_edge(START, "leaf_node")
    mid = StateGraph(L).add_node("leaf", leaf.compile()).add_node("mid_node", lambda s: {"log": ["mid"]})
    mid.add_edge(START, "leaf").add_edge("leaf", "mid_node")
    top = StateGraph(L).add_node("mid", mid.compile()).add_node("top_node", lambda s: {"log": ["top"]})
    top.add_edge(START, "mid").add_edge("mid", "top_node")
    # each level appends its child's full final list to its own
    out = await top.compile().ainvoke({"log": ["in"]})
    assert out == {"log": ["in", "in", "in", "leaf", "mid", "top"]}


# -- recursion limit ------------------------------------------------------------------


def _chain(n: int) -> StateGraph:
    g = StateGraph(State)
    names = [f"n{i:03d}" for i in range(n)]
    g.add_sequence([(name, _appender(name)) for name in names])
    g.add_edge(START, names[0])
    return g


def test_default_recursion_limit_is_langgraphs() -> None:
    from actorgraph.actors._run import DEFAULT_RECURSION_LIMIT

    assert DEFAULT_RECURSION_LIMIT == 10007
    assert len(_chain(30).compile().invoke({"log": []})["log"]) == 30


def test_default_recursion_limit_follows_langgraphs_environment_variable() -> None:
    import subprocess
    import sys

    code = (
        "from actorgraph.actors._run import DEFAULT_RECURSION_LIMIT as d; print(d)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**__import__("os").environ, "LANGGRAPH_DEFAULT_RECURSION_LIMIT": "42"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "42"


@pytest.mark.anyio
@pytest.mark.parametrize("k", [1, 3, 6])
async def test_recursion_limit_k_allows_k_minus_1_steps(k: int) -> None:
    if k > 1:
        out = await _chain(k - 1).compile().ainvoke({"log": []}, {"recursion_limit": k})
        assert len(out["log"]) == k - 1
    with pytest.raises(GraphRecursionError) as info:
        await _chain(k).compile().ainvoke({"log": []}, {"recursion_limit": k})
    msg = str(info.value)
    assert f"Recursion limit of {k} reached without hitting a stop condition" in msg
    assert "recursion_limit" in msg and "increase" in msg


@pytest.mark.anyio
async def test_recursion_error_comes_after_the_k_steps_have_streamed() -> None:
    chunks: list = []
    with pytest.raises(GraphRecursionError):
        async for c in _chain(4).compile().astream({"log": []}, {"recursion_limit": 4}, stream_mode="updates"):
            chunks.append(c)
    assert chunks == [{f"n{i:03d}": {"log": [f"n{i:03d}"]}} for i in range(4)]


def test_graph_recursion_error_is_a_recursion_error() -> None:
    assert issubclass(GraphRecursionError, RecursionError)


@pytest.mark.parametrize("limit", [0, -1])
def test_recursion_limit_below_one_is_a_value_error(limit: int) -> None:
    with pytest.raises(ValueError, match="recursion_limit must be at least 1"):
        _chain(1).compile().invoke({"log": []}, {"recursion_limit": limit})


# -- loops ----------------------------------------------------------------------------


def _loop() -> StateGraph:
    g = StateGraph(State).add_node("a", _appender("A")).add_node("b", _appender("B"))
    g.add_edge(START, "a").add_edge("b", "a")
    g.add_conditional_edges("a", lambda s: "b" if len(s["log"]) < 7 else END, ["b", END])
    return g


@pytest.mark.anyio
async def test_loop_runs_until_its_router_ends_it() -> None:
    out = await _loop().compile().ainvoke({"log": []})
    assert out == {"log": ["A", "B", "A", "B", "A", "B", "A"]}


def test_loop_hitting_the_recursion_limit_raises_after_k_steps() -> None:
    seen: list = []
    g = StateGraph(State)
    g.add_node("a", lambda s: (seen.append("A"), {"log": ["A"]})[1])
    g.add_node("b", lambda s: (seen.append("B"), {"log": ["B"]})[1])
    g.add_edge(START, "a").add_edge("a", "b").add_edge("b", "a")
    with pytest.raises(GraphRecursionError, match="Recursion limit of 4 reached"):
        g.compile().invoke({"log": []}, {"recursion_limit": 4})
    assert seen == ["A", "B", "A", "B"]


@pytest.mark.anyio
async def test_loop_with_parallel_branches() -> None:
    g = StateGraph(State)
    for n in ("a", "b", "c", "d"):
        g.add_node(n, _appender(n.upper()))
    g.add_edge(START, "a").add_edge("b", "c").add_edge("b", "d")
    g.add_edge(["c", "d"], "a")
    g.add_conditional_edges("a", lambda s: "b" if len(s["log"]) < 7 else END, ["b", END])
    out = await g.compile().ainvoke({"log": []})
    assert out == {"log": ["A", "B", "C", "D", "A", "B", "C", "D", "A"]}


# -- deferred nodes -------------------------------------------------------------------


@pytest.mark.anyio
async def test_deferred_node_waits_for_branches_of_unequal_length() -> None:
    seen: list = []

    def d(state: State) -> dict:
        seen.append(list(state["log"]))
        return {"log": ["D"]}

    g = StateGraph(State)
    for n in ("a", "b", "b_2", "c"):
        g.add_node(n, _appender(n.upper()))
    g.add_node("d", d, defer=True)
    g.add_edge(START, "a").add_edge("a", "b").add_edge("a", "c")
    g.add_edge("b", "b_2").add_edge("b_2", "d").add_edge("c", "d").add_edge("d", END)
    out = await g.compile().ainvoke({"log": []})
    assert out == {"log": ["A", "B", "C", "B_2", "D"]}
    assert seen == [["A", "B", "C", "B_2"]]


def test_without_defer_the_join_node_runs_once_per_branch() -> None:
    g = StateGraph(State)
    for n in ("a", "b", "b_2", "c", "d"):
        g.add_node(n, _appender(n.upper()))
    g.add_edge(START, "a").add_edge("a", "b").add_edge("a", "c")
    g.add_edge("b", "b_2").add_edge("b_2", "d").add_edge("c", "d")
    # step 3 runs b_2 and d together; their writes apply in name order
    assert g.compile().invoke({"log": []}) == {"log": ["A", "B", "C", "B_2", "D", "D"]}
