"""Reading and editing a thread's saved state: get_state, get_state_history, update_state,
bulk_update_state, the "checkpoints"/"debug" stream items, and thread_id errors."""

from __future__ import annotations

import operator
from collections import Counter
from datetime import datetime
from typing import Annotated, Any, TypedDict

import anyio
import pytest

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.errors import ConfigError, InvalidUpdateError
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import Command, Interrupt, Overwrite, StateSnapshot, StateUpdate, interrupt

PULL = "__pregel_pull"


class S(TypedDict):
    x: Annotated[list, operator.add]
    y: str


class Sub(TypedDict):
    x: Annotated[list, operator.add]
    inner: str


def _cfg(thread: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


def _appender(name: str, calls: Counter) -> Any:
    def node(state: S) -> dict:
        calls[name] += 1
        return {"x": [name]}

    return node


def _chain(*names: str, **compile_kw: Any) -> tuple[Any, Counter]:
    """START -> names[0] -> ... -> names[-1]; each node appends its name to x."""
    calls: Counter = Counter()
    g = StateGraph(S)
    prev = START
    for n in names:
        g.add_node(n, _appender(n, calls))
        g.add_edge(prev, n)
        prev = n
    compile_kw.setdefault("checkpointer", InMemorySaver())
    return g.compile(**compile_kw), calls


def _asker() -> Any:
    """START -> a -> ask (interrupts) -> b."""

    def ask(state: S) -> dict:
        answer = interrupt({"q": "value?"})
        return {"x": [f"ask:{answer}"]}

    g = StateGraph(S).add_node("a", lambda s: {"x": ["a"]}).add_node("ask", ask).add_node("b", lambda s: {"x": ["b"]})
    g.add_edge(START, "a").add_edge("a", "ask").add_edge("ask", "b")
    return g.compile(checkpointer=InMemorySaver())


def _steps(history: list[StateSnapshot]) -> list[tuple[str, int, tuple[str, ...]]]:
    return [(s.metadata["source"], s.metadata["step"], s.next) for s in history]


# -- get_state ----------------------------------------------------------------------------


def test_get_state_of_a_finished_thread_points_at_its_last_checkpoint() -> None:
    app, _ = _chain("a", "b")
    cfg = _cfg("t")
    app.invoke({"x": ["in"]}, cfg)
    snap = app.get_state(cfg)
    history = list(app.get_state_history(cfg))
    assert snap.values == {"x": ["in", "a", "b"]}
    assert snap.next == ()
    assert snap.config == history[0].config
    conf = snap.config["configurable"]
    assert set(conf) == {"thread_id", "checkpoint_ns", "checkpoint_id"}
    assert (conf["thread_id"], conf["checkpoint_ns"]) == ("t", "")
    assert snap.metadata == {"source": "loop", "step": 2, "parents": {}}
    assert isinstance(snap.created_at, str)
    assert datetime.fromisoformat(snap.created_at).tzinfo is not None
    assert snap.parent_config == history[1].config
    assert snap.tasks == () and snap.interrupts == ()


@pytest.mark.anyio
async def test_get_state_while_the_run_is_in_progress_shows_the_running_step() -> None:
    started, release = anyio.Event(), anyio.Event()

    async def slow(state: S) -> dict:
        started.set()
        await release.wait()
        return {"x": ["b"]}

    g = StateGraph(S).add_node("a", lambda s: {"x": ["a"]}).add_node("b", slow)
    g.add_edge(START, "a").add_edge("a", "b")
    app = g.compile(checkpointer=InMemorySaver())
    cfg = _cfg("running")
    out: list[Any] = []

    async def run() -> None:
        out.append(await app.ainvoke({"x": ["in"]}, cfg))

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        with anyio.fail_after(5):
            await started.wait()
            while (snap := await app.aget_state(cfg)).next != ("b",):
                await anyio.sleep(0.01)
        release.set()
    assert snap.values == {"x": ["in", "a"]}
    assert snap.metadata == {"source": "loop", "step": 1, "parents": {}}
    assert [(t.name, t.path, t.error, t.interrupts, t.state, t.result) for t in snap.tasks] == [
        ("b", (PULL, "b"), None, (), None, None)
    ]
    assert out == [{"x": ["in", "a", "b"]}]


def test_get_state_of_an_interrupted_thread_lists_the_task_and_its_interrupt() -> None:
    app = _asker()
    cfg = _cfg("i")
    out = app.invoke({"x": ["in"]}, cfg)
    snap = app.get_state(cfg)
    (iv,) = out["__interrupt__"]
    assert snap.values == {"x": ["in", "a"]}
    assert snap.next == ("ask",)
    assert snap.metadata == {"source": "loop", "step": 1, "parents": {}}
    (task,) = snap.tasks
    assert isinstance(task.id, str) and len(task.id) == 36
    assert (task.name, task.path, task.error, task.state, task.result) == ("ask", (PULL, "ask"), None, None, None)
    assert task.interrupts == (Interrupt(value={"q": "value?"}, id=iv.id),)
    assert snap.interrupts == task.interrupts


def test_a_resumed_checkpoint_keeps_its_interrupt_and_gains_the_tasks_result() -> None:
    app = _asker()
    cfg = _cfg("i2")
    app.invoke({"x": ["in"]}, cfg)
    paused = app.get_state(cfg)
    (task,) = paused.tasks
    app.invoke(Command(resume="R"), cfg)
    past = app.get_state(paused.config)
    assert past.tasks == (task._replace(result={"x": ["ask:R"]}),)
    assert past.interrupts == task.interrupts
    assert app.get_state(cfg).interrupts == ()


def test_get_state_of_an_unknown_thread_is_an_empty_snapshot() -> None:
    app, _ = _chain("a")
    cfg = _cfg("nope")
    assert app.get_state(cfg) == StateSnapshot(
        values={}, next=(), config=cfg, metadata=None, created_at=None, parent_config=None, tasks=(), interrupts=()
    )
    assert list(app.get_state_history(cfg)) == []


def _parent_with_interrupting_child() -> Any:
    """Parent START -> pre -> child (subgraph START -> s1 -> s2, s2 interrupts)."""

    def s2(state: Sub) -> dict:
        return {"x": [f"s2:{interrupt('s2?')}"]}

    sub = StateGraph(Sub).add_node("s1", lambda s: {"inner": "I"}).add_node("s2", s2)
    sub.add_edge(START, "s1").add_edge("s1", "s2")
    g = StateGraph(S).add_node("pre", lambda s: {"x": ["pre"]}).add_node("child", sub.compile())
    g.add_edge(START, "pre").add_edge("pre", "child")
    return g.compile(checkpointer=InMemorySaver())


def test_get_state_names_an_interrupted_subgraph_by_namespace_or_expands_it_with_subgraphs() -> None:
    app = _parent_with_interrupting_child()
    cfg = _cfg("q")
    out = app.invoke({"x": []}, cfg)
    (iv,) = out["__interrupt__"]
    assert iv.value == "s2?"
    plain = app.get_state(cfg)
    (task,) = plain.tasks
    assert plain.next == ("child",) and task.name == "child"
    assert task.interrupts == (iv,) and plain.interrupts == (iv,)
    assert task.state == {"configurable": {"thread_id": "q", "checkpoint_ns": f"child:{task.id}"}}

    full = app.get_state(cfg, subgraphs=True)
    sub = full.tasks[0].state
    assert isinstance(sub, StateSnapshot)
    assert sub.values == {"x": ["pre"], "inner": "I"}
    assert sub.next == ("s2",)
    assert sub.config["configurable"]["checkpoint_ns"] == f"child:{task.id}"
    assert sub.config["configurable"]["thread_id"] == "q"
    assert sub.metadata == {
        "source": "loop",
        "step": 1,
        "parents": {"": plain.config["configurable"]["checkpoint_id"]},
    }
    assert [(t.name, t.interrupts) for t in sub.tasks] == [("s2", (iv,))]
    assert sub.interrupts == (iv,)
    # as LangGraph: the config maps each enclosing namespace to its checkpoint
    parent_id = plain.config["configurable"]["checkpoint_id"]
    ns = f"child:{task.id}"
    assert sub.config["configurable"]["checkpoint_map"] == {"": parent_id, ns: sub.config["configurable"]["checkpoint_id"]}
    assert sub.parent_config is not None
    assert sub.parent_config["configurable"]["checkpoint_map"] == {
        "": parent_id, ns: sub.parent_config["configurable"]["checkpoint_id"]
    }
    assert "checkpoint_map" not in plain.config["configurable"]
    streamed = [
        chunk["config"]["configurable"]
        for namespace, chunk in app.stream({"x": []}, _cfg("q2"), stream_mode="checkpoints", subgraphs=True)
        if namespace
    ]
    assert streamed and all(c["checkpoint_map"][c["checkpoint_ns"]] == c["checkpoint_id"] for c in streamed)
    assert all(set(c["checkpoint_map"]) == {"", c["checkpoint_ns"]} for c in streamed)


def test_get_state_and_history_accept_a_subgraph_namespace_config() -> None:
    app = _parent_with_interrupting_child()
    cfg = _cfg("q")
    app.invoke({"x": []}, cfg)
    ns_config = app.get_state(cfg).tasks[0].state
    sub = app.get_state(ns_config)
    assert sub.values == {"x": ["pre"], "inner": "I"}
    assert sub.next == ("s2",)
    assert sub.config["configurable"]["checkpoint_ns"] == ns_config["configurable"]["checkpoint_ns"]
    assert sub.config["configurable"]["checkpoint_id"] == (
        app.get_state(cfg, subgraphs=True).tasks[0].state.config["configurable"]["checkpoint_id"]
    )
    history = list(app.get_state_history(ns_config))
    assert _steps(history) == [("loop", 1, ("s2",)), ("loop", 0, ("s1",)), ("input", -1, ("__start__",))]
    # the parent's history holds only the parent's namespace
    assert {s.config["configurable"]["checkpoint_ns"] for s in app.get_state_history(cfg)} == {""}


# -- get_state_history --------------------------------------------------------------------


def test_get_state_history_is_newest_first_and_honours_limit_before_and_filter() -> None:
    app, _ = _chain("a", "b", "c")
    cfg = _cfg("h")
    app.invoke({"x": []}, cfg)
    history = list(app.get_state_history(cfg))
    assert _steps(history) == [
        ("loop", 3, ()),
        ("loop", 2, ("c",)),
        ("loop", 1, ("b",)),
        ("loop", 0, ("a",)),
        ("input", -1, ("__start__",)),
    ]
    assert [s.values for s in history] == [{"x": ["a", "b", "c"]}, {"x": ["a", "b"]}, {"x": ["a"]}, {"x": []}, {"x": []}]
    assert [s.parent_config for s in history] == [s.config for s in history[1:]] + [None]
    assert [s.metadata["step"] for s in app.get_state_history(cfg, limit=2)] == [3, 2]
    assert [s.metadata["step"] for s in app.get_state_history(cfg, before=history[2].config)] == [0, -1]
    assert [s.metadata["step"] for s in app.get_state_history(cfg, filter={"source": "input"})] == [-1]
    assert [s.metadata["step"] for s in app.get_state_history(cfg, filter={"step": 1})] == [1]
    # a past checkpoint's task carries the result its step produced
    assert [(t.name, t.result) for t in history[2].tasks] == [("b", {"x": ["b"]})]


def test_steps_continue_across_invokes_on_one_thread() -> None:
    app, _ = _chain("a", "b")
    cfg = _cfg("t1")
    app.invoke({"x": ["1"]}, cfg)
    first_final = app.get_state(cfg)
    assert app.invoke({"x": ["2"]}, cfg) == {"x": ["1", "a", "b", "2", "a", "b"]}
    history = list(app.get_state_history(cfg))
    assert _steps(history) == [
        ("loop", 6, ()),
        ("loop", 5, ("b",)),
        ("loop", 4, ("a",)),
        ("input", 3, ("__start__",)),
        ("loop", 2, ()),
        ("loop", 1, ("b",)),
        ("loop", 0, ("a",)),
        ("input", -1, ("__start__",)),
    ]
    second_input = history[3]
    assert second_input.values == {"x": ["1", "a", "b"]}
    assert second_input.parent_config == first_final.config
    assert [(t.name, t.result) for t in second_input.tasks] == [("__start__", {"x": ["2"]})]


# -- update_state ---------------------------------------------------------------------------


def test_update_state_without_as_node_on_a_paused_thread_acts_as_the_last_node() -> None:
    app, calls = _chain("a", "b", "c", interrupt_before=["b"])
    cfg = _cfg("u")
    app.invoke({"x": []}, cfg)
    before = app.get_state(cfg)
    returned = app.update_state(cfg, {"y": "Y", "x": ["u"]})
    conf = returned["configurable"]
    assert set(conf) == {"thread_id", "checkpoint_ns", "checkpoint_id"}
    after = app.get_state(cfg)
    assert after.config == returned
    assert after.values == {"x": ["a", "u"], "y": "Y"}
    assert after.next == ("b",)
    assert after.metadata == {"source": "update", "step": 2, "parents": {}}
    assert after.parent_config == before.config
    assert app.invoke(None, cfg) == {"x": ["a", "u", "b", "c"], "y": "Y"}
    assert calls == Counter(a=1, b=1, c=1)


def test_update_state_on_a_finished_thread_defaults_to_the_node_that_ran_last() -> None:
    app, calls = _chain("a", "b", "c")
    cfg = _cfg("fin")
    app.invoke({"x": []}, cfg)
    app.update_state(cfg, {"x": ["fin"]})
    snap = app.get_state(cfg)
    assert (snap.values, snap.next, snap.metadata) == (
        {"x": ["a", "b", "c", "fin"]},
        (),
        {"source": "update", "step": 4, "parents": {}},
    )
    app.invoke(None, cfg)  # nothing is pending: nothing runs
    assert calls == Counter(a=1, b=1, c=1)
    assert app.get_state(cfg).values == {"x": ["a", "b", "c", "fin"]}


def test_invoke_none_on_a_thread_with_nothing_pending_returns_its_values() -> None:
    app, calls = _chain("a")
    cfg = _cfg("idle")
    app.invoke({"x": []}, cfg)
    assert app.invoke(None, cfg) == {"x": ["a"]}
    assert list(app.stream(None, cfg, stream_mode="values")) == [{"x": ["a"]}]
    app.update_state(cfg, {"x": ["u"]})
    assert app.invoke(None, cfg) == {"x": ["a", "u"]}
    assert calls == Counter(a=1)
    assert len(list(app.get_state_history(cfg))) == 4  # no checkpoint from the idle runs


def test_update_state_as_node_counts_as_that_nodes_output_and_follows_its_edges() -> None:
    app, calls = _chain("a", "b", "c", interrupt_before=["b"])
    cfg = _cfg("asb")
    app.invoke({"x": []}, cfg)
    app.update_state(cfg, {"x": ["asb"]}, as_node="b")
    snap = app.get_state(cfg)
    assert (snap.next, snap.values) == (("c",), {"x": ["a", "asb"]})
    assert app.invoke(None, cfg) == {"x": ["a", "asb", "c"]}
    assert calls == Counter(a=1, c=1)  # b never ran

    # on a finished thread, updating as the first node schedules the rest again
    app.update_state(cfg, {"x": ["A"]}, as_node="a")
    assert app.get_state(cfg).next == ("b",)


def test_update_state_as_node_runs_that_nodes_router() -> None:
    routed: list[list[str]] = []

    def route(state: S) -> str:
        routed.append(list(state["x"]))
        return "c" if "goc" in state["x"] else "b"

    g = StateGraph(S).add_node("a", lambda s: {"x": ["a"]})
    g.add_node("b", lambda s: {"x": ["b"]}).add_node("c", lambda s: {"x": ["c"]})
    g.add_edge(START, "a").add_conditional_edges("a", route, ["b", "c"])
    app = g.compile(checkpointer=InMemorySaver(), interrupt_after=["a"])
    cfg = _cfg("r")
    app.invoke({"x": []}, cfg)
    assert app.get_state(cfg).next == ("b",)
    app.update_state(cfg, {"x": ["goc"]}, as_node="a")
    assert routed == [["a"], ["a", "goc"]]
    assert app.get_state(cfg).next == ("c",)
    assert app.invoke(None, cfg) == {"x": ["a", "goc", "c"]}


def test_update_state_without_as_node_is_ambiguous_after_parallel_last_writers() -> None:
    g = StateGraph(S).add_node("a1", lambda s: {"x": ["1"]}).add_node("a2", lambda s: {"x": ["2"]})
    g.add_edge(START, "a1").add_edge(START, "a2")
    app = g.compile(checkpointer=InMemorySaver())
    cfg = _cfg("amb")
    app.invoke({"x": []}, cfg)
    with pytest.raises(InvalidUpdateError) as info:
        app.update_state(cfg, {"x": ["u"]})
    assert "a1" in str(info.value) and "a2" in str(info.value)
    assert len(list(app.get_state_history(cfg))) == 3  # nothing written
    app.update_state(cfg, {"x": ["u"]}, as_node="a2")
    assert app.get_state(cfg).values == {"x": ["1", "2", "u"]}


def test_update_state_with_an_unknown_as_node_is_refused() -> None:
    app, _ = _chain("a")
    cfg = _cfg("unk")
    app.invoke({"x": []}, cfg)
    with pytest.raises(InvalidUpdateError, match="nope"):
        app.update_state(cfg, {"x": ["u"]}, as_node="nope")
    assert len(list(app.get_state_history(cfg))) == 3


def test_update_state_goes_through_reducers_unless_overwrite() -> None:
    app, _ = _chain("a")
    cfg = _cfg("red")
    app.invoke({"x": ["in"]}, cfg)
    app.update_state(cfg, {"x": ["r"]})
    assert app.get_state(cfg).values == {"x": ["in", "a", "r"]}
    app.update_state(cfg, {"x": Overwrite(["only"])})
    assert app.get_state(cfg).values == {"x": ["only"]}


def test_update_state_as_end_clears_whats_next() -> None:
    app, calls = _chain("a", "b", "c", interrupt_before=["b"])
    cfg = _cfg("end")
    app.invoke({"x": []}, cfg)
    app.update_state(cfg, None, as_node=END)
    snap = app.get_state(cfg)
    assert (snap.next, snap.tasks, snap.values) == ((), (), {"x": ["a"]})
    assert snap.metadata == {"source": "update", "step": 2, "parents": {}}
    app.invoke(None, cfg)
    assert calls == Counter(a=1)
    assert app.get_state(cfg).values == {"x": ["a"]}


def test_update_state_as_copy_forks_the_checkpoint() -> None:
    app, _ = _chain("a", "b")
    cfg = _cfg("copy")
    app.invoke({"x": []}, cfg)
    original = app.get_state(cfg)
    returned = app.update_state(cfg, None, as_node="__copy__")
    copy = app.get_state(cfg)
    assert copy.config == returned and copy.config != original.config
    assert copy.metadata == {"source": "fork", "step": 3, "parents": {}}
    assert copy.parent_config == original.parent_config  # a sibling of the copied checkpoint
    assert (copy.values, copy.next) == (original.values, original.next)


def test_update_state_as_input_restarts_the_graph_from_start() -> None:
    app, calls = _chain("a", "b")
    cfg = _cfg("inp")
    app.invoke({"x": []}, cfg)
    app.update_state(cfg, {"x": ["again"]}, as_node="__input__")
    snap = app.get_state(cfg)
    assert snap.metadata == {"source": "input", "step": 3, "parents": {}}
    assert snap.next == ("__start__",)
    assert snap.values == {"x": ["a", "b"]}
    assert app.invoke(None, cfg) == {"x": ["a", "b", "again", "a", "b"]}
    assert calls == Counter(a=2, b=2)


def test_bulk_update_state_writes_one_checkpoint_per_superstep() -> None:
    app, calls = _chain("a", "b", "c", interrupt_before=["b"])
    cfg = _cfg("bulk")
    app.invoke({"x": []}, cfg)
    paused = app.get_state(cfg)
    returned = app.bulk_update_state(
        cfg, [[StateUpdate({"x": ["s1"]}, "a")], [StateUpdate({"x": ["s2b"]}, "b")]]
    )
    history = list(app.get_state_history(cfg))
    assert history[0].config == returned
    assert [(s.metadata, s.next, s.values) for s in history[:2]] == [
        ({"source": "update", "step": 3, "parents": {}}, ("c",), {"x": ["a", "s1", "s2b"]}),
        ({"source": "update", "step": 2, "parents": {}}, ("b",), {"x": ["a", "s1"]}),
    ]
    assert history[1].parent_config == paused.config
    assert app.invoke(None, cfg) == {"x": ["a", "s1", "s2b", "c"]}
    assert calls == Counter(a=1, c=1)


def test_bulk_update_state_refuses_empty_or_unattributed_updates() -> None:
    app, _ = _chain("a")
    cfg = _cfg("bulkerr")
    app.invoke({"x": []}, cfg)
    with pytest.raises(ValueError):
        app.bulk_update_state(cfg, [])
    with pytest.raises(ValueError):
        app.bulk_update_state(cfg, [[]])
    with pytest.raises(InvalidUpdateError):
        app.bulk_update_state(cfg, [[StateUpdate({"x": ["1"]}), StateUpdate({"x": ["2"]})]])
    assert len(list(app.get_state_history(cfg))) == 3


# -- checkpoint stream items ----------------------------------------------------------------


@pytest.mark.anyio
async def test_checkpoints_stream_items_describe_each_saved_checkpoint() -> None:
    app, _ = _chain("a", "b")
    cfg = _cfg("cps")
    chunks = [c async for c in app.astream({"x": ["in"]}, cfg, stream_mode="checkpoints")]
    history = [s async for s in app.aget_state_history(cfg)][::-1]
    assert len(chunks) == len(history) == 4
    for chunk, snap in zip(chunks, history):
        assert set(chunk) == {"config", "parent_config", "values", "metadata", "next", "tasks"}
        assert chunk["config"]["configurable"] == snap.config["configurable"]
        assert chunk["parent_config"] == (
            None if snap.parent_config is None else {"configurable": dict(snap.parent_config["configurable"])}
        )
        assert chunk["values"] == snap.values
        assert chunk["metadata"] == snap.metadata
        assert chunk["next"] == list(snap.next)
        assert chunk["tasks"] == [{"id": t.id, "name": t.name, "interrupts": (), "state": None} for t in snap.tasks]
    assert [c["next"] for c in chunks] == [["__start__"], ["a"], ["b"], []]
    assert [c["values"] for c in chunks] == [{"x": []}, {"x": ["in"]}, {"x": ["in", "a"]}, {"x": ["in", "a", "b"]}]


def test_debug_stream_has_a_checkpoint_item_per_checkpoint_with_a_checkpointer() -> None:
    app, _ = _chain("a", "b")
    cfg = _cfg("dbg")
    items = list(app.stream({"x": []}, cfg, stream_mode=["debug", "checkpoints"]))
    debug = [c for m, c in items if m == "debug" and c["type"] == "checkpoint"]
    checkpoints = [c for m, c in items if m == "checkpoints"]
    assert [d["step"] for d in debug] == [-1, 0, 1, 2]
    assert [d["payload"] for d in debug] == checkpoints
    for d in debug:
        assert set(d) == {"step", "timestamp", "type", "payload"}
        assert d["payload"]["metadata"]["step"] == d["step"]
    # without a checkpointer there are no checkpoint items
    bare, _ = _chain("a", checkpointer=None)
    assert all(c["type"] != "checkpoint" for c in bare.stream({"x": []}, stream_mode="debug"))


# -- thread_id and checkpointer errors ------------------------------------------------------


@pytest.mark.anyio
async def test_a_missing_thread_id_is_a_config_error_everywhere() -> None:
    app, _ = _chain("a")
    for config in (None, {}, {"configurable": {}}):
        with pytest.raises(ConfigError):
            await app.ainvoke({"x": []}, config)
        with pytest.raises(ConfigError):
            [c async for c in app.astream({"x": []}, config)]
        with pytest.raises(ConfigError):
            await app.aget_state(config)
        with pytest.raises(ConfigError):
            await app.aupdate_state(config, {"x": ["u"]})
    assert issubclass(ConfigError, ValueError)


def test_a_missing_thread_id_is_a_config_error_in_sync_calls_too() -> None:
    app, _ = _chain("a")
    with pytest.raises(ConfigError, match="thread_id"):
        app.invoke({"x": []})
    with pytest.raises(ConfigError, match="thread_id"):
        list(app.stream({"x": []}, {"configurable": {}}))
    with pytest.raises(ConfigError, match="thread_id"):
        app.get_state({"configurable": {}})  # LangGraph raises KeyError here
    with pytest.raises(ConfigError, match="thread_id"):
        app.update_state({}, {"x": ["u"]})


def test_state_calls_without_a_checkpointer_are_config_errors() -> None:
    app, _ = _chain("a", checkpointer=None)
    assert app.invoke({"x": []}) == {"x": ["a"]}
    with pytest.raises(ConfigError, match="checkpointer"):
        app.get_state(_cfg("t"))
    with pytest.raises(ConfigError, match="checkpointer"):
        app.update_state(_cfg("t"), {"x": ["u"]})
