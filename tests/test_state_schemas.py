"""State schemas (TypedDict, dataclass, pydantic, msgspec), input/output/private schemas,
context and runtime, node signatures, config inside a node, managed values."""

from __future__ import annotations

import dataclasses
import operator
from typing import Annotated, Any, TypedDict

import msgspec
import pydantic
import pytest

from actorgraph.config import get_config, get_stream_writer
from actorgraph.errors import GraphValidationError
from actorgraph.graph import END, START, StateGraph
from actorgraph.managed import IsLastStep, RemainingSteps
from actorgraph.runtime import Runtime, get_runtime
from actorgraph.types import StreamWriter

# -- TypedDict ------------------------------------------------------------------------


class TD(TypedDict):
    log: Annotated[list, operator.add]
    count: int


@pytest.mark.anyio
async def test_typeddict_state_node_gets_a_dict_of_the_written_keys() -> None:
    seen: list = []

    def n(state: TD) -> dict:
        seen.append(state)
        return {"count": state["count"] + 1}

    g = StateGraph(TD).add_node("n", n).add_edge(START, "n")
    assert await g.compile().ainvoke({"count": 1}) == {"log": [], "count": 2}
    assert seen == [{"log": [], "count": 1}]
    assert type(seen[0]) is dict


class Unresolvable(TypedDict):
    log: Annotated[list, operator.add]
    other: NotDefinedAnywhere  # noqa: F821 - on purpose


def test_schema_with_an_unresolvable_annotation_fails_loudly() -> None:
    """Not a silent fallback that turns every key (reducers too) into a plain LastValue."""
    with pytest.raises((NameError, GraphValidationError), match="NotDefinedAnywhere"):
        StateGraph(Unresolvable)


def test_unknown_input_keys_are_ignored() -> None:
    g = StateGraph(TD).add_node("n", lambda s: {"count": 5}).add_edge(START, "n")
    assert g.compile().invoke({"count": 1, "stray": True}) == {"log": [], "count": 5}


# -- dataclass ------------------------------------------------------------------------


@dataclasses.dataclass
class DC:
    log: Annotated[list, operator.add] = dataclasses.field(default_factory=list)
    x: int = 5
    label: str = "default"


@pytest.mark.anyio
async def test_dataclass_state_node_gets_an_instance_with_defaults_filled_in() -> None:
    seen: list = []

    def n(state: DC) -> dict:
        seen.append(state)
        return {"log": [state.x], "label": state.label + "!"}

    g = StateGraph(DC).add_node("n", n).add_edge(START, "n")
    out = await g.compile().ainvoke({"label": "hi"})
    assert seen == [DC(log=[], x=5, label="hi")]
    assert out == {"log": [5], "label": "hi!"}
    assert type(out) is dict


def test_dataclass_node_may_return_an_instance_as_its_update() -> None:
    def n(state: DC) -> DC:
        return DC(log=["from-instance"], x=state.x + 1, label="set")

    g = StateGraph(DC).add_node("n", n).add_edge(START, "n")
    assert g.compile().invoke({"x": 1}) == {"log": ["from-instance"], "x": 2, "label": "set"}


# -- pydantic -------------------------------------------------------------------------


class PM(pydantic.BaseModel):
    a: str
    n: int = 0


@pytest.mark.anyio
async def test_pydantic_state_node_gets_a_model_and_invoke_returns_a_dict() -> None:
    seen: list = []

    def n(state: PM) -> dict:
        seen.append(state)
        return {"a": state.a.upper(), "n": state.n + 1}

    g = StateGraph(PM).add_node("n", n).add_edge(START, "n")
    out = await g.compile().ainvoke({"a": "hello"})
    assert seen == [PM(a="hello", n=0)]
    assert type(seen[0]) is PM
    assert out == {"a": "HELLO", "n": 1}
    assert type(out) is dict


def test_pydantic_state_coerces_what_the_node_sees() -> None:
    seen: list = []

    def n(state: PM) -> None:
        seen.append(state.n)

    g = StateGraph(PM).add_node("n", n).add_edge(START, "n")
    g.compile().invoke({"a": "x", "n": "3"})
    assert seen == [3]


def test_pydantic_state_rejects_invalid_input() -> None:
    g = StateGraph(PM).add_node("n", lambda s: {"n": 1}).add_edge(START, "n")
    with pytest.raises(pydantic.ValidationError) as info:
        g.compile().invoke({"a": 123})
    assert info.value.errors()[0]["loc"] == ("a",)


