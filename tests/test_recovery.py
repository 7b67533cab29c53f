"""Recovery: a failed node retried from its saved step, time travel (replay and fork),
durability modes, a killed process resumed from its SQLite file, a cancelled run, and
resuming a thread on a changed graph."""

from __future__ import annotations

import importlib.util
import operator
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, TypedDict

import anyio
import pytest

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.checkpoint.sqlite import SqliteSaver
from actorgraph.errors import ConfigError
from actorgraph.graph import START, StateGraph
from actorgraph.types import Command, interrupt
from crash_helpers import run_until_then_kill

# a hang is a failure: fail fast instead of waiting for the suite-wide limit
pytestmark = pytest.mark.timeout(20)
HANG = 3  # seconds; every run here takes milliseconds


class S(TypedDict):
    x: Annotated[list, operator.add]


class Boom(Exception):
    pass


def _cfg(thread: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


def _counted(name: str, calls: Counter) -> Any:
    def node(state: Any) -> dict:
        calls[name] += 1
        return {"x": [name]}

    return node


def _abc(calls: Counter) -> Any:
    """START -> a -> b -> c; each node appends its name to x."""
    g = StateGraph(S)
    for n in ("a", "b", "c"):
        g.add_node(n, _counted(n, calls))
    g.add_edge(START, "a").add_edge("a", "b").add_edge("b", "c")
    return g.compile(checkpointer=InMemorySaver())


def _steps(app: Any, cfg: dict[str, Any]) -> list[tuple[str, int, tuple[str, ...]]]:
    return [(s.metadata["source"], s.metadata["step"], s.next) for s in app.get_state_history(cfg)]


# -- a failing node ---------------------------------------------------------------------------


def _flaky(calls: Counter) -> Any:
    """A node that raises on its first call only, once its sibling "sib" has finished."""

    async def flaky(state: S) -> dict:
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            with anyio.fail_after(HANG):
                while not calls["sib"]:
                    await anyio.sleep(0.002)
            await anyio.sleep(0.02)  # let the sibling's result reach the step first
            raise Boom("x")
        return {"x": ["flaky"]}

    return flaky


def _flaky_fan(calls: Counter) -> Any:
    """START -> flaky, sib (parallel) -> after; flaky raises on its first call only."""
    g = StateGraph(S).add_node("flaky", _flaky(calls)).add_node("sib", _counted("sib", calls))
    g.add_node("after", _counted("after", calls))
    g.add_edge(START, "flaky").add_edge(START, "sib").add_edge(["flaky", "sib"], "after")
    return g.compile(checkpointer=InMemorySaver())


@pytest.mark.anyio
async def test_a_failed_node_is_saved_with_its_error_and_only_it_is_rerun() -> None:
    calls: Counter = Counter()
    app = _flaky_fan(calls)
    cfg = _cfg("err")
    with anyio.fail_after(HANG):
        with pytest.raises(Boom) as info:
            await app.ainvoke({"x": []}, cfg)
    assert info.value.args == ("x",)
    snap = await app.aget_state(cfg)
    assert snap.next == ("flaky",)
    assert snap.values == {"x": ["sib"]}  # the sibling's saved write
    tasks = {t.name: t for t in snap.tasks}
    assert (tasks["flaky"].error, tasks["flaky"].result) == ("Boom('x')", None)
    assert (tasks["sib"].error, tasks["sib"].result) == (None, {"x": ["sib"]})
    assert _steps(app, cfg) == [("loop", 0, ("flaky", "sib")), ("input", -1, ("__start__",))]
    with anyio.fail_after(HANG):
        assert await app.ainvoke(None, cfg) == {"x": ["flaky", "sib", "after"]}
    assert calls == Counter(flaky=2, sib=1, after=1)


@pytest.mark.anyio
async def test_a_recovered_checkpoint_keeps_the_error_and_gains_the_result() -> None:
    calls: Counter = Counter()
    app = _flaky_fan(calls)
    cfg = _cfg("err2")
    with anyio.fail_after(HANG):
        with pytest.raises(Boom):
            await app.ainvoke({"x": []}, cfg)
        failed = (await app.aget_state(cfg)).config
        await app.ainvoke(None, cfg)
    flaky = next(t for t in (await app.aget_state(failed)).tasks if t.name == "flaky")
    assert (flaky.error, flaky.result) == ("Boom('x')", {"x": ["flaky"]})


@pytest.mark.anyio
async def test_a_node_that_fails_again_updates_its_saved_error_without_new_checkpoints() -> None:
    attempts: list[int] = []

    def bad(state: S) -> dict:
        attempts.append(1)
        raise ValueError(f"bad #{len(attempts)}")

    g = StateGraph(S).add_node("a", lambda s: {"x": ["a"]}).add_node("bad", bad)
    app = g.add_edge(START, "a").add_edge("a", "bad").compile(checkpointer=InMemorySaver())
    cfg = _cfg("bad")
    for n in (1, 2):
        with anyio.fail_after(HANG), pytest.raises(ValueError, match=f"bad #{n}"):
            await app.ainvoke(None if n == 2 else {"x": []}, cfg)
        snap = await app.aget_state(cfg)
        assert [(t.name, t.error) for t in snap.tasks] == [("bad", f"ValueError('bad #{n}')")]
    assert _steps(app, cfg) == [("loop", 1, ("bad",)), ("loop", 0, ("a",)), ("input", -1, ("__start__",))]


# -- time travel --------------------------------------------------------------------------------


def test_replaying_a_past_checkpoint_forks_it_and_reruns_the_later_nodes() -> None:
    calls: Counter = Counter()
    app = _abc(calls)
    cfg = _cfg("tt")
    app.invoke({"x": []}, cfg)
    old = list(app.get_state_history(cfg))
    after_a = next(s for s in old if s.next == ("b",))
    assert app.invoke(None, after_a.config) == {"x": ["a", "b", "c"]}
    assert calls == Counter(a=1, b=2, c=2)
    history = list(app.get_state_history(cfg))
    assert [(s.metadata["source"], s.metadata["step"], s.next) for s in history[:3]] == [
        ("loop", 4, ()),
        ("loop", 3, ("c",)),
        ("fork", 2, ("b",)),
    ]
    fork = history[2]
    assert fork.parent_config == after_a.config
    assert fork.values == after_a.values == {"x": ["a"]}
    assert [s.config for s in history[3:]] == [s.config for s in old]  # the old branch is kept
    assert app.get_state(cfg).config == history[0].config


def test_update_state_on_a_past_checkpoint_branches_from_it() -> None:
    calls: Counter = Counter()
    app = _abc(calls)
    cfg = _cfg("branch")
    app.invoke({"x": []}, cfg)
    after_a = next(s for s in app.get_state_history(cfg) if s.next == ("b",))
    returned = app.update_state(after_a.config, {"x": ["edit"]})
    edited = app.get_state(returned)
    assert edited.metadata == {"source": "update", "step": 2, "parents": {}}
    assert edited.parent_config == after_a.config
    assert (edited.next, edited.values) == (("b",), {"x": ["a", "edit"]})
    assert app.invoke(None, returned) == {"x": ["a", "edit", "b", "c"]}
    assert calls == Counter(a=1, b=2, c=2)
    # the update is already a branch of its own: the run continues from it, no fork
    history = list(app.get_state_history(cfg))
    assert _steps(app, cfg)[:3] == [("loop", 4, ()), ("loop", 3, ("c",)), ("update", 2, ("b",))]
    assert history[2].config == returned
    assert len(history) == 5 + 3


# -- durability ---------------------------------------------------------------------------------


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_sync_and_async_durability_save_every_step(durability: str) -> None:
    app = _abc(Counter())
    cfg = _cfg(durability)
    assert app.invoke({"x": []}, cfg, durability=durability) == {"x": ["a", "b", "c"]}
    assert [step for _, step, _ in _steps(app, cfg)] == [3, 2, 1, 0, -1]


def test_exit_durability_saves_only_the_final_checkpoint() -> None:
    app = _abc(Counter())
    cfg = _cfg("exit")
    chunks = list(app.stream({"x": []}, cfg, stream_mode="checkpoints", durability="exit"))
    assert len(chunks) == 5
    assert _steps(app, cfg) == [("loop", 3, ())]
    assert app.get_state(cfg).values == {"x": ["a", "b", "c"]}


def test_exit_durability_saves_an_interrupted_step_so_resume_works() -> None:
    def b(state: S) -> dict:
        return {"x": [f"b:{interrupt('q')}"]}

    g = StateGraph(S).add_node("a", lambda s: {"x": ["a"]}).add_node("b", b)
    app = g.add_edge(START, "a").add_edge("a", "b").compile(checkpointer=InMemorySaver())
    cfg = _cfg("exit-int")
    out = app.invoke({"x": []}, cfg, durability="exit")
    assert _steps(app, cfg) == [("loop", 1, ("b",))]
    assert app.get_state(cfg).interrupts == tuple(out["__interrupt__"])
    assert app.invoke(Command(resume="R"), cfg, durability="exit") == {"x": ["a", "b:R"]}
    assert [step for _, step, _ in _steps(app, cfg)] == [2, 1]


@pytest.mark.anyio
async def test_exit_durability_saves_a_failed_step_and_its_finished_siblings() -> None:
    calls: Counter = Counter()
    g = StateGraph(S).add_node("a", _counted("a", calls)).add_node("flaky", _flaky(calls))
    g.add_node("sib", _counted("sib", calls))
    g.add_edge(START, "a").add_edge("a", "flaky").add_edge("a", "sib")
    app = g.compile(checkpointer=InMemorySaver())
    cfg = _cfg("exit-err")
    with anyio.fail_after(HANG), pytest.raises(Boom):
        await app.ainvoke({"x": []}, cfg, durability="exit")
    assert _steps(app, cfg) == [("loop", 1, ("flaky", "sib"))]
    snap = await app.aget_state(cfg)
    assert snap.next == ("flaky",)
    assert snap.values == {"x": ["a", "sib"]}
    assert [(t.name, t.error) for t in snap.tasks] == [("flaky", "Boom('x')"), ("sib", None)]
    with anyio.fail_after(HANG):
        assert await app.ainvoke(None, cfg, durability="exit") == {"x": ["a", "flaky", "sib"]}
    assert calls == Counter(a=1, flaky=2, sib=1)


def test_an_unknown_durability_saves_as_async_as_in_langgraph() -> None:
    app = _abc(Counter())
    out = app.invoke({"x": []}, _cfg("bad-dur"), durability="never")  # type: ignore[arg-type]
    assert out == app.invoke({"x": []}, _cfg("good-dur"), durability="async")
    assert len(_steps(app, _cfg("bad-dur"))) == len(_steps(app, _cfg("good-dur")))


# -- a killed process ---------------------------------------------------------------------------

CRASH_GRAPH = '''
import operator, sys, time
from pathlib import Path
from typing import Annotated, TypedDict
from actorgraph.checkpoint.sqlite import SqliteSaver
from actorgraph.graph import START, StateGraph

class S(TypedDict):
    x: Annotated[list, operator.add]

def build(saver, work: Path):
    def mark(line):
        with open(work / "marker.txt", "a") as f:
            f.write(line + "\\n")

    def fast(name):
        def node(state):
            mark(name)
            return {"x": [name]}
        return node

    def slow(state):
        mark("slow")
        (work / "slow.ready").touch()
        deadline = time.monotonic() + 60
        while not (work / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return {"x": ["slow"]}

    g = StateGraph(S).add_node("first", fast("first")).add_node("slow", slow)
    if (work / "block-first").exists():
        g.add_edge(START, "slow").add_edge("slow", "first")
    else:
        g.add_node("f1", fast("f1")).add_node("f2", fast("f2")).add_node("after", fast("after"))
        g.add_edge(START, "first")
        for n in ("f1", "f2", "slow"):
            g.add_edge("first", n)
        g.add_edge(["f1", "f2", "slow"], "after")
    return g.compile(checkpointer=saver)

if __name__ == "__main__":
    work = Path(sys.argv[1])
    with SqliteSaver.from_conn_string(work / "state.db") as saver:
        build(saver, work).invoke({"x": ["in"]}, {"configurable": {"thread_id": "crash"}},
                                  durability=sys.argv[2])
'''


def _load_crash_module(work: Path) -> Any:
    path = work / "crash_graph.py"
    path.write_text(CRASH_GRAPH)
    spec = importlib.util.spec_from_file_location(f"crash_graph_{id(work)}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _query(db: Path, sql: str) -> list[Any]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []
    finally:
        conn.close()


def _run_until_then_kill(work: Path, durability: str, ready: Any) -> None:
    run_until_then_kill([str(work / "crash_graph.py"), str(work), durability], ready, "graph", timeout=8)


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_a_killed_process_resumes_without_rerunning_finished_tasks(tmp_path: Path, durability: str) -> None:
    module = _load_crash_module(tmp_path)
    db = tmp_path / "state.db"

    def fast_writes_saved() -> bool:
        # writes name their task by LangGraph's task path: "~__pregel_pull, <node>"
        names = {r[0].rpartition(", ")[2] for r in _query(db, "SELECT DISTINCT task_path FROM writes")}
        return (tmp_path / "slow.ready").exists() and {"f1", "f2"} <= names

    _run_until_then_kill(tmp_path, durability, fast_writes_saved)
    (tmp_path / "go").touch()  # the slow node finishes at once from now on
    cfg = _cfg("crash")
    with SqliteSaver.from_conn_string(db) as saver:
        app = module.build(saver, tmp_path)
        snap = app.get_state(cfg)
        assert snap.next == ("slow",)
        assert snap.values == {"x": ["in", "first", "f1", "f2"]}
        assert app.invoke(None, cfg) == {"x": ["in", "first", "f1", "f2", "slow", "after"]}
    lines = (tmp_path / "marker.txt").read_text().split()
    assert Counter(lines) == Counter(first=1, f1=1, f2=1, slow=2, after=1)


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_a_process_killed_in_its_first_step_keeps_the_accepted_input(tmp_path: Path, durability: str) -> None:
    module = _load_crash_module(tmp_path)
    (tmp_path / "block-first").touch()  # START -> slow -> first
    db = tmp_path / "state.db"

    def input_saved() -> bool:
        return (tmp_path / "slow.ready").exists() and bool(_query(db, "SELECT 1 FROM checkpoints"))

    _run_until_then_kill(tmp_path, durability, input_saved)
    (tmp_path / "go").touch()
    cfg = _cfg("crash")
    with SqliteSaver.from_conn_string(db) as saver:
        app = module.build(saver, tmp_path)
        assert app.invoke(None, cfg) == {"x": ["in", "slow", "first"]}
    assert Counter((tmp_path / "marker.txt").read_text().split()) == Counter(slow=2, first=1)


# -- a cancelled run ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_cancelled_run_keeps_the_writes_of_its_finished_tasks() -> None:
    calls: Counter = Counter()
    go = anyio.Event()

    async def slow(state: S) -> dict:
        calls["slow"] += 1
        await go.wait()
        return {"x": ["slow"]}

    g = StateGraph(S)
    for n in ("f1", "f2", "after"):
        g.add_node(n, _counted(n, calls))
    g.add_node("slow", slow)
    g.add_edge(START, "f1").add_edge(START, "f2").add_edge(START, "slow")
    g.add_edge(["f1", "f2", "slow"], "after")
    app = g.compile(checkpointer=InMemorySaver())
    cfg = _cfg("cancel")
    finished: list[Any] = []

    async def run(scope: anyio.CancelScope) -> None:
        with scope:
            finished.append(await app.ainvoke({"x": []}, cfg))

    scope = anyio.move_on_after(10)
    async with anyio.create_task_group() as tg:
        tg.start_soon(run, scope)
        with anyio.fail_after(5):
            while (await app.aget_state(cfg)).next != ("slow",):
                await anyio.sleep(0.005)
        scope.cancel()
    assert finished == [] and scope.cancelled_caught
    assert calls == Counter(f1=1, f2=1, slow=1)
    go.set()
    assert await app.ainvoke(None, cfg) == {"x": ["f1", "f2", "slow", "after"]}
    assert calls == Counter(f1=1, f2=1, slow=2, after=1)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the aiosqlite saver needs asyncio
async def test_a_stream_closed_early_keeps_the_write_it_streamed(tmp_path: Path) -> None:
    from actorgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async def quick(state: S) -> dict:
        return {"x": ["quick"]}

    async def slow(state: S) -> dict:
        await anyio.sleep(30)
        return {"x": ["slow"]}

    g = StateGraph(S)
    g.add_node("quick", quick).add_node("slow", slow).add_node("after", _counted("after", Counter()))
    g.add_edge(START, "quick").add_edge(START, "slow").add_edge("quick", "after")
    async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "t.db")) as saver:
        app = g.compile(checkpointer=saver)
        cfg = _cfg("closed")
        stream = app.astream({"x": []}, cfg)
        # the consumer stops at the first update: quick's write, whose storing is under
        # way, is kept (slow is cancelled; the next step never starts)
        assert await stream.__anext__() == {"quick": {"x": ["quick"]}}
        await stream.aclose()
        state = await app.aget_state(cfg)
    assert state.values == {"x": ["quick"]}
    assert state.next == ("slow",)


