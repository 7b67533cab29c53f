"""Checkpoint robustness: corrupt or foreign rows fail loudly for their own thread only;
values that can't be stored are refused at write time without losing saved history; a
SQLite file is shared safely by threads of one process and by several processes."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from actorgraph.checkpoint.base import CheckpointError
from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.checkpoint.sqlite import SqliteSaver
from pg_helpers import open_postgres_saver, pg_schema
from actorgraph.persistence import SerializationError
from actorgraph.types import Command

# The graph under test, also written into scripts that other processes run.
GRAPH_SOURCE = '''
import operator
from typing import Annotated, Any, TypedDict

from actorgraph.graph import END, START, StateGraph
from actorgraph.types import interrupt


class State(TypedDict, total=False):
    x: Annotated[list, operator.add]
    obj: Any


def build(checkpointer):
    """START -> a -> ask (interrupts, answer appended) -> b."""
    g = StateGraph(State)
    g.add_node("a", lambda s: {"x": ["a"]})
    g.add_node("ask", lambda s: {"x": ["ask:" + str(interrupt("q"))]})
    g.add_node("b", lambda s: {"x": ["b"]})
    g.add_edge(START, "a")
    g.add_edge("a", "ask")
    g.add_edge("ask", "b")
    g.add_edge("b", END)
    return g.compile(checkpointer=checkpointer)


def build_counter(checkpointer):
    """START -> a: a appends 'a'."""
    g = StateGraph(State)
    g.add_node("a", lambda s: {"x": ["a"]})
    g.add_edge(START, "a")
    g.add_edge("a", END)
    return g.compile(checkpointer=checkpointer)
'''
_graph: dict[str, Any] = {}
exec(compile(GRAPH_SOURCE, "<graph>", "exec", dont_inherit=True), _graph)  # no PEP 563 here
build, build_counter = _graph["build"], _graph["build_counter"]

# Many runs on one thread: steps keep counting, so give each run ample recursion room
# (test_checkpointers covers the recursion limit across runs separately).
MANY = {"recursion_limit": 10**6}


def cfg(thread: str, **extra: Any) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}, **extra}


def _reads_of_thread_bad_fail(saver: Any, app: Any, row_id: str) -> None:
    """Every way of reading thread 'bad' raises CheckpointError naming the thread and row."""
    for call in (
        lambda: saver.get_tuple(cfg("bad")),
        lambda: app.get_state(cfg("bad")),
        lambda: app.invoke(Command(resume="R"), cfg("bad")),
    ):
        with pytest.raises(CheckpointError) as info:
            call()
        assert "'bad'" in str(info.value) and row_id in str(info.value)


@contextlib.contextmanager
def sqlite_saver(path: Path) -> Iterator[SqliteSaver]:
    with SqliteSaver.from_conn_string(str(path)) as saver:
        yield saver


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(path), isolation_level=None)


def paused_threads(saver: Any, *threads: str) -> Any:
    app = build(saver)
    for t in threads:
        assert app.invoke({"x": ["in"]}, cfg(t))["x"] == ["in", "a"]
    return app


# -- corrupt and foreign rows -------------------------------------------------------------

GARBAGE = b"\xc1\xff\x00not msgpack at all"
_packed = msgspec.msgpack.Decoder(tuple[int, str, str, bytes, dict[str, Any]])


def _repacked(packed: bytes, part: str, value: Any) -> bytes:
    """A stored row (step, source, created_at, record, blobs) with one part replaced."""
    step, source, created, record, blobs = _packed.decode(packed)
    parts = {"record": record, "blobs": blobs}
    parts[part] = value
    return msgspec.msgpack.encode((step, source, created, parts["record"], parts["blobs"]))


@pytest.mark.parametrize(
    ("column", "part", "value"),
    [
        ("checkpoint", None, GARBAGE),
        ("checkpoint", "record", GARBAGE),
        ("checkpoint", "blobs", {"x": [0, GARBAGE, None, 0]}),  # a blob whose bytes are garbage
        ("metadata", None, GARBAGE),
    ],
    ids=["row", "record", "blob-data", "metadata"],
)
def test_a_corrupt_row_fails_its_thread_with_checkpoint_error_only(
    tmp_path: Path, column: str, part: str | None, value: Any
) -> None:
    """Garbage written into one thread's latest checkpoint gives CheckpointError naming the
    thread and checkpoint on get_tuple, get_state and resume; the other thread in the file
    still reads and resumes."""
    path = tmp_path / "state.db"
    with sqlite_saver(path) as saver:
        paused_threads(saver, "bad", "good")
        bad_id = saver.get_tuple(cfg("bad")).config["configurable"]["checkpoint_id"]
    with contextlib.closing(raw(path)) as conn:
        if part is not None:
            (packed,) = conn.execute(
                "SELECT checkpoint FROM checkpoints WHERE thread_id = 'bad' AND checkpoint_id = ?", (bad_id,)
            ).fetchone()
            value = _repacked(packed, part, value)
        conn.execute(
            f"UPDATE checkpoints SET {column} = ? WHERE thread_id = 'bad' AND checkpoint_id = ?",
            (value, bad_id),
        )
    with sqlite_saver(path) as saver:
        app = build(saver)
        _reads_of_thread_bad_fail(saver, app, bad_id)
        assert saver.get_tuple(cfg("good")).checkpoint["channel_values"]["x"] == ["in", "a"]
        assert app.get_state(cfg("good")).next == ("ask",)
        assert app.invoke(Command(resume="R"), cfg("good")) == {"x": ["in", "a", "ask:R", "b"]}


def _foreign_record(writers: dict[str, str]) -> bytes:
    record = msgspec.msgpack.encode({"v": 1, "channel_versions": {"x": 9}, "blob_writers": writers, "versions_seen": {}})
    return msgspec.msgpack.encode((7, "loop", "2026-01-01T00:00:00+00:00", record, {}))


FOREIGN_ID = "1fffffff-ffff-6fff-8fff-ffffffffffff"  # sorts after every real id: the newest


@pytest.mark.parametrize(
    ("kind", "checkpoint"),
    [
        # valid msgpack of the wrong shape, stored as a LangGraph checkpoint
        ("msgpack", msgspec.msgpack.encode(["something else", 3])),
        # a JSON document that isn't a checkpoint
        ("json", json.dumps([1, 2]).encode()),
        # our shape, but a channel's value lives in a checkpoint that doesn't exist
        ("actorgraph", _foreign_record({"x": "1f000000-0000-6000-8000-00000000dead"})),
        # a type no serializer knows
        ("mystery", b"\x00"),
    ],
    ids=["wrong-shape", "json-list", "dangling-writer", "unknown-type"],
)
def test_a_foreign_row_fails_its_thread_with_checkpoint_error_only(tmp_path: Path, kind: str, checkpoint: bytes) -> None:
    """A row inserted by hand as a thread's newest checkpoint (plausible columns, wrong
    content) gives CheckpointError naming the thread and checkpoint; other threads work."""
    path = tmp_path / "state.db"
    with sqlite_saver(path) as saver:
        paused_threads(saver, "bad", "good")
    with contextlib.closing(raw(path)) as conn:
        conn.execute(
            "INSERT INTO checkpoints VALUES (?,?,?,?,?,?,?)",
            ("bad", "", FOREIGN_ID, None, kind, checkpoint, b'{"source": "loop", "step": 7}'),
        )
    with sqlite_saver(path) as saver:
        app = build(saver)
        _reads_of_thread_bad_fail(saver, app, FOREIGN_ID)
        assert app.invoke(Command(resume="R"), cfg("good")) == {"x": ["in", "a", "ask:R", "b"]}


def test_a_checkpoint_langgraph_wrote_is_read_and_continued(tmp_path: Path) -> None:
    """A row in LangGraph's own shape (a whole checkpoint, values inline) is a thread's
    state: get_state reads it and a new run continues from it."""
    path = tmp_path / "state.db"
    old_id = "1f000000-0000-6000-8000-000000000001"
    checkpoint = {
        "v": 4, "id": old_id, "ts": "2026-01-01T00:00:00+00:00",
        "channel_values": {"x": ["from langgraph"]}, "channel_versions": {"x": "00000000000000000000000000000003.0.5"},
        "versions_seen": {}, "updated_channels": None,
    }  # fmt: skip
    with sqlite_saver(path) as saver:
        kind, data = saver.serde.dumps_typed(checkpoint)
        saver.setup()
    with contextlib.closing(raw(path)) as conn:
        conn.execute(
            "INSERT INTO checkpoints VALUES (?,?,?,?,?,?,?)",
            ("lg", "", old_id, None, kind, data, b'{"source": "loop", "step": 3}'),
        )
    with sqlite_saver(path) as saver:
        app = build_counter(saver)
        assert app.get_state(cfg("lg")).values == {"x": ["from langgraph"]}
        assert app.invoke({"x": ["in"]}, cfg("lg"))["x"] == ["from langgraph", "in", "a"]
        assert app.get_state(cfg("lg")).values["x"] == ["from langgraph", "in", "a"]


# -- values that can't be stored ---------------------------------------------------------


class Opaque:
    """A plain class: not on the serializer's allow-list."""


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield InMemorySaver()
    elif request.param == "postgres":
        with pg_schema() as uri, open_postgres_saver("postgres", uri) as s:
            yield s
    else:
        with sqlite_saver(tmp_path / "state.db") as s:
            yield s


