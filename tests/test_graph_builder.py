"""StateGraph builder: node naming, edges, conditional edges, sequences, compile checks."""

from __future__ import annotations

import functools
import operator
from typing import Annotated, Literal, TypedDict

import pytest

from actorgraph.errors import GraphValidationError
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import Command, Send


class State(TypedDict):
    log: Annotated[list, operator.add]
    flag: bool


def _appender(name: str):
    def node(state: State) -> dict:
        return {"log": [name]}

    node.__name__ = name
    return node


def _names(compiled) -> set[str]:
    """The user nodes of a compiled graph (the hidden start node excluded)."""
    return set(compiled.nodes) - {START}


# -- node names ---------------------------------------------------------------------


def test_add_node_names_a_function_after_its_name() -> None:
    def fetch(state: State) -> dict:
        return {"log": ["fetched"]}

    g = StateGraph(State).add_node(fetch).add_edge(START, "fetch")
    compiled = g.compile()
    assert _names(compiled) == {"fetch"}
    assert compiled.invoke({"log": []}) == {"log": ["fetched"]}


def test_add_node_names_a_callable_object_after_its_class() -> None:
    class Summarize:
        def __call__(self, state: State) -> dict:
            return {"log": ["summarized"]}

    g = StateGraph(State)
    g.add_node(Summarize())
    g.add_edge(START, "Summarize")
    compiled = g.compile()
    assert _names(compiled) == {"Summarize"}
    assert compiled.invoke({"log": []}) == {"log": ["summarized"]}


def test_add_node_names_a_partial_partial() -> None:
    def tag(state: State, label: str) -> dict:
        return {"log": [label]}

    g = StateGraph(State)
    g.add_node(functools.partial(tag, label="p"))
    g.add_edge(START, "partial")
    compiled = g.compile()
    assert _names(compiled) == {"partial"}
    assert compiled.invoke({"log": []}) == {"log": ["p"]}


def test_add_node_names_a_compiled_graph_after_compile_name() -> None:
    child = StateGraph(State).add_node("c", _appender("c")).add_edge(START, "c").compile(name="helper")
    g = StateGraph(State)
    g.add_node(child)
    g.add_edge(START, "helper")
    compiled = g.compile()
    assert _names(compiled) == {"helper"}
    assert compiled.invoke({"log": []}) == {"log": ["c"]}


def test_compiled_graph_default_name_is_langgraph_and_compile_name_overrides_it() -> None:
    g = StateGraph(State).add_node("a", _appender("a")).add_edge(START, "a")
    assert g.compile().get_name() == "LangGraph"
    named = g.compile(name="my_agent")
    assert named.get_name() == "my_agent"
    assert named.name == "my_agent"


def test_explicit_name_wins_over_the_function_name() -> None:
    g = StateGraph(State).add_node("custom", _appender("x")).add_edge(START, "custom")
    assert _names(g.compile()) == {"custom"}


def test_builder_methods_chain() -> None:
    g = StateGraph(State)
    assert g.add_node("a", _appender("a")) is g
    assert g.add_edge(START, "a") is g
    assert g.add_conditional_edges("a", lambda s: END, [END]) is g


# -- edges ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_add_edge_chains_nodes_in_order() -> None:
    g = StateGraph(State)
    for n in ("a", "b", "c"):
        g.add_node(n, _appender(n))
    g.add_edge(START, "a").add_edge("a", "b").add_edge("b", "c").add_edge("c", END)
    assert await g.compile().ainvoke({"log": []}) == {"log": ["a", "b", "c"]}


@pytest.mark.anyio
async def test_fan_out_edges_run_targets_in_the_same_step() -> None:
    seen: dict[str, list] = {}

    def reader(name: str):
        def node(state: State) -> dict:
            seen[name] = list(state["log"])
            return {"log": [name]}

        return node

    g = StateGraph(State)
    g.add_node("a", _appender("a")).add_node("b", reader("b")).add_node("c", reader("c"))
    g.add_edge(START, "a").add_edge("a", "b").add_edge("a", "c")
    assert await g.compile().ainvoke({"log": []}) == {"log": ["a", "b", "c"]}
    assert seen == {"b": ["a"], "c": ["a"]}


