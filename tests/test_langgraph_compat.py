"""LangGraph programs that must behave as they do on LangGraph: one test per entry of the
compatibility gap list (../shared/compat/known-gaps.md, numbered #N in each test name),
each the smallest program showing the behaviour, asserting LangGraph's result."""

from __future__ import annotations

import operator
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.errors import ParentCommand
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import Command, interrupt


class S(TypedDict):
    x: int


class L(TypedDict):
    log: Annotated[list, operator.add]


def cfg(thread: str = "1") -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


def test_gap_11_a_reducer_key_listed_plain_in_the_output_schema_keeps_its_reducer() -> None:
    out_schema = TypedDict("Out", {"log": list})  # type: ignore[misc]
    g = StateGraph(L, output_schema=out_schema).add_node("a", lambda s: {"log": [1]}).add_edge(START, "a")
    assert g.compile().invoke({"log": [0]}) == {"log": [0, 1]}


def test_gap_15_command_parent_from_a_root_graph_raises_parent_command() -> None:
    g = StateGraph(S).add_node("n", lambda s: Command(graph=Command.PARENT, goto="x")).add_edge(START, "n")
    with pytest.raises(ParentCommand) as info:
        g.compile().invoke({"x": 0})
    assert info.value.command.goto == "x"


def test_gap_19_a_key_the_state_lacks_is_dropped() -> None:
    g = StateGraph(S).add_node("n", lambda s: {"x": 1, "extra": 1}).add_edge(START, "n")
    assert g.compile().invoke({"x": 0}) == {"x": 1}


def test_gap_21_an_unreachable_node_compiles() -> None:
    g = StateGraph(S).add_node("a", lambda s: s).add_node("orphan", lambda s: s).add_edge(START, "a")
    assert g.compile().invoke({"x": 3}) == {"x": 3}


def test_gap_26_one_answer_for_several_pending_interrupts_is_a_runtime_error() -> None:
    class T(TypedDict):
        a: str
        b: str

    g = StateGraph(T).add_node("n1", lambda s: {"a": interrupt("a?")}).add_node("n2", lambda s: {"b": interrupt("b?")})
    g = g.add_edge(START, "n1").add_edge(START, "n2").compile(checkpointer=InMemorySaver())
    g.invoke({"a": "", "b": ""}, cfg())
    with pytest.raises(RuntimeError, match="multiple pending interrupts"):
        g.invoke(Command(resume="one answer"), cfg())


def test_gap_35_a_checkpointer_that_is_not_a_saver_is_a_type_error() -> None:
    g = StateGraph(S).add_node("n", lambda s: s).add_edge(START, "n")
    with pytest.raises(TypeError, match="Invalid checkpointer provided.*Received object"):
        g.compile(checkpointer=object())


class R38(TypedDict):
    x: int


class W38(TypedDict):
    x: int
    y: int


def test_gap_38_a_router_annotated_with_a_narrower_schema_sees_only_its_keys() -> None:
    seen: list[Any] = []

    def router(state: R38) -> str:
        seen.append(state)
        return END

    g = StateGraph(W38).add_node("n", lambda s: {"x": 1, "y": 2}).add_edge(START, "n")
    g.add_conditional_edges("n", router).compile().invoke({"x": 0})
    assert seen == [{"x": 1}]


def test_gap_23_a_graph_invoked_in_a_node_with_its_own_thread_saves_on_that_thread() -> None:
    saver = InMemorySaver()
    child = StateGraph(S).add_node("n", lambda s: {"x": s["x"] + 1}).add_edge(START, "n").compile(checkpointer=saver)
    child_cfg = cfg("child")
    g = StateGraph(S).add_node("p", lambda s: child.invoke(s, child_cfg)).add_edge(START, "p")
    g.compile(checkpointer=saver).invoke({"x": 0}, cfg())
    assert child.get_state(child_cfg).values == {"x": 1}


class F39(TypedDict):
    foo: Annotated[str, operator.add]


def test_gap_39_a_node_may_return_a_list_of_commands_and_updates() -> None:
    g = StateGraph(F39).add_node("n", lambda s: [Command(update={"foo": "a"}), {"foo": "b"}]).add_edge(START, "n")
    assert g.compile().invoke({"foo": ""}) == {"foo": "ab"}


