"""Stream modes (values, updates, custom, debug, tasks), mode lists, subgraph namespaces,
``version="v2"`` parts, sync ``stream`` and async ``astream``."""

from __future__ import annotations

import operator
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, TypedDict

import anyio
import pytest

from actorgraph.config import get_stream_writer
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import GraphOutput, StreamWriter

INP = {"log": [], "n": 0}


class S(TypedDict):
    log: Annotated[list, operator.add]
    n: int


class CS(TypedDict):
    log: Annotated[list, operator.add]


def _a(state: S) -> dict[str, Any]:
    get_stream_writer()({"from": "a"})
    return {"log": ["a"], "n": 1}


def _b(state: S, writer: StreamWriter) -> dict[str, Any]:
    writer({"from": "b"})
    return {"log": ["b"]}


def _c(state: S) -> dict[str, Any]:
    return {"log": ["c"]}


def _fan(a: Any = _a, b: Any = _b, c: Any = _c) -> Any:
    """START -> a -> (b, c) -> END."""
    g = StateGraph(S)
    g.add_node("a", a)
    g.add_node("b", b)
    g.add_node("c", c)
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("a", "c")
    g.add_edge("b", END)
    g.add_edge("c", END)
    return g.compile()


def _child() -> Any:
    def c1(state: CS) -> dict[str, Any]:
        get_stream_writer()("from-child")
        return {"log": ["c1"]}

    g = StateGraph(CS)
    g.add_node("c1", c1)
    g.add_node("c2", lambda s: {"log": ["c2"]})
    g.add_edge(START, "c1")
    g.add_edge("c1", "c2")
    return g.compile()


def _parent(child: Any) -> Any:
    g = StateGraph(S)
    g.add_node("a", lambda s: {"log": ["a"], "n": 1})
    g.add_node("child", child)
    g.add_edge(START, "a")
    g.add_edge("a", "child")
    return g.compile()


async def _collect(agen: Any) -> list[Any]:
    return [c async for c in agen]


# -- values ------------------------------------------------------------------------------


def test_values_stream_starts_with_input_then_state_after_each_step() -> None:
    assert list(_fan().stream(INP, stream_mode="values")) == [
        {"log": [], "n": 0},
        {"log": ["a"], "n": 1},
        {"log": ["a", "b", "c"], "n": 1},
    ]


def test_values_stream_has_no_chunk_for_a_step_that_wrote_nothing() -> None:
    g = StateGraph(S)
    g.add_node("a", lambda s: {"n": 1})
    g.add_node("b", lambda s: None)
    g.add_node("c", lambda s: {"log": ["c"]})
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", "c")
    chunks = list(g.compile().stream({"log": []}, stream_mode="values"))
    assert chunks == [{"log": []}, {"log": [], "n": 1}, {"log": ["c"], "n": 1}]


@pytest.mark.anyio
async def test_astream_values_starts_with_input_then_state_after_each_step() -> None:
    chunks = await _collect(_fan().astream(INP, stream_mode="values"))
    assert chunks == [{"log": [], "n": 0}, {"log": ["a"], "n": 1}, {"log": ["a", "b", "c"], "n": 1}]


# -- updates -----------------------------------------------------------------------------


def test_updates_stream_yields_one_node_update_per_task() -> None:
    chunks = list(_fan().stream(INP, stream_mode="updates"))
    assert chunks[0] == {"a": {"log": ["a"], "n": 1}}
    assert sorted(chunks[1:], key=lambda c: next(iter(c))) == [
        {"b": {"log": ["b"]}},
        {"c": {"log": ["c"]}},
    ]


def test_updates_stream_shows_none_for_a_node_returning_none_or_empty_dict() -> None:
    g = _fan(b=lambda s: None, c=lambda s: {})
    chunks = list(g.stream(INP, stream_mode="updates"))
    assert chunks[0] == {"a": {"log": ["a"], "n": 1}}
    assert sorted(chunks[1:], key=lambda c: next(iter(c))) == [{"b": None}, {"c": None}]


def test_default_stream_mode_of_a_state_graph_is_updates() -> None:
    assert list(_fan().stream(INP)) == list(_fan().stream(INP, stream_mode="updates"))
    assert list(_fan().stream(INP))[0] == {"a": {"log": ["a"], "n": 1}}