@pytest.mark.anyio
async def test_add_edge_from_a_list_waits_for_every_source() -> None:
    """add_edge(["a", "b2"], "c"): c runs once, after both a and the longer b -> b2 branch."""
    g = StateGraph(State)
    for n in ("a", "b", "b2", "c"):
        g.add_node(n, _appender(n))
    g.add_edge(START, "a").add_edge(START, "b").add_edge("b", "b2")
    g.add_edge(["a", "b2"], "c")
    assert await g.compile().ainvoke({"log": []}) == {"log": ["a", "b", "b2", "c"]}


def test_plain_edges_into_a_node_run_it_once_per_arriving_branch() -> None:
    """Without a join, c runs after a and again after b2 (LangGraph behaviour)."""
    g = StateGraph(State)
    for n in ("a", "b", "b2", "c"):
        g.add_node(n, _appender(n))
    g.add_edge(START, "a").add_edge(START, "b").add_edge("b", "b2")
    g.add_edge("a", "c").add_edge("b2", "c")
    assert g.compile().invoke({"log": []}) == {"log": ["a", "b", "b2", "c", "c"]}


# -- conditional edges ----------------------------------------------------------------


def _branchy() -> StateGraph:
    g = StateGraph(State)
    for n in ("a", "yes", "no"):
        g.add_node(n, _appender(n))
    g.add_edge(START, "a")
    return g


@pytest.mark.anyio
@pytest.mark.parametrize("flag,expected", [(True, "yes"), (False, "no")])
async def test_conditional_edges_with_a_dict_path_map(flag: bool, expected: str) -> None:
    g = _branchy()
    g.add_conditional_edges("a", lambda s: s["flag"], {True: "yes", False: "no"})
    assert await g.compile().ainvoke({"log": [], "flag": flag}) == {
        "log": ["a", expected],
        "flag": flag,
    }


@pytest.mark.anyio
async def test_conditional_edges_with_a_list_path_map() -> None:
    g = _branchy()
    g.add_conditional_edges("a", lambda s: "yes" if s["flag"] else "no", ["yes", "no"])
    assert await g.compile().ainvoke({"log": [], "flag": False}) == {"log": ["a", "no"], "flag": False}


def test_conditional_edges_path_map_can_route_to_end() -> None:
    g = _branchy()
    g.add_conditional_edges(
        "a", lambda s: "stop" if s["flag"] else "go", {"stop": END, "go": "yes", "other": "no"}
    )
    compiled = g.compile()
    assert compiled.invoke({"log": [], "flag": True}) == {"log": ["a"], "flag": True}
    assert compiled.invoke({"log": [], "flag": False}) == {"log": ["a", "yes"], "flag": False}


@pytest.mark.anyio
async def test_conditional_edges_with_a_literal_annotated_router() -> None:
    def route(state: State) -> Literal["yes", "no"]:
        return "yes" if state["flag"] else "no"

    g = _branchy()
    g.add_conditional_edges("a", route)
    assert await g.compile().ainvoke({"log": [], "flag": True}) == {"log": ["a", "yes"], "flag": True}


def test_literal_router_targets_count_as_reachable() -> None:
    """The unreachable-node check follows a router's Literal return type."""

    def route(state: State) -> Literal["yes", "no", "__end__"]:
        return "no"

    g = _branchy()
    g.add_conditional_edges("a", route)
    assert g.compile().invoke({"log": []}) == {"log": ["a", "no"]}


def test_conditional_edges_router_returning_a_list_runs_all_targets() -> None:
    g = _branchy()
    g.add_conditional_edges("a", lambda s: ["no", "yes"], ["yes", "no"])
    assert g.compile().invoke({"log": []}) == {"log": ["a", "no", "yes"]}


def test_adding_two_routers_with_the_same_name_to_one_node_fails() -> None:
    def route(state: State) -> str:
        return "yes"

    g = _branchy()
    g.add_conditional_edges("a", route, ["yes", "no"])
    with pytest.raises(ValueError, match="route"):
        g.add_conditional_edges("a", route, ["yes", "no"])


# -- entry and finish points -----------------------------------------------------------


def test_set_entry_point_and_set_finish_point() -> None:
    g = StateGraph(State)
    g.add_node("a", _appender("a")).add_node("b", _appender("b"))
    g.set_entry_point("a")
    g.add_edge("a", "b")
    g.set_finish_point("b")
    assert g.compile().invoke({"log": []}) == {"log": ["a", "b"]}


