"""Checkpoint savers' shared contract, run over every saver: InMemorySaver, SqliteSaver (from
a connection string and from a ``sqlite3`` connection), AsyncSqliteSaver (asyncio only),
PostgresSaver (a connection, a pool, pipeline mode) and AsyncPostgresSaver (asyncio only).

Each behaviour is checked through a compiled StateGraph and through the saver API
(get_tuple, list, put, put_writes, delete_thread, copy_thread, prune and async twins), with
LangGraph 1.x's shapes (see the persistence probe report) as the reference.
"""

from __future__ import annotations

import contextlib
import operator
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from actorgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.checkpoint.sqlite import SqliteSaver
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import Command, Send, interrupt
from pg_helpers import open_async_postgres_saver, open_postgres_saver, pg_schema

# -- savers ----------------------------------------------------------------------------

SYNC_KINDS = ("memory", "sqlite_conn_string", "sqlite_connect", "postgres", "postgres_pool", "postgres_pipeline")


@contextlib.contextmanager
def open_saver(kind: str, path: Path) -> Iterator[Any]:
    if kind.startswith("postgres"):
        with pg_schema() as uri, open_postgres_saver(kind, uri) as saver:
            yield saver
    elif kind == "memory":
        yield InMemorySaver()
    elif kind == "sqlite_conn_string":
        with SqliteSaver.from_conn_string(str(path)) as saver:
            yield saver
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False)
        try:
            yield SqliteSaver(conn)
        finally:
            conn.close()


@contextlib.asynccontextmanager
async def open_async_saver(kind: str, path: Path) -> AsyncIterator[Any]:
    if kind == "async_sqlite":
        async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
            yield saver
    elif kind.startswith("async_postgres"):
        with pg_schema() as uri:
            async with open_async_postgres_saver(kind, uri) as saver:
                yield saver
    else:
        with open_saver(kind, path) as saver:
            yield saver


@pytest.fixture(params=SYNC_KINDS)
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    with open_saver(request.param, tmp_path / "state.db") as s:
        yield s


# aiosqlite and psycopg's async connections are bound to asyncio: AsyncSqliteSaver and
# AsyncPostgresSaver run on asyncio only (PostgresSaver's async calls run on both)
ASYNC_CASES = pytest.mark.parametrize(
    ("kind", "anyio_backend"),
    [
        ("memory", "asyncio"),
        ("memory", "trio"),
        ("sqlite_conn_string", "asyncio"),
        ("sqlite_conn_string", "trio"),
        ("async_sqlite", "asyncio"),
        ("postgres", "asyncio"),
        ("postgres", "trio"),
        ("async_postgres", "asyncio"),
        ("async_postgres_pool", "asyncio"),
        ("async_postgres_pipeline", "asyncio"),
    ],
)

# -- graphs ----------------------------------------------------------------------------


class State(TypedDict, total=False):
    x: Annotated[list, operator.add]
    y: str


def cfg(thread: Any, **configurable: Any) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread, **configurable}}


def chain(checkpointer: Any) -> Any:
    """START -> a -> b: a appends 'a' and sets y, b appends 'b'."""
    g = StateGraph(State)
    g.add_node("a", lambda s: {"x": ["a"], "y": "A"})
    g.add_node("b", lambda s: {"x": ["b"]})
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", END)
    return g.compile(checkpointer=checkpointer)


def with_child(checkpointer: Any, *, child_asks: bool = False, grow_to: int = 0) -> Any:
    """START -> pre -> child (subgraph s1 -> s2, s2 may interrupt) [-> grow loop]."""
    sub = StateGraph(State)
    sub.add_node("s1", lambda s: {"x": ["s1"]})
    sub.add_node("s2", lambda s: {"x": [f"s2:{interrupt('sub?')}" if child_asks else "s2"]})
    sub.add_edge(START, "s1")
    sub.add_edge("s1", "s2")
    sub.add_edge("s2", END)
    g = StateGraph(State)
    g.add_node("pre", lambda s: {"x": ["pre"], "y": "Y"})
    g.add_node("child", sub.compile())
    g.add_edge(START, "pre")
    g.add_edge("pre", "child")
    if grow_to:
        g.add_node("grow", lambda s: {"x": [f"g{len(s['x'])}"]})
        g.add_edge("child", "grow")
        g.add_conditional_edges("grow", lambda s: END if len(s["x"]) >= grow_to else "grow")
    else:
        g.add_edge("child", END)
    return g.compile(checkpointer=checkpointer)


