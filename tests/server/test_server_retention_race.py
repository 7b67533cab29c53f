"""A retention sweep never loses a run created while it decides what to do with an
expired thread, driven step by step against a real SQLite file (the server's storage,
which retention sweeps through, and checkpoint saver, each on its own connection as in
the server; the run made through a second storage on its own connection, as another
request or worker process).

The interleaving is explicit, not timed: sqlite3's trace callback on the sweep's
connections runs the run's insert at the moment the sweep's first write transaction
begins (``BEGIN IMMEDIATE``, before it takes the write lock), so the run is committed
after any checks the sweep made before that transaction and before its deletes."""

from __future__ import annotations

import asyncio
import operator
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, TypedDict

import aiosqlite
import msgspec
import pytest

from actorgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from actorgraph.graph import END, START, StateGraph
from actorgraph.server._context import ServerContext
from actorgraph.server.retention import Retention, StoreTTL, ThreadTTL
from actorgraph.server.schemas import Run, Thread
from actorgraph.server.storage import Gone, SqliteStorage

pytestmark = pytest.mark.anyio


class State(TypedDict, total=False):
    log: Annotated[list, operator.add]


def _graph(saver: Any) -> Any:
    g = StateGraph(State)
    g.add_node("a", lambda s: {"log": ["a"]})
    g.add_node("b", lambda s: {"log": ["b"]})
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", END)
    return g.compile(checkpointer=saver)


class Parts:
    """The server's pieces on one file, and a second storage connection to it."""

    def __init__(self, path: Path, storage: SqliteStorage, other: SqliteStorage, saver: Any, retention: Retention) -> None:
        self.path, self.storage, self.other, self.saver, self.retention = path, storage, other, saver, retention

    async def expired_thread(self, strategy: str) -> Thread:
        """A thread with two runs' checkpoints, its ttl run out (at or below 0 minutes)."""
        stamp = datetime.now(timezone.utc)
        thread = Thread(thread_id=str(uuid.uuid4()), created_at=stamp, updated_at=stamp, metadata={})
        await self.storage.thread_insert(thread, if_exists=None)
        graph = _graph(self.saver)
        for _ in range(2):
            await graph.ainvoke({"log": []}, {"configurable": {"thread_id": thread.thread_id}})
        await self.retention.thread_created(thread.thread_id, (strategy, -1.0))
        return thread

    async def checkpoints(self, thread_id: str) -> int:
        return len([c async for c in self.saver.alist({"configurable": {"thread_id": thread_id}})])


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[Parts]:
    path = tmp_path / "actorgraph.sqlite"
    storage, other = SqliteStorage(path), SqliteStorage(path)
    await storage.setup()
    await other.setup()
    saver_conn = await aiosqlite.connect(str(path), isolation_level=None)
    saver = AsyncSqliteSaver(saver_conn)
    await saver.setup()
    c = ServerContext(None, storage, None)  # type: ignore[arg-type]  # a sweep reads neither
    c.checkpointer = saver
    # the sweep's own loop waits an hour: the test calls sweep_threads itself
    retention = Retention(c, ThreadTTL(sweep_interval_minutes=60), StoreTTL())
    try:
        async with retention.running():
            yield Parts(path, storage, other, saver, retention)
    finally:
        await saver_conn.close()
        await storage.close()
        await other.close()


def _pending_run(thread: Thread) -> tuple[Run, Thread]:
    stamp = datetime.now(timezone.utc)
    run = Run(
        run_id=str(uuid.uuid4()), thread_id=thread.thread_id, assistant_id=str(uuid.uuid4()), created_at=stamp,
        updated_at=stamp, status="pending", metadata={}, kwargs={}, multitask_strategy="enqueue",
    )
    return run, msgspec.structs.replace(thread, status="busy", updated_at=stamp)