@pytest.mark.anyio
@pytest.mark.parametrize("flag,expected", [(True, "yes"), (False, "no")])
async def test_set_conditional_entry_point(flag: bool, expected: str) -> None:
    g = StateGraph(State)
    g.add_node("yes", _appender("yes")).add_node("no", _appender("no"))
    g.set_conditional_entry_point(lambda s: "yes" if s["flag"] else "no", ["yes", "no"])
    assert await g.compile().ainvoke({"log": [], "flag": flag}) == {"log": [expected], "flag": flag}


# -- add_sequence ---------------------------------------------------------------------


def test_add_sequence_names_nodes_after_their_functions_and_chains_them() -> None:
    def step_1(state: State) -> dict:
        return {"log": ["1"]}

    def step_2(state: State) -> dict:
        return {"log": ["2"]}

    def step_3(state: State) -> dict:
        return {"log": ["3"]}

    g = StateGraph(State).add_sequence([step_1, step_2, step_3]).add_edge(START, "step_1")
    compiled = g.compile()
    assert _names(compiled) == {"step_1", "step_2", "step_3"}
    assert compiled.invoke({"log": []}) == {"log": ["1", "2", "3"]}


def test_add_sequence_accepts_name_function_tuples() -> None:
    g = StateGraph(State)
    g.add_sequence([("first", lambda s: {"log": ["f"]}), ("second", lambda s: {"log": ["s"]})])
    g.add_edge(START, "first")
    compiled = g.compile()
    assert _names(compiled) == {"first", "second"}
    assert compiled.invoke({"log": []}) == {"log": ["f", "s"]}


def test_add_sequence_with_duplicate_names_fails() -> None:
    g = StateGraph(State)
    with pytest.raises(GraphValidationError, match="<lambda>"):
        g.add_sequence([lambda s: {}, lambda s: {}])


def test_add_sequence_with_a_name_already_in_the_graph_fails() -> None:
    g = StateGraph(State).add_node("a", _appender("a"))
    with pytest.raises(ValueError, match="'a'"):
        g.add_sequence([("a", _appender("a2"))])


def test_add_sequence_of_nothing_fails() -> None:
    with pytest.raises(GraphValidationError, match="at least one node"):
        StateGraph(State).add_sequence([])


# -- compile errors --------------------------------------------------------------------


def test_graph_validation_error_is_a_value_error() -> None:
    assert issubclass(GraphValidationError, ValueError)


def test_compile_rejects_an_edge_ending_at_an_unknown_node() -> None:
    g = StateGraph(State).add_node("a", _appender("a")).add_edge(START, "a").add_edge("a", "ghost")
    with pytest.raises(GraphValidationError, match="unknown node `ghost`"):
        g.compile()


def test_compile_rejects_an_edge_starting_at_an_unknown_node() -> None:
    g = StateGraph(State).add_node("a", _appender("a")).add_edge(START, "a").add_edge("ghost", "a")
    with pytest.raises(GraphValidationError, match="starting at unknown node 'ghost'"):
        g.compile()


def test_a_join_edge_from_an_unknown_node_is_rejected() -> None:
    g = StateGraph(State).add_node("a", _appender("a")).add_node("c", _appender("c"))
    with pytest.raises(ValueError, match="ghost"):
        g.add_edge(START, "a").add_edge(["a", "ghost"], "c")
        g.compile()


def test_compile_rejects_a_path_map_naming_an_unknown_node() -> None:
    g = StateGraph(State).add_node("a", _appender("a")).add_edge(START, "a")
    g.add_conditional_edges("a", lambda s: "x", {"x": "ghost"})
    with pytest.raises(GraphValidationError, match="unknown target 'ghost'"):
        g.compile()


def test_compile_rejects_a_graph_without_an_entry_point() -> None:
    g = StateGraph(State).add_node("a", _appender("a")).add_edge("a", END)
    with pytest.raises(GraphValidationError, match="entrypoint"):
        g.compile()


def test_add_node_rejects_a_duplicate_name() -> None:
    g = StateGraph(State).add_node("a", _appender("a"))
    with pytest.raises(GraphValidationError, match="Node `a` already present"):
        g.add_node("a", _appender("a"))


@pytest.mark.parametrize("name", [START, END])
def test_add_node_rejects_reserved_names(name: str) -> None:
    with pytest.raises(GraphValidationError, match=f"`{name}` is reserved"):
        StateGraph(State).add_node(name, _appender("x"))


