"""What a node's ``Runtime`` carries (execution info, server info, the run's control) and
how ``RunControl.request_drain`` stops a run at a step boundary (``GraphDrained``)."""

from __future__ import annotations

import operator
import time
from typing import Annotated, Any

import anyio
import pytest
from typing_extensions import TypedDict

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.config import RunnableConfig
from actorgraph.errors import GraphDrained
from actorgraph.graph import START, StateGraph
from actorgraph.runtime import (
    DEFAULT_RUNTIME,
    ExecutionInfo,
    RunControl,
    Runtime,
    ServerInfo,
    get_runtime,
)
from actorgraph.types import RetryPolicy


class S(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def _chain(*names: str, first: Any = None) -> StateGraph[Any]:
    b = StateGraph(S)
    prev = START
    for i, name in enumerate(names):
        fn = first if (i == 0 and first is not None) else (lambda s, name=name: {"log": [name]})
        b.add_node(name, fn)
        b.add_edge(prev, name)
        prev = name
    return b


CFG = {"configurable": {"thread_id": "t"}}


# -- execution_info / server_info --------------------------------------------------------


def test_execution_info_names_thread_task_namespace_checkpoint_and_first_attempt() -> None:
    seen: list[ExecutionInfo] = []

    def node(state: S, runtime: Runtime) -> dict[str, Any]:
        assert runtime.execution_info is not None
        seen.append(runtime.execution_info)
        return {"log": ["n"]}

    g = _chain("n", first=node).compile(checkpointer=InMemorySaver())
    before = time.time()
    g.invoke({"log": []}, {"configurable": {"thread_id": "t-1"}, "run_id": "r-1"})
    (info,) = seen
    assert info.thread_id == "t-1"
    assert info.run_id == "r-1"
    assert info.checkpoint_ns == f"n:{info.task_id}"
    assert info.node_attempt == 1
    assert info.node_first_attempt_time is not None and before <= info.node_first_attempt_time <= time.time()
    # the checkpoint the step started from: the input step's, which the saver has
    history = [s.config["configurable"]["checkpoint_id"] for s in g.get_state_history({"configurable": {"thread_id": "t-1"}})]
    assert info.checkpoint_id in history


def test_execution_info_without_a_saver_still_has_a_checkpoint_id_per_step() -> None:
    seen: list[ExecutionInfo] = []

    def record(state: S) -> dict[str, Any]:
        info = get_runtime().execution_info
        assert info is not None
        seen.append(info)
        return {"log": ["x"]}

    b = StateGraph(S)
    b.add_node("a", record)
    b.add_node("b", record)
    b.add_edge(START, "a")
    b.add_edge(START, "b")
    b.add_node("c", record)
    b.add_edge("a", "c")
    b.compile().invoke({"log": []})
    a, b_, c = seen if seen[2].checkpoint_ns.startswith("c:") else (seen[0], seen[1], seen[2])
    assert a.checkpoint_id and a.checkpoint_id == b_.checkpoint_id  # same step
    assert c.checkpoint_id != a.checkpoint_id  # a later step
    assert a.thread_id is None and a.run_id is None


def test_retries_count_attempts_and_keep_the_first_attempt_time() -> None:
    seen: list[ExecutionInfo] = []

    def flaky(state: S, runtime: Runtime) -> dict[str, Any]:
        assert runtime.execution_info is not None
        seen.append(runtime.execution_info)
        if len(seen) < 3:
            raise ConnectionError("again")
        return {"log": ["ok"]}

    b = StateGraph(S)
    b.add_node("flaky", flaky, retry_policy=RetryPolicy(initial_interval=0.001, jitter=False))
    b.add_edge(START, "flaky")
    assert b.compile().invoke({"log": []}) == {"log": ["ok"]}
    assert [i.node_attempt for i in seen] == [1, 2, 3]
    assert len({i.node_first_attempt_time for i in seen}) == 1


def test_server_info_comes_from_the_servers_configurable_keys() -> None:
    seen: list[Any] = []

    class User:
        identity = "u-1"

        def __getitem__(self, key: str) -> Any:
            return getattr(self, key)

    def node(state: S, runtime: Runtime) -> dict[str, Any]:
        seen.append(runtime.server_info)
        return {}

    g = _chain("n", first=node).compile()
    g.invoke({"log": []}, {"configurable": {"assistant_id": "a", "graph_id": "g", "langgraph_auth_user": User()}})
    g.invoke({"log": []}, {"configurable": {"langgraph_auth_user": object()}})  # no identity: not a user
    g.invoke({"log": []})
    first, second, third = seen
    assert (first.assistant_id, first.graph_id, first.user.identity) == ("a", "g", "u-1")
    assert second is None and third is None


def test_subgraph_nodes_get_the_parents_server_info_and_control() -> None:
    seen: list[Runtime] = []

    def inner_node(state: S, runtime: Runtime) -> dict[str, Any]:
        seen.append(runtime)
        return {}

    inner = _chain("i", first=inner_node).compile()
    outer = StateGraph(S).add_node("sub", inner).add_edge(START, "sub").compile()
    control = RunControl()
    outer.invoke({"log": []}, {"configurable": {"assistant_id": "a"}}, control=control)
    (rt,) = seen
    assert rt.server_info == ServerInfo(assistant_id="a", graph_id="")
    assert rt.control is control
    assert rt.execution_info is not None and rt.execution_info.checkpoint_ns.startswith("sub:")


def test_a_seeded_runtime_lends_context_store_and_control() -> None:
    from actorgraph.store.memory import InMemoryStore

    store = InMemoryStore()
    control = RunControl()
    seen: list[Runtime] = []

    class ServerRuntime:  # not a Runtime: only its context and store are taken
        context = {"k": "v"}

    ServerRuntime.store = store  # type: ignore[attr-defined]

    def node(state: S, runtime: Runtime) -> dict[str, Any]:
        seen.append(runtime)
        return {}

    g = _chain("n", first=node).compile()
    g.invoke({"log": []}, {"configurable": {"__pregel_runtime": ServerRuntime()}})
    g.invoke({"log": []}, {"configurable": {"__pregel_runtime": Runtime(context="c", control=control)}})
    g.invoke({"log": []}, {"configurable": {"__pregel_runtime": Runtime(context="c")}}, context="mine")
    assert seen[0].context == {"k": "v"} and seen[0].store is store
    assert seen[1].context == "c" and seen[1].control is control
    assert seen[2].context == "mine"


def test_every_node_runtime_has_a_control_even_when_none_was_passed() -> None:
    def first(state: S, runtime: Runtime) -> dict[str, Any]:
        assert runtime.control is not None
        runtime.control.request_drain("from inside")
        return {"log": ["first"]}

    g = _chain("first", "second", first=first).compile()
    with pytest.raises(GraphDrained, match="from inside"):
        g.invoke({"log": []})


def test_runtime_helpers() -> None:
    info = ExecutionInfo(checkpoint_id="c", checkpoint_ns="n", task_id="t")
    rt = Runtime(execution_info=info)
    assert rt.patch_execution_info(node_attempt=2).execution_info == info.patch(node_attempt=2)
    with pytest.raises(RuntimeError, match="execution_info"):
        DEFAULT_RUNTIME.patch_execution_info(node_attempt=2)
    assert not DEFAULT_RUNTIME.drain_requested and DEFAULT_RUNTIME.drain_reason is None
    control = RunControl()
    control.request_drain("why")
    assert Runtime(control=control).drain_requested and Runtime(control=control).drain_reason == "why"
    # merge: falsy values don't override, previous is kept unless the other sets one
    merged = Runtime(context={"a": 1}, previous=0).merge(Runtime(context={}, previous=None))
    assert merged.context == {"a": 1} and merged.previous == 0


# -- drain -------------------------------------------------------------------------------


def test_drain_stops_at_the_next_step_and_the_thread_resumes_from_there() -> None:
    control = RunControl()

    def first(state: S) -> dict[str, Any]:
        control.request_drain("sigterm")
        return {"log": ["first"]}

    g = _chain("first", "second", "third", first=first).compile(checkpointer=InMemorySaver())
    with pytest.raises(GraphDrained, match="Graph drained: sigterm") as info:
        g.invoke({"log": []}, CFG, control=control)
    assert info.value.reason == "sigterm"
    assert g.get_state(CFG).next == ("second",)
    assert g.invoke(None, CFG) == {"log": ["first", "second", "third"]}


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_drain_saves_the_step_whatever_the_durability(durability: str) -> None:
    control = RunControl()

    def first(state: S) -> dict[str, Any]:
        control.request_drain()
        return {"log": ["first"]}

    g = _chain("first", "second", first=first).compile(checkpointer=InMemorySaver())
    with pytest.raises(GraphDrained, match="shutdown"):
        g.invoke({"log": []}, CFG, control=control, durability=durability)  # type: ignore[arg-type]
    assert g.get_state(CFG).values == {"log": ["first"]}
    assert g.invoke(None, CFG, durability=durability) == {"log": ["first", "second"]}  # type: ignore[arg-type]


def test_a_drain_in_the_last_step_lets_the_run_finish() -> None:
    control = RunControl()

    def only(state: S) -> dict[str, Any]:
        control.request_drain()
        return {"log": ["only"]}

    assert _chain("only", first=only).compile().invoke({"log": []}, control=control) == {"log": ["only"]}


def test_a_drained_control_runs_no_node() -> None:
    control = RunControl()
    control.request_drain("pre")
    ran: list[str] = []
    g = _chain("n", first=lambda s: ran.append("n") or {}).compile()
    with pytest.raises(GraphDrained, match="pre"):
        g.invoke({"log": []}, control=control)
    assert ran == []


def test_a_breakpoint_wins_over_a_drain() -> None:
    def first(state: S, runtime: Runtime) -> dict[str, Any]:
        assert runtime.control is not None
        runtime.control.request_drain()
        return {"log": ["first"]}

    g = _chain("first", "second", first=first).compile(checkpointer=InMemorySaver(), interrupt_before=["second"])
    assert g.invoke({"log": []}, CFG, control=RunControl()) == {"log": ["first"]}
    assert g.get_state(CFG).next == ("second",)
    assert g.invoke(None, CFG) == {"log": ["first", "second"]}


def test_drain_inside_a_subgraph_drains_the_parent_and_both_resume() -> None:
    control = RunControl()

    def child_first(state: S) -> dict[str, Any]:
        control.request_drain("rollout")
        return {"log": ["c1"]}

    child = _chain("c1", "c2", first=child_first).compile(checkpointer=True)
    parent = StateGraph(S).add_node("child", child).add_node("p", lambda s: {"log": ["p"]})
    parent.add_edge(START, "child").add_edge("child", "p")
    g = parent.compile(checkpointer=InMemorySaver())
    with pytest.raises(GraphDrained, match="rollout"):
        g.invoke({"log": []}, CFG, control=control)
    assert g.get_state(CFG).next == ("child",)
    assert g.invoke(None, CFG) == {"log": ["c1", "c2", "p"]}


@pytest.mark.anyio
async def test_drain_requested_while_an_async_node_runs(anyio_backend: str) -> None:
    control = RunControl()
    started = anyio.Event()

    async def slow(state: S) -> dict[str, Any]:
        started.set()
        await anyio.sleep(0.05)
        return {"log": ["slow"]}

    g = _chain("slow", "after", first=slow).compile(checkpointer=InMemorySaver())

    async def drain() -> None:
        await started.wait()
        control.request_drain("stop")

    errors: list[BaseException] = []

    async def run() -> None:
        try:
            await g.ainvoke({"log": []}, CFG, control=control)
        except GraphDrained as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(drain)
        tg.start_soon(run)
    assert [str(e) for e in errors] == ["Graph drained: stop"]
    assert (await g.aget_state(CFG)).values == {"log": ["slow"]}
    chunks = [c async for c in g.astream(None, CFG, stream_mode="updates")]
    assert chunks == [{"after": {"log": ["after"]}}]


def test_drain_through_stream() -> None:
    control = RunControl()

    def first(state: S) -> dict[str, Any]:
        control.request_drain()
        return {"log": ["first"]}

    g = _chain("first", "second", first=first).compile()
    chunks: list[Any] = []
    with pytest.raises(GraphDrained):
        for chunk in g.stream({"log": []}, stream_mode="updates", control=control):
            chunks.append(chunk)
    assert chunks == [{"first": {"log": ["first"]}}]


# -- node configs ------------------------------------------------------------------------


def test_node_configs_dont_carry_the_callers_run_id_or_run_name() -> None:
    seen: list[dict[str, Any]] = []

    def node(state: S, config: RunnableConfig) -> dict[str, Any]:
        seen.append(config)
        return {}

    _chain("n", first=node).compile().invoke({"log": []}, {"run_id": "r", "run_name": "mine", "max_concurrency": 3})
    (cfg,) = seen
    assert cfg.get("run_id") is None and cfg.get("run_name") is None
    assert cfg["max_concurrency"] == 3


def test_checkpoint_during_is_deprecated_for_durability() -> None:
    from actorgraph.warnings import LangGraphDeprecatedSinceV10

    seen: list[Any] = []

    def node(state: S, config: RunnableConfig) -> dict[str, Any]:
        seen.append(config["configurable"].get("__pregel_durability"))
        return {}

    g = _chain("n", first=node).compile()
    with pytest.warns(LangGraphDeprecatedSinceV10, match="checkpoint_during"):
        g.invoke({"log": []}, checkpoint_during=False)
    g.invoke({"log": []})
    assert seen == ["exit", None]
    with pytest.raises(ValueError, match="both"), pytest.warns(LangGraphDeprecatedSinceV10):
        g.invoke({"log": []}, checkpoint_during=True, durability="sync")