def ids(tuples: Any) -> list[str]:
    return [t.config["configurable"]["checkpoint_id"] for t in tuples]


def steps(tuples: Any) -> list[tuple[str, int]]:
    return [(t.metadata["source"], t.metadata["step"]) for t in tuples]


CHECKPOINT_KEYS = {"v", "id", "ts", "channel_values", "channel_versions", "versions_seen", "updated_channels"}

# -- through a compiled graph -------------------------------------------------------------


def test_run_saves_an_input_checkpoint_then_one_per_step(saver: Any) -> None:
    """Steps -1 (input), 0, 1, 2 with parents {}; each parent_config is the previous one;
    a second run on the thread continues the count with an input checkpoint at step 3."""
    app = chain(saver)
    assert app.invoke({"x": ["in"]}, cfg("t")) == {"x": ["in", "a", "b"], "y": "A"}
    history = list(saver.list(cfg("t")))
    assert steps(history) == [("loop", 2), ("loop", 1), ("loop", 0), ("input", -1)]
    assert [t.metadata["parents"] for t in history] == [{}, {}, {}, {}]
    assert [t.parent_config for t in history] == [
        {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": cid}} for cid in ids(history)[1:]
    ] + [None]
    assert [t.checkpoint["channel_values"] for t in history] == [
        {"x": ["in", "a", "b"], "y": "A"},
        {"x": ["in", "a"], "y": "A", "branch:to:b": None},
        {"x": ["in"], "branch:to:a": None},
        {"__start__": {"x": ["in"]}},
    ]

    assert app.invoke({"x": ["2"]}, cfg("t")) == {"x": ["in", "a", "b", "2", "a", "b"], "y": "A"}
    history = list(saver.list(cfg("t")))
    assert steps(history)[:4] == [("loop", 6), ("loop", 5), ("loop", 4), ("input", 3)]
    assert len(history) == 8
    assert history[3].checkpoint["channel_values"]["x"] == ["in", "a", "b"]
    assert history[3].parent_config == history[4].config


def test_get_tuple_returns_the_latest_or_the_named_checkpoint(saver: Any) -> None:
    """get_tuple(thread) is the newest CheckpointTuple; with a checkpoint_id it is that one,
    whose pending_writes are (task_id, channel, value) of the tasks run from it."""
    app = chain(saver)
    app.invoke({"x": ["in"]}, cfg("t"))
    latest = saver.get_tuple(cfg("t"))
    newest = next(iter(saver.list(cfg("t"))))
    assert latest.config == newest.config
    assert latest.config["configurable"]["thread_id"] == "t"
    assert latest.config["configurable"]["checkpoint_ns"] == ""
    assert set(latest.checkpoint) == CHECKPOINT_KEYS
    assert isinstance(latest.checkpoint["v"], int)
    assert latest.checkpoint["id"] == latest.config["configurable"]["checkpoint_id"]
    assert isinstance(latest.checkpoint["ts"], str) and latest.checkpoint["ts"].endswith("+00:00")
    assert latest.checkpoint["channel_values"] == {"x": ["in", "a", "b"], "y": "A"}
    assert set(latest.checkpoint["channel_versions"]) >= {"x", "y"}
    assert set(latest.checkpoint["versions_seen"]) >= {"a", "b"}
    assert latest.metadata == {"source": "loop", "step": 2, "parents": {}}
    assert latest.pending_writes == []

    mid_cfg = latest.parent_config
    mid = saver.get_tuple(mid_cfg)
    assert mid.config == mid_cfg
    assert mid.metadata == {"source": "loop", "step": 1, "parents": {}}
    assert mid.checkpoint["channel_values"] == {"x": ["in", "a"], "y": "A", "branch:to:b": None}
    (task,) = app.get_state(mid_cfg).tasks
    assert task.name == "b"
    assert mid.pending_writes == [(task.id, "x", ["b"])]
    assert all(isinstance(w, tuple) and len(w) == 3 for w in mid.pending_writes)
    assert saver.get_tuple(cfg("t", checkpoint_ns="", checkpoint_id="no-such-id")) is None
    assert saver.get_tuple(cfg("unknown-thread")) is None


def test_updated_channels_are_the_channels_the_step_wrote(saver: Any) -> None:
    """updated_channels lists what the step's tasks wrote, not trigger channels it consumed
    (LangGraph: ['x'] / ['branch:to:b','x','y'] / ['branch:to:a','x'] / ['__start__'])."""
    chain(saver).invoke({"x": ["in"]}, cfg("t"))
    assert [t.checkpoint["updated_channels"] for t in saver.list(cfg("t"))] == [
        ["x"],
        ["branch:to:b", "x", "y"],
        ["branch:to:a", "x"],
        ["__start__"],
    ]


def test_list_is_newest_first_with_limit_and_exclusive_before(saver: Any) -> None:
    """list(config) is newest first; limit=2 gives the two newest; before= is exclusive."""
    chain(saver).invoke({"x": ["in"]}, cfg("t"))
    everything = list(saver.list(cfg("t")))
    assert len(everything) == 4
    assert ids(everything) == sorted(ids(everything), reverse=True)
    assert ids(saver.list(cfg("t"), limit=2)) == ids(everything)[:2]
    assert ids(saver.list(cfg("t"), before=everything[1].config)) == ids(everything)[2:]
    assert ids(saver.list(cfg("t"), before=everything[1].config, limit=1)) == ids(everything)[2:3]
    assert list(saver.list(cfg("unknown-thread"))) == []


def test_list_filters_on_metadata_across_threads(saver: Any) -> None:
    """list(None, filter={'source': 'input'}) searches every thread; custom metadata from
    config['metadata'] and extra configurable keys is stored and filterable."""
    app = chain(saver)
    app.invoke({"x": ["1"]}, {"configurable": {"thread_id": "t1", "model": "m"}, "metadata": {"user": "u1"}})
    app.invoke({"x": ["2"]}, {"configurable": {"thread_id": "t2"}, "metadata": {"user": "u2"}})
    inputs = list(saver.list(None, filter={"source": "input"}))
    assert sorted(t.config["configurable"]["thread_id"] for t in inputs) == ["t1", "t2"]
    assert all(t.metadata["step"] == -1 for t in inputs)
    u1 = list(saver.list(None, filter={"user": "u1"}))
    assert steps(u1) == [("loop", 2), ("loop", 1), ("loop", 0), ("input", -1)]
    assert {t.config["configurable"]["thread_id"] for t in u1} == {"t1"}
    assert u1[0].metadata == {"source": "loop", "step": 2, "parents": {}, "model": "m", "user": "u1"}
    assert steps(saver.list(None, filter={"user": "u2", "step": 1})) == [("loop", 1)]
    assert len(list(saver.list(None, filter={"source": "loop"}, limit=3))) == 3
    assert list(saver.list(cfg("t1"), filter={"user": "u2"})) == []


def test_subgraph_checkpoints_have_their_own_namespace_and_parents(saver: Any) -> None:
    """A subgraph's checkpoints are listed under 'child:<task id>' with parents naming the
    parent's checkpoint; list(thread) shows every namespace, checkpoint_ns='' only the root."""
    app = with_child(saver)
    assert app.invoke({"x": []}, cfg("p")) == {"x": ["pre", "pre", "s1", "s2"], "y": "Y"}
    everything = list(saver.list(cfg("p")))
    namespaces = {t.config["configurable"]["checkpoint_ns"] for t in everything}
    (child_ns,) = namespaces - {""}
    assert child_ns.startswith("child:")
    root = list(saver.list(cfg("p", checkpoint_ns="")))
    child = list(saver.list(cfg("p", checkpoint_ns=child_ns)))
    assert len(root) + len(child) == len(everything)
    assert steps(child) == [("loop", 2), ("loop", 1), ("loop", 0), ("input", -1)]
    step1 = next(t for t in root if t.metadata["step"] == 1)  # the step that runs child
    assert [t.metadata["parents"] for t in child] == [{"": step1.config["configurable"]["checkpoint_id"]}] * 4
    assert child[0].checkpoint["channel_values"]["x"] == ["pre", "s1", "s2"]


def test_thread_id_given_as_int_is_stored_as_str(saver: Any) -> None:
    """thread_id=7 runs, is saved under '7', and reads back with 7 or '7'."""
    app = chain(saver)
    app.invoke({"x": ["in"]}, cfg(7))
    assert [t.config["configurable"]["thread_id"] for t in saver.list(None)] == ["7"] * 4
    assert saver.get_tuple(cfg(7)).config == saver.get_tuple(cfg("7")).config
    assert app.get_state(cfg(7)).config["configurable"]["thread_id"] == "7"
    assert app.invoke({"x": ["again"]}, cfg("7"))["x"] == ["in", "a", "b", "again", "a", "b"]


def test_a_long_thread_does_not_use_up_later_runs_recursion_limit(saver: Any) -> None:
    """Each run gets recursion_limit steps of its own: 30 one-step runs on one thread work
    with the default limit of 25 (steps keep counting across runs)."""
    app = chain(saver)
    for i in range(30):
        app.invoke({"x": [i]}, cfg("long"))
    assert saver.get_tuple(cfg("long")).metadata["step"] == 30 * 4 - 2


# -- through the saver API --------------------------------------------------------------

CP1, CP2 = "1f000000-0000-6000-8000-000000000001", "1f000000-0000-6000-8000-000000000002"


def _checkpoint(cid: str, values: dict[str, Any], versions: dict[str, int]) -> dict[str, Any]:
    return {
        "v": 1,
        "id": cid,
        "ts": "2026-01-01T00:00:00+00:00",
        "channel_values": values,
        "channel_versions": versions,
        "versions_seen": {"a": {"x": 1}},
    }


def test_put_and_put_writes_round_trip(saver: Any) -> None:
    """put stores a checkpoint (values of channels in new_versions, the rest from the
    parent); put_writes stores pending writes; get_tuple/list give them back."""
    meta = {"source": "update", "step": 0, "parents": {}, "note": "first"}
    first = _checkpoint(CP1, {"x": [1, 2], "y": "one"}, {"x": 1, "y": 1})
    c1 = saver.put(cfg("api", checkpoint_ns=""), first, meta, {"x": 1, "y": 1})
    assert c1 == {"configurable": {"thread_id": "api", "checkpoint_ns": "", "checkpoint_id": CP1}}
    saver.put_writes(c1, [("x", [3]), ("y", "two")], task_id="task-1")
    got = saver.get_tuple(c1)
    assert got.checkpoint["channel_values"] == {"x": [1, 2], "y": "one"}
    assert got.checkpoint["channel_versions"] == {"x": 1, "y": 1}
    assert got.checkpoint["versions_seen"] == {"a": {"x": 1}}
    assert got.metadata == meta
    assert got.parent_config is None
    assert got.pending_writes == [("task-1", "x", [3]), ("task-1", "y", "two")]

    meta2 = {"source": "loop", "step": 1, "parents": {}}
    c2 = saver.put(c1, _checkpoint(CP2, {"x": [1, 2, 3], "y": "one"}, {"x": 2, "y": 1}), meta2, {"x": 2})
    latest = saver.get_tuple(cfg("api"))
    assert latest.config == c2
    assert latest.parent_config == c1
    assert latest.checkpoint["channel_values"] == {"x": [1, 2, 3], "y": "one"}
    assert latest.pending_writes == []
    assert [t.metadata for t in saver.list(cfg("api"))] == [meta2, meta]
    assert saver.get_tuple(c1).pending_writes == [("task-1", "x", [3]), ("task-1", "y", "two")]


def test_delete_thread_removes_every_namespace(saver: Any) -> None:
    """delete_thread drops the thread's root and subgraph checkpoints and writes; other
    threads stay; deleting an unknown thread is a no-op."""
    app = with_child(saver)
    app.invoke({"x": []}, cfg("t1"))
    app.invoke({"x": []}, cfg("t2"))
    t1 = list(saver.list(cfg("t1")))
    (child_ns,) = {t.config["configurable"]["checkpoint_ns"] for t in t1} - {""}
    before_t2 = ids(saver.list(cfg("t2")))
    saver.delete_thread("t1")
    assert list(saver.list(cfg("t1"))) == []
    assert saver.get_tuple(cfg("t1")) is None
    assert saver.get_tuple(cfg("t1", checkpoint_ns=child_ns)) is None
    assert app.get_state(cfg("t1")).values == {}
    assert ids(saver.list(cfg("t2"))) == before_t2
    saver.delete_thread("never-existed")
    assert ids(saver.list(None)) == before_t2
    assert app.invoke({"x": ["new"]}, cfg("t1"))["x"] == ["new", "pre", "new", "pre", "s1", "s2"]


def test_copy_thread_copies_every_namespace_and_the_copy_resumes_independently(saver: Any) -> None:
    """A thread paused inside a subgraph, copied, resumes on both ids with different
    answers; neither run shows in the other's history."""
    app = with_child(saver, child_asks=True)
    out = app.invoke({"x": []}, cfg("src"))
    assert out["x"] == ["pre"] and len(out["__interrupt__"]) == 1
    saver.copy_thread("src", "dst")
    src_list, dst_list = list(saver.list(cfg("src"))), list(saver.list(cfg("dst")))
    assert ids(dst_list) == ids(src_list)
    assert [t.config["configurable"]["checkpoint_ns"] for t in dst_list] == [
        t.config["configurable"]["checkpoint_ns"] for t in src_list
    ]
    assert [t.pending_writes for t in dst_list] == [t.pending_writes for t in src_list]
    assert app.get_state(cfg("dst")).next == ("child",)

    assert app.invoke(Command(resume="D"), cfg("dst"))["x"] == ["pre", "pre", "s1", "s2:D"]
    assert app.get_state(cfg("src")).next == ("child",)
    assert app.invoke(Command(resume="S"), cfg("src"))["x"] == ["pre", "pre", "s1", "s2:S"]
    assert app.get_state(cfg("dst")).values["x"] == ["pre", "pre", "s1", "s2:D"]
    src_values = [t.checkpoint["channel_values"].get("x") for t in saver.list(cfg("src"))]
    assert not any("s2:D" in (v or []) for v in src_values)


def test_prune_takes_langgraphs_strategy_names(saver: Any) -> None:
    """strategy="keep_latest" keeps one checkpoint per namespace, "delete" drops the
    thread; another strategy is a ValueError naming it, and changes nothing."""
    app = with_child(saver, grow_to=5)
    for thread in ("a", "b"):
        app.invoke({"x": []}, {**cfg(thread), "recursion_limit": 100})
    with pytest.raises(ValueError, match="'newest'"):
        saver.prune(["a"], strategy="newest")
    assert len(list(saver.list(cfg("a")))) > 2
    values = app.get_state(cfg("a")).values
    saver.prune(["a"], strategy="keep_latest")
    assert len(list(saver.list(cfg("a", checkpoint_ns="")))) == 1
    assert app.get_state(cfg("a")).values == values
    saver.prune(["b"], strategy="delete")
    assert list(saver.list(cfg("b"))) == []
    assert app.get_state(cfg("a")).values == values


def test_prune_keeps_n_checkpoints_per_namespace_and_they_read_back_in_full(saver: Any) -> None:
    """prune(thread, keep_last=3) leaves 3 checkpoints in the root and in the subgraph
    namespace; each kept one reads back the values history showed before (their deltas'
    bases and unchanged channels' writers were deleted), and the thread continues."""
    app = with_child(saver, grow_to=60)
    app.invoke({"x": []}, {**cfg("p"), "recursion_limit": 100})
    history = {s.config["configurable"]["checkpoint_id"]: s.values for s in app.get_state_history(cfg("p"))}
    before = {
        t.config["configurable"]["checkpoint_id"]: t.checkpoint["channel_values"] for t in saver.list(cfg("p"))
    }
    assert len(history) > 50
    saver.prune(["p"], keep_last=3)
    kept = list(saver.list(cfg("p")))
    by_ns: dict[str, int] = {}
    for t in kept:
        ns = t.config["configurable"]["checkpoint_ns"]
        by_ns[ns] = by_ns.get(ns, 0) + 1
    assert sorted(by_ns.values()) == [3, 3] and "" in by_ns
    for t in kept:
        assert t.checkpoint["channel_values"] == before[t.config["configurable"]["checkpoint_id"]]
    root = [t for t in kept if t.config["configurable"]["checkpoint_ns"] == ""]
    oldest = root[-1].config
    assert app.get_state(oldest).values == history[oldest["configurable"]["checkpoint_id"]]
    assert len(app.get_state(oldest).values["x"]) == 58
    assert app.get_state(cfg("p")).values["y"] == "Y"
    final = app.get_state(cfg("p")).values["x"]
    out = app.invoke({"x": ["more"]}, {**cfg("p"), "recursion_limit": 100})
    assert out["x"][: len(final) + 2] == [*final, "more", "pre"]
    assert len(list(saver.list(cfg("p", checkpoint_ns="")))) > 3


# -- async twins -------------------------------------------------------------------------


async def alist(saver: Any, config: Any, **kw: Any) -> list[Any]:
    return [t async for t in saver.alist(config, **kw)]


@ASYNC_CASES
@pytest.mark.anyio
async def test_async_run_saves_steps_and_reads_back(kind: str, tmp_path: Path) -> None:
    """ainvoke saves input + one checkpoint per step; aget_tuple/alist give the same
    shapes as the sync API, with limit, exclusive before and metadata filters."""
    async with open_async_saver(kind, tmp_path / "state.db") as saver:
        app = chain(saver)
        out = await app.ainvoke({"x": ["in"]}, {"configurable": {"thread_id": "t1"}, "metadata": {"user": "u1"}})
        assert out == {"x": ["in", "a", "b"], "y": "A"}
        await app.ainvoke({"x": ["2"]}, cfg("t2"))
        history = await alist(saver, cfg("t1"))
        assert steps(history) == [("loop", 2), ("loop", 1), ("loop", 0), ("input", -1)]
        assert history[0].metadata == {"source": "loop", "step": 2, "parents": {}, "user": "u1"}
        latest = await saver.aget_tuple(cfg("t1"))
        assert latest.config == history[0].config
        assert set(latest.checkpoint) == CHECKPOINT_KEYS
        assert latest.checkpoint["channel_values"] == {"x": ["in", "a", "b"], "y": "A"}
        mid = await saver.aget_tuple(latest.parent_config)
        assert mid.config == history[1].config
        (task,) = (await app.aget_state(mid.config)).tasks
        assert mid.pending_writes == [(task.id, "x", ["b"])]
        assert ids(await alist(saver, cfg("t1"), limit=2)) == ids(history)[:2]
        assert ids(await alist(saver, cfg("t1"), before=history[1].config)) == ids(history)[2:]
        inputs = await alist(saver, None, filter={"source": "input"})
        assert sorted(t.config["configurable"]["thread_id"] for t in inputs) == ["t1", "t2"]
        assert ids(await alist(saver, None, filter={"user": "u1"})) == ids(history)
        assert await saver.aget_tuple(cfg("nobody")) is None


@ASYNC_CASES
@pytest.mark.anyio
async def test_aput_and_aput_writes_round_trip(kind: str, tmp_path: Path) -> None:
    """aput stores a checkpoint and a child of it (values of unchanged channels come from
    the parent); aput_writes stores pending writes; aget_tuple/alist read them back."""
    async with open_async_saver(kind, tmp_path / "state.db") as saver:
        meta = {"source": "update", "step": 0, "parents": {}}
        first = _checkpoint(CP1, {"x": [1], "y": "one"}, {"x": 1, "y": 1})
        c1 = await saver.aput(cfg("api", checkpoint_ns=""), first, meta, {"x": 1, "y": 1})
        assert c1 == {"configurable": {"thread_id": "api", "checkpoint_ns": "", "checkpoint_id": CP1}}
        await saver.aput_writes(c1, [("x", [2])], task_id="task-1")
        got = await saver.aget_tuple(c1)
        assert got.checkpoint["channel_values"] == {"x": [1], "y": "one"}
        assert got.metadata == meta
        assert got.pending_writes == [("task-1", "x", [2])]
        meta2 = {"source": "loop", "step": 1, "parents": {}}
        c2 = await saver.aput(c1, _checkpoint(CP2, {"x": [1, 2], "y": "one"}, {"x": 2, "y": 1}), meta2, {"x": 2})
        latest = await saver.aget_tuple(cfg("api"))
        assert (latest.config, latest.parent_config) == (c2, c1)
        assert latest.checkpoint["channel_values"] == {"x": [1, 2], "y": "one"}
        assert [t.metadata for t in await alist(saver, cfg("api"))] == [meta2, meta]


@ASYNC_CASES
@pytest.mark.anyio
async def test_acopy_thread_resumes_independently_and_adelete_thread_empties(kind: str, tmp_path: Path) -> None:
    """acopy_thread copies a thread paused in a subgraph (every namespace); both resume
    with their own answers; adelete_thread empties one, unknown threads are a no-op."""
    async with open_async_saver(kind, tmp_path / "state.db") as saver:
        app = with_child(saver, child_asks=True)
        assert (await app.ainvoke({"x": []}, cfg("src")))["x"] == ["pre"]
        await saver.acopy_thread("src", "dst")
        src_list = await alist(saver, cfg("src"))
        assert ids(await alist(saver, cfg("dst"))) == ids(src_list)
        assert len({t.config["configurable"]["checkpoint_ns"] for t in src_list}) == 2
        assert (await app.ainvoke(Command(resume="D"), cfg("dst")))["x"] == ["pre", "pre", "s1", "s2:D"]
        assert (await app.aget_state(cfg("src"))).next == ("child",)
        assert (await app.ainvoke(Command(resume="S"), cfg("src")))["x"] == ["pre", "pre", "s1", "s2:S"]
        await saver.adelete_thread("src")
        assert await alist(saver, cfg("src")) == []
        assert await saver.aget_tuple(cfg("src")) is None
        dst = await saver.aget_tuple(cfg("dst"))
        assert dst.checkpoint["channel_values"]["x"] == ["pre", "pre", "s1", "s2:D"]
        await saver.adelete_thread("never-existed")
        assert {t.config["configurable"]["thread_id"] for t in await alist(saver, None)} == {"dst"}


@ASYNC_CASES
@pytest.mark.anyio
async def test_aprune_keeps_n_per_namespace_readable(kind: str, tmp_path: Path) -> None:
    """aprune(keep_last=2) leaves 2 checkpoints per namespace that read back the values
    they had before, and the thread runs on from them."""
    async with open_async_saver(kind, tmp_path / "state.db") as saver:
        app = with_child(saver, grow_to=45)
        await app.ainvoke({"x": []}, {**cfg("p"), "recursion_limit": 100})
        before = {ids([t])[0]: t.checkpoint["channel_values"] for t in await alist(saver, cfg("p"))}
        await saver.aprune("p", keep_last=2)
        kept = await alist(saver, cfg("p"))
        namespaces = [t.config["configurable"]["checkpoint_ns"] for t in kept]
        assert len(kept) == 4 and namespaces.count("") == 2 and len(set(namespaces)) == 2
        for t in kept:
            assert t.checkpoint["channel_values"] == before[ids([t])[0]]
        final = (await app.aget_state(cfg("p"))).values
        assert len(final["x"]) == 45 and final["y"] == "Y"
        out = await app.ainvoke({"x": ["more"]}, {**cfg("p"), "recursion_limit": 100})
        assert out["x"][:47] == [*final["x"], "more", "pre"]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_async_sqlite_sync_methods_work_from_other_threads_only(tmp_path: Path) -> None:
    """AsyncSqliteSaver's sync methods work from a worker thread; on its own event loop
    they are refused with a message pointing to the async methods."""
    import anyio.to_thread

    async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "state.db")) as saver:
        await chain(saver).ainvoke({"x": ["in"]}, cfg("t"))
        from_thread = await anyio.to_thread.run_sync(saver.get_tuple, cfg("t"))
        assert from_thread == await saver.aget_tuple(cfg("t"))
        assert len(await anyio.to_thread.run_sync(lambda: list(saver.list(cfg("t"))))) == 4
        with pytest.raises(RuntimeError, match="aget_tuple"):
            saver.get_tuple(cfg("t"))


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_async_sqlite_concurrent_runs_beside_another_writer_never_lock(tmp_path: Path) -> None:
    """Many runs at once on one AsyncSqliteSaver while another connection writes to the
    same file (a store, a server's records): none fails with "database is locked". A read
    left open on the saver's connection between two of its calls would pin an old
    snapshot, and another run's BEGIN IMMEDIATE on it would then fail at once."""
    import aiosqlite
    import anyio

    path = tmp_path / "shared.db"
    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver, aiosqlite.connect(
        str(path), isolation_level=None
    ) as other:
        await saver.setup()
        await other.execute("PRAGMA busy_timeout=30000")
        await other.execute("CREATE TABLE IF NOT EXISTS other (n INTEGER)")
        app = chain(saver)
        done = anyio.Event()
        failures: list[BaseException] = []

        async def keep_writing() -> None:
            while not done.is_set():
                await other.execute("INSERT INTO other VALUES (1)")
                await anyio.sleep(0)

        async def run(i: int) -> None:
            try:
                for j in range(3):
                    out = await app.ainvoke({"x": [str(j)]}, cfg(f"t{i}"))
                    assert out["x"][-2:] == ["a", "b"]
                    assert len(await alist(saver, cfg(f"t{i}"))) == 4 * (j + 1)
            except Exception as exc:  # collect them all, to name the first
                failures.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(keep_writing)
            async with anyio.create_task_group() as runs:
                for i in range(40):
                    runs.start_soon(run, i)
            done.set()
        assert failures == []
        assert len(await alist(saver, cfg("t7"))) == 3 * 4  # 3 runs of an input checkpoint + 3 steps


