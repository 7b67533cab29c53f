"""Unit tests of ``actors._spawn``: the worker group (asyncio's fast path and anyio's task
group for Trio) never exits before its children, cancels them when cancelled or when one
fails, and surfaces the failure; ``DetachedTask`` runs outside its creator's cancel
scopes; the worker-thread pool (``run_in_thread``, ``ThreadPort``) keeps its bounds."""

from __future__ import annotations

import operator
import threading
import time
from typing import Annotated, Any, TypedDict

import anyio
import pytest

from actorgraph.actors._spawn import DetachedTask, ThreadPort, WorkerGroup, _ThreadPool, run_in_thread
from actorgraph.graph import START, StateGraph
from actorgraph.types import Send

pytestmark = pytest.mark.anyio

LIMIT = 10  # seconds: a bound that proves "never hangs", not a timing


async def test_the_group_never_exits_before_its_children() -> None:
    done: list[int] = []

    async def child(i: int) -> None:
        for _ in range(i % 4 + 1):
            await anyio.sleep(0)
        done.append(i)

    with anyio.fail_after(LIMIT):
        async with WorkerGroup() as group:
            for i in range(20):
                group.start(child, i)
            assert done == []  # started, not run yet
    assert sorted(done) == list(range(20))


async def test_a_child_started_by_a_child_is_waited_for_too() -> None:
    done: list[str] = []

    async def grandchild() -> None:
        await anyio.sleep(0)
        done.append("grandchild")

    async def child(group: WorkerGroup) -> None:
        await anyio.sleep(0)
        group.start(grandchild)
        done.append("child")

    with anyio.fail_after(LIMIT):
        async with WorkerGroup() as group:
            group.start(child, group)
    assert done == ["child", "grandchild"]


async def test_cancelling_the_group_cancels_its_children_which_can_clean_up() -> None:
    events: list[str] = []

    async def child(i: int) -> None:
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await anyio.sleep(0)
            events.append(f"cleaned {i}")
            raise

    with anyio.fail_after(LIMIT):
        async with WorkerGroup() as group:
            for i in range(5):
                group.start(child, i)
            await anyio.sleep(0)
            group.cancel()
    assert sorted(events) == [f"cleaned {i}" for i in range(5)]


async def test_a_cancelled_owner_cancels_the_children_and_still_waits_for_them() -> None:
    events: list[str] = []

    async def child() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.sleep(0)
                events.append("child finished")

    with anyio.fail_after(LIMIT):
        with anyio.CancelScope() as owner:
            async with WorkerGroup() as group:
                group.start(child)
                group.start(child)
                await anyio.sleep(0)
                owner.cancel()
                await anyio.sleep_forever()
        events.append("owner out")
    assert owner.cancelled_caught
    assert events == ["child finished", "child finished", "owner out"]


async def test_a_failing_child_cancels_the_others_and_its_error_surfaces() -> None:
    """(On asyncio the group's body isn't cancelled: its error surfaces when the body
    leaves the block. The dispatcher's workers never raise on purpose.)"""
    cancelled: list[int] = []

    async def sleeper(i: int) -> None:
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.append(i)
            raise

    async def failing() -> None:
        await anyio.sleep(0)
        raise ValueError("a worker's bug")

    with anyio.fail_after(LIMIT):
        with pytest.raises(ValueError, match="a worker's bug"):
            async with WorkerGroup() as group:
                for i in range(3):
                    group.start(sleeper, i)
                group.start(failing)
    assert sorted(cancelled) == [0, 1, 2]


async def test_an_error_in_the_body_cancels_the_children_and_is_the_one_raised() -> None:
    cancelled: list[str] = []

    async def sleeper() -> None:
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.append("child")
            raise

    with anyio.fail_after(LIMIT):
        with pytest.raises(KeyError, match="the body's"):
            async with WorkerGroup() as group:
                group.start(sleeper)
                await anyio.sleep(0)
                raise KeyError("the body's")
    assert cancelled == ["child"]