@pytest.mark.parametrize("name,char", [("a|b", "|"), ("a:b", ":")])
def test_add_node_rejects_names_with_reserved_characters(name: str, char: str) -> None:
    with pytest.raises(GraphValidationError) as info:
        StateGraph(State).add_node(name, _appender("x"))
    assert f"'{char}' is a reserved character" in str(info.value)
    assert name in str(info.value)


def test_a_node_nothing_can_reach_compiles_and_never_runs_as_in_langgraph() -> None:
    g = StateGraph(State).add_node("a", _appender("a")).add_node("orphan", _appender("o"))
    g.add_edge(START, "a")
    assert g.compile().invoke({"log": []}) == {"log": ["a"]}


def test_strict_compile_rejects_a_node_nothing_can_reach() -> None:
    g = StateGraph(State).add_node("a", _appender("a")).add_node("orphan", _appender("o"))
    g.add_edge(START, "a")
    with pytest.raises(GraphValidationError, match="'orphan' can't be reached"):
        g.compile(strict=True)


def test_unreachable_check_follows_path_maps() -> None:
    g = _branchy()
    g.add_conditional_edges("a", lambda s: "yes", ["yes"])
    with pytest.raises(GraphValidationError, match="'no' can't be reached"):
        g.compile(strict=True)


def test_unreachable_check_is_skipped_when_a_router_has_no_path_map() -> None:
    g = _branchy()
    g.add_conditional_edges("a", lambda s: "no")
    assert g.compile(strict=True).invoke({"log": []}) == {"log": ["a", "no"]}


def test_unreachable_check_is_skipped_when_a_node_mentions_command() -> None:
    def a(state: State) -> Command:
        return Command(update={"log": ["a"]}, goto="no")

    g = StateGraph(State).add_node("a", a).add_node("no", _appender("no"))
    g.add_edge(START, "a")
    assert g.compile(strict=True).invoke({"log": []}) == {"log": ["a", "no"]}


def test_unreachable_check_is_skipped_when_a_node_mentions_send() -> None:
    def a(state: State) -> Command:
        return Command(goto=[Send("w", {"log": ["sent"]})])

    def w(arg: dict) -> dict:
        return {"log": arg["log"]}

    g = StateGraph(State).add_node("a", a).add_node("w", w).add_edge(START, "a")
    assert g.compile(strict=True).invoke({"log": []}) == {"log": ["sent"]}


def test_unreachable_check_is_skipped_when_a_subgraph_node_is_present() -> None:
    def jump(state: State) -> Command:
        return Command(graph=Command.PARENT, goto="target", update={"log": ["jump"]})

    child = StateGraph(State).add_node("jump", jump).add_edge(START, "jump").compile()
    g = StateGraph(State).add_node("child", child).add_node("target", _appender("target"))
    g.add_edge(START, "child")
    assert g.compile(strict=True).invoke({"log": []}) == {"log": ["jump", "target"]}


def test_declared_command_destinations_make_targets_reachable() -> None:
    def a(state: State) -> Command[Literal["yes"]]:
        return Command(goto="yes")

    g = StateGraph(State).add_node("a", a).add_node("yes", _appender("yes")).add_node("no", _appender("no"))
    g.add_edge(START, "a")
    # 'a' declares its destinations, so 'no' is provably unreachable
    with pytest.raises(GraphValidationError, match="'no' can't be reached"):
        g.compile(strict=True)
    g2 = StateGraph(State).add_node("a", a).add_node("yes", _appender("yes")).add_edge(START, "a")
    assert g2.compile().invoke({"log": []}) == {"log": ["yes"]}


def test_add_node_destinations_make_targets_reachable() -> None:
    def a(state: State):
        return Command(goto="yes")

    g = StateGraph(State).add_node("a", a, destinations=("yes",)).add_node("yes", _appender("yes"))
    g.add_edge(START, "a")
    assert g.compile(strict=True).invoke({"log": []}) == {"log": ["yes"]}


def test_a_graph_can_be_compiled_twice_and_both_run() -> None:
    g = StateGraph(State).add_node("a", _appender("a")).add_edge(START, "a")
    first, second = g.compile(), g.compile(name="again")
    assert first.invoke({"log": []}) == second.invoke({"log": []}) == {"log": ["a"]}
