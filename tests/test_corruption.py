"""Reads of a damaged thread fail with CheckpointError naming the thread and checkpoint,
within a time bound (never a hang): looping delta chains, rows of the wrong shape, a
damaged SQLite file. Other threads stay readable, a listing of every thread skips (and
logs) the damaged checkpoint, a damaged node-cache entry is a logged miss that the next
run overwrites. History pages read each delta chain once."""

from __future__ import annotations

import contextlib
import operator
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import msgspec
import psycopg
import pytest
from structlog.testing import capture_logs

from actorgraph.cache.memory import InMemoryCache
from actorgraph.checkpoint.base import CheckpointError
from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.checkpoint.postgres import PostgresSaver
from actorgraph.checkpoint.sqlite import SqliteSaver
from pg_helpers import pg_schema
from actorgraph.errors import ConfigError
from actorgraph.graph import END, START, StateGraph
from actorgraph.persistence._cache import SqliteCache
from actorgraph.persistence._model import Blob
from actorgraph.types import CachePolicy

BOUND = 10  # seconds: a read that takes longer is a hang


class State(TypedDict, total=False):
    log: Annotated[list, operator.add]
    n: int


def loop_graph(saver: Any, steps: int) -> Any:
    """START -> a -> a ... (``steps`` times): each step appends one item to ``log``."""

    def a(s: State) -> dict[str, Any]:
        return {"log": [f"item{s.get('n', 0)}"], "n": s.get("n", 0) + 1}

    g = StateGraph(State)
    g.add_node("a", a)
    g.add_edge(START, "a")
    g.add_conditional_edges("a", lambda s: END if s["n"] >= steps else "a")
    return g.compile(checkpointer=saver)


def cfg(thread: str, **extra: Any) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}, "recursion_limit": 10**6, **extra}


def bounded(call: Callable[[], Any]) -> Any:
    """``call()`` in a thread; fails the test if it takes longer than BOUND."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # re-raised below
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(BOUND)
    assert not worker.is_alive(), "the read hung"
    if "error" in box:
        raise box["error"]
    return box.get("value")


# -- stored rows, edited in place ------------------------------------------------------------

_packed = msgspec.msgpack.Decoder(tuple[int, str, str, bytes, dict[str, Blob]])


class Stored:
    """A saver of either kind with its stored rows open to editing."""

    def __init__(self, kind: str, tmp_path: Path, uri: str | None = None) -> None:
        self.kind = kind
        self.path = tmp_path / "state.db"
        self.uri = uri
        self.memory = InMemorySaver() if kind == "memory" else None

    @contextlib.contextmanager
    def saver(self) -> Iterator[Any]:
        if self.memory is not None:
            yield self.memory
            return
        if self.uri is not None:
            with PostgresSaver.from_conn_string(self.uri) as saver:
                yield saver
            return
        with SqliteSaver.from_conn_string(str(self.path)) as saver:
            yield saver

    def ids(self, thread: str) -> list[str]:
        with self.saver() as saver:
            return sorted(t.config["configurable"]["checkpoint_id"] for t in saver.list(cfg(thread)))

    def get(self, thread: str, cid: str) -> bytes:
        if self.memory is not None:
            return self.memory.storage[thread][""][cid][0][1]  # type: ignore[no-any-return]
        if self.uri is not None:
            with psycopg.connect(self.uri) as pg:
                row = pg.execute(
                    "SELECT checkpoint FROM actorgraph_checkpoints WHERE thread_id = %s AND checkpoint_id = %s", (thread, cid)
                ).fetchone()
            return bytes(row[0])  # type: ignore[index]
        with contextlib.closing(sqlite3.connect(str(self.path))) as conn:
            (packed,) = conn.execute(
                "SELECT checkpoint FROM checkpoints WHERE thread_id = ? AND checkpoint_id = ?", (thread, cid)
            ).fetchone()
        return packed  # type: ignore[no-any-return]

    def put(self, thread: str, cid: str, packed: Any) -> None:
        if self.memory is not None:
            cp, md, parent = self.memory.storage[thread][""][cid]
            self.memory.storage[thread][""][cid] = ((cp[0], packed), md, parent)
            return
        if self.uri is not None:
            with psycopg.connect(self.uri, autocommit=True) as pg:
                pg.execute(
                    "UPDATE actorgraph_checkpoints SET checkpoint = %s WHERE thread_id = %s AND checkpoint_id = %s",
                    (packed, thread, cid),
                )
            return
        with contextlib.closing(sqlite3.connect(str(self.path), isolation_level=None)) as conn:
            conn.execute("UPDATE checkpoints SET checkpoint = ? WHERE thread_id = ? AND checkpoint_id = ?", (packed, thread, cid))

    def rebase(self, thread: str, cid: str, base: str) -> None:
        """Point the delta blob of ``cid`` at ``base``."""
        step, source, created, record, blobs = _packed.decode(self.get(thread, cid))
        blobs = {c: msgspec.structs.replace(b, base=base) if b.kind == 1 else b for c, b in blobs.items()}
        self.put(thread, cid, msgspec.msgpack.encode((step, source, created, record, blobs)))

    def deltas(self, thread: str) -> list[str]:
        """The thread's checkpoints that store ``log`` as a delta, oldest first."""
        return [c for c in self.ids(thread) if any(b.kind == 1 for b in _packed.decode(self.get(thread, c))[4].values())]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def stored(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stored]:
    with contextlib.ExitStack() as stack:
        uri = stack.enter_context(pg_schema()) if request.param == "postgres" else None
        st = Stored(request.param, tmp_path, uri)
        with st.saver() as saver:
            app = loop_graph(saver, 8)
            for thread in ("bad", "good"):
                app.invoke({"log": ["x" * 2000], "n": 0}, cfg(thread))  # a big snapshot: the items after it are deltas
        yield st