@pytest.mark.parametrize("where", ["node output", "input"])
def test_an_unknown_type_is_refused_at_write_time_and_history_is_kept(saver: Any, where: str) -> None:
    """A value of a class not on the allow-list raises SerializationError naming the
    channel and the type when it would be saved; the thread's saved checkpoints are
    untouched and it runs on with storable input."""
    app = build_counter(saver)
    assert app.invoke({"x": ["first"]}, cfg("t")) == {"x": ["first", "a"]}
    before = {t.config["configurable"]["checkpoint_id"]: t for t in saver.list(cfg("t"))}

    if where == "input":
        bad_app, bad_input = app, {"obj": Opaque()}
    else:
        from actorgraph.graph import END, START, StateGraph

        g = StateGraph(_graph["State"])
        g.add_node("a", lambda s: {"obj": Opaque()})
        g.add_edge(START, "a")
        g.add_edge("a", END)
        bad_app, bad_input = g.compile(checkpointer=saver), {"x": ["second"]}
    with pytest.raises(SerializationError) as info:
        bad_app.invoke(bad_input, cfg("t"))
    message = str(info.value)
    assert "'obj'" in message and "Opaque" in message

    after = {t.config["configurable"]["checkpoint_id"]: t for t in saver.list(cfg("t"))}
    assert set(before) <= set(after)
    for cid, saved in before.items():
        assert saver.get_tuple(saved.config) == saved
    assert after[max(before)].checkpoint["channel_values"] == {"x": ["first", "a"]}
    out = app.invoke({"x": ["third"]}, cfg("t"))
    assert out["x"][:2] == ["first", "a"] and out["x"][-2:] == ["third", "a"]


