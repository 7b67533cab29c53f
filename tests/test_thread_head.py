"""A thread has one head (DESIGN §4): saving a run's checkpoints is a compare-and-set on
the thread's newest checkpoint, so runs that race on one thread never fork it silently:
each commits or gets ``CheckpointConflictError``, nothing committed is lost and no task
runs twice. An unknown ``checkpoint_id`` is ``CheckpointNotFoundError``, never a new root."""

from __future__ import annotations

import contextlib
import json
import operator
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import anyio
import pytest

from actorgraph.checkpoint.base import CheckpointConflictError, CheckpointError, CheckpointNotFoundError
from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.checkpoint.sqlite import SqliteSaver
from actorgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from actorgraph.checkpoint.postgres import PostgresSaver
from pg_helpers import open_async_postgres_saver, open_postgres_saver, pg_schema
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import Send

# The graphs under test, also written into the scripts other processes run.
GRAPH_SOURCE = '''
import operator, sqlite3, time
from typing import Annotated, Any, TypedDict

from actorgraph.graph import END, START, StateGraph
from actorgraph.types import Send


class State(TypedDict, total=False):
    log: Annotated[list, operator.add]
    marker: str


def record(path, marker, idx):
    """Count one execution of a task in a side table of its own file (none: no count)."""
    if not path:
        return
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS execs (marker TEXT, idx INTEGER)")
        conn.execute("INSERT INTO execs VALUES (?, ?)", (marker, idx))
    finally:
        conn.close()


def build(checkpointer, execs, fan=False, pause=0.02):
    """START -> a (sleeps, appends the run's marker) -> END; with ``fan``: START -> fan ->
    three Sends to work (each sleeps, counts itself, appends marker:i) -> END."""
    g = StateGraph(State)
    if fan:
        def work(arg):
            time.sleep(pause)
            record(execs, arg["marker"], arg["idx"])
            return {"log": [f"{arg['marker']}:{arg['idx']}"]}

        g.add_node("fan", lambda s: {})
        g.add_node("work", work)
        g.add_edge(START, "fan")
        g.add_conditional_edges("fan", lambda s: [Send("work", {"marker": s["marker"], "idx": i}) for i in range(3)])
        g.add_edge("work", END)
    else:
        def a(s):
            time.sleep(pause)
            record(execs, s["marker"], 0)
            return {"log": [s["marker"] + ":done"]}

        g.add_node("a", a)
        g.add_edge(START, "a")
        g.add_edge("a", END)
    return g.compile(checkpointer=checkpointer)
'''
_graph: dict[str, Any] = {}
exec(compile(GRAPH_SOURCE, "<graph>", "exec", dont_inherit=True), _graph)  # no PEP 563 here
build = _graph["build"]

CFG = {"configurable": {"thread_id": "shared"}, "recursion_limit": 10**6}


def _execs(path: Path) -> dict[tuple[str, int], int]:
    if not path.exists():
        return {}
    with contextlib.closing(sqlite3.connect(str(path), timeout=30)) as conn:
        try:
            found = conn.execute("SELECT marker, idx, count(*) FROM execs GROUP BY marker, idx").fetchall()
        except sqlite3.OperationalError:
            return {}
    return {(m, i): n for m, i, n in found}


def check_one_head(saver: Any, outcomes: dict[str, str], execs: Path, fan: bool) -> None:
    """Every run committed or lost the race with the typed error; the thread's history is
    one chain; every committed run's updates are in the final state; no task ran twice."""
    assert set(outcomes.values()) <= {"ok", "conflict"}, outcomes
    assert "ok" in outcomes.values()
    history = list(saver.list({"configurable": {"thread_id": "shared"}}))
    ids = [t.config["configurable"]["checkpoint_id"] for t in history]
    parents = [t.parent_config["configurable"]["checkpoint_id"] if t.parent_config else None for t in history]
    assert parents == [*ids[1:], None], "the thread's history forked"
    final = history[0].checkpoint["channel_values"]["log"]
    for marker, outcome in outcomes.items():
        if outcome == "ok":
            wanted = [f"{marker}:{i}" for i in range(3)] if fan else [f"{marker}:done"]
            assert marker in final and all(w in final for w in wanted), (marker, final)
    counts = _execs(execs)
    assert all(n == 1 for n in counts.values()), {k: n for k, n in counts.items() if n > 1}
    # each update in the final state was made once
    assert len(final) == len(set(final))