def test_hidden_start_node_never_appears_in_any_stream() -> None:
    items = list(_fan().stream(INP, stream_mode=["updates", "tasks", "debug"]))
    names = set()
    for mode, chunk in items:
        if mode == "updates":
            names.update(chunk)
        elif mode == "tasks":
            names.add(chunk["name"])
        else:
            names.add(chunk["payload"]["name"])
    assert names == {"a", "b", "c"}


@pytest.mark.anyio
async def test_astream_updates_follow_task_completion_order() -> None:
    """c finishes first (b waits for c's signal), so c's update comes before b's."""
    c_done = anyio.Event()

    async def b(state: S) -> dict[str, Any]:
        await c_done.wait()
        return {"log": ["b"]}

    async def c(state: S) -> dict[str, Any]:
        c_done.set()
        return {"log": ["c"]}

    with anyio.fail_after(10):
        chunks = await _collect(_fan(b=b, c=c).astream(INP, stream_mode="updates"))
    assert chunks == [{"a": {"log": ["a"], "n": 1}}, {"c": {"log": ["c"]}}, {"b": {"log": ["b"]}}]


def test_invoke_with_updates_stream_mode_returns_the_list_of_chunks() -> None:
    out = _fan(c=lambda s: None).invoke(INP, stream_mode="updates")
    assert out[0] == {"a": {"log": ["a"], "n": 1}}
    assert sorted(out[1:], key=lambda c: next(iter(c))) == [{"b": {"log": ["b"]}}, {"c": None}]


# -- custom ------------------------------------------------------------------------------


def test_custom_stream_from_sync_nodes_in_worker_threads() -> None:
    """b (writer param) and c (get_stream_writer) run together in worker threads."""
    caller = threading.current_thread().name
    threads: dict[str, str] = {}

    def c(state: S) -> dict[str, Any]:
        threads["c"] = threading.current_thread().name
        get_stream_writer()({"from": "c"})
        return {}

    def b(state: S, writer: StreamWriter) -> dict[str, Any]:
        threads["b"] = threading.current_thread().name
        writer({"from": "b"})
        return {}

    chunks = list(_fan(b=b, c=c).stream(INP, stream_mode="custom"))
    assert chunks[0] == {"from": "a"}
    assert sorted(chunks[1:], key=lambda c: c["from"]) == [{"from": "b"}, {"from": "c"}]
    assert caller not in threads.values()


@pytest.mark.anyio
async def test_custom_stream_from_async_nodes() -> None:
    async def a(state: S) -> dict[str, Any]:
        get_stream_writer()({"from": "a"})
        return {"n": 1}

    async def b(state: S, writer: StreamWriter) -> dict[str, Any]:
        writer({"from": "b", "i": 1})
        await anyio.sleep(0)
        writer({"from": "b", "i": 2})
        return {}

    async def c(state: S) -> None:
        return None

    chunks = await _collect(_fan(a=a, b=b, c=c).astream(INP, stream_mode="custom"))
    assert chunks == [{"from": "a"}, {"from": "b", "i": 1}, {"from": "b", "i": 2}]


@pytest.mark.anyio
async def test_astream_custom_from_sync_nodes() -> None:
    chunks = await _collect(_fan().astream(INP, stream_mode="custom"))
    assert chunks == [{"from": "a"}, {"from": "b"}]


def test_stream_writer_is_a_no_op_when_custom_is_not_requested() -> None:
    g = _fan()
    assert [m for m, _ in g.stream(INP, stream_mode=["updates", "values"])] == [
        "values", "updates", "values", "updates", "updates", "values",
    ]  # fmt: skip
    assert g.invoke(INP) == {"log": ["a", "b", "c"], "n": 1}


# -- debug / tasks -----------------------------------------------------------------------


def test_debug_items_have_step_timestamp_type_and_payload() -> None:
    items = list(_fan().stream(INP, stream_mode="debug"))
    assert [(i["step"], i["type"]) for i in items][:2] == [(1, "task"), (1, "task_result")]
    assert sorted((i["step"], i["type"]) for i in items[2:]) == [
        (2, "task"), (2, "task"), (2, "task_result"), (2, "task_result"),
    ]  # fmt: skip
    for i in items:
        assert set(i) == {"step", "timestamp", "type", "payload"}
        ts = datetime.fromisoformat(i["timestamp"])
        assert ts.utcoffset() == timedelta(0)
        assert i["type"] in ("task", "task_result")  # no "checkpoint" without a checkpointer
    start, result = items[0]["payload"], items[1]["payload"]
    assert start == {
        "id": start["id"], "name": "a", "input": {"log": [], "n": 0}, "triggers": ("branch:to:a",),
    }  # fmt: skip
    assert isinstance(start["id"], str) and start["id"]
    assert result == {
        "id": start["id"], "name": "a", "error": None, "result": {"log": ["a"], "n": 1},
        "interrupts": [],
    }  # fmt: skip


