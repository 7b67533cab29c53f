"""Unit tests of the dispatcher (``actors._dispatcher``): jobs run eagerly in the worker
that picks them, a job that suspends keeps its worker while more start, ``_Resume``
resumes it in its own context and forwards cancellation, ``max_workers``, ``cancel_tasks``,
``take``, ``fail``, sync calls handed to worker threads (``to_thread``), and async jobs run to
their end on worker threads' own loops (``to_own_loop``, a ``ThreadBatch``)."""

from __future__ import annotations

import contextvars
import math
import operator
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

import anyio
import pytest

from actorgraph.actors._dispatcher import Dispatcher
from actorgraph.actors._spawn import WorkerGroup
from actorgraph.graph import START, StateGraph

pytestmark = pytest.mark.anyio

LIMIT = 10  # seconds: a bound that proves "never hangs", not a timing


disp: Dispatcher = None  # type: ignore[assignment]  # the running test's dispatcher


async def run_dispatcher(setup: Callable[[Dispatcher], Any], max_workers: int | None = None) -> Dispatcher:
    """Run a dispatcher (as ``disp``) until it is finished; ``setup`` queues its first jobs."""
    global disp
    with anyio.fail_after(LIMIT):
        async with WorkerGroup() as group:
            disp = Dispatcher(group, max_workers)
            setup(disp)
            await disp.run_root()
    return disp


async def test_jobs_that_never_suspend_run_in_order_in_the_root_worker_without_spawning() -> None:
    order: list[int] = []
    threads: set[int] = set()

    def job(i: int) -> None:
        order.append(i)
        threads.add(threading.get_ident())
        if i == 99:
            disp.finish()

    def setup(d: Dispatcher) -> None:
        for i in range(100):
            d.submit(job, i)

    await run_dispatcher(setup)
    stats = disp.statistics()
    assert order == list(range(100))
    assert threads == {threading.get_ident()}  # on the loop's thread
    assert (stats.jobs_run, stats.spawned, stats.peak_workers) == (100, 0, 1)
    assert (stats.workers, stats.queue_depth) == (0, 0)


async def test_a_job_that_suspends_keeps_its_worker_and_another_worker_runs_the_queue() -> None:
    events: list[str] = []
    released = anyio.Event()
    tasks: dict[str, Any] = {}

    async def waits() -> None:
        tasks["waits"] = anyio.get_current_task().id
        events.append("waits: start")
        await released.wait()
        events.append("waits: end")
        assert anyio.get_current_task().id == tasks["waits"]  # the same task resumed it
        disp.finish()

    def releases(_: Any) -> None:
        tasks["releases"] = anyio.get_current_task().id
        events.append("releases")
        released.set()

    def setup(d: Dispatcher) -> None:
        d.submit(lambda _: waits())
        d.submit(releases)

    disp = await run_dispatcher(setup)
    assert events == ["waits: start", "releases", "waits: end"]
    assert tasks["waits"] != tasks["releases"]
    assert disp.spawned == 1 and disp.peak_workers == 2


async def test_thousands_of_jobs_that_suspend_once_reach_full_width_in_log2_n_loop_turns() -> None:
    n = 2048
    started = 0
    finished = 0
    all_started = anyio.Event()
    turns = 0

    async def ticker() -> None:
        # one tick per loop turn (more or less): how many turns the fan-out took to widen
        nonlocal turns
        while not all_started.is_set():
            turns += 1
            await anyio.sleep(0)

    async def job() -> None:
        nonlocal started, finished
        started += 1
        if started == n:
            all_started.set()
        await all_started.wait()  # every job holds its worker until all have started
        finished += 1
        if finished == n:
            disp.finish()

    def setup(d: Dispatcher) -> None:
        for _ in range(n):
            d.submit_task(lambda _: job(), None, contextvars.copy_context())

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        await run_dispatcher(setup)
    assert (started, finished) == (n, n)
    assert disp.peak_workers == n  # every suspended job kept a worker of its own
    assert disp.spawned == n - 1  # the root worker ran the first
    assert disp.jobs_run == n
    # workers double each turn: ~log2(n) turns; slack for the backends' scheduling
    assert turns <= 2 * math.log2(n) + 4, turns


async def test_max_workers_caps_the_jobs_in_flight_and_every_job_still_runs() -> None:
    n = 60
    in_flight = 0
    peak = 0
    done: list[int] = []

    async def job(i: int) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(3):
            await anyio.sleep(0)
        in_flight -= 1
        done.append(i)
        if len(done) == n:
            disp.finish()

    def setup(d: Dispatcher) -> None:
        for i in range(n):
            d.submit_task(job, i, contextvars.copy_context())

    await run_dispatcher(setup, max_workers=4)
    assert sorted(done) == list(range(n))
    assert peak == 4
    assert disp.peak_workers == 4


