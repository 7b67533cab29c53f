"""Saving keeps pace with the run, whatever the nodes do: real processes running graphs on a
SQLite file, SIGKILLed mid-run, then resumed.

- A Send fan-out where one task blocks after its siblings finished: the siblings' writes
  are saved while it blocks, so the resumed run re-runs only the blocked task (sync nodes
  under ``invoke``, async nodes under ``ainvoke``; ``sync`` and ``async`` durability).
- A long run of fast steps killed at a random moment has saved all but a bounded number of
  its last steps (``MAX_BACKLOG``), or every step under ``sync``.
- Under ``exit`` a kill leaves the thread as it was: readable, and resumable.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from actorgraph.actors._persist import MAX_BACKLOG
from actorgraph.checkpoint.sqlite import SqliteSaver
from crash_helpers import run_until_then_kill
from pg_helpers import pg_schema

pytestmark = pytest.mark.timeout(60)

FAN_OUT = '''
import asyncio, operator, sys, time
from pathlib import Path
from typing import Annotated, TypedDict
from actorgraph.checkpoint.sqlite import SqliteSaver
from actorgraph.graph import START, StateGraph
from actorgraph.types import Send

class S(TypedDict):
    n: int
    out: Annotated[list, operator.add]

def build(saver, work: Path, kind: str):
    def mark(i):
        with open(work / "ran.txt", "a") as f:
            f.write(f"{i}\\n")
        (work / f"done-{i}").touch()

    def others_done():
        return all((work / f"done-{j}").exists() for j in range(4))

    def blocks(i):
        return i == 4 and not (work / "go").exists()

    if kind == "sync":
        def worker(arg):
            i = arg["i"]
            if blocks(i):
                while not others_done():
                    time.sleep(0.005)
                (work / "blocked").touch()
                time.sleep(60)
            mark(i)
            return {"out": [i]}
    else:
        async def worker(arg):
            i = arg["i"]
            if blocks(i):
                while not others_done():
                    await asyncio.sleep(0.005)
                (work / "blocked").touch()
                await asyncio.sleep(60)
            mark(i)
            return {"out": [i]}

    g = StateGraph(S).add_node("worker", worker)
    g.add_conditional_edges(START, lambda s: [Send("worker", {"i": i}) for i in range(s["n"])], ["worker"])
    return g.compile(checkpointer=saver)

def open_saver(work: Path):
    uri = work / "pg_uri"  # a Postgres database instead of a SQLite file
    if uri.exists():
        from actorgraph.checkpoint.postgres import PostgresSaver
        return PostgresSaver.from_conn_string(uri.read_text())
    return SqliteSaver.from_conn_string(work / "state.db")

if __name__ == "__main__":
    work, kind, durability = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    with open_saver(work) as saver:
        app = build(saver, work, kind)
        (work / "go").touch()  # a warm-up run that blocks nowhere: the node has been fast
        for t in range(3):
            app.invoke({"n": 5, "out": []}, {"configurable": {"thread_id": f"warm-{t}"}})
        (work / "ran.txt").unlink()
        for i in range(5):
            (work / f"done-{i}").unlink()
        (work / "go").unlink()
        cfg = {"configurable": {"thread_id": "t"}}
        if kind == "sync":
            app.invoke({"n": 5, "out": []}, cfg, durability=durability)
        else:
            asyncio.run(app.ainvoke({"n": 5, "out": []}, cfg, durability=durability))
'''

LOOP = '''
import asyncio, os, sys
from pathlib import Path
from typing import TypedDict
from actorgraph.checkpoint.sqlite import SqliteSaver
from actorgraph.graph import END, START, StateGraph

class S(TypedDict):
    n: int

def build(saver, work: Path, kind: str, steps: int):
    progress = os.open(work / "progress", os.O_RDWR | os.O_CREAT)

    def advance(s):
        n = s["n"] + 1
        os.pwrite(progress, str(n).encode().ljust(12), 0)
        return {"n": n}

    if kind == "sync":
        step = advance
    else:
        async def step(s):
            return advance(s)

    g = StateGraph(S).add_node("step", step).add_edge(START, "step")
    g.add_conditional_edges("step", lambda s: END if s["n"] >= steps else "step")
    return g.compile(checkpointer=saver)

if __name__ == "__main__":
    work, kind, durability, steps = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    with SqliteSaver.from_conn_string(work / "state.db") as saver:
        app = build(saver, work, kind, steps)
        cfg = {"configurable": {"thread_id": "t"}, "recursion_limit": 10 * steps}
        if kind == "sync":
            app.invoke({"n": 0}, cfg, durability=durability)
        else:
            asyncio.run(app.ainvoke({"n": 0}, cfg, durability=durability))
'''


def _script(work: Path, text: str) -> Path:
    path = work / "graph.py"
    path.write_text(text)
    return path


def _load(path: Path) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"crash_{id(path)}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cfg() -> dict[str, Any]:
    return {"configurable": {"thread_id": "t"}, "recursion_limit": 100_000}


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
@pytest.mark.parametrize("durability", ["sync", "async"])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_fan_out_killed_while_one_task_blocks_reruns_only_that_task(
    tmp_path: Path, kind: str, durability: str, store: str
) -> None:
    """Tasks 0-3 finish, task 4 blocks (a sync node sleeping in its thread, or an async one
    awaiting); a second later the process is SIGKILLed. The siblings' writes were saved as
    they finished (in a SQLite file, or in Postgres): resuming runs task 4 alone."""
    with contextlib.ExitStack() as stack:
        if store == "postgres":
            (tmp_path / "pg_uri").write_text(stack.enter_context(pg_schema()))
        _fan_out_killed(tmp_path, kind, durability)


def _fan_out_killed(tmp_path: Path, kind: str, durability: str) -> None:
    import time

    script = _script(tmp_path, FAN_OUT)
    blocked_at: list[float] = []

    def blocked_a_second() -> bool:
        if not (tmp_path / "blocked").exists():
            return False
        if not blocked_at:
            blocked_at.append(time.monotonic())
        return time.monotonic() - blocked_at[0] >= 1.0

    run_until_then_kill([str(script), str(tmp_path), kind, durability], blocked_a_second, "fan-out", timeout=30)
    assert Counter((tmp_path / "ran.txt").read_text().split()) == Counter({"0": 1, "1": 1, "2": 1, "3": 1})
    (tmp_path / "go").touch()
    module = _load(script)
    with module.open_saver(tmp_path) as saver:
        app = module.build(saver, tmp_path, kind)
        snap = app.get_state(_cfg())
        assert snap.next == ("worker",)
        assert sorted(t.result["out"][0] for t in snap.tasks if t.result) == [0, 1, 2, 3]
        out = app.invoke(None, _cfg())
    assert out == {"n": 5, "out": [0, 1, 2, 3, 4]}
    assert Counter((tmp_path / "ran.txt").read_text().split()) == Counter({"0": 1, "1": 1, "2": 1, "3": 1, "4": 1})


def _saved_step(db: Path) -> int:
    with SqliteSaver.from_conn_string(db) as saver:
        tup = saver.get_tuple({"configurable": {"thread_id": "t"}})
        return -2 if tup is None else tup.metadata["step"]


def _progress(work: Path) -> int:
    path = work / "progress"
    text = path.read_bytes().strip() if path.exists() else b""
    return int(text) if text else 0


@pytest.mark.parametrize("durability", ["sync", "async"])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_long_run_killed_at_a_random_moment_has_saved_all_but_its_last_few_steps(
    tmp_path: Path, kind: str, durability: str
) -> None:
    """10,000 fast steps, SIGKILLed at a random step: the saved head is at most one step
    behind under ``sync``, and at most ``2 * MAX_BACKLOG`` steps (the queued checkpoints and
    the batch being stored) under ``async``. The thread then resumes to the end."""
    script = _script(tmp_path, LOOP)
    at = random.randint(500, 6000)
    run_until_then_kill(
        [str(script), str(tmp_path), kind, durability, "10000"], lambda: _progress(tmp_path) >= at, "loop", timeout=40
    )
    ran = _progress(tmp_path)
    saved = _saved_step(tmp_path / "state.db")
    # step k's checkpoint holds n == k (the input checkpoint is step -1, n == 0)
    behind = ran - saved
    bound = 1 if durability == "sync" else 2 * MAX_BACKLOG
    assert 0 <= behind <= bound + 1, f"ran {ran} steps, saved up to step {saved} (kill at >= {at})"
    module = _load(script)
    with SqliteSaver.from_conn_string(tmp_path / "state.db") as saver:
        app = module.build(saver, tmp_path, kind, 10_000)
        assert app.get_state(_cfg()).values["n"] == max(saved, 0)
        assert app.invoke(None, _cfg()) == {"n": 10_000}


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_run_under_exit_durability_killed_mid_run_leaves_the_thread_readable(tmp_path: Path, kind: str) -> None:
    """A first run completes under ``exit``; a second, on the same thread, is killed mid-way:
    the thread still reads as the first run left it, and a new run continues from there."""
    script = _script(tmp_path, LOOP)
    module = _load(script)
    with SqliteSaver.from_conn_string(tmp_path / "state.db") as saver:
        module.build(saver, tmp_path, kind, 50).invoke({"n": 0}, _cfg(), durability="exit")
    (tmp_path / "progress").unlink()
    at = random.randint(100, 3000)
    run_until_then_kill(
        [str(script), str(tmp_path), kind, "exit", "10000"], lambda: _progress(tmp_path) >= at, "loop", timeout=40
    )
    with SqliteSaver.from_conn_string(tmp_path / "state.db") as saver:
        app = module.build(saver, tmp_path, kind, 60)
        snap = app.get_state(_cfg())
        assert snap.values == {"n": 50} and snap.next == ()
        assert app.invoke({"n": 0}, _cfg(), durability="exit") == {"n": 60}
        history = list(app.get_state_history(_cfg()))
        assert history[0].values == {"n": 60}
    conn = sqlite3.connect(tmp_path / "state.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


def test_the_bound_is_what_the_readme_states() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert f"{2 * MAX_BACKLOG} steps" in readme, "README must state the async durability loss bound"