async def _on_first_write(parts: Parts, action: Callable[[], Any]) -> list[str]:
    """Run ``action()`` (a coroutine function) to its end on the event loop, from the
    thread of whichever of the server's connections first begins a write transaction,
    before that transaction takes the lock. Returns the connection's name once it fired."""
    loop = asyncio.get_running_loop()
    fired: list[str] = []

    def tracer(name: str) -> Callable[[str], None]:
        def trace(sql: str) -> None:
            if not fired and sql.lstrip().upper().startswith("BEGIN IMMEDIATE"):
                fired.append(name)
                asyncio.run_coroutine_threadsafe(action(), loop).result(timeout=30)

        return trace

    for name, conn in (("storage", parts.storage.conn), ("saver", parts.saver.conn)):
        await conn.set_trace_callback(tracer(name))
    return fired


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("strategy", ["delete", "keep_latest"])
async def test_a_run_created_as_the_sweep_starts_deleting_is_kept_with_its_thread(parts: Parts, strategy: str) -> None:
    """The run is committed after the sweep found the thread expired and idle, just
    before the sweep's first write: the sweep sees it (its checks are in that write's
    transaction) and leaves the thread, the run and every checkpoint as they are."""
    thread = await parts.expired_thread(strategy)
    before = await parts.checkpoints(thread.thread_id)
    assert before > 1
    run, busy = _pending_run(thread)
    fired = await _on_first_write(parts, lambda: parts.other.run_insert(run, available_at=time.time(), thread=busy))
    swept = await parts.retention.sweep_threads()
    assert fired  # the run was made mid-sweep
    assert await parts.storage.run_get(run.run_id) == run
    assert (await parts.storage.thread_get(thread.thread_id)) is not None
    assert await parts.checkpoints(thread.thread_id) == before
    assert swept == 0
    # once the run is over the thread is swept (its clock was not touched here)
    await parts.storage.run_set_status(run.run_id, "success", datetime.now(timezone.utc))
    for conn in (parts.storage.conn, parts.saver.conn):
        await conn.set_trace_callback(None)
    assert await parts.retention.sweep_threads() == 1
    if strategy == "delete":
        assert await parts.storage.thread_get(thread.thread_id) is None
        assert await parts.storage.run_get(run.run_id) is None
        assert await parts.checkpoints(thread.thread_id) == 0
    else:
        assert await parts.checkpoints(thread.thread_id) == 1


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_clock_started_again_as_the_sweep_starts_keeps_the_thread(parts: Parts) -> None:
    """A run stored just as the sweep begins its write starts the thread's clock again
    in its own insert: the sweep leaves the thread, and once the run is over the clock
    still runs (an hour from the run's insert), so the next sweep leaves it too."""
    thread = await parts.expired_thread("delete")
    # a ttl of an hour whose clock ran out (the run's insert starts it again)
    await parts.storage.ttl_set(thread.thread_id, "delete", 60, time.time() - 1)
    run, busy = _pending_run(thread)
    clocked: list[bool] = []

    async def insert() -> None:  # another process's request, on the other connection
        clocked.append(await parts.other.run_insert(run, available_at=time.time(), thread=busy, ttl_from=time.time()))

    fired = await _on_first_write(parts, insert)
    swept = await parts.retention.sweep_threads()
    assert fired and clocked == [True]
    assert await parts.storage.thread_get(thread.thread_id) is not None
    assert await parts.checkpoints(thread.thread_id) > 1
    assert swept == 0
    await parts.storage.run_set_status(run.run_id, "success", datetime.now(timezone.utc))
    for conn in (parts.storage.conn, parts.saver.conn):
        await conn.set_trace_callback(None)
    assert await parts.retention.sweep_threads() == 0
    assert await parts.storage.thread_get(thread.thread_id) is not None


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_run_for_a_thread_swept_meanwhile_is_refused_and_does_not_bring_it_back(parts: Parts) -> None:
    """The other order: the sweep deletes the thread after a request read it; the run's
    insert then fails (``Gone``: the server answers 404) and writes nothing."""
    thread = await parts.expired_thread("delete")
    run, busy = _pending_run(thread)
    assert await parts.retention.sweep_threads() == 1
    with pytest.raises(Gone):
        await parts.other.run_insert(run, available_at=time.time(), thread=busy)
    assert await parts.storage.thread_get(thread.thread_id) is None
    assert await parts.storage.run_get(run.run_id) is None
    assert await parts.checkpoints(thread.thread_id) == 0