var: contextvars.ContextVar[str] = contextvars.ContextVar("var")
mine: contextvars.ContextVar[int] = contextvars.ContextVar("mine", default=-1)


async def test_every_resumed_step_of_a_job_runs_in_the_jobs_context() -> None:
    n = 50
    seen: dict[int, list[tuple[str, int]]] = {i: [] for i in range(n)}
    finished = 0

    async def job(i: int) -> None:
        nonlocal finished
        mine.set(i)  # set in the first step: later steps must still see it
        for _ in range(4):
            seen[i].append((var.get(), mine.get()))
            await anyio.sleep(0)  # other jobs run their steps in between
        seen[i].append((var.get(), mine.get()))
        finished += 1
        if finished == n:
            disp.finish()

    def setup(d: Dispatcher) -> None:
        for i in range(n):
            ctx = contextvars.copy_context()
            ctx.run(var.set, f"job {i}")
            d.submit_task(job, i, ctx)

    await run_dispatcher(setup, max_workers=3)  # few workers: each runs many jobs
    for i in range(n):
        assert seen[i] == [(f"job {i}", i)] * 5
    assert mine.get() == -1  # nothing leaked into the caller's context


async def test_cancel_tasks_cancels_a_job_suspended_in_resume_which_can_clean_up() -> None:
    events: list[str] = []

    async def task(name: str) -> None:
        events.append(f"{name}: start")
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            events.append(f"{name}: cancelled")
            # cleanup that awaits: the shielded steps are forwarded too
            with anyio.CancelScope(shield=True):
                await anyio.sleep(0)
                events.append(f"{name}: cleaned up")
            raise

    async def stopper() -> None:
        # an actor's turn (not a task): waits until both tasks hold their workers
        while sum(e.endswith("start") for e in events) < 2:
            await anyio.sleep(0)
        disp.cancel_tasks()
        events.append("cancelled tasks")
        disp.submit(lambda _: disp.finish())  # jobs still run after cancel_tasks

    def setup(d: Dispatcher) -> None:
        ctx = contextvars.copy_context
        d.submit_task(task, "a", ctx())
        d.submit(lambda _: stopper())
        d.submit_task(task, "b", ctx())
        d.submit_task(task, "queued", ctx())  # max_workers=3: never picked up

    await run_dispatcher(setup, max_workers=3)
    assert events[:3] == ["a: start", "b: start", "cancelled tasks"]
    assert sorted(events[3:]) == sorted(["a: cancelled", "a: cleaned up", "b: cancelled", "b: cleaned up"])
    assert events.index("a: cancelled") < events.index("a: cleaned up")
    assert disp.queue_depth == 0 and disp.workers == 0
    assert disp.failure is None


async def test_a_job_that_raises_fails_the_dispatcher_which_cancels_the_tasks_in_flight() -> None:
    events: list[str] = []
    boom = ValueError("a bug in an actor")

    async def task() -> None:
        events.append("task: start")
        try:
            await anyio.sleep_forever()
        finally:
            events.append("task: cancelled")

    async def broken() -> None:
        await anyio.sleep(0)
        events.append("broken: raises")
        raise boom

    def setup(d: Dispatcher) -> None:
        d.submit_task(lambda _: task(), None, contextvars.copy_context())
        d.submit(lambda _: broken())

    await run_dispatcher(setup)
    assert disp.failure is boom
    assert disp.done
    assert events == ["task: start", "broken: raises", "task: cancelled"]
    assert disp.workers == 0


async def test_a_job_raising_synchronously_fails_the_dispatcher_and_later_failures_keep_the_first() -> None:
    first, second = ValueError("first"), ValueError("second")

    def setup(d: Dispatcher) -> None:
        d.submit(lambda _: (_ for _ in ()).throw(first))
        d.submit(lambda _: (_ for _ in ()).throw(second))

    d = await run_dispatcher(setup)
    d.fail(second)
    assert d.failure is first


async def test_take_returns_a_queued_job_that_then_never_runs() -> None:
    ran: list[str] = []

    async def holder(_: Any) -> None:
        # holds the only worker while the others are queued
        assert disp.take(later)
        assert not disp.take(later)  # already taken
        await anyio.sleep(0)
        ran.append("holder")
        disp.submit(lambda _: disp.finish())

    later = None

    def setup(d: Dispatcher) -> None:
        nonlocal later
        d.submit_task(holder, None, contextvars.copy_context())
        later = d.submit_task(lambda _: ran.append("later"), None, contextvars.copy_context())

    await run_dispatcher(setup, max_workers=1)
    assert ran == ["holder"]
    assert disp.jobs_run == 2  # the holder and the finishing turn