# -- the savers' compare-and-set --------------------------------------------------------


@contextlib.contextmanager
def _sync_saver(kind: str, tmp_path: Path) -> Iterator[Any]:
    if kind == "memory":
        yield InMemorySaver()
    elif kind.startswith("postgres"):
        with pg_schema() as uri, open_postgres_saver(kind, uri) as saver:
            yield saver
    else:
        with SqliteSaver.from_conn_string(str(tmp_path / "cas.db")) as saver:
            yield saver


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_a_save_against_a_stale_head_stores_nothing_of_its_checkpoint(kind: str, tmp_path: Path) -> None:
    """saver.save(rows, writes, expect_head=...) stores the rows only while the head is the
    expected one; else CheckpointConflictError (thread, ns, expected, found), the rows are
    not stored, and the writes of stored checkpoints are kept."""
    execs = tmp_path / "execs.db"
    with _sync_saver(kind, tmp_path) as saver:
        app = build(saver, str(execs))
        app.invoke({"marker": "m1"}, CFG)
        history = list(saver.list(CFG))
        head, older = history[0], history[1]
        head_id = head.config["configurable"]["checkpoint_id"]
        older_id = older.config["configurable"]["checkpoint_id"]
        # build a row the way the engine does: a copy of the head under a new id
        from actorgraph.actors._ids import checkpoint_id as new_id
        from actorgraph.persistence._model import WriteRow

        loaded = saver.load("shared", "", head_id)
        fresh = new_id()
        import msgspec

        row = msgspec.structs.replace(loaded.row, checkpoint_id=fresh, parent_id=head_id)
        kept = ("shared", "", older_id, WriteRow("task-x", 0, "log", saver._codec.dumps(["kept"]), ""))
        dropped = ("shared", "", fresh, WriteRow("task-y", 0, "log", saver._codec.dumps(["dropped"]), ""))
        with pytest.raises(CheckpointConflictError) as info:
            saver.save([row], [kept, dropped], expect_head=older_id)
        err = info.value
        assert isinstance(err, CheckpointError)
        assert (err.thread_id, err.checkpoint_ns, err.expected, err.found) == ("shared", "", older_id, head_id)
        assert "'shared'" in str(err) and "Re-run" in str(err)
        assert saver.get_tuple(CFG).config["configurable"]["checkpoint_id"] == head_id
        assert saver.get_tuple({"configurable": {"thread_id": "shared", "checkpoint_id": fresh}}) is None
        older_writes = saver.get_tuple(older.config).pending_writes
        assert ("task-x", "log", ["kept"]) in older_writes
        assert saver.statistics().conflicts == 1
        # the expected head: stored, and the head moves
        saver.save([row], [dropped], expect_head=head_id)
        assert saver.get_tuple(CFG).config["configurable"]["checkpoint_id"] == fresh
        # an empty thread expects None
        other = msgspec.structs.replace(row, thread_id="empty", checkpoint_id=new_id(), parent_id=None)
        with pytest.raises(CheckpointConflictError):
            saver.save([other], [], expect_head="1f0-not-there")
        saver.save([other], [], expect_head=None)
        # LangGraph's put() never compares
        cp = saver.get_tuple(CFG)
        saver.put({"configurable": {"thread_id": "shared", "checkpoint_ns": ""}}, {**cp.checkpoint, "id": new_id()}, {}, {})


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # aiosqlite, psycopg async: asyncio only
@pytest.mark.parametrize("kind", ["async_sqlite", "async_postgres", "async_postgres_pool"])
async def test_async_savers_compare_the_head_too(tmp_path: Path, anyio_backend: str, kind: str) -> None:
    """AsyncSqliteSaver and AsyncPostgresSaver (asyncio) refuse a stale head."""
    import msgspec

    from actorgraph.actors._ids import checkpoint_id as new_id

    async with contextlib.AsyncExitStack() as stack:
        if kind == "async_sqlite":
            saver = await stack.enter_async_context(AsyncSqliteSaver.from_conn_string(str(tmp_path / "a.db")))
        else:
            uri = stack.enter_context(pg_schema())
            saver = await stack.enter_async_context(open_async_postgres_saver(kind, uri))
        app = build(saver, str(tmp_path / "execs.db"))
        await app.ainvoke({"marker": "m"}, CFG)
        head = (await saver.aget_tuple(CFG)).config["configurable"]["checkpoint_id"]
        loaded = await saver.aload("shared", "", head)
        row = msgspec.structs.replace(loaded.row, checkpoint_id=new_id(), parent_id=head)
        with pytest.raises(CheckpointConflictError) as info:
            await saver.asave([row], [], expect_head=None)
        assert info.value.found == head
        await saver.asave([row], [], expect_head=head)
        assert (await saver.aget_tuple(CFG)).config["configurable"]["checkpoint_id"] == row.checkpoint_id