@pytest.mark.anyio
async def test_pydantic_invalid_update_fails_when_the_next_node_reads_it() -> None:
    g = StateGraph(PM)
    g.add_node("bad", lambda s: {"a": ["not", "a", "str"]}).add_node("next", lambda s: None)
    g.add_edge(START, "bad").add_edge("bad", "next")
    with pytest.raises(pydantic.ValidationError):
        await g.compile().ainvoke({"a": "ok"})


# -- msgspec --------------------------------------------------------------------------


class MS(msgspec.Struct):
    log: Annotated[list, operator.add] = []
    name: str = "anon"


@pytest.mark.anyio
async def test_msgspec_state_node_gets_a_struct_and_invoke_returns_a_dict() -> None:
    seen: list = []

    def n(state: MS) -> dict:
        seen.append(state)
        return {"log": [state.name]}

    g = StateGraph(MS).add_node("n", n).add_edge(START, "n")
    out = await g.compile().ainvoke({"name": "bo"})
    assert seen == [MS(log=[], name="bo")]
    assert out == {"log": ["bo"], "name": "bo"}
    assert type(out) is dict


# -- input / output / private schemas -------------------------------------------------


class In(TypedDict):
    question: str


class Out(TypedDict):
    answer: str


class Overall(TypedDict):
    question: str
    answer: str
    notes: str


@pytest.mark.anyio
async def test_input_and_output_schemas_filter_what_goes_in_and_out() -> None:
    seen: list = []

    def n(state: Overall) -> dict:
        seen.append(dict(state))
        return {"answer": state["question"] + "?", "notes": "internal"}

    g = StateGraph(Overall, input_schema=In, output_schema=Out).add_node("n", n).add_edge(START, "n")
    out = await g.compile().ainvoke({"question": "why", "notes": "ignored input"})
    assert seen == [{"question": "why"}]
    assert out == {"answer": "why?"}


class InputState(TypedDict):
    user_input: str


class OutputState(TypedDict):
    graph_output: str


class OverallState(TypedDict):
    foo: str
    user_input: str
    graph_output: str


class PrivateState(TypedDict):
    bar: str


def test_private_channel_declared_by_a_nodes_type_hint() -> None:
    """The "My name is Lance" example: `bar` exists only through node_3's input type."""
    seen: dict[str, dict] = {}

    def node_1(state: InputState) -> OverallState:
        seen["node_1"] = dict(state)
        return {"foo": state["user_input"] + " name"}

    def node_2(state: OverallState) -> PrivateState:
        seen["node_2"] = dict(state)
        return {"bar": state["foo"] + " is"}

    def node_3(state: PrivateState) -> OutputState:
        seen["node_3"] = dict(state)
        return {"graph_output": state["bar"] + " Lance"}

    g = StateGraph(OverallState, input_schema=InputState, output_schema=OutputState)
    g.add_sequence([node_1, node_2, node_3]).add_edge(START, "node_1").add_edge("node_3", END)
    assert g.compile().invoke({"user_input": "My"}) == {"graph_output": "My name is Lance"}
    assert seen == {
        "node_1": {"user_input": "My"},
        "node_2": {"foo": "My name", "user_input": "My"},
        "node_3": {"bar": "My name is"},
    }


# -- context and runtime --------------------------------------------------------------


@dataclasses.dataclass
class CtxDC:
    user: str
    lang: str = "en"


class CtxTD(TypedDict):
    user: str


@pytest.mark.anyio
async def test_dataclass_context_is_built_from_a_dict() -> None:
    seen: list = []

    def n(state: TD, runtime: Runtime[CtxDC]) -> None:
        seen.append(runtime.context)

    g = StateGraph(TD, context_schema=CtxDC).add_node("n", n).add_edge(START, "n")
    await g.compile().ainvoke({"count": 0}, context={"user": "u1"})
    await g.compile().ainvoke({"count": 0}, context=CtxDC(user="u2", lang="fr"))
    assert seen == [CtxDC(user="u1", lang="en"), CtxDC(user="u2", lang="fr")]


@pytest.mark.anyio
async def test_typeddict_context_is_passed_through_as_a_dict() -> None:
    seen: list = []

    def n(state: TD, runtime: Runtime[CtxTD]) -> None:
        seen.append(runtime.context)

    g = StateGraph(TD, context_schema=CtxTD).add_node("n", n).add_edge(START, "n")
    await g.compile().ainvoke({"count": 0}, context={"user": "u1"})
    assert seen == [{"user": "u1"}]