async def test_the_group_knows_its_backend(anyio_backend: str) -> None:
    async with WorkerGroup() as group:
        assert group.backend == anyio_backend


class S(TypedDict):
    xs: Annotated[list[int], operator.add]


async def test_a_cancelled_run_lets_every_fan_out_task_finish_its_shielded_cleanup() -> None:
    """Through the public API: an ``ainvoke`` cancelled from outside while three Send
    tasks wait. Each task's shielded cleanup runs to its end: on asyncio the group used
    to cancel its workers a second time (when its owner, still cancelled, woke up),
    which breaks into shielded code."""
    cleaned: list[int] = []

    async def node(s: S) -> None:
        try:
            await anyio.sleep_forever()
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.sleep(0.01)
                cleaned.append(s["xs"][0])

    g = StateGraph(S)
    g.add_node("n", node)
    g.add_conditional_edges(START, lambda s: [Send("n", {"xs": [i]}) for i in range(3)])
    graph = g.compile()
    with anyio.fail_after(LIMIT):
        with anyio.move_on_after(0.1) as scope:
            await graph.ainvoke({"xs": []})
    assert scope.cancelled_caught
    assert sorted(cleaned) == [0, 1, 2]


# -- DetachedTask ----------------------------------------------------------------------


async def test_a_detached_task_runs_outside_its_creators_cancelled_scope() -> None:
    events: list[str] = []

    async def body() -> None:
        await anyio.sleep(0)
        await anyio.sleep(0)
        events.append("ran to the end")

    with anyio.CancelScope() as scope:
        scope.cancel()
        task = DetachedTask(body)
    with anyio.fail_after(LIMIT):
        await task.wait()
    assert events == ["ran to the end"]
    assert task.done


async def test_a_detached_task_cancelled_before_it_first_runs_is_still_cancelled() -> None:
    events: list[str] = []

    async def body() -> None:
        events.append("started")
        try:
            await anyio.sleep_forever()
        finally:
            events.append("cancelled")

    task = DetachedTask(body)
    task.cancel()
    assert not task.done
    with anyio.fail_after(LIMIT):
        await task.wait()
    assert events in (["started", "cancelled"], [])  # its first await is cancelled at once
    assert task.done


async def test_a_detached_task_can_be_cancelled_from_another_task_while_it_runs() -> None:
    started = anyio.Event()
    events: list[str] = []

    async def body() -> None:
        started.set()
        try:
            await anyio.sleep_forever()
        finally:
            events.append("cleaned up")

    task = DetachedTask(body)
    with anyio.fail_after(LIMIT):
        await started.wait()

        async def stop() -> None:
            task.cancel()

        async with anyio.create_task_group() as tg:
            tg.start_soon(stop)
        await task.wait()
    assert events == ["cleaned up"]


# -- worker threads (asyncio only: the sync calls' private loops) -----------------------

asyncio_only = pytest.mark.parametrize("anyio_backend", ["asyncio"])


@asyncio_only
async def test_run_in_thread_returns_the_result_from_a_worker_thread() -> None:
    loop_thread = threading.get_ident()

    def work(a: int, b: int) -> tuple[int, int, str]:
        return a + b, threading.get_ident(), threading.current_thread().name

    with anyio.fail_after(LIMIT):
        total, thread, name = await run_in_thread(None, work, 2, 3)
    assert total == 5
    assert thread != loop_thread
    assert name == "actorgraph-node"