def test_gap_42_with_config_binds_config_defaults() -> None:
    from actorgraph.errors import GraphRecursionError

    g = StateGraph(L).add_sequence([(f"n{i}", lambda s: {"log": ["x"]}) for i in range(4)])
    g = g.add_edge(START, "n0").compile()
    bound = g.with_config(recursion_limit=3)
    assert type(bound) is type(g) and bound.config == {"recursion_limit": 3}
    with pytest.raises(GraphRecursionError):
        bound.invoke({"log": []})
    assert bound.invoke({"log": []}, {"recursion_limit": 10}) == {"log": ["x"] * 4}  # the call's config wins
    assert g.invoke({"log": []}) == {"log": ["x"] * 4}  # the original is unchanged


def test_gap_48_top_level_config_keys_go_into_configurable() -> None:
    g = StateGraph(S).add_node("n", lambda s: {"x": s["x"] + 1}).add_edge(START, "n").compile(checkpointer=InMemorySaver())
    assert g.invoke({"x": 0}, {"thread_id": "t1"}) == {"x": 1}
    assert g.get_state({"configurable": {"thread_id": "t1"}}).values == {"x": 1}


def test_gap_08_input_output_and_context_json_schemas() -> None:
    g = StateGraph(S).add_node("n", lambda s: s).add_edge(START, "n").compile()
    expected = {"properties": {"x": {"title": "X", "type": "integer"}}, "required": ["x"], "title": "S", "type": "object"}
    assert g.get_input_jsonschema() == expected
    assert g.get_output_jsonschema() == expected
    assert g.get_context_jsonschema() is None
    assert g.get_input_schema().__name__ == "LangGraphInput"


def test_gap_08_entrypoint_json_schemas() -> None:
    from actorgraph.func import entrypoint

    @entrypoint()
    def wf(x: int) -> str:
        return str(x)

    assert wf.get_name() == "LangGraph"
    assert wf.get_input_jsonschema() == {"title": "LangGraphInput", "type": "integer"}
    assert wf.get_output_jsonschema() == {"title": "LangGraphOutput", "type": "string"}


def test_gap_12_timeouts_sync_nodes_refused_entrypoint_timeout_works() -> None:
    import asyncio

    from actorgraph.errors import NodeTimeoutError
    from actorgraph.func import entrypoint
    from actorgraph.types import TimeoutPolicy

    tp = TimeoutPolicy(idle_timeout=0.05)
    with pytest.raises(ValueError, match="only supported for async nodes"):
        StateGraph(S).add_node("n", lambda s: s, timeout=tp).add_edge(START, "n").compile()

    async def slow(s: Any) -> None:
        await asyncio.sleep(0.5)

    with pytest.raises(NodeTimeoutError) as info:
        asyncio.run(entrypoint(timeout=tp)(slow).ainvoke(1))
    assert (info.value.kind, info.value.idle_timeout, info.value.run_timeout) == ("idle", 0.05, None)


def test_gap_27_generator_entrypoints_are_refused() -> None:
    from actorgraph.func import entrypoint

    with pytest.raises(NotImplementedError, match="Generators are not supported"):

        @entrypoint()
        def gen(inputs: Any) -> Any:
            yield "a"


def test_gap_28_a_task_of_a_partial_is_named_after_the_function() -> None:
    import functools

    from actorgraph.func import entrypoint, task

    def add(suffix: str, value: str) -> str:
        return value + suffix

    t = task(functools.partial(add, "!"))

    @entrypoint()
    def wf(x: str) -> str:
        return t(x).result()

    assert list(wf.stream("hi", stream_mode="updates")) == [{"add": "hi!"}, {"wf": "hi!"}]


class Item37(__import__("pydantic").BaseModel):
    a: str


def test_gap_37_an_entrypoints_pydantic_input_is_stored() -> None:
    from actorgraph.func import entrypoint

    @entrypoint(checkpointer=InMemorySaver())
    def wf(inputs: Item37) -> dict:
        return {"a": inputs.a + interrupt("more?")}

    wf.invoke(Item37(a="x"), cfg())
    assert wf.invoke(Command(resume="!"), cfg()) == {"a": "x!"}