def reads_fail(saver: Any, app: Any, cid: str) -> None:
    """Every read of thread 'bad' fails with CheckpointError naming it and ``cid``, in
    time; thread 'good' reads and runs; listing every thread skips the damage, logged."""
    reads = {
        "get_state": lambda: app.get_state(cfg("bad")),
        "get_state_history": lambda: list(app.get_state_history(cfg("bad"))),
        "invoke": lambda: app.invoke({"log": ["more"]}, cfg("bad")),
        "get_tuple": lambda: saver.get_tuple(cfg("bad")),
        "list": lambda: list(saver.list(cfg("bad"))),
    }
    for name, read in reads.items():
        with pytest.raises(CheckpointError) as info:
            bounded(read)
        assert "'bad'" in str(info.value) and cid in str(info.value), name
    assert bounded(lambda: app.get_state(cfg("good"))).values["n"] == 8
    assert bounded(lambda: app.invoke({"log": ["more"]}, cfg("good")))["log"][-2:] == ["more", "item8"]
    with capture_logs() as logs:
        listed = bounded(lambda: list(saver.list(None)))
    threads = {t.config["configurable"]["thread_id"] for t in listed}
    assert "good" in threads
    skipped = [e for e in logs if e["event"] == "checkpoint.damaged_skipped"]
    assert skipped and all("'bad'" in e["error"] for e in skipped)


@pytest.mark.parametrize("loop", ["self", "mutual", "three"])
def test_a_looping_delta_chain_fails_in_time(stored: Stored, loop: str) -> None:
    """A delta blob based on its own checkpoint, two based on each other, or a cycle of
    three: CheckpointError naming the thread and checkpoint, never a hang."""
    d = stored.deltas("bad")
    assert len(d) >= 3
    if loop == "self":
        stored.rebase("bad", d[-1], d[-1])
    elif loop == "mutual":
        stored.rebase("bad", d[-2], d[-1])
    else:
        stored.rebase("bad", d[-3], d[-1])
    with stored.saver() as saver:
        reads_fail(saver, loop_graph(saver, 8), d[-1])