@asyncio_only
async def test_code_run_in_thread_reaches_the_callers_loop_through_anyio_without_a_token() -> None:
    # as from one of anyio's own worker threads: from_thread.run_sync / run find the loop,
    # check_cancelled never fires (the call is waited for, not abandoned); a thread given
    # no token is not one
    loop_thread = threading.get_ident()
    seen: list[Any] = []

    async def on_loop() -> int:
        await anyio.sleep(0)
        return threading.get_ident()

    def work() -> str:
        seen.append(anyio.from_thread.run_sync(threading.get_ident))
        seen.append(anyio.from_thread.run(on_loop))
        anyio.from_thread.check_cancelled()
        return "done"

    def tokenless() -> None:
        anyio.from_thread.run_sync(threading.get_ident)

    with anyio.fail_after(LIMIT):
        assert await run_in_thread(anyio.lowlevel.current_token(), work) == "done"
        with pytest.raises(RuntimeError, match="token"):
            await run_in_thread(None, tokenless)
        # the token doesn't outlive its call: the same pool thread, no token, fails again
        with pytest.raises(RuntimeError, match="token"):
            await run_in_thread(None, tokenless)
    assert seen == [loop_thread, loop_thread]


@asyncio_only
async def test_run_in_thread_raises_what_the_call_raised() -> None:
    def broken() -> None:
        raise LookupError("from the thread")

    with anyio.fail_after(LIMIT), pytest.raises(LookupError, match="from the thread"):
        await run_in_thread(None, broken)


@asyncio_only
async def test_a_cancelled_caller_of_run_in_thread_waits_for_the_thread_to_finish() -> None:
    events: list[str] = []
    entered, go = threading.Event(), threading.Event()

    def blocking() -> None:
        entered.set()
        go.wait(LIMIT)
        events.append("thread finished")

    async def caller(scope: anyio.CancelScope) -> None:
        with scope:
            await run_in_thread(None, blocking)
        events.append("caller out")

    scope = anyio.CancelScope()
    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(caller, scope)
            while not entered.is_set():
                await anyio.sleep(0.001)
            scope.cancel()
            for _ in range(20):
                await anyio.sleep(0)
            assert events == []  # cancelled, but the thread still runs: the caller waits
            go.set()
    assert events == ["thread finished", "caller out"]
    assert scope.cancelled_caught


@asyncio_only
async def test_for_a_shared_loop_task_cancel_leaves_the_call_to_finish_but_a_scope_still_waits() -> None:
    # as anyio.to_thread.run_sync there (and LangGraph's ainvoke): Task.cancel() returns at
    # once and the call runs on, its result dropped; a cancel scope's cancellation waits
    import asyncio

    entered, go, finished = threading.Event(), threading.Event(), threading.Event()

    def blocking() -> str:
        entered.set()
        go.wait(LIMIT)
        finished.set()
        return "late"

    async def wait_entered() -> None:
        while not entered.is_set():
            await anyio.sleep(0.001)

    with anyio.fail_after(LIMIT):
        task = asyncio.ensure_future(run_in_thread(None, blocking, task_cancel_orphans=True))
        await wait_entered()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not finished.is_set()  # orphaned: still running
        go.set()
        while not finished.is_set():
            await anyio.sleep(0.001)
        await anyio.sleep(0.01)  # its result reaches a cancelled future: dropped quietly

        entered.clear(), go.clear(), finished.clear()
        events: list[str] = []

        async def caller(scope: anyio.CancelScope) -> None:
            with scope:
                await run_in_thread(None, blocking, task_cancel_orphans=True)
            events.append("caller out")

        scope = anyio.CancelScope()
        async with anyio.create_task_group() as tg:
            tg.start_soon(caller, scope)
            await wait_entered()
            scope.cancel()
            for _ in range(20):
                await anyio.sleep(0)
            assert events == []  # the scope's cancellation waits for the call
            go.set()
        assert events == ["caller out"] and finished.is_set() and scope.cancelled_caught


def test_the_pool_runs_at_most_max_threads_and_queues_the_rest() -> None:
    pool = _ThreadPool()
    pool.MAX = 3
    lock = threading.Lock()
    running = peak = 0
    finished = threading.Semaphore(0)
    go = threading.Event()

    def call(i: int) -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        go.wait(LIMIT)
        with lock:
            running -= 1
        finished.release()

    for i in range(10):
        pool.submit_call(call, (i,))
    deadline = time.monotonic() + LIMIT
    while running < 3 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert pool._threads == 3
    go.set()
    for _ in range(10):
        assert finished.acquire(timeout=LIMIT)
    assert peak == 3
    assert pool._threads == 3