def test_tasks_stream_emits_start_payload_then_result_payload() -> None:
    items = list(_fan().stream(INP, stream_mode="tasks"))
    assert len(items) == 6
    a_start, a_result = items[0], items[1]
    assert a_start == {
        "id": a_start["id"], "name": "a", "input": {"log": [], "n": 0}, "triggers": ("branch:to:a",),
    }  # fmt: skip
    assert a_result == {
        "id": a_start["id"], "name": "a", "error": None, "result": {"log": ["a"], "n": 1},
        "interrupts": [],
    }  # fmt: skip
    # the step's task starts come first, then its results
    assert [set(i) for i in items[2:4]] == [{"id", "name", "input", "triggers"}] * 2
    starts = {i["name"]: i for i in items[2:4]}
    results = {i["name"]: i for i in items[4:6]}
    assert set(starts) == set(results) == {"b", "c"}
    for name in ("b", "c"):
        assert starts[name]["triggers"] == (f"branch:to:{name}",)
        assert starts[name]["input"] == {"log": ["a"], "n": 1}
        assert results[name]["id"] == starts[name]["id"]
        assert results[name]["result"] == {"log": [name]}
    assert len({a_start["id"], starts["b"]["id"], starts["c"]["id"]}) == 3


@pytest.mark.anyio
async def test_astream_tasks_matches_sync_shape() -> None:
    items = await _collect(_fan().astream(INP, stream_mode="tasks"))
    assert [i["name"] for i in items[:2]] == ["a", "a"]
    assert items[1]["id"] == items[0]["id"] and items[1]["error"] is None
    assert len(items) == 6


# -- several modes -----------------------------------------------------------------------


def test_list_of_modes_yields_mode_chunk_tuples() -> None:
    items = list(_fan().stream(INP, stream_mode=["updates", "custom"]))
    assert items[:2] == [("custom", {"from": "a"}), ("updates", {"a": {"log": ["a"], "n": 1}})]
    assert sorted(items[2:], key=repr) == [
        ("custom", {"from": "b"}), ("updates", {"b": {"log": ["b"]}}), ("updates", {"c": {"log": ["c"]}}),
    ]  # fmt: skip
    # b's custom chunk is emitted while b runs, so before b's update
    assert items.index(("custom", {"from": "b"})) < items.index(("updates", {"b": {"log": ["b"]}}))


def test_one_element_mode_list_also_yields_tuples() -> None:
    assert list(_fan().stream(INP, stream_mode=["values"])) == [
        ("values", {"log": [], "n": 0}),
        ("values", {"log": ["a"], "n": 1}),
        ("values", {"log": ["a", "b", "c"], "n": 1}),
    ]


@pytest.mark.anyio
async def test_astream_list_of_modes_yields_tuples() -> None:
    items = await _collect(_fan().astream(INP, stream_mode=["values"]))
    assert items[0] == ("values", {"log": [], "n": 0})
    assert len(items) == 3


# -- subgraphs ---------------------------------------------------------------------------


def test_subgraphs_true_namespaces_chunks_with_the_parent_task_id() -> None:
    items = list(_parent(_child()).stream(INP, stream_mode=["tasks", "updates"], subgraphs=True))
    child_start = next(c for ns, m, c in items if ns == () and m == "tasks" and c["name"] == "child")
    child_ns = (f"child:{child_start['id']}",)
    assert [(ns, c) for ns, m, c in items if m == "updates"] == [
        ((), {"a": {"log": ["a"], "n": 1}}),
        (child_ns, {"c1": {"log": ["c1"]}}),
        (child_ns, {"c2": {"log": ["c2"]}}),
        ((), {"child": {"log": ["a", "c1", "c2"]}}),
    ]
    assert {ns for ns, _, _ in items} == {(), child_ns}