def test_context_is_none_when_not_given() -> None:
    seen: list = []

    def n(state: TD, runtime: Runtime[CtxDC]) -> None:
        seen.append(runtime.context)

    g = StateGraph(TD, context_schema=CtxDC).add_node("n", n).add_edge(START, "n")
    g.compile().invoke({"count": 0})
    assert seen == [None]


# -- node signatures ------------------------------------------------------------------


@pytest.mark.anyio
async def test_nodes_receive_only_what_their_signature_asks_for() -> None:
    got: dict[str, Any] = {}

    def only_state(state: TD) -> dict:
        got["only_state"] = state["count"]
        return {"log": ["only_state"]}

    def with_config(state: TD, config) -> dict:
        got["with_config"] = config["configurable"]["user_id"]
        return {"log": ["with_config"]}

    async def with_runtime(state: TD, runtime: Runtime[CtxTD]) -> dict:
        got["with_runtime"] = runtime.context
        return {"log": ["with_runtime"]}

    def keyword_only(state: TD, *, config, runtime: Runtime[CtxTD], writer: StreamWriter) -> dict:
        writer({"from": "keyword_only"})
        got["keyword_only"] = (config["metadata"]["langgraph_node"], runtime.context["user"])
        return {"log": ["keyword_only"]}

    def zero_args() -> dict:
        got["zero_args"] = True
        return {"log": ["zero_args"]}

    g = StateGraph(TD, context_schema=CtxTD)
    g.add_sequence([only_state, with_config, with_runtime, keyword_only, zero_args])
    g.add_edge(START, "only_state")
    chunks = [
        c
        async for c in g.compile().astream(
            {"count": 3},
            {"configurable": {"user_id": "abc"}},
            context={"user": "u"},
            stream_mode=["custom", "values"],
        )
    ]
    assert got == {
        "only_state": 3,
        "with_config": "abc",
        "with_runtime": {"user": "u"},
        "keyword_only": ("keyword_only", "u"),
        "zero_args": True,
    }
    assert ("custom", {"from": "keyword_only"}) in chunks
    assert chunks[-1] == (
        "values",
        {
            "log": ["only_state", "with_config", "with_runtime", "keyword_only", "zero_args"],
            "count": 3,
        },
    )


def test_callable_object_node_with_sync_invoke() -> None:
    class Adder:
        def __call__(self, state: TD) -> dict:
            return {"count": state["count"] + 10}

    g = StateGraph(TD).add_node("adder", Adder()).add_edge(START, "adder")
    assert g.compile().invoke({"count": 1}) == {"log": [], "count": 11}


# -- config inside a node -------------------------------------------------------------


@pytest.mark.anyio
async def test_node_config_carries_step_node_triggers_path_and_namespace() -> None:
    seen: dict[str, dict] = {}

    def record(state: TD, config) -> None:
        md = config["metadata"]
        seen[md["langgraph_node"]] = {
            "step": md["langgraph_step"],
            "triggers": md["langgraph_triggers"],
            "path": md["langgraph_path"],
            "ns": md["langgraph_checkpoint_ns"],
            "user_meta": md.get("team"),
            "user_conf": config["configurable"]["user_id"],
        }

    g = StateGraph(TD).add_node("first", record).add_node("second", record)
    g.add_edge(START, "first").add_edge("first", "second")
    await g.compile().ainvoke(
        {"count": 0}, {"configurable": {"user_id": "abc"}, "metadata": {"team": "red"}}
    )
    for name, step in (("first", 1), ("second", 2)):
        info = seen[name]
        assert info["step"] == step
        assert info["triggers"] == (f"branch:to:{name}",)
        assert info["path"] == ("__pregel_pull", name)
        assert info["ns"].startswith(f"{name}:") and len(info["ns"]) > len(name) + 1
        assert info["user_meta"] == "red"
        assert info["user_conf"] == "abc"


@pytest.mark.anyio
async def test_get_config_get_runtime_and_get_stream_writer_inside_a_node() -> None:
    seen: dict[str, Any] = {}

    def n(state: TD) -> None:
        seen["node"] = get_config()["metadata"]["langgraph_node"]
        seen["context"] = get_runtime().context
        get_stream_writer()("hello")

    g = StateGraph(TD, context_schema=CtxTD).add_node("n", n).add_edge(START, "n")
    chunks = [
        c async for c in g.compile().astream({"count": 0}, context={"user": "x"}, stream_mode="custom")
    ]
    assert seen == {"node": "n", "context": {"user": "x"}}
    assert chunks == ["hello"]