# -- runs that race ----------------------------------------------------------------------


class _Log(TypedDict, total=False):
    log: Annotated[list, operator.add]


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_a_run_whose_thread_moved_under_it_fails_with_the_conflict(durability: str) -> None:
    """A node that writes to its own thread (update_state) moves the head under its run:
    the run's next checkpoint isn't saved and the run fails with CheckpointConflictError;
    the update stays the thread's head."""
    saver = InMemorySaver()
    holder: dict[str, Any] = {}

    def a(s: _Log) -> dict[str, Any]:
        if "second" in s["log"]:
            holder["app"].update_state({"configurable": {"thread_id": "t"}}, {"log": ["meanwhile"]})
        return {"log": ["a"]}

    g = StateGraph(_Log)
    g.add_node("a", a)
    g.add_edge(START, "a")
    g.add_edge("a", END)
    app = holder["app"] = g.compile(checkpointer=saver)
    app.invoke({"log": ["first"]}, {"configurable": {"thread_id": "t"}})
    with pytest.raises(CheckpointConflictError) as info:
        app.invoke({"log": ["second"]}, {"configurable": {"thread_id": "t"}}, durability=durability)
    assert info.value.thread_id == "t"
    state = app.get_state({"configurable": {"thread_id": "t"}})
    assert state.values["log"][-1] == "meanwhile"
    assert "a" not in state.values["log"][2:]


def test_time_travel_and_forks_are_not_conflicts() -> None:
    """A run or an update from an older checkpoint (a fork) writes a child of that
    checkpoint: the head it compares with is the thread's newest, which it read."""
    saver = InMemorySaver()
    app = build(saver, "", pause=0)
    app.invoke({"marker": "m1"}, CFG)
    app.invoke({"marker": "m2"}, CFG)
    old = list(app.get_state_history(CFG))[-2].config
    assert app.invoke(None, old)["log"][-1] == "m1:done"
    app.update_state(old, {"log": ["fork"]})
    assert app.get_state(CFG).values["log"][-1] == "fork"


def _race_in_threads(app: Any, runs: int, durability: str, prefix: str = "") -> dict[str, str]:
    outcomes: dict[str, str] = {}
    start = threading.Barrier(runs)

    def worker(i: int) -> None:
        marker = f"{prefix}t{i}"
        start.wait()
        try:
            app.invoke({"marker": marker, "log": [marker]}, CFG, durability=durability)
            outcomes[marker] = "ok"
        except CheckpointConflictError:
            outcomes[marker] = "conflict"
        except Exception as exc:  # reported by check_one_head
            outcomes[marker] = repr(exc)

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(runs)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    return outcomes


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
@pytest.mark.parametrize("fan", [False, True], ids=["one-node", "send-fan-out"])
@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres_pool"])
def test_os_threads_racing_on_one_thread_id(kind: str, fan: bool, durability: str, tmp_path: Path) -> None:
    """Four OS threads invoke the same thread id at once: each run commits or gets
    CheckpointConflictError; the history is one chain with every committed update."""
    execs = tmp_path / "execs.db"
    with _sync_saver(kind, tmp_path) as saver:
        app = build(saver, str(execs), fan=fan)
        outcomes: dict[str, str] = {}
        for round_ in range(2):
            outcomes.update(_race_in_threads(app, 4, durability, prefix=f"r{round_}"))
        check_one_head(saver, outcomes, execs, fan)