def test_a_checkpoint_of_layout_below_4_reads_its_parents_sends_as_pending_sends(saver: Any) -> None:
    """A checkpoint LangGraph stored before layout 4 (v < 4) kept its pending Sends as its
    parent's writes to __pregel_tasks: the Postgres savers' get_tuple and list show them in
    its channel values (with a version), as LangGraph's PostgresSaver reads it; the parent
    itself shows none. The in-memory and SQLite savers, like LangGraph's, leave it as stored."""
    from actorgraph.checkpoint.base import create_checkpoint, empty_checkpoint

    tasks = "__pregel_tasks"
    config = saver.put(cfg("old", checkpoint_ns=""), {**empty_checkpoint(), "v": 3}, {}, {})
    saver.put_writes(config, [(tasks, "send-1"), (tasks, "send-2")], task_id="task-1")
    saver.put_writes(config, [(tasks, "send-3")], task_id="task-2")
    assert saver.get_tuple(config).checkpoint["channel_values"] == {}
    child = saver.put(config, {**create_checkpoint(empty_checkpoint(), {}, 1), "v": 3}, {}, {})
    got = saver.get_tuple(child).checkpoint
    if not type(saver).__name__.startswith("Postgres"):
        assert got["channel_values"] == {} and tasks not in got["channel_versions"]
        return
    assert got["channel_values"] == {tasks: ["send-1", "send-2", "send-3"]} and tasks in got["channel_versions"]
    listed = list(saver.list(cfg("old")))
    assert [t.checkpoint["channel_values"] for t in listed] == [{tasks: ["send-1", "send-2", "send-3"]}, {}]