async def test_a_job_submitted_from_outside_while_every_worker_is_parked_gets_a_worker() -> None:
    released = anyio.Event()
    ran: list[str] = []

    async def parked() -> None:
        await released.wait()
        ran.append("parked")
        disp.finish()

    async def outsider(tg_ready: anyio.Event) -> None:
        await tg_ready.wait()
        while disp.workers == 0 or disp._running:  # the root worker is parked in the job
            await anyio.sleep(0)
        disp.submit(lambda _: (ran.append("outside"), released.set()) and None)

    ready = anyio.Event()

    def setup(d: Dispatcher) -> None:
        d.submit(lambda _: parked())
        ready.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(outsider, ready)
        await run_dispatcher(setup)
    assert ran == ["outside", "parked"]
    assert disp.spawned == 1


# -- sync calls in worker threads (asyncio only: the sync calls' private loops) ----------


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_to_thread_runs_calls_in_threads_and_delivers_every_result_on_the_loop() -> None:
    n = 200
    loop_thread = threading.get_ident()
    ran_in: set[int] = set()
    delivered: list[tuple[int, int]] = []

    def call(i: int) -> int:
        ran_in.add(threading.get_ident())
        return i * 2

    def deliver(value: int) -> None:
        delivered.append((threading.get_ident(), value))

    async def starter() -> None:
        for i in range(n):
            disp.to_thread(call, i, deliver)
        assert disp.in_thread == n
        disp.finish()  # the run still waits for every call in a thread

    await run_dispatcher(lambda d: d.submit(lambda _: starter()))
    assert sorted(v for _, v in delivered) == [2 * i for i in range(n)]
    assert {t for t, _ in delivered} == {loop_thread}
    assert loop_thread not in ran_in
    assert disp.in_thread == 0


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_run_ends_only_after_a_slow_thread_call_was_delivered() -> None:
    events: list[str] = []
    go = threading.Event()

    def slow(_: Any) -> str:
        go.wait(LIMIT)
        events.append("call returned")
        return "result"

    def setup(d: Dispatcher) -> None:
        d.to_thread(slow, None, lambda v: events.append(f"delivered {v}"))
        d.submit(lambda _: d.finish())
        threading.Timer(0.05, go.set).start()

    await run_dispatcher(setup)
    events.append("run returned")
    assert events == ["call returned", "delivered result", "run returned"]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_thread_call_that_raises_fails_the_dispatcher() -> None:
    bug = RuntimeError("a bug in the call")

    def broken(_: Any) -> None:
        raise bug

    d = await run_dispatcher(lambda d: d.to_thread(broken, None, lambda v: None))
    assert d.failure is bug


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_wait_threads_returns_once_every_thread_call_was_delivered() -> None:
    delivered: list[int] = []
    go = threading.Event()

    async def waiter() -> None:
        for i in range(5):
            disp.to_thread(lambda i: (go.wait(LIMIT), i)[1], i, delivered.append)
        go.set()
        await disp.wait_threads()
        assert sorted(delivered) == list(range(5))
        disp.finish()

    await run_dispatcher(lambda d: d.submit(lambda _: waiter()))
    assert disp.in_thread == 0