@pytest.mark.anyio
@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
async def test_concurrent_ainvokes_on_one_thread(anyio_backend: str, durability: str) -> None:
    """Two ainvokes of one thread at once on one event loop: one commits, the other gets
    CheckpointConflictError (under every durability; under "async" the background
    writer's refusal is the run's error)."""
    saver = InMemorySaver()

    async def a(s: _Log) -> dict[str, Any]:
        await anyio.sleep(0.05)
        return {"log": ["a"]}

    g = StateGraph(_Log)
    g.add_node("a", a)
    g.add_edge(START, "a")
    g.add_edge("a", END)
    app = g.compile(checkpointer=saver)
    cfg = {"configurable": {"thread_id": "t"}}
    await app.ainvoke({"log": ["first"]}, cfg)
    outcomes: dict[str, str] = {}

    async def run(marker: str) -> None:
        try:
            await app.ainvoke({"log": [marker]}, cfg, durability=durability)
            outcomes[marker] = "ok"
        except CheckpointConflictError as exc:
            assert exc.thread_id == "t"
            outcomes[marker] = "conflict"

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(run, "x")
            tg.start_soon(run, "y")
    assert sorted(outcomes.values()) == ["conflict", "ok"]
    winner = next(m for m, o in outcomes.items() if o == "ok")
    loser = next(m for m, o in outcomes.items() if o == "conflict")
    final = (await app.aget_state(cfg)).values["log"]
    assert final[-2:] == [winner, "a"]
    history = [s async for s in app.aget_state_history(cfg)]
    ids = [s.config["configurable"]["checkpoint_id"] for s in history]
    parents = [s.parent_config["configurable"]["checkpoint_id"] if s.parent_config else None for s in history]
    assert parents == [*ids[1:], None]
    if durability == "exit":
        assert loser not in final


# -- processes that race -------------------------------------------------------------------

WORKER = """
import json, sys, threading
from actorgraph.checkpoint.postgres import PostgresSaver
from actorgraph.checkpoint.sqlite import SqliteSaver
from actorgraph.errors import CheckpointConflictError

path, execs, proc, fan, durability = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1", sys.argv[5]
cfg = {"configurable": {"thread_id": "shared"}, "recursion_limit": 10**6}
outcomes = {}
Saver = PostgresSaver if path.startswith("postgresql://") else SqliteSaver
with Saver.from_conn_string(path) as saver:
    app = build(saver, execs, fan=fan)
    start = threading.Barrier(4)

    def worker(t):
        start.wait()
        for r in range(3):
            marker = f"p{proc}t{t}r{r}"
            try:
                app.invoke({"marker": marker, "log": [marker]}, cfg, durability=durability)
                outcomes[marker] = "ok"
            except CheckpointConflictError:
                outcomes[marker] = "conflict"
            except Exception as exc:
                outcomes[marker] = repr(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
print(json.dumps(outcomes))
"""


@pytest.mark.parametrize(
    ("kind", "fan", "durability"),
    [
        ("sqlite", False, "sync"),
        ("sqlite", True, "async"),
        ("sqlite", True, "exit"),
        ("postgres", False, "sync"),
        ("postgres", True, "async"),
    ],
    ids=["one-node-sync", "fan-out-async", "fan-out-exit", "postgres-one-node-sync", "postgres-fan-out-async"],
)
def test_processes_and_threads_racing_on_one_thread_id(tmp_path: Path, kind: str, fan: bool, durability: str) -> None:
    """3 processes x 4 threads, 3 runs each, all on one thread id of one SQLite file (or
    one Postgres database): every run commits or gets CheckpointConflictError; the
    thread's history is a single chain; every committed run's updates are in the final
    state; no task ran twice."""
    with contextlib.ExitStack() as stack:
        if kind == "postgres":
            uri = stack.enter_context(pg_schema())
            _race_processes(tmp_path, uri, fan, durability, lambda: PostgresSaver.from_conn_string(uri))
        else:
            path = str(tmp_path / "state.db")
            _race_processes(tmp_path, path, fan, durability, lambda: SqliteSaver.from_conn_string(path))