def test_get_stream_writer_is_a_no_op_when_custom_is_not_streamed() -> None:
    def n(state: TD) -> dict:
        get_stream_writer()("ignored")
        return {"count": 1}

    g = StateGraph(TD).add_node("n", n).add_edge(START, "n")
    assert list(g.compile().stream({"count": 0}, stream_mode="updates")) == [{"n": {"count": 1}}]


@pytest.mark.parametrize("fn", [get_config, get_runtime, get_stream_writer])
def test_context_getters_outside_a_run_raise_runtime_error(fn) -> None:
    with pytest.raises(RuntimeError, match="outside"):
        fn()


# -- managed values -------------------------------------------------------------------


class Managed(TypedDict):
    log: Annotated[list, operator.add]
    remaining_steps: RemainingSteps
    is_last_step: IsLastStep


@pytest.mark.anyio
async def test_remaining_steps_and_is_last_step_count_down_to_the_limit() -> None:
    def loop(state: Managed) -> dict:
        return {"log": [(state["remaining_steps"], state["is_last_step"])]}

    def route(state: Managed) -> str:
        return END if state["log"][-1][1] else "loop"

    g = StateGraph(Managed).add_node("loop", loop).add_edge(START, "loop")
    g.add_conditional_edges("loop", route, ["loop", END])
    out = await g.compile().ainvoke({"log": []}, {"recursion_limit": 5})
    assert out == {"log": [(4, False), (3, False), (2, False), (1, True)]}


@pytest.mark.anyio
async def test_router_sees_the_managed_values_of_its_nodes_step() -> None:
    seen: list = []

    def route(state: Managed) -> str:
        seen.append((state["remaining_steps"], state["is_last_step"]))
        return END if state["is_last_step"] else "loop"

    g = StateGraph(Managed).add_node("loop", lambda s: {"log": ["x"]}).add_edge(START, "loop")
    g.add_conditional_edges("loop", route, ["loop", END])
    out = await g.compile().ainvoke({"log": []}, {"recursion_limit": 4})
    assert out == {"log": ["x", "x", "x"]}
    assert seen == [(3, False), (2, False), (1, True)]


@pytest.mark.anyio
async def test_parallel_nodes_see_the_same_remaining_steps() -> None:
    g = StateGraph(Managed)
    g.add_node("a", lambda s: {"log": [("a", s["remaining_steps"])]})
    g.add_node("b", lambda s: {"log": [("b", s["remaining_steps"])]})
    g.add_node("c", lambda s: {"log": [("c", s["remaining_steps"])]})
    g.add_edge(START, "a").add_edge(START, "b").add_edge("a", "c")
    out = await g.compile().ainvoke({"log": []}, {"recursion_limit": 10})
    assert out == {"log": [("a", 9), ("b", 9), ("c", 8)]}


def test_managed_values_are_not_in_the_output() -> None:
    g = StateGraph(Managed).add_node("n", lambda s: {"log": ["n"]}).add_edge(START, "n")
    assert g.compile().invoke({"log": []}) == {"log": ["n"]}


# -- key order ------------------------------------------------------------------------


class ABC(TypedDict, total=False):
    a: int
    b: int
    c: int


@pytest.mark.anyio
@pytest.mark.parametrize(
    "writes",
    [
        [{"a": 1}, {"b": 2}, {"c": 3}],  # in the schema's order: each new key goes last
        [{"c": 3}, {"a": 1}, {"b": 2}],  # a key before the last one present
        [{"b": 2}, {"c": 3, "a": 1}, {}],  # two new keys in one step, one of them before
    ],
)
async def test_state_keys_keep_the_schemas_order_whatever_order_they_are_written_in(writes: list[dict]) -> None:
    seen: list[list[str]] = []

    def step(i: int) -> Any:
        def node(state: ABC) -> dict:
            seen.append(list(state))
            return writes[i]

        return node

    g = StateGraph(ABC)
    for i in range(3):
        g.add_node(f"n{i}", step(i))
    g.add_edge(START, "n0").add_edge("n0", "n1").add_edge("n1", "n2").add_edge("n2", END)
    out = await g.compile().ainvoke({})
    assert list(out) == ["a", "b", "c"]
    assert out == {"a": 1, "b": 2, "c": 3}
    # what each node saw was ordered too
    for keys in seen:
        assert keys == [k for k in ("a", "b", "c") if k in keys]