# -- a changed graph ----------------------------------------------------------------------------


class V1(TypedDict):
    x: Annotated[list, operator.add]
    old: str


class V2Added(TypedDict):
    x: Annotated[list, operator.add]
    old: str
    new: int


class V2Removed(TypedDict):
    x: Annotated[list, operator.add]


def _versioned(schema: Any, saver: Any, ask_name: str = "ask", after: str = "b", **compile_kw: Any) -> Any:
    """START -> a -> <ask_name> (interrupts) -> <after>."""

    def ask(state: Any) -> dict:
        answer = interrupt("q")
        if schema is V2Added:
            return {"x": [f"ask:{answer}:new={state.get('new')}"], "new": 1}
        if schema is V2Removed:
            return {"x": [f"ask:{answer}:keys={sorted(state)}"]}
        return {"x": [f"ask:{answer}"]}

    def a(state: Any) -> dict:
        return {"x": ["a"], "old": "O"} if "old" in schema.__annotations__ else {"x": ["a"]}

    g = StateGraph(schema).add_node("a", a).add_node(ask_name, ask).add_node(after, lambda s: {"x": [after]})
    g.add_edge(START, "a").add_edge("a", ask_name).add_edge(ask_name, after)
    return g.compile(checkpointer=saver, **compile_kw)


