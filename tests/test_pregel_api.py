"""The low-level graph API: ``Pregel`` graphs declared as nodes and channels with
``NodeBuilder``, run on the same engine as ``StateGraph`` (which compiles to a Pregel)."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from actorgraph.config import RunnableConfig
from actorgraph.channels import BinaryOperatorAggregate, EphemeralValue, LastValue, Topic
from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.errors import EmptyInputError, GraphRecursionError, InvalidUpdateError
from actorgraph.graph import START, StateGraph
from actorgraph.pregel import NodeBuilder, Pregel
from actorgraph.pregel.protocol import PregelProtocol
from actorgraph.types import RetryPolicy, Send

pytestmark = pytest.mark.anyio


def _add_one(x: int) -> int:
    return x + 1


def _chain(n: int) -> Pregel:
    nodes = {"n0": NodeBuilder().subscribe_only("input").do(_add_one).write_to("c0")}
    for i in range(1, n):
        nodes[f"n{i}"] = NodeBuilder().subscribe_only(f"c{i - 1}").do(_add_one).write_to(f"c{i}")
    channels: dict[str, Any] = {f"c{i}": LastValue(int) for i in range(n)}
    channels["input"] = LastValue(int)
    return Pregel(nodes=nodes, channels=channels, input_channels="input", output_channels=f"c{n - 1}")


async def test_a_chain_of_nodes_passes_values_through_channels() -> None:
    app = _chain(5)
    assert await app.ainvoke(2) == 7
    assert await app.ainvoke(2, output_keys=["c0", "c4"]) == {"c0": 3, "c4": 7}
    assert await app.ainvoke(2, output_keys="c1") == 4
    with pytest.raises(GraphRecursionError):
        await app.ainvoke(2, {"recursion_limit": 2})


def test_sync_invoke_batch_and_stream() -> None:
    one = NodeBuilder().subscribe_only("input").do(_add_one).write_to("output", "between")
    two = NodeBuilder().subscribe_only("between").do(_add_one).write_to("output")
    app = Pregel(
        nodes={"one": one, "two": two},
        channels={"input": LastValue(int), "between": LastValue(int), "output": LastValue(int)},
        stream_channels=["output", "between"],
        input_channels="input",
        output_channels="output",
    )
    assert app.invoke(2) == 4
    assert app.batch([1, 5], output_keys=["output"]) == [{"output": 3}, {"output": 7}]
    assert list(app.stream(2, stream_mode="updates")) == [
        {"one": {"between": 3, "output": 3}},
        {"two": {"output": 4}},
    ]
    assert list(app.stream(2)) == [{"between": 3, "output": 3}, {"between": 3, "output": 4}]


async def test_a_single_stream_channel_streams_bare_values() -> None:
    app = Pregel(
        nodes={"one": NodeBuilder().subscribe_only("input").do(_add_one).write_to("output")},
        channels={"input": LastValue(int), "output": LastValue(int)},
        input_channels="input",
        output_channels=["output"],
        stream_channels="output",
    )
    assert [c async for c in app.astream(1)] == [2]
    assert [c async for c in app.astream(1, stream_mode="updates")] == [{"one": 2}]
    assert await app.ainvoke(1) == {"output": 2}


async def test_write_to_with_fixed_and_mapped_values() -> None:
    node = NodeBuilder().subscribe_only("input").do(_add_one).write_to("output", fixed=5, plus=lambda x: x + 1)
    app = Pregel(
        nodes={"one": node},
        channels={"input": LastValue(int), "output": LastValue(int), "fixed": LastValue(int), "plus": LastValue(int)},
        input_channels="input",
        output_channels=["output", "fixed", "plus"],
    )
    assert await app.ainvoke(2) == {"output": 3, "fixed": 5, "plus": 4}


async def test_topic_collects_parallel_writes_for_a_join() -> None:
    nodes = {
        "a": NodeBuilder().subscribe_only("input").do(_add_one).write_to("inbox"),
        "b": NodeBuilder().subscribe_only("input").do(_add_one).write_to("inbox"),
        "sum": NodeBuilder().subscribe_only("inbox").do(sum).write_to("output"),
    }
    app = Pregel(
        nodes=nodes,
        channels={"input": LastValue(int), "inbox": Topic(int), "output": LastValue(int)},
        input_channels="input",
        output_channels="output",
    )
    assert await app.ainvoke(2) == 6


async def test_two_writes_to_a_last_value_in_one_step_fail() -> None:
    nodes = {
        "a": NodeBuilder().subscribe_only("input").do(_add_one).write_to("output"),
        "b": NodeBuilder().subscribe_only("input").do(_add_one).write_to("output"),
    }
    app = Pregel(
        nodes=nodes,
        channels={"input": LastValue(int), "output": LastValue(int)},
        input_channels="input",
        output_channels="output",
    )
    with pytest.raises(InvalidUpdateError, match="'output'"):
        await app.ainvoke(2)


async def test_subscribe_to_and_read_from_build_a_dict_input() -> None:
    seen: list[dict[str, Any]] = []

    def total(x: dict[str, Any]) -> int:
        seen.append(dict(x))
        return x["total"] + x["input"]

    node = NodeBuilder().subscribe_to("input").read_from("total").do(total).write_to("output", "total")
    app = Pregel(
        nodes={"one": node},
        channels={"total": BinaryOperatorAggregate(int, operator.add), "input": LastValue(int), "output": LastValue(int)},
        input_channels="input",
        output_channels="output",
        checkpointer=InMemorySaver(),
    )
    cfg = {"configurable": {"thread_id": "t"}}
    assert await app.ainvoke(2, cfg) == 2
    assert await app.ainvoke(3, cfg) == 5
    assert seen == [{"input": 2, "total": 0}, {"input": 3, "total": 2}]
    state = await app.aget_state(cfg)
    assert state.values["total"] == 7 and state.next == ()


async def test_do_chains_steps_and_retries_the_node() -> None:
    calls = {"n": 0}

    def flaky(x: int) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("once")
        return x * 10

    async def double(x: int) -> int:
        return x * 2

    node = NodeBuilder().subscribe_only("input").do(_add_one).do(double).do(flaky).write_to("output")
    app = Pregel(
        nodes={"one": node},
        channels={"input": LastValue(int), "output": LastValue(int)},
        input_channels="input",
        output_channels="output",
        retry_policy=RetryPolicy(initial_interval=0, jitter=False),
    )
    assert await app.ainvoke(1) == 40
    assert calls["n"] == 2


async def test_a_graph_as_a_node_body_runs_as_a_subgraph() -> None:
    inner = _chain(2)
    outer = Pregel(
        nodes={
            "spread": NodeBuilder().subscribe_only("input").do(lambda x: [x, x + 10]).write_to("items"),
            "each": NodeBuilder().subscribe_only("items").do(inner.map()).write_to("results"),
        },
        channels={"input": LastValue(int), "items": LastValue(list), "results": LastValue(list)},
        input_channels="input",
        output_channels="results",
    )
    assert await outer.ainvoke(1) == [3, 13]
    assert [name for name, _ in outer.get_subgraphs()] == ["each"]
    outer.checkpointer = InMemorySaver()  # set after construction: the next run uses it
    assert await outer.ainvoke(1, {"configurable": {"thread_id": "t"}}) == [3, 13]
    assert (await outer.aget_state({"configurable": {"thread_id": "t"}})).values["results"] == [3, 13]


async def test_a_node_can_send_to_another_node() -> None:
    got: list[Any] = []
    nodes = {
        "fan": NodeBuilder().subscribe_only("input").write_to(Send("work", 1), Send("work", 2)),
        "work": NodeBuilder().do(lambda x: got.append(x) or x).write_to("out"),
    }
    app = Pregel(
        nodes=nodes,
        channels={"input": LastValue(int), "out": Topic(int, accumulate=True)},
        input_channels="input",
        output_channels="out",
    )
    assert await app.ainvoke(0) == [1, 2]
    assert sorted(got) == [1, 2]  # they run in parallel; their writes apply in Send order


async def test_input_channels_as_a_list_take_a_dict() -> None:
    app = Pregel(
        nodes={"one": NodeBuilder().subscribe_only("input").write_to("output")},
        channels={"ephemeral": EphemeralValue(Any), "input": LastValue(int), "output": LastValue(int)},
        input_channels=["input", "ephemeral"],
        output_channels="output",
        checkpointer=InMemorySaver(),
    )
    cfg = {"configurable": {"thread_id": "t"}}
    assert await app.ainvoke({"input": 1, "ephemeral": "meow"}, cfg) == 1
    assert (await app.aget_state(cfg)).values == {"input": 1, "output": 1}
    with pytest.raises(TypeError, match="Expected chunk to be a dict"):
        await app.ainvoke(1, cfg)
    with pytest.raises(EmptyInputError):
        await app.ainvoke({"unknown": 1}, cfg)


async def test_update_state_runs_the_nodes_writers() -> None:
    node = NodeBuilder().subscribe_only("input").do(_add_one).write_to("output")
    app = Pregel(
        nodes={"one": node},
        channels={"input": LastValue(int), "output": LastValue(int)},
        input_channels="input",
        output_channels="output",
        checkpointer=InMemorySaver(),
    )
    cfg = {"configurable": {"thread_id": "t"}}
    await app.ainvoke(1, cfg)
    new = await app.aupdate_state(cfg, 42)  # as the last node to run: 'one'
    state = await app.aget_state(new)
    assert state.values == {"input": 1, "output": 42}
    assert state.metadata["source"] == "update"


def test_invalid_graphs_are_refused_naming_the_culprit() -> None:
    node = NodeBuilder().subscribe_only("input").write_to("output")
    with pytest.raises(TypeError):
        Pregel(nodes={"one": node})  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="Subscribed channel 'missing'"):
        Pregel(
            nodes={"one": NodeBuilder().subscribe_to("missing", read=False)},
            channels={"input": LastValue(int)},
            input_channels="input",
            output_channels="input",
        )
    with pytest.raises(ValueError, match="not subscribed to by any node"):
        Pregel(
            nodes={"one": node},
            channels={"input": LastValue(int), "output": LastValue(int), "other": LastValue(int)},
            input_channels="other",
            output_channels="output",
        )
    with pytest.raises(ValueError, match="Output channel 'nope'"):
        Pregel(nodes={"one": node}, channels={"input": LastValue(int), "output": LastValue(int)}, input_channels="input", output_channels="nope")
    with pytest.raises(ValueError, match="reserved"):
        Pregel(nodes={"__start__": node}, channels={"input": LastValue(int), "output": LastValue(int)}, input_channels="input", output_channels="output")
    with pytest.raises(ValueError, match="Cannot subscribe to channels"):
        NodeBuilder().subscribe_only("a").subscribe_to("b")
    with pytest.raises(TypeError, match="Invalid checkpointer"):
        Pregel(nodes={"one": node}, channels={"input": LastValue(int), "output": LastValue(int)}, input_channels="input", output_channels="output", checkpointer=object())


def test_schemas_and_context_schema() -> None:
    @dataclass
    class Ctx:
        x: int
        y: str = field(default="foo")

    app = Pregel(
        nodes={"one": NodeBuilder().subscribe_only("input").write_to("output")},
        channels={"input": LastValue(int), "output": LastValue(int)},
        input_channels="input",
        output_channels=["output"],
        context_schema=Ctx,
    )
    assert app.get_input_jsonschema() == {"title": "LangGraphInput", "type": "integer"}
    assert app.get_output_jsonschema() == {
        "title": "LangGraphOutput",
        "type": "object",
        "properties": {"output": {"title": "Output", "type": "integer", "default": None}},
    }
    schema = app.get_context_jsonschema()
    assert schema is not None and schema["required"] == ["x"]


async def test_with_config_merges_into_every_run() -> None:
    class S(TypedDict):
        x: int

    seen: dict[str, Any] = {}

    def node(state: S, config: RunnableConfig) -> dict[str, Any]:
        seen.update(configurable=config["configurable"], tags=config.get("tags"), metadata=config["metadata"])
        return {"x": 1}

    graph = StateGraph(S).add_node("n", node).add_edge(START, "n").compile()
    bound = graph.with_config({"configurable": {"a": 1}, "tags": ["t1"], "metadata": {"m": 1}}, recursion_limit=7)
    assert bound.config["recursion_limit"] == 7 and graph.config is None
    await bound.ainvoke({"x": 0}, {"configurable": {"b": 2}, "tags": ["t2"]})
    assert seen["configurable"]["a"] == 1 and seen["configurable"]["b"] == 2
    assert seen["tags"] == ["t1", "t2"] and seen["metadata"]["m"] == 1
    assert bound.with_config(recursion_limit=3).config["recursion_limit"] == 3


def test_a_compiled_state_graph_is_a_pregel() -> None:
    class S(TypedDict):
        x: int

    graph = StateGraph(S).add_node("n", lambda s: s).add_edge(START, "n").compile()
    assert isinstance(graph, Pregel) and isinstance(graph, PregelProtocol)
    assert graph.input_channels == START and graph.output_channels == ["x"]
    assert graph.get_name("Input") == "LangGraphInput"


async def test_a_consumed_join_or_deferred_trigger_is_stored() -> None:
    """Known gap #67: after a run, a join target (or deferred node) that ran is not
    pending again, and resuming the finished thread runs nothing."""

    class L(TypedDict):
        log: Annotated[list, operator.add]

    builder = StateGraph(L)
    for n in "abc":
        builder.add_node(n, lambda s, n=n: {"log": [n]})
    builder.add_node("d", lambda s: {"log": ["d"]}, defer=True)
    builder.add_edge(START, "a").add_edge(START, "b").add_edge(["a", "b"], "c").add_edge("a", "d")
    app = builder.compile(checkpointer=InMemorySaver())
    cfg = {"configurable": {"thread_id": "t"}}
    assert await app.ainvoke({"log": []}, cfg) == {"log": ["a", "b", "c", "d"]}
    assert (await app.aget_state(cfg)).next == ()
    assert await app.ainvoke(None, cfg) == {"log": ["a", "b", "c", "d"]}


class _X(TypedDict):
    x: int


def _inc_graph() -> StateGraph[Any, Any, Any, Any]:
    return StateGraph(_X).add_node("inc", lambda s: {"x": s["x"] + 1}).add_edge(START, "inc")


async def test_a_graph_without_a_checkpointer_runs_and_reads_through_a_lent_saver() -> None:
    from actorgraph.constants import CONFIG_KEY_CHECKPOINTER

    saver = InMemorySaver()
    app = _inc_graph().compile()
    cfg = {"configurable": {"thread_id": "t", CONFIG_KEY_CHECKPOINTER: saver}}
    assert await app.ainvoke({"x": 1}, cfg) == {"x": 2}
    assert (await app.aget_state(cfg)).values == {"x": 2}
    stateless = _inc_graph().compile(checkpointer=False)
    with pytest.raises(ValueError, match="No checkpointer set"):
        await stateless.aget_state(cfg)
    with pytest.raises(RuntimeError, match="checkpointer=True cannot be used for root graphs"):
        await _inc_graph().compile(checkpointer=True).aget_state({"configurable": {"thread_id": "t"}})


async def test_a_stateless_subgraph_shows_no_task_state() -> None:
    child = _inc_graph().compile(checkpointer=False)
    app = StateGraph(_X).add_node("child", child).add_edge(START, "child").compile(checkpointer=InMemorySaver())
    cfg = {"configurable": {"thread_id": "t"}}
    assert await app.ainvoke({"x": 1}, cfg) == {"x": 2}
    tasks = [t for s in [s async for s in app.aget_state_history(cfg)] for t in s.tasks if t.name == "child"]
    assert tasks and all(t.state is None for t in tasks)


async def test_a_namespace_that_names_no_subgraph_reads_this_graph() -> None:
    from actorgraph.constants import CONFIG_KEY_CHECKPOINTER

    saver = InMemorySaver()
    child = _inc_graph().compile(checkpointer=True)

    async def node(state: _X, config: RunnableConfig) -> dict[str, Any]:
        return await child.ainvoke(state, config)

    parent = StateGraph(_X).add_node("node", node).add_edge(START, "node").compile(checkpointer=saver)
    cfg = {"configurable": {"thread_id": "t"}}
    assert await parent.ainvoke({"x": 1}, cfg) == {"x": 2}
    lent = {"configurable": {"thread_id": "t", "checkpoint_ns": "node", CONFIG_KEY_CHECKPOINTER: saver}}
    assert (await child.aget_state(lent)).values == {"x": 2}
    with pytest.raises(ValueError, match="Subgraph nope not found"):
        await parent.aupdate_state({"configurable": {"thread_id": "t", "checkpoint_ns": "nope:1"}}, {"x": 0})


def test_callbacks_bound_with_with_config_join_the_calls_own() -> None:
    from actorgraph.pregel._runnable import merge_configs

    a, b = object(), object()
    assert merge_configs({"callbacks": [a]}, {"callbacks": [b]})["callbacks"] == [a, b]
    assert merge_configs({"callbacks": [a]}, {"callbacks": None})["callbacks"] == [a]