_who: contextvars.ContextVar[str] = contextvars.ContextVar("_who", default="nobody")


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_to_own_loop_runs_each_job_in_its_own_context_on_a_worker_threads_loop() -> None:
    import asyncio

    n = 300
    loop_thread = threading.get_ident()
    seen: list[tuple[int, str, int, bool]] = []
    delivered: list[tuple[int, Any]] = []

    async def job(i: int) -> int:
        # every step of the job, also after it suspended, runs in the context it was given
        before = _who.get()
        if i % 3 == 0:
            await asyncio.sleep(0)
        _who.set(f"changed by {i}")  # stays in the job's context: no other job sees it
        seen.append((i, before, threading.get_ident(), asyncio.get_running_loop() is not main_loop))
        return i * 2

    def start(_: Any) -> None:
        for i in range(n):
            ctx = contextvars.copy_context()
            ctx.run(_who.set, f"job {i}")
            disp.to_own_loop(job, i, ctx, lambda v: delivered.append((threading.get_ident(), v)))
        assert disp.in_thread == n
        disp.finish()  # the run still waits for every job

    main_loop = asyncio.get_running_loop()
    await run_dispatcher(lambda d: d.submit(start))
    assert sorted(v for _, v in delivered) == [2 * i for i in range(n)]
    assert {t for t, _ in delivered} == {loop_thread}
    assert sorted(i for i, *_ in seen) == list(range(n))
    assert all(before == f"job {i}" for i, before, _, _ in seen)
    assert all(t != loop_thread and own_loop for _, _, t, own_loop in seen)
    assert _who.get() == "nobody"
    assert disp.in_thread == 0


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_to_own_loop_jobs_left_behind_a_blocked_one_still_run_on_other_threads() -> None:
    # every thread that took a job blocks in it until the last job ran: only threads the
    # pool adds for the jobs still queued can run that one
    from actorgraph.actors._spawn import thread_pool

    blockers = thread_pool().EAGER + 2
    last_ran = threading.Event()
    delivered: list[str] = []

    async def block(i: int) -> str:
        assert last_ran.wait(LIMIT), "the job queued behind blocked ones never ran"
        return f"blocker {i}"

    async def last(_: Any) -> str:
        last_ran.set()
        return "last"

    def start(_: Any) -> None:
        for i in range(blockers):
            disp.to_own_loop(block, i, contextvars.copy_context(), delivered.append)
        disp.to_own_loop(last, None, contextvars.copy_context(), delivered.append)
        disp.finish()

    await run_dispatcher(lambda d: d.submit(start))
    assert sorted(delivered) == sorted(["last", *(f"blocker {i}" for i in range(blockers))])


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_own_loop_jobs_that_keep_up_run_on_one_thread_and_a_later_wave_still_runs() -> None:
    """Jobs that never block are drained by a thread or two with a few pool calls (not
    one call per job: each call parked beside a busy drainer wakes to look at it, taking
    the GIL from it); jobs added after the batch ran dry - while its stand-by call may
    still be looking - are taken at once, not left behind."""
    from actorgraph.actors._spawn import thread_pool

    n = 2000
    ran_on: dict[int, int] = {}
    delivered: list[int] = []
    pool = thread_pool()
    calls = 0
    submit = pool.submit_call

    def counted(fn: Any, args: tuple[Any, ...]) -> None:
        nonlocal calls
        calls += 1
        submit(fn, args)

    async def job(i: int) -> int:
        ran_on[i] = threading.get_ident()
        return i

    def deliver(i: int) -> None:
        delivered.append(i)
        if len(delivered) == n:
            # the first wave is in: a second one, from the loop, as a next step's would be
            for k in range(n, n + 10):
                disp.to_own_loop(job, k, contextvars.copy_context(), deliver)
            disp.finish()

    def start(_: Any) -> None:
        for i in range(n):
            disp.to_own_loop(job, i, contextvars.copy_context(), deliver)

    pool.submit_call = counted  # type: ignore[method-assign]
    try:
        await run_dispatcher(lambda d: d.submit(start))
    finally:
        del pool.submit_call
    assert sorted(delivered) == list(range(n + 10))
    assert len({ran_on[i] for i in range(n)}) <= 2
    assert calls < 50


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_an_own_loop_job_that_raises_fails_the_dispatcher_and_the_others_are_delivered() -> None:
    bug = RuntimeError("a bug in the job")
    delivered: list[int] = []

    async def job(i: int) -> int:
        if i == 2:
            raise bug
        return i

    def start(d: Dispatcher) -> None:
        for i in range(5):
            d.to_own_loop(job, i, contextvars.copy_context(), delivered.append)

    d = await run_dispatcher(start)
    assert d.failure is bug
    assert sorted(delivered) == [0, 1, 3, 4]
    assert d.in_thread == 0


class S(TypedDict):
    xs: Annotated[list[int], operator.add]


def test_a_subgraph_cancelled_while_its_sync_nodes_run_in_threads_waits_for_them_and_ends() -> None:
    """A sync invoke: the subgraph's two sync nodes are in worker threads when a sibling
    fails and the parent cancels it; the cancelled run waits for its threads
    (``wait_threads``) and then ends. It used to wait forever: the last delivery woke
    the waiter only once the run was finished, which a cancelled run never is."""
    def slow(s: S) -> dict[str, list[int]]:
        time.sleep(0.2)
        return {"xs": [1]}

    def boom(s: S) -> None:
        time.sleep(0.02)
        raise ValueError("boom")

    sub = StateGraph(S)
    sub.add_node("a", slow)
    sub.add_node("b", slow)
    sub.add_edge(START, "a")
    sub.add_edge(START, "b")
    g = StateGraph(S)
    g.add_node("sub", sub.compile())
    g.add_node("boom", boom)
    g.add_edge(START, "sub")
    g.add_edge(START, "boom")
    graph = g.compile()

    outcome: list[BaseException] = []

    def call() -> None:
        try:
            graph.invoke({"xs": []})
        except BaseException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    caller.join(LIMIT)
    assert not caller.is_alive(), "the invoke hung"
    assert len(outcome) == 1 and isinstance(outcome[0], ValueError) and str(outcome[0]) == "boom"