def _race_processes(tmp_path: Path, path: str, fan: bool, durability: str, open_saver: Any) -> None:
    execs = tmp_path / "execs.db"
    with open_saver() as saver:
        saver.setup()  # the tables exist before the race
    script = tmp_path / "worker.py"
    script.write_text(GRAPH_SOURCE + "\n" + WORKER)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(path), str(execs), str(p), "1" if fan else "0", durability],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(3)
    ]
    outcomes: dict[str, str] = {}
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outcomes.update(json.loads(out))
    assert len(outcomes) == 36
    with open_saver() as saver:
        check_one_head(saver, outcomes, execs, fan)


# -- an unknown checkpoint id ----------------------------------------------------------------


def _thread_with_history() -> tuple[Any, dict[str, Any], str, dict[str, Any]]:
    app = build(InMemorySaver(), "", pause=0)
    app.invoke({"marker": "m1", "log": ["m1"]}, CFG)
    state = app.get_state(CFG)
    bad = {"configurable": {"thread_id": "shared", "checkpoint_id": "1f000000-0000-6000-8000-000000000000"}}
    return app, bad, state.config["configurable"]["checkpoint_id"], state.values


@pytest.mark.parametrize("call", ["invoke-input", "invoke-none", "stream", "update_state"])
def test_an_unknown_checkpoint_id_is_a_typed_error_and_the_head_stays(call: str) -> None:
    """invoke/stream/update_state naming a checkpoint the thread doesn't have raise
    CheckpointNotFoundError (thread, ns, id); the thread's head and values are unchanged
    (LangGraph would start a new root there, resetting the thread)."""
    app, bad, head, values = _thread_with_history()
    calls = {
        "invoke-input": lambda: app.invoke({"marker": "m2", "log": ["m2"]}, bad),
        "invoke-none": lambda: app.invoke(None, bad),
        "stream": lambda: list(app.stream({"marker": "m2", "log": ["m2"]}, bad)),
        "update_state": lambda: app.update_state(bad, {"log": ["u"]}),
    }
    with pytest.raises(CheckpointNotFoundError) as info:
        calls[call]()
    err = info.value
    assert (err.thread_id, err.checkpoint_ns, err.checkpoint_id) == ("shared", "", bad["configurable"]["checkpoint_id"])
    assert "'shared'" in str(err) and err.checkpoint_id in str(err)
    state = app.get_state(CFG)
    assert state.config["configurable"]["checkpoint_id"] == head
    assert state.values == values


@pytest.mark.anyio
async def test_an_unknown_checkpoint_id_in_ainvoke(anyio_backend: str) -> None:
    app, bad, head, _ = _thread_with_history()
    with pytest.raises(CheckpointNotFoundError):
        await app.ainvoke({"marker": "m2"}, bad)
    assert (await app.aget_state(CFG)).config["configurable"]["checkpoint_id"] == head


def test_get_state_of_an_unknown_checkpoint_id_is_empty_as_in_langgraph() -> None:
    """A read-only get_state/get_state_history of an unknown id keeps LangGraph's answer
    (an empty snapshot, no history)."""
    app, bad, head, _ = _thread_with_history()
    assert app.get_state(bad).values == {}
    assert list(app.get_state_history(bad)) == []
    assert app.get_state(CFG).config["configurable"]["checkpoint_id"] == head


def test_a_new_thread_starts_without_a_head() -> None:
    """The first run of a thread expects no head; a second one builds on the first."""
    saver = InMemorySaver()
    app = build(saver, "", pause=0)
    for i in range(3):
        app.invoke({"marker": f"m{i}", "log": [f"m{i}"]}, {"configurable": {"thread_id": f"new{i}"}})
        app.invoke({"marker": f"n{i}", "log": [f"n{i}"]}, {"configurable": {"thread_id": f"new{i}"}})
    assert app.get_state({"configurable": {"thread_id": "new2"}}).values["log"] == ["m2", "m2:done", "n2", "n2:done"]
    assert saver.statistics().conflicts == 0


def test_sends_of_a_lost_run_are_not_run_by_the_winner(tmp_path: Path) -> None:
    """A fan-out whose run lost the race: its Sends are not picked up by another run."""
    execs = tmp_path / "execs.db"
    saver = InMemorySaver()
    app = build(saver, str(execs), fan=True)
    outcomes = _race_in_threads(app, 3, "async")
    assert set(outcomes.values()) <= {"ok", "conflict"}
    counts = _execs(execs)
    assert counts and all(n == 1 for n in counts.values())