class Wide(TypedDict, total=False):
    n: int
    done: Annotated[list, operator.add]


def wide_fan_out(checkpointer: Any, runs: dict[int, int], fail: set[int], finished: set[int] | None = None) -> Any:
    """``Send`` to ``n`` tasks; those in ``fail`` raise; ``runs`` counts each task's runs,
    ``finished`` collects the tasks that returned."""
    done = finished if finished is not None else set()

    def work(arg: dict[str, int]) -> dict[str, Any]:
        i = arg["i"]
        runs[i] = runs.get(i, 0) + 1
        if i in fail:
            raise ValueError(f"task {i} failed")
        done.add(i)
        return {"done": [i]}

    g = StateGraph(Wide)
    g.add_node("work", work)
    g.add_conditional_edges(START, lambda s: [Send("work", {"i": i}) for i in range(s["n"])])
    g.add_edge("work", END)
    return g.compile(checkpointer=checkpointer)


def test_a_wide_steps_writes_are_all_saved_so_a_retry_runs_only_the_failed_task(saver: Any) -> None:
    """300 tasks in one step, saved as they finish (SQLite stores a batch of them in a few
    multi-row statements): after one fails, every other task's writes read back, and the
    retry runs only the failed one."""
    runs: dict[int, int] = {}
    fail = {137}
    finished: set[int] = set()
    app = wide_fan_out(saver, runs, fail, finished)
    with pytest.raises(ValueError, match="task 137 failed"):
        app.invoke({"n": 300, "done": []}, cfg("wide"))
    state = app.get_state(cfg("wide"))
    assert len(state.tasks) == 300
    assert [t.name for t in state.tasks if t.error is not None] == ["work"]
    fail.clear()
    out = app.invoke(None, cfg("wide"))
    assert sorted(out["done"]) == list(range(300))
    assert finished == set(range(300))
    assert runs == {i: (2 if i == 137 else 1) for i in range(300)}


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_a_wide_steps_writes_are_all_saved_by_the_async_sqlite_saver(tmp_path: Path) -> None:
    """The same wide step through AsyncSqliteSaver: each task's writes are stored as it
    finishes, and all 300 read back as the pending writes of the step's checkpoint."""
    runs: dict[int, int] = {}
    async with open_async_saver("async_sqlite", tmp_path / "state.db") as saver:
        app = wide_fan_out(saver, runs, set())
        out = await app.ainvoke({"n": 300, "done": []}, cfg("wide"))
        assert sorted(out["done"]) == list(range(300))
        history = await alist(saver, cfg("wide"))
        (fanned,) = [t for t in history if t.metadata["step"] == 0]
        writes = [w for w in fanned.pending_writes if w[1] == "done"]
        assert sorted(v for _, _, (v,) in writes) == list(range(300))
        assert len({task for task, _, _ in writes}) == 300