def test_subgraphs_true_single_mode_yields_namespace_chunk_pairs() -> None:
    items = list(_parent(_child()).stream(INP, stream_mode="values", subgraphs=True))
    assert [len(i) for i in items] == [2] * 6
    assert items[0] == ((), {"log": [], "n": 0})
    assert items[1] == ((), {"log": ["a"], "n": 1})
    (ns,) = {i[0] for i in items[2:5]}
    assert len(ns) == 1 and ns[0].startswith("child:")
    assert [c for _, c in items[2:5]] == [{"log": ["a"]}, {"log": ["a", "c1"]}, {"log": ["a", "c1", "c2"]}]
    assert items[5] == ((), {"log": ["a", "a", "c1", "c2"], "n": 1})


def test_without_subgraphs_only_root_chunks_are_streamed() -> None:
    assert list(_parent(_child()).stream(INP, stream_mode="updates")) == [
        {"a": {"log": ["a"], "n": 1}},
        {"child": {"log": ["a", "c1", "c2"]}},
    ]


def test_custom_chunks_of_a_subgraph_carry_its_namespace() -> None:
    items = list(_parent(_child()).stream(INP, stream_mode="custom", subgraphs=True))
    assert len(items) == 1
    (ns, chunk) = items[0]
    assert chunk == "from-child" and len(ns) == 1 and ns[0].startswith("child:")


def _nested() -> Any:
    leaf = StateGraph(CS)
    leaf.add_node("leaf", lambda s: {"log": ["leaf"]})
    leaf.add_edge(START, "leaf")
    mid = StateGraph(CS)
    mid.add_node("mid", leaf.compile())
    mid.add_edge(START, "mid")
    top = StateGraph(CS)
    top.add_node("top", mid.compile())
    top.add_edge(START, "top")
    return top.compile()


def test_nested_subgraph_namespace_has_one_entry_per_level() -> None:
    items = list(_nested().stream({"log": []}, stream_mode=["tasks", "updates"], subgraphs=True))
    top_id = next(c["id"] for ns, m, c in items if ns == () and m == "tasks" and c["name"] == "top")
    ns1 = (f"top:{top_id}",)
    mid_id = next(c["id"] for ns, m, c in items if ns == ns1 and m == "tasks" and c["name"] == "mid")
    ns2 = (f"top:{top_id}", f"mid:{mid_id}")
    assert [(ns, c) for ns, m, c in items if m == "updates"] == [
        (ns2, {"leaf": {"log": ["leaf"]}}),
        (ns1, {"mid": {"log": ["leaf"]}}),
        ((), {"top": {"log": ["leaf"]}}),
    ]


def test_subgraph_invoked_inside_a_sync_node_streams_under_that_nodes_namespace() -> None:
    child = _child()

    def w(state: S) -> dict[str, Any]:
        return {"log": child.invoke({"log": []})["log"]}

    g = StateGraph(S)
    g.add_node("w", w)
    g.add_edge(START, "w")
    items = list(g.compile().stream(INP, stream_mode=["tasks", "updates", "custom"], subgraphs=True))
    w_id = next(c["id"] for ns, m, c in items if m == "tasks" and c["name"] == "w")
    w_ns = (f"w:{w_id}",)
    assert [i for i in items if i[1] != "tasks"] == [
        (w_ns, "custom", "from-child"),
        (w_ns, "updates", {"c1": {"log": ["c1"]}}),
        (w_ns, "updates", {"c2": {"log": ["c2"]}}),
        ((), "updates", {"w": {"log": ["c1", "c2"]}}),
    ]


@pytest.mark.anyio
async def test_subgraph_awaited_inside_an_async_node_streams_under_that_nodes_namespace() -> None:
    child = _child()

    async def w(state: S) -> dict[str, Any]:
        return {"log": (await child.ainvoke({"log": []}))["log"]}

    g = StateGraph(S)
    g.add_node("w", w)
    g.add_edge(START, "w")
    items = await _collect(g.compile().astream(INP, stream_mode=["tasks", "updates"], subgraphs=True))
    w_id = next(c["id"] for ns, m, c in items if m == "tasks" and c["name"] == "w")
    w_ns = (f"w:{w_id}",)
    assert [i for i in items if i[1] == "updates"] == [
        (w_ns, "updates", {"c1": {"log": ["c1"]}}),
        (w_ns, "updates", {"c2": {"log": ["c2"]}}),
        ((), "updates", {"w": {"log": ["c1", "c2"]}}),
    ]