# -- sharing a file --------------------------------------------------------------------------


def run_script(tmp_path: Path, name: str, body: str) -> subprocess.Popen[str]:
    script = tmp_path / f"{name}.py"
    script.write_text(GRAPH_SOURCE + "\n" + body)
    return subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out


def test_a_new_process_resumes_a_thread_interrupted_in_this_one(tmp_path: Path) -> None:
    """A thread paused in this process resumes in another process that opens the same
    file, and this process then sees the finished run."""
    path = tmp_path / "state.db"
    with sqlite_saver(path) as saver:
        paused_threads(saver, "t")
        assert build(saver).get_state(cfg("t")).next == ("ask",)
    proc = run_script(
        tmp_path,
        "resume",
        f"""
import json
from actorgraph.checkpoint.sqlite import SqliteSaver
from actorgraph.types import Command
with SqliteSaver.from_conn_string({str(path)!r}) as saver:
    app = build(saver)
    snap = app.get_state({{"configurable": {{"thread_id": "t"}}}})
    out = app.invoke(Command(resume="other process"), {{"configurable": {{"thread_id": "t"}}}})
    print(json.dumps({{"next": list(snap.next), "out": out}}))
""",
    )
    assert json.loads(finish(proc)) == {"next": ["ask"], "out": {"x": ["in", "a", "ask:other process", "b"]}}
    with sqlite_saver(path) as saver:
        assert build(saver).get_state(cfg("t")).values == {"x": ["in", "a", "ask:other process", "b"]}
        assert [t.metadata["step"] for t in saver.list(cfg("t"))] == [3, 2, 1, 0, -1]


def check_file(path: Path, threads: dict[str, int]) -> None:
    """The file is intact, in WAL mode, and each thread holds ``runs`` complete runs."""
    with contextlib.closing(raw(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    with sqlite_saver(path) as saver:
        for thread, runs in threads.items():
            history = list(saver.list(cfg(thread)))
            assert len(history) == 3 * runs  # input + 2 steps per run
            assert [t.metadata["step"] for t in history] == list(range(3 * runs - 2, -2, -1))
            assert saver.get_tuple(cfg(thread)).checkpoint["channel_values"]["x"] == [thread, "a"] * runs


def test_threads_of_one_process_share_one_sqlite_saver(tmp_path: Path) -> None:
    """Four OS threads running graphs on one SqliteSaver at once each get every checkpoint
    of their own thread saved, and the file stays intact."""
    path = tmp_path / "state.db"
    runs, errors = 15, []
    with sqlite_saver(path) as saver:
        app = build_counter(saver)
        start = threading.Barrier(4)

        def worker(thread: str) -> None:
            try:
                start.wait()
                for _ in range(runs):
                    app.invoke({"x": [thread]}, cfg(thread, **MANY))
            except BaseException as exc:  # reported below
                errors.append(exc)

        workers = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(60)
    assert errors == []
    check_file(path, {f"w{i}": runs for i in range(4)})


def test_processes_writing_different_threads_to_one_file(tmp_path: Path) -> None:
    """Two processes writing their own threads to one SQLite file at the same time both
    succeed, and every checkpoint of both threads is there."""
    path = tmp_path / "state.db"
    with sqlite_saver(path) as saver:
        saver.setup()  # create the tables before the race
    runs = 25
    body = """
import sys
from actorgraph.checkpoint.sqlite import SqliteSaver
thread = sys.argv[0].rsplit("/", 1)[-1].removesuffix(".py")
with SqliteSaver.from_conn_string({path!r}) as saver:
    app = build_counter(saver)
    for _ in range({runs}):
        app.invoke({{"x": [thread]}}, {{"configurable": {{"thread_id": thread}}, "recursion_limit": 10**6}})
print("done")
"""
    procs = [run_script(tmp_path, name, body.format(path=str(path), runs=runs)) for name in ("p1", "p2")]
    assert [finish(p) for p in procs] == ["done\n", "done\n"]
    check_file(path, {"p1": runs, "p2": runs})