def test_idle_threads_retire() -> None:
    pool = _ThreadPool()
    pool.IDLE = 0.02
    done = threading.Semaphore(0)
    for _ in range(4):
        pool.submit_call(done.release, ())
    for _ in range(4):
        assert done.acquire(timeout=LIMIT)
    assert 1 <= pool._threads <= 4
    deadline = time.monotonic() + LIMIT
    while pool._threads and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool._threads == 0
    # and the pool still works afterwards
    pool.submit_call(done.release, ())
    assert done.acquire(timeout=LIMIT)


@asyncio_only
async def test_a_thread_port_delivers_results_put_meanwhile_in_one_batch_on_the_loop() -> None:
    import asyncio

    loop_thread = threading.get_ident()
    batches: list[list[Any]] = []
    delivered: list[tuple[int, int]] = []
    got_all = anyio.Event()

    def deliver(item: int) -> None:
        delivered.append((threading.get_ident(), item))

    def on_batch(batch: list[Any]) -> None:
        batches.append([item for _, item in batch])
        for fn, item in batch:
            fn(item)
        if len(delivered) == 150:
            got_all.set()

    port = ThreadPort(asyncio.get_running_loop(), on_batch)

    def producer(start: int) -> None:
        for i in range(start, start + 50):
            port.put(deliver, i)

    # the loop is blocked while the thread puts 100 items: one wake-up takes them all
    t = threading.Thread(target=producer, args=(0,))
    t.start()
    t.join()
    t = threading.Thread(target=producer, args=(50,))
    t.start()
    t.join()
    with anyio.fail_after(LIMIT):
        await anyio.sleep(0)
        assert batches == [list(range(100))]
        producer(100)  # from the loop thread as well
        await got_all.wait()
    assert batches == [list(range(100)), list(range(100, 150))]
    assert {t for t, _ in delivered} == {loop_thread}


@asyncio_only
async def test_a_thread_port_of_a_closed_loop_drops_items_quietly() -> None:
    import asyncio

    loop = asyncio.new_event_loop()
    loop.close()
    port = ThreadPort(loop, lambda batch: None)
    port.put(lambda item: None, 1)  # no error: nobody waits any more


def test_calls_that_block_get_threads_of_their_own_however_many_quick_calls_ran_before() -> None:
    """Quick calls run on a few threads; calls that block each get a thread within
    milliseconds (four must meet at a barrier), and the count of idle threads stays
    exact however calls and threads interleaved before (it once over-counted, so queued
    calls waited for threads that were busy)."""
    pool = _ThreadPool()
    done = threading.Semaphore(0)
    for _ in range(200):  # quick calls, some queued while every thread was busy
        pool.submit_call(done.release, ())
    for _ in range(200):
        assert done.acquire(timeout=LIMIT)
    assert pool._threads <= pool.EAGER
    barrier = threading.Barrier(4, timeout=LIMIT)
    for _ in range(4):
        pool.submit_call(lambda: (barrier.wait(), done.release()), ())
    for _ in range(4):
        assert done.acquire(timeout=LIMIT)
    assert pool.EAGER <= pool._threads <= 4 + pool.EAGER