@pytest.mark.anyio
async def test_astream_of_another_graph_inside_an_async_node_yields_its_own_chunks() -> None:
    child = _child()

    async def w(state: S) -> dict[str, Any]:
        return {"log": [c async for c in child.astream({"log": []}, stream_mode="updates")]}

    g = StateGraph(S)
    g.add_node("w", w)
    g.add_edge(START, "w")
    out = await g.compile().ainvoke(INP)
    assert out == {"log": [{"c1": {"log": ["c1"]}}, {"c2": {"log": ["c2"]}}], "n": 0}


@pytest.mark.anyio
async def test_astream_subgraphs_true_namespaces_chunks() -> None:
    items = await _collect(_parent(_child()).astream(INP, stream_mode="updates", subgraphs=True))
    assert items[0] == ((), {"a": {"log": ["a"], "n": 1}})
    assert items[-1] == ((), {"child": {"log": ["a", "c1", "c2"]}})
    (ns,) = {ns for ns, _ in items[1:3]}
    assert ns[0].startswith("child:") and [c for _, c in items[1:3]] == [
        {"c1": {"log": ["c1"]}},
        {"c2": {"log": ["c2"]}},
    ]


# -- version="v2" ------------------------------------------------------------------------


def test_v2_stream_parts_have_type_ns_data_and_values_carry_interrupts() -> None:
    items = list(_fan().stream(INP, stream_mode=["values", "custom"], version="v2"))
    assert items[:3] == [
        {"type": "values", "ns": (), "data": {"log": [], "n": 0}, "interrupts": ()},
        {"type": "custom", "ns": (), "data": {"from": "a"}},
        {"type": "values", "ns": (), "data": {"log": ["a"], "n": 1}, "interrupts": ()},
    ]
    assert items[3:] == [
        {"type": "custom", "ns": (), "data": {"from": "b"}},
        {"type": "values", "ns": (), "data": {"log": ["a", "b", "c"], "n": 1}, "interrupts": ()},
    ]


def test_v2_single_mode_also_yields_parts() -> None:
    items = list(_fan().stream(INP, stream_mode="updates", version="v2"))
    assert items[0] == {"type": "updates", "ns": (), "data": {"a": {"log": ["a"], "n": 1}}}
    assert {i["type"] for i in items} == {"updates"} and len(items) == 3


def test_v2_parts_of_a_subgraph_carry_its_namespace() -> None:
    items = list(_parent(_child()).stream(INP, stream_mode="custom", subgraphs=True, version="v2"))
    assert len(items) == 1
    assert items[0]["type"] == "custom" and items[0]["data"] == "from-child"
    assert len(items[0]["ns"]) == 1 and items[0]["ns"][0].startswith("child:")


def test_invoke_v2_returns_graph_output() -> None:
    out = _fan().invoke(INP, version="v2")
    assert isinstance(out, GraphOutput)
    assert out == GraphOutput(value={"log": ["a", "b", "c"], "n": 1}, interrupts=())
    assert out.value == {"log": ["a", "b", "c"], "n": 1} and out.interrupts == ()


@pytest.mark.anyio
async def test_ainvoke_v2_and_astream_v2() -> None:
    g = _fan()
    out = await g.ainvoke(INP, version="v2")
    assert out == GraphOutput(value={"log": ["a", "b", "c"], "n": 1}, interrupts=())
    items = await _collect(g.astream(INP, stream_mode="values", version="v2"))
    assert items[-1] == {"type": "values", "ns": (), "data": out.value, "interrupts": ()}


# -- version="v2": typed parts of schema objects ---------------------------------------------


def _schema_graph(schema: Any, checkpointer: Any = None) -> Any:
    g = StateGraph(schema)
    g.add_node("a", lambda s: {"value": s.value + "a", "items": ["a"]})
    g.add_edge(START, "a")
    return g.compile(checkpointer=checkpointer)


def _pydantic_state() -> Any:
    from pydantic import BaseModel

    class P(BaseModel):
        value: str
        items: Annotated[list[str], operator.add]

    return P


@dataclass
class _DC:
    value: str
    items: Annotated[list[str], operator.add]