_enc = msgspec.msgpack.encode
WRONG_SHAPES = {
    "arity": _enc((1, "loop")),
    "types": _enc(("x", 3, None, "rec", [])),
    "not-a-row": _enc(5),
    "garbage": b"\xc1\xff\x00 not msgpack",
    "record-types": _enc((1, "loop", "ts", _enc({"channel_versions": "x", "blob_writers": 3, "versions_seen": {}}), {})),
    "writer-not-an-id": _enc((1, "loop", "ts", _enc({"channel_versions": {"n": 1}, "blob_writers": {"n": 5}, "versions_seen": {}}), {})),
    "blob-shape": _enc((1, "loop", "ts", _enc({"channel_versions": {"n": 1}, "blob_writers": {"n": "z"}, "versions_seen": {}}), {"n": [7]})),
}


@pytest.mark.parametrize("shape", list(WRONG_SHAPES))
def test_a_row_of_the_wrong_shape_fails_its_thread_only(stored: Stored, shape: str) -> None:
    """Stored rows with the wrong arity or types, or no row at all: CheckpointError naming
    the thread and checkpoint; other threads stay readable."""
    head = stored.ids("bad")[-1]
    stored.put("bad", head, WRONG_SHAPES[shape])
    with stored.saver() as saver:
        reads_fail(saver, loop_graph(saver, 8), head)


def test_in_memory_entries_and_writes_of_the_wrong_shape(tmp_path: Path) -> None:
    """InMemorySaver's dicts edited by hand (an entry or a pending write of the wrong
    arity): CheckpointError naming the thread and checkpoint."""
    for damage in ("entry", "write"):
        saver = InMemorySaver()
        app = loop_graph(saver, 3)
        for thread in ("bad", "good"):
            app.invoke({"log": ["x"], "n": 0}, cfg(thread))
        head = max(saver.storage["bad"][""])
        if damage == "entry":
            saver.storage["bad"][""][head] = ("junk",)
        else:
            saver.writes[("bad", "", head)] = {("t", 0): ("t", 5, None)}
        with pytest.raises(CheckpointError) as info:
            bounded(lambda: app.get_state(cfg("bad")))
        assert "'bad'" in str(info.value) and head in str(info.value)
        assert app.get_state(cfg("good")).values["n"] == 3
        assert "good" in {t.config["configurable"]["thread_id"] for t in saver.list(None)}