def _paused_on_v1(**compile_kw: Any) -> tuple[Any, dict[str, Any]]:
    saver = InMemorySaver()
    cfg = _cfg("m")
    out = _versioned(V1, saver, **compile_kw).invoke({"x": []}, cfg)
    assert out["x"] == ["a"] and out["old"] == "O"
    return saver, cfg


def test_an_interrupted_thread_resumes_on_a_graph_with_an_added_state_key() -> None:
    saver, cfg = _paused_on_v1()
    app = _versioned(V2Added, saver)
    assert app.get_state(cfg).next == ("ask",)
    assert app.invoke(Command(resume="R"), cfg) == {"x": ["a", "ask:R:new=None", "b"], "old": "O", "new": 1}


def test_an_interrupted_thread_resumes_on_a_graph_with_a_removed_state_key() -> None:
    saver, cfg = _paused_on_v1()
    app = _versioned(V2Removed, saver)
    assert app.get_state(cfg).values == {"x": ["a"]}
    assert app.invoke(Command(resume="R"), cfg) == {"x": ["a", "ask:R:keys=['x']", "b"]}


@pytest.mark.parametrize("paused_by", ["interrupt", "interrupt_before"])
def test_resuming_in_a_renamed_node_is_a_config_error_naming_it(paused_by: str) -> None:
    compile_kw = {"interrupt_before": ["ask"]} if paused_by == "interrupt_before" else {}
    saver, cfg = _paused_on_v1(**compile_kw)
    app = _versioned(V1, saver, ask_name="ask_renamed")
    before = len(list(app.get_state_history(cfg)))
    resume = Command(resume="R") if paused_by == "interrupt" else None
    with pytest.raises(ConfigError, match="'ask'"):  # LangGraph silently drops the pending work
        app.invoke(resume, cfg)
    with pytest.raises(ConfigError, match="'ask'"):
        app.invoke(None, cfg)
    assert len(list(app.get_state_history(cfg))) == before


def test_an_interrupted_thread_resumes_along_changed_edges() -> None:
    saver, cfg = _paused_on_v1()
    app = _versioned(V1, saver, after="c")
    assert app.invoke(Command(resume="R"), cfg) == {"x": ["a", "ask:R", "c"], "old": "O"}


def test_a_finished_thread_continues_on_a_graph_with_changed_edges() -> None:
    saver = InMemorySaver()
    cfg = _cfg("edges")
    calls: Counter = Counter()
    g1 = StateGraph(S).add_node("a", _counted("a", calls)).add_node("b", _counted("b", calls))
    g1.add_edge(START, "a").add_edge("a", "b").compile(checkpointer=saver).invoke({"x": []}, cfg)
    g2 = StateGraph(S).add_node("a", _counted("a", calls)).add_node("c", _counted("c", calls))
    app = g2.add_edge(START, "c").add_edge("c", "a").compile(checkpointer=saver)
    assert app.invoke({"x": ["2"]}, cfg) == {"x": ["a", "b", "2", "c", "a"]}
    assert calls == Counter(a=2, b=1, c=1)
    assert app.get_state(cfg).metadata["step"] == 6