@pytest.mark.parametrize("make", [_pydantic_state, lambda: _DC], ids=["pydantic", "dataclass"])
def test_v2_values_and_invoke_are_objects_of_the_schema(make: Any) -> None:
    schema = make()
    g = _schema_graph(schema)
    parts = list(g.stream({"value": "x", "items": []}, stream_mode="values", version="v2"))
    assert all(isinstance(p["data"], schema) for p in parts)
    assert parts[-1]["data"].value == "xa"
    out = g.invoke({"value": "x", "items": []}, version="v2")
    assert isinstance(out.value, schema) and out.value.items == ["a"]
    # v1 is unchanged: plain dicts
    assert g.invoke({"value": "x", "items": []}) == {"value": "xa", "items": ["a"]}
    updates = g.invoke({"value": "x", "items": []}, stream_mode="updates", version="v2")
    assert updates == [{"type": "updates", "ns": (), "data": {"a": {"value": "xa", "items": ["a"]}}}]


def test_v2_checkpoint_values_are_objects_of_the_schema_once_complete() -> None:
    from actorgraph.checkpoint.memory import InMemorySaver

    schema = _pydantic_state()
    g = _schema_graph(schema, InMemorySaver())
    parts = list(
        g.stream(
            {"value": "x", "items": []}, {"configurable": {"thread_id": "t"}}, stream_mode="checkpoints", version="v2"
        )
    )
    # the input checkpoint (next: __start__) stays a dict: the state isn't complete there
    assert [type(p["data"]["values"]).__name__ for p in parts] == ["dict", "P", "P"]


def test_v2_values_carry_interrupts_outside_the_data() -> None:
    from actorgraph.checkpoint.memory import InMemorySaver
    from actorgraph.types import interrupt

    g = StateGraph(CS)
    g.add_node("ask", lambda s: {"log": [interrupt("ok?")]})
    g.add_edge(START, "ask")
    parts = list(
        g.compile(checkpointer=InMemorySaver()).stream(
            {"log": []}, {"configurable": {"thread_id": "t"}}, stream_mode="values", version="v2"
        )
    )
    last = parts[-1]
    assert last["data"] == {"log": []} and [i.value for i in last["interrupts"]] == ["ok?"]


def test_graph_output_dict_access_is_deprecated_but_works() -> None:
    out = _fan().invoke(INP, version="v2")
    with pytest.warns(DeprecationWarning, match="result.value"):
        assert out["log"] == ["a", "b", "c"]
    with pytest.warns(DeprecationWarning):
        assert "__interrupt__" not in out
    with pytest.raises(KeyError), pytest.warns(DeprecationWarning):
        out["nope"]


def test_task_events_carry_the_user_metadata_of_the_task() -> None:
    g = StateGraph(CS)
    g.add_node("n", lambda s: {"log": ["n"]}, metadata={"team": "blue"})
    g.add_edge(START, "n")
    cfg = {"metadata": {"who": "me"}, "tags": ["t1"], "configurable": {"run_id": "r", "thread_id": "x"}}
    start, result = list(g.compile().stream({"log": []}, cfg, stream_mode="tasks"))
    # placement keys (thread_id, checkpoint_ns, langgraph_*) are the event's own
    assert start["metadata"] == {"who": "me", "run_id": "r", "team": "blue", "tags": ["t1"]}
    assert "metadata" not in result


@pytest.mark.parametrize("modes", ["custom", ["custom", "values"]])
def test_a_lone_sync_node_streams_custom_chunks_as_it_writes_them(modes: Any) -> None:
    """#41: the consumer gets the node's first chunk while the node is still running."""
    got_first = threading.Event()
    waited: list[bool] = []

    def node(state: CS, writer: StreamWriter) -> dict[str, Any]:
        writer("before")
        # waits for the consumer to have seen "before": only possible if it was delivered
        waited.append(got_first.wait(timeout=5))
        return {}

    g = StateGraph(CS)
    g.add_node("n", node)
    g.add_edge(START, "n")
    for item in g.compile().stream({"log": []}, stream_mode=modes):
        if item in ("before", ("custom", "before")):
            got_first.set()
    assert waited == [True]


# -- streams of interrupted and resumed runs (#70) -------------------------------------------


def _ask_and_sibling() -> Any:
    """START -> ask (interrupts), START -> b (finishes in the same step)."""
    from actorgraph.checkpoint.memory import InMemorySaver
    from actorgraph.types import interrupt

    g = StateGraph(CS)
    g.add_node("ask", lambda s: {"log": [interrupt("q")]})
    g.add_node("b", lambda s: {"log": ["b"]})
    g.add_edge(START, "ask")
    g.add_edge(START, "b")
    return g.compile(checkpointer=InMemorySaver())


