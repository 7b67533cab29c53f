"""``@entrypoint``: decoration checks, running and every stream mode, injected parameters,
``entrypoint.final``, the state API on its thread, nested graphs and entrypoints, and
values that can't be stored, as in LangGraph 1.2.22 (observed shapes:
/root/probes/func/REPORT.md). Task calls, interrupts and resuming are in
test_functional_tasks.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypedDict

import pytest

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.config import RunnableConfig, get_stream_writer
from actorgraph.errors import ConfigError, SerializationError
from actorgraph.func import entrypoint, task
from actorgraph.graph import START, StateGraph
from actorgraph.runtime import Runtime
from actorgraph.store.base import BaseStore
from actorgraph.store.memory import InMemoryStore
from actorgraph.types import StreamWriter

pytestmark = pytest.mark.timeout(20)


def thread() -> dict[str, Any]:
    return {"configurable": {"thread_id": str(uuid.uuid4())}}


@task
def inc(x: int) -> int:
    get_stream_writer()(f"inc({x})")
    return x + 1


@task
def dbl(x: int) -> int:
    return x * 2


def make_wf(checkpointer: Any = None) -> Any:
    """``wf(x)``: writes 'start', calls inc, writes {'after_inc': a}, calls dbl, writes 'end'."""

    @entrypoint(checkpointer=checkpointer)
    def wf(x: int) -> dict:
        emit = get_stream_writer()
        emit("start")
        a = inc(x).result()
        emit({"after_inc": a})
        b = dbl(a).result()
        emit("end")
        return {"a": a, "b": b}

    return wf


def make_awf(checkpointer: Any = None) -> Any:
    """The async twin of ``make_wf``: awaits its tasks."""

    @entrypoint(checkpointer=checkpointer)
    async def awf(x: int, writer: StreamWriter) -> dict:
        writer("start")
        a = await inc(x)
        writer({"after_inc": a})
        b = await dbl(a)
        writer("end")
        return {"a": a, "b": b}

    return awf


# -- decoration and bad input --------------------------------------------------------------


def test_entrypoint_without_a_positional_parameter_is_a_type_error_naming_it() -> None:
    """DELIBERATE: LangGraph raises ValueError, and only when there are no parameters at all."""
    def no_input(*, previous: Any = None) -> int:
        return 1

    with pytest.raises(TypeError, match="'no_input'"):
        entrypoint()(no_input)


def test_entrypoint_with_two_required_positional_parameters_is_a_type_error_naming_it() -> None:
    """DELIBERATE: LangGraph accepts the function and fails at invoke."""
    def two_inputs(a: int, b: int) -> int:
        return a + b

    with pytest.raises(TypeError, match="'two_inputs'"):
        entrypoint(checkpointer=InMemorySaver())(two_inputs)


def test_task_on_a_non_callable_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="42"):
        task(42)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="42"):
        task(name="n")(42)  # type: ignore[arg-type]


def test_checkpointer_without_thread_id_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="thread_id"):
        make_wf(InMemorySaver()).invoke(1)


def test_a_task_called_outside_a_graph_raises_runtime_error_naming_it() -> None:
    """LangGraph raises RuntimeError too, with a message that names no task."""
    @task
    async def lonely_async(x: int) -> int:
        return x

    with pytest.raises(RuntimeError, match="'inc'"):
        inc(1)
    with pytest.raises(RuntimeError, match="'lonely_async'"):
        lonely_async(1)


# -- running and streaming -------------------------------------------------------------


def test_invoke_returns_the_value_with_and_without_a_checkpointer() -> None:
    assert make_wf().invoke(1) == {"a": 2, "b": 4}
    assert make_wf(InMemorySaver()).invoke(1, thread()) == {"a": 2, "b": 4}


@pytest.mark.anyio
async def test_ainvoke_runs_sync_and_async_entrypoints() -> None:
    assert await make_wf(InMemorySaver()).ainvoke(1, thread()) == {"a": 2, "b": 4}
    assert await make_awf(InMemorySaver()).ainvoke(1, thread()) == {"a": 2, "b": 4}


def test_updates_give_each_task_result_then_the_return_value() -> None:
    """The default stream mode is 'updates'."""
    expected = [{"inc": 2}, {"dbl": 4}, {"wf": {"a": 2, "b": 4}}]
    assert list(make_wf().stream(1)) == expected
    assert list(make_wf(InMemorySaver()).stream(1, thread(), stream_mode="updates")) == expected


def test_custom_output_comes_in_program_order_with_updates_and_values() -> None:
    """A task's update comes as it finishes; custom writes (also from inside a task) in
    order with them; 'values' last."""
    got = list(make_wf(InMemorySaver()).stream(1, thread(), stream_mode=["custom", "updates", "values"]))
    assert got == [
        ("custom", "start"),
        ("custom", "inc(1)"),
        ("updates", {"inc": 2}),
        ("custom", {"after_inc": 2}),
        ("updates", {"dbl": 4}),
        ("custom", "end"),
        ("updates", {"wf": {"a": 2, "b": 4}}),
        ("values", {"a": 2, "b": 4}),
    ]


def test_values_mode_gives_only_the_return_value() -> None:
    assert list(make_wf().stream(1, stream_mode="values")) == [{"a": 2, "b": 4}]

    @entrypoint()
    def nothing(x: int) -> None:
        inc(x).result()

    assert list(nothing.stream(1, stream_mode=["updates", "values"])) == [
        ("updates", {"inc": 2}),
        ("updates", {"nothing": None}),
        ("values", None),
    ]


@pytest.mark.anyio
async def test_async_entrypoint_streams_every_mode() -> None:
    modes = ["custom", "updates", "values", "checkpoints"]
    got = [c async for c in make_awf(InMemorySaver()).astream(1, thread(), stream_mode=modes)]
    assert [(m, c) for m, c in got if m != "checkpoints"] == [
        ("custom", "start"),
        ("custom", "inc(1)"),
        ("updates", {"inc": 2}),
        ("custom", {"after_inc": 2}),
        ("updates", {"dbl": 4}),
        ("custom", "end"),
        ("updates", {"awf": {"a": 2, "b": 4}}),
        ("values", {"a": 2, "b": 4}),
    ]
    assert [(c["metadata"]["step"], c["values"]) for m, c in got if m == "checkpoints"] == [
        (-1, None),
        (0, {"a": 2, "b": 4}),
    ]


def test_checkpoints_mode_gives_the_input_and_loop_checkpoints() -> None:
    cfg = thread()
    got = list(make_wf(InMemorySaver()).stream(1, cfg, stream_mode="checkpoints"))
    assert [(c["metadata"], c["values"], c["next"]) for c in got] == [
        ({"source": "input", "step": -1, "parents": {}}, None, ["wf"]),
        ({"source": "loop", "step": 0, "parents": {}}, {"a": 2, "b": 4}, []),
    ]
    assert [t["name"] for t in got[0]["tasks"]] == ["wf"] and got[1]["tasks"] == []
    assert got[1]["parent_config"] == got[0]["config"]
    assert got[1]["config"]["configurable"]["thread_id"] == cfg["configurable"]["thread_id"]


def _without_ids(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k != "id"} for e in events]


def test_tasks_mode_has_a_start_and_a_result_event_per_task() -> None:
    events = list(make_wf(InMemorySaver()).stream(1, thread(), stream_mode="tasks"))
    assert _without_ids(events) == [
        {"name": "wf", "input": 1, "triggers": ("__start__",)},
        {"name": "inc", "input": ((1,), {}), "triggers": ("__pregel_push",)},
        {"name": "inc", "error": None, "result": {"__return__": 2}, "interrupts": []},
        {"name": "dbl", "input": ((2,), {}), "triggers": ("__pregel_push",)},
        {"name": "dbl", "error": None, "result": {"__return__": 4}, "interrupts": []},
        {"name": "wf", "error": None, "result": {"__end__": {"a": 2, "b": 4}}, "interrupts": []},
    ]
    ids = [e["id"] for e in events]
    assert ids[0] == ids[5] and ids[1] == ids[2] and ids[3] == ids[4] and len(set(ids)) == 3


def test_debug_mode_wraps_checkpoints_and_task_events() -> None:
    events = list(make_wf(InMemorySaver()).stream(1, thread(), stream_mode="debug"))
    assert [(e["type"], e["step"]) for e in events] == [
        ("checkpoint", -1),
        ("task", 0),
        ("task", 0),
        ("task_result", 0),
        ("task", 0),
        ("task_result", 0),
        ("task_result", 0),
        ("checkpoint", 0),
    ]
    assert [e["payload"]["name"] for e in events[1:7]] == ["wf", "inc", "inc", "dbl", "dbl", "wf"]
    assert events[2]["payload"]["input"] == ((1,), {})
    assert events[3]["payload"]["result"] == {"__return__": 2}
    assert events[6]["payload"]["result"] == {"__end__": {"a": 2, "b": 4}}
    assert events[7]["payload"]["values"] == {"a": 2, "b": 4}


# -- injected parameters and entrypoint.final ------------------------------------------------


@dataclass
class Ctx:
    user: str


def test_previous_store_writer_config_and_runtime_are_injected_by_name() -> None:
    store = InMemoryStore()
    store.put(("prefs",), "color", {"v": "blue"})

    @entrypoint(checkpointer=InMemorySaver(), store=store, context_schema=Ctx)
    def injected(x: int, *, previous: Any = None, store: BaseStore, writer: StreamWriter,
                 config: RunnableConfig, runtime: Runtime[Ctx]) -> dict:
        writer({"got": x})
        return {
            "previous": previous,
            "color": store.get(("prefs",), "color").value["v"],
            "thread": config["configurable"]["thread_id"],
            "user": runtime.context.user,
            "same_store": runtime.store is store,
            "runtime_previous": runtime.previous,
        }

    cfg = {"configurable": {"thread_id": "inject"}}
    first = list(injected.stream(1, cfg, stream_mode=["custom", "values"], context=Ctx(user="bob")))
    out1 = {"previous": None, "color": "blue", "thread": "inject", "user": "bob",
            "same_store": True, "runtime_previous": None}
    assert first == [("custom", {"got": 1}), ("values", out1)]
    out2 = injected.invoke(2, cfg, context=Ctx(user="al"))
    assert out2 == {**out1, "user": "al", "previous": out1, "runtime_previous": out1}


def test_final_returns_value_and_saves_save_for_previous() -> None:
    @entrypoint(checkpointer=InMemorySaver())
    def counter(n: int, *, previous: Any = None) -> entrypoint.final[str, int]:
        total = (previous or 0) + n
        return entrypoint.final(value=f"total {total}", save=total)

    cfg = thread()
    assert [counter.invoke(n, cfg) for n in (1, 2, 3)] == ["total 1", "total 3", "total 6"]
    assert counter.get_state(cfg).values == "total 6"
    with pytest.raises(TypeError):
        entrypoint.final[int]  # the type form takes the value type and the saved type
    with pytest.raises(TypeError):
        entrypoint.final(1, 2)  # type: ignore[misc]  # keyword-only, as in LangGraph
    saver = InMemorySaver()
    assert entrypoint(checkpointer=saver)(lambda x: x).checkpointer is saver


# -- the state API on an entrypoint thread ---------------------------------------------------


def test_get_state_values_is_the_returned_value() -> None:
    wf = make_wf(InMemorySaver())
    cfg = thread()
    wf.invoke(1, cfg)
    snap = wf.get_state(cfg)
    assert (snap.values, snap.next, snap.tasks, snap.interrupts) == ({"a": 2, "b": 4}, (), (), ())
    assert snap.metadata == {"source": "loop", "step": 0, "parents": {}}
    empty = wf.get_state(thread())
    assert (empty.values, empty.next, empty.metadata) == ({}, (), None)


def test_get_state_history_has_two_checkpoints_per_run() -> None:
    wf = make_wf(InMemorySaver())
    cfg = thread()
    wf.invoke(1, cfg)
    wf.invoke(5, cfg)
    history = [(s.metadata["step"], s.metadata["source"], s.next, s.values) for s in wf.get_state_history(cfg)]
    assert history == [
        (2, "loop", (), {"a": 6, "b": 12}),
        (1, "input", ("wf",), {"a": 2, "b": 4}),
        (0, "loop", (), {"a": 2, "b": 4}),
        (-1, "input", ("wf",), None),
    ]


def test_update_state_replaces_the_value_the_next_run_sees_as_previous() -> None:
    @entrypoint(checkpointer=InMemorySaver())
    def acc(n: int, *, previous: Any = None) -> int:
        return (previous or 0) + n

    cfg = thread()
    assert acc.invoke(1, cfg) == 1
    acc.update_state(cfg, 100)
    snap = acc.get_state(cfg)
    assert (snap.values, snap.next, snap.metadata["source"], snap.metadata["step"]) == (100, (), "update", 1)
    assert acc.invoke(2, cfg) == 102


# -- calling graphs and entrypoints ------------------------------------------------------------


def _nesting() -> tuple[Any, InMemorySaver]:
    def double(state: dict) -> dict:
        return {"foo": state["foo"] * 2}

    class Foo(TypedDict):
        foo: int

    sub = StateGraph(Foo).add_node("double", double).add_edge(START, "double").compile()

    @task
    def plus(x: int) -> int:
        return x + 1

    @entrypoint()
    def child(x: int) -> int:
        return plus(x).result() * 3

    saver = InMemorySaver()

    @entrypoint(checkpointer=saver)
    def parent(x: int) -> dict:
        return {"graph": sub.invoke({"foo": x})["foo"], "child": child.invoke(x), "task": plus(x).result()}

    return parent, saver


def test_nested_runs_inherit_the_checkpointer_under_child_namespaces() -> None:
    parent, saver = _nesting()
    cfg = thread()
    assert parent.invoke(2, cfg) == {"graph": 4, "child": 9, "task": 3}
    namespaces = sorted({t.config["configurable"]["checkpoint_ns"] for t in saver.list(cfg)})
    assert len(namespaces) == 3 and namespaces[0] == ""
    assert namespaces[1].startswith("parent:") and namespaces[2] == namespaces[1] + "|1"


def test_nested_runs_stream_under_their_own_namespaces() -> None:
    """The second sub-run called from one task streams under (<task ns>, '1')."""
    parent, _ = _nesting()
    got = list(parent.stream(2, thread(), subgraphs=True))
    ns = got[0][0]
    assert len(ns) == 1 and ns[0].startswith("parent:")
    assert got == [
        (ns, {"double": {"foo": 4}}),
        ((*ns, "1"), {"plus": 3}),
        ((*ns, "1"), {"child": 9}),
        ((), {"plus": 3}),
        ((), {"parent": {"graph": 4, "child": 9, "task": 3}}),
    ]


# -- values that can't be stored ---------------------------------------------------------------


class Opaque:
    pass


@task
def take_opaque(o: Opaque) -> int:
    return 1


@task
def give_opaque() -> Opaque:
    return Opaque()


def test_a_task_argument_that_cant_be_stored_is_fine_as_in_langgraph() -> None:
    """Task arguments are never stored (a resumed caller calls the task again)."""

    @entrypoint(checkpointer=InMemorySaver())
    def passes_opaque(x: int) -> str:
        take_opaque(Opaque()).result()
        return "no error"

    assert passes_opaque.invoke(1, thread()) == "no error"


def test_unstorable_task_result_fails_the_run_naming_task_and_type() -> None:
    @entrypoint(checkpointer=InMemorySaver())
    def gets_opaque(x: int) -> str:
        return type(give_opaque().result()).__name__

    with pytest.raises(SerializationError, match="'give_opaque'") as failed:
        gets_opaque.invoke(1, thread())
    assert "Opaque" in str(failed.value)


def test_unstorable_values_are_fine_without_a_checkpointer() -> None:
    @entrypoint()
    def free(x: Any) -> str:
        take_opaque(Opaque()).result()
        return type(give_opaque().result()).__name__

    assert free.invoke(Opaque()) == "Opaque"