def test_a_damaged_sqlite_file_is_a_checkpoint_error(tmp_path: Path) -> None:
    """A database file whose pages are overwritten: CheckpointError, not sqlite3's
    DatabaseError."""
    path = tmp_path / "state.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        loop_graph(saver, 3).invoke({"log": ["x"], "n": 0}, cfg("t"))
    data = bytearray(path.read_bytes())
    for i in range(100, len(data), 97):
        data[i] = 0xAB
    path.write_bytes(bytes(data))
    for name in ("state.db-wal", "state.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    with SqliteSaver.from_conn_string(str(path)) as saver:
        app = loop_graph(saver, 3)
        for read in (lambda: saver.get_tuple(cfg("t")), lambda: app.get_state(cfg("t")), lambda: list(saver.list(None))):
            with pytest.raises(CheckpointError) as info:
                bounded(read)
            assert "damaged" in str(info.value)


# -- node caches --------------------------------------------------------------------------


def _cached_graph(cache: Any, calls: list[int]) -> Any:
    class S(TypedDict):
        x: int
        out: Annotated[list, operator.add]

    def a(s: S) -> dict[str, Any]:
        calls.append(s["x"])
        return {"out": [s["x"] * 10]}

    g = StateGraph(S)
    g.add_node("a", a, cache_policy=CachePolicy())
    g.add_edge(START, "a")
    g.add_edge("a", END)
    return g.compile(cache=cache)


def _damage_cache(cache: Any, raw: bytes) -> None:
    if isinstance(cache, InMemoryCache):
        for entries in cache._data.values():
            for key in entries:
                entries[key] = (raw, None)
    else:
        cache._conn.execute("UPDATE actorgraph_cache SET value = ?", (raw,))


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("damage", ["garbage", "wrong-shape"])
def test_a_damaged_cache_entry_is_a_logged_miss_and_is_overwritten(kind: str, damage: str, tmp_path: Path) -> None:
    """A node-cache entry that can't be read, or reads as the wrong shape: the node runs
    (a miss), a structlog warning names the key, and the run's result replaces it."""
    cache = InMemoryCache() if kind == "memory" else SqliteCache(tmp_path / "cache.db")
    calls: list[int] = []
    app = _cached_graph(cache, calls)
    assert app.invoke({"x": 1, "out": []}) == {"x": 1, "out": [10]}
    assert app.invoke({"x": 1, "out": []}) == {"x": 1, "out": [10]}
    assert calls == [1]
    raw = b"\xc1\xff junk" if damage == "garbage" else cache._codec.dumps(("a", 3, 5))
    _damage_cache(cache, raw)
    with capture_logs() as logs:
        assert bounded(lambda: app.invoke({"x": 1, "out": []})) == {"x": 1, "out": [10]}
    assert calls == [1, 1]
    warnings = [e for e in logs if e["event"] == "cache.damaged_entry"]
    assert warnings and warnings[0]["log_level"] == "warning" and warnings[0]["key"]
    assert app.invoke({"x": 1, "out": []}) == {"x": 1, "out": [10]}
    assert calls == [1, 1]  # the entry was overwritten: a hit again


# -- bad arguments ---------------------------------------------------------------------------


def test_a_configurable_that_is_not_a_dict_is_a_config_error() -> None:
    """LangGraph raises AttributeError/TypeError from inside; here ConfigError names it."""
    app = loop_graph(InMemorySaver(), 1)
    app.invoke({"log": [], "n": 0}, cfg("t"))
    for call in (
        lambda: app.invoke({"log": [], "n": 0}, {"configurable": "t"}),
        lambda: app.get_state({"configurable": ["t"]}),
        lambda: app.update_state({"configurable": "t"}, {"n": 1}),
        lambda: list(app.get_state_history({"configurable": "t"})),
    ):
        with pytest.raises(ConfigError, match="configurable"):
            call()


def test_a_history_filter_that_is_not_a_dict_is_a_type_error() -> None:
    saver = InMemorySaver()
    app = loop_graph(saver, 1)
    app.invoke({"log": [], "n": 0}, cfg("t"))
    with pytest.raises(TypeError, match="filter"):
        list(app.get_state_history(cfg("t"), filter="x"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="filter"):
        list(saver.list(cfg("t"), filter="x"))  # type: ignore[arg-type]


# -- history pages --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_a_history_page_reads_each_delta_chain_once(kind: str, tmp_path: Path) -> None:
    """get_state_history(limit=N) on a long thread of a growing list reads O(N) rows
    (plus one chain), not O(N x chain) as loading each checkpoint alone does; the values
    are the same."""
    with contextlib.ExitStack() as stack:
        uri = stack.enter_context(pg_schema()) if kind == "postgres" else None
        saver = stack.enter_context(Stored(kind, tmp_path, uri).saver())
        app = loop_graph(saver, 2000)
        app.invoke({"log": [], "n": 0}, cfg("t"))

        def rows_read(call: Callable[[], Any]) -> int:
            before = saver.statistics().rows_read
            call()
            return saver.statistics().rows_read - before

        page = {n: rows_read(lambda n=n: list(app.get_state_history(cfg("t"), limit=n))) for n in (50, 100, 200)}
        history = list(app.get_state_history(cfg("t"), limit=100))
        one_by_one = rows_read(lambda: [saver.get_tuple(s.config) for s in history])
        # linear: 100 more checkpoints cost about 100 more rows
        assert 100 <= page[200] - page[100] <= 100 + 5
        assert 50 <= page[100] - page[50] <= 50 + 5
        assert page[100] * 10 < one_by_one
        for snap in history[::17]:
            assert snap.values == app.get_state(snap.config).values
        assert history[0].values["log"] == [f"item{i}" for i in range(2000)]