def test_values_end_with_what_finished_siblings_of_an_interrupt_wrote() -> None:
    chunks = list(_ask_and_sibling().stream({"log": []}, {"configurable": {"thread_id": "t"}}, stream_mode="values"))
    assert [sorted(c) for c in chunks] == [["log"], ["__interrupt__", "log"], ["log"]]
    assert chunks[-1] == {"log": ["b"]}


def test_a_resumed_step_reports_results_only_of_the_tasks_that_run() -> None:
    from actorgraph.types import Command

    g = _ask_and_sibling()
    cfg = {"configurable": {"thread_id": "t"}}
    g.invoke({"log": []}, cfg)
    events = list(g.stream(Command(resume="r"), cfg, stream_mode=["tasks", "updates"]))
    summary = [
        (mode, ("result " if "result" in e else "start ") + e["name"]) if mode == "tasks" else (mode, sorted(e))
        for mode, e in events
    ]
    # b's saved writes are reused (an update marked cached), but b doesn't run again
    assert summary == [
        ("tasks", "start ask"),
        ("tasks", "start b"),
        ("updates", ["__metadata__", "b"]),
        ("updates", ["ask"]),
        ("tasks", "result ask"),
    ]


def test_a_resumed_run_streams_the_checkpoint_it_continues_first() -> None:
    from actorgraph.checkpoint.memory import InMemorySaver
    from actorgraph.types import Command, interrupt

    g = StateGraph(CS)
    g.add_node("ask", lambda s: {"log": [interrupt("q")]})
    g.add_node("after", lambda s: {"log": ["after"]})
    g.add_edge(START, "ask")
    g.add_edge("ask", "after")
    graph = g.compile(checkpointer=InMemorySaver())
    cfg = {"configurable": {"thread_id": "t"}}
    graph.invoke({"log": []}, cfg)
    debug = list(graph.stream(Command(resume="r"), cfg, stream_mode="debug"))
    kinds = [f"{e['type']}@{e['step']}" for e in debug]
    assert kinds[:4] == ["checkpoint@0", "task@1", "task_result@1", "checkpoint@1"]
    first = debug[0]["payload"]
    assert first["next"] == ["ask"] and first["values"] == {"log": []}
    (task,) = first["tasks"]
    assert task["name"] == "ask" and [i["value"] for i in task["interrupts"]] == ["q"]


def test_print_mode_prints_the_modes_it_names(capsys: pytest.CaptureFixture[str]) -> None:
    g = StateGraph(CS)
    g.add_node("a", lambda s: {"log": ["a"]})
    g.add_edge(START, "a")
    graph = g.compile()
    assert graph.invoke({"log": []}, print_mode=["values", "updates"]) == {"log": ["a"]}
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "\x1b[1m[values]\x1b[0m {'log': []}",
        "\x1b[1m[updates]\x1b[0m {'a': {'log': ['a']}}",
        "\x1b[1m[values]\x1b[0m {'log': ['a']}",
    ]
    # streamed modes are yielded, printed ones only printed
    assert list(graph.stream({"log": []}, stream_mode="values", print_mode="updates")) == [{"log": []}, {"log": ["a"]}]
    assert capsys.readouterr().out.splitlines() == ["\x1b[1m[updates]\x1b[0m {'a': {'log': ['a']}}"]
    with pytest.raises(ValueError, match="Unknown stream_mode 'nope'"):
        graph.invoke({"log": []}, print_mode="nope")


def test_a_subgraph_breakpoint_is_reported_once_by_the_root() -> None:
    """#6: the subgraph pauses its parent; the pause shows in the root's updates only."""
    from actorgraph.checkpoint.memory import InMemorySaver

    inner = StateGraph(S)
    inner.add_node("i1", lambda s: {"n": 1})
    inner.add_node("i2", lambda s: {"n": 2})
    inner.add_edge(START, "i1")
    inner.add_edge("i1", "i2")
    g = StateGraph(S)
    g.add_node("inner", inner.compile(interrupt_before=["i2"]))
    g.add_edge(START, "inner")
    chunks = list(g.compile(checkpointer=InMemorySaver()).stream(INP, {"configurable": {"thread_id": "t"}}, subgraphs=True))
    assert [(len(ns), c) for ns, c in chunks] == [(1, {"i1": {"n": 1}}), (0, {"__interrupt__": ()})]