@asyncio_only
async def test_deferred_puts_wake_the_loop_a_few_times_and_none_is_left_behind() -> None:
    """``put(..., defer=True)`` while the loop polls the port anyway: a burst of results
    costs a few wake-ups, not one each, and a deferred result put last, with nothing
    after it, still arrives (the poll takes it)."""
    import asyncio

    batches: list[list[int]] = []
    got: list[int] = []
    arrived = anyio.Event()

    def on_batch(batch: list[Any]) -> None:
        batches.append([item for _, item in batch])
        for fn, item in batch:
            fn(item)

    def deliver(item: int) -> None:
        got.append(item)
        if len(got) == 301:
            arrived.set()

    port = ThreadPort(asyncio.get_running_loop(), on_batch)

    def producer() -> None:
        port.put(deliver, 0)  # wakes the loop, which then polls for a moment
        time.sleep(0.05)
        for i in range(1, 301):
            port.put(deliver, i, defer=True)
            if i % 30 == 0:
                time.sleep(0.001)

    with anyio.fail_after(LIMIT):
        await anyio.to_thread.run_sync(producer)
        await arrived.wait()
    assert got == list(range(301))
    assert len(batches) < 100  # one per deferred put would be 300


@asyncio_only
async def test_a_steady_stream_of_deferred_puts_is_looked_at_less_and_less_often() -> None:
    """A thread putting results for a while (a long fan-out): each look at the port finds
    more, so the next comes later (up to ``DEFER_MAX``) - a few dozen looks, each taking
    the GIL from the producing thread, instead of one every ``DEFER``; all arrive."""
    import asyncio

    batches: list[int] = []
    got: list[int] = []
    n = 3000

    def on_batch(batch: list[Any]) -> None:
        batches.append(len(batch))
        for fn, item in batch:
            fn(item)

    port = ThreadPort(asyncio.get_running_loop(), on_batch)

    def producer() -> None:
        started = time.monotonic()
        port.put(got.append, 0)
        for i in range(1, n):
            port.put(got.append, i, defer=i < n - 1)
            if i % 10 == 0:
                time.sleep(0.001)  # ~300 ms of results: 150 looks at one per DEFER
        assert time.monotonic() - started > 0.25

    with anyio.fail_after(LIMIT):
        await anyio.to_thread.run_sync(producer)
        while len(got) < n:
            await anyio.sleep(0.001)
    assert got == list(range(n))
    assert len(batches) < 60


@asyncio_only
async def test_deferred_puts_from_racing_threads_all_arrive() -> None:
    import asyncio

    got: list[int] = []
    port = ThreadPort(asyncio.get_running_loop(), lambda batch: [fn(item) for fn, item in batch])

    def producer(start: int) -> None:
        for i in range(start, start + 2000):
            port.put(got.append, i, defer=i % 7 != 0)
            if i % 500 == 0:
                time.sleep(0.003)  # past the poll: the next deferred put must still arrive

    threads = [threading.Thread(target=producer, args=(k * 2000,)) for k in range(4)]
    for t in threads:
        t.start()
    with anyio.fail_after(LIMIT):
        while any(t.is_alive() for t in threads) or len(got) < 8000:
            await anyio.sleep(0.001)
    assert sorted(got) == list(range(8000))


def test_a_subgraph_of_a_sync_fan_out_that_blocks_gets_its_siblings_run_beside_it() -> None:
    """The subgraph runs of a sync fan-out are drained by one worker thread while it keeps
    up; when one blocks (here: until a sibling sets an event, which works in LangGraph,
    whose tasks run in parallel threads), other threads take the rest."""
    ready = threading.Event()

    class Sub(TypedDict):
        x: int
        seen: Annotated[list[int], operator.add]

    def step(s: Sub) -> dict[str, Any]:
        if s["x"] == 0:
            assert ready.wait(LIMIT), "the sibling never ran"
        if s["x"] == 7:
            ready.set()
        return {"seen": [s["x"]]}

    sub = StateGraph(Sub)
    sub.add_node("step", step)
    sub.add_edge(START, "step")

    class Parent(TypedDict):
        seen: Annotated[list[int], operator.add]

    g = StateGraph(Parent)
    g.add_node("sub", sub.compile())
    g.add_conditional_edges(START, lambda s: [Send("sub", {"x": i, "seen": []}) for i in range(40)])
    started = time.monotonic()
    out = g.compile().invoke({"seen": []})
    assert sorted(out["seen"]) == list(range(40))
    assert time.monotonic() - started < LIMIT
