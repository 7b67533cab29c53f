"""Unit tests of ``CallFuture`` (``actors._calls``), the pending result of a ``@task``
call: awaited in async code, ``.result()`` from a thread, settled once; then, through the
public API, what needs a run: cancelling, and ``.result()`` on the loop's own thread."""

from __future__ import annotations

import concurrent.futures
import threading
from typing import Any, TypedDict

import anyio
import pytest
from structlog.testing import capture_logs

from actorgraph.actors._calls import CallFuture
from actorgraph.func import entrypoint, task
from actorgraph.graph import START, StateGraph

LIMIT = 10  # seconds: a bound that proves "never hangs", not a timing
NOT_THE_LOOP = -1  # a loop thread id no thread has


def test_a_future_settles_once_and_answers_result_and_exception() -> None:
    ok, bad = CallFuture("ok", NOT_THE_LOOP), CallFuture("bad", NOT_THE_LOOP)
    assert not ok.done() and not ok.cancelled() and repr(ok) == "<CallFuture 'ok' pending>"
    ok.set_result(None)  # None is a result, not "pending"
    error = ValueError("bad")
    bad.set_exception(error)
    assert ok.done() and ok.result() is None and ok.exception() is None
    assert repr(ok) == "<CallFuture 'ok' done>"
    assert bad.done() and bad.exception() is error
    with pytest.raises(ValueError, match="bad"):
        bad.result()
    for fut in (ok, bad):
        with pytest.raises(concurrent.futures.InvalidStateError, match=f"task '{fut.name}' already has a result"):
            fut.set_result(1)
        with pytest.raises(concurrent.futures.InvalidStateError):
            fut.set_exception(KeyError())
    assert ok.result() is None and bad.exception() is error  # unchanged


def test_cancel_is_refused_for_a_future_with_no_job_and_for_a_finished_one() -> None:
    fut = CallFuture("t", NOT_THE_LOOP)
    assert not fut.cancel() and not fut.cancelled()
    fut.set_result(1)
    assert not fut.cancel() and fut.result() == 1


def test_mark_cancelled_makes_result_raise_a_cancelled_error() -> None:
    fut = CallFuture("t", NOT_THE_LOOP)
    fut.mark_cancelled()
    assert fut.cancelled() and fut.done() and fut.cancel()  # cancel() on a cancelled one: True
    with pytest.raises(concurrent.futures.CancelledError, match="task 't' was cancelled"):
        fut.result()


def test_result_from_a_thread_waits_for_the_outcome_set_by_another_thread() -> None:
    fut = CallFuture("t", NOT_THE_LOOP)
    got: list[Any] = []
    waiters = [threading.Thread(target=lambda: got.append(fut.result(timeout=LIMIT))) for _ in range(3)]
    for w in waiters:
        w.start()
    setter = threading.Thread(target=fut.set_result, args=("value",))
    setter.start()
    for t in (*waiters, setter):
        t.join(LIMIT)
    assert got == ["value"] * 3


def test_result_and_exception_time_out_naming_the_task() -> None:
    fut = CallFuture("slowpoke", NOT_THE_LOOP)
    with pytest.raises(TimeoutError, match="task 'slowpoke' did not finish within 0.01 s"):
        fut.result(timeout=0.01)
    with pytest.raises(TimeoutError, match="slowpoke"):
        fut.exception(timeout=0.01)
    fut.set_result(3)
    assert fut.result(timeout=0) == 3


def test_done_callbacks_run_once_in_order_and_a_raising_one_is_logged() -> None:
    fut = CallFuture("t", NOT_THE_LOOP)
    seen: list[str] = []
    fut.add_done_callback(lambda f: seen.append(f"first {f.result()}"))
    fut.add_done_callback(lambda f: 1 / 0)
    fut.add_done_callback(lambda f: seen.append("third"))
    assert seen == []
    with capture_logs() as logs:
        fut.set_result(7)
        fut.add_done_callback(lambda f: seen.append("late"))  # at once: already done
        fut.add_done_callback(lambda f: [][1])
    assert seen == ["first 7", "third", "late"]
    failed = [e for e in logs if e["event"] == "task.done_callback_failed"]
    assert [e["task"] for e in failed] == ["t", "t"]
    assert all(e["log_level"] == "error" for e in failed)


@pytest.mark.anyio
async def test_awaiting_a_future_waits_for_its_result_or_raises_its_error() -> None:
    ok, bad = CallFuture("ok", NOT_THE_LOOP), CallFuture("bad", NOT_THE_LOOP)
    got: list[Any] = []

    async def waiter() -> None:
        got.append(await ok)
        with pytest.raises(LookupError):
            await bad
        got.append(await ok)  # again, once done: no wait

    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            tg.start_soon(waiter)
            await anyio.sleep(0)
            assert got == []
            ok.set_result("v")
            await anyio.sleep(0)
            bad.set_exception(LookupError())
    assert got == ["v"] * 4


@pytest.mark.anyio
async def test_awaiting_a_cancelled_future_raises_a_cancellation(anyio_backend: str) -> None:
    fut = CallFuture("t", NOT_THE_LOOP)
    fut.mark_cancelled()
    # asyncio: its own CancelledError, as a cancelled asyncio future; trio: the
    # concurrent.futures one (Trio's can't be raised outside its cancel scopes)
    expected = anyio.get_cancelled_exc_class() if anyio_backend == "asyncio" else concurrent.futures.CancelledError
    with pytest.raises(expected, match="task 't' was cancelled"):
        await fut


# -- what needs a run: through the public API -------------------------------------------


@task
def square(x: int) -> int:
    return x * x


@task
async def pause(x: int) -> int:
    await anyio.sleep(0.05)
    return x


class S(TypedDict):
    x: int
    where: str


def test_result_on_the_loop_thread_runs_a_sync_call_that_has_not_started_in_place() -> None:
    ran_on: list[int] = []

    @task
    def traced(x: int) -> int:
        ran_on.append(threading.get_ident())
        return x + 1

    def node(s: S) -> dict[str, Any]:
        # the lone task of a sync invoke runs on the loop's (the caller's) thread
        return {"x": traced(s["x"]).result(), "where": "caller" if threading.get_ident() == caller else "?"}

    g = StateGraph(S)
    g.add_node("n", node)
    g.add_edge(START, "n")
    caller = threading.get_ident()
    assert g.compile().invoke({"x": 1, "where": ""}) == {"x": 2, "where": "caller"}
    assert ran_on == [caller]  # run in place, not in a thread the loop would wait for


def test_result_on_the_loop_thread_of_an_async_call_raises_a_clear_error() -> None:
    def node(s: S) -> dict[str, Any]:
        return {"x": pause(s["x"]).result()}

    g = StateGraph(S)
    g.add_node("n", node)
    g.add_edge(START, "n")
    with pytest.raises(RuntimeError, match="task 'pause' is still running.*would block the event loop.*`await`"):
        g.compile().invoke({"x": 1, "where": ""})


@pytest.mark.anyio
async def test_a_running_sync_call_cannot_be_cancelled_and_still_delivers_its_result() -> None:
    entered, go = threading.Event(), threading.Event()

    @task
    def blocking(x: int) -> int:
        entered.set()
        go.wait(LIMIT)
        return x * 10

    @entrypoint()
    async def main(x: int) -> dict[str, Any]:
        fut = blocking(x)
        while not entered.is_set():
            await anyio.sleep(0.001)
        refused = fut.cancel()
        go.set()
        return {"refused": not refused, "value": await fut, "cancelled": fut.cancelled()}

    with anyio.fail_after(LIMIT):
        assert await main.ainvoke(4) == {"refused": True, "value": 40, "cancelled": False}


@pytest.mark.anyio
async def test_a_call_cancelled_before_it_starts_never_runs() -> None:
    ran: list[int] = []

    @task
    async def record(x: int) -> int:
        ran.append(x)
        return x

    @entrypoint()
    async def main(x: int) -> dict[str, Any]:
        kept, dropped = record(x), record(x + 1)
        assert dropped.cancel() and dropped.cancelled()
        assert dropped.cancel()  # again: still cancelled
        with pytest.raises(concurrent.futures.CancelledError):
            dropped.result()
        return {"kept": await kept}

    with anyio.fail_after(LIMIT):
        assert await main.ainvoke(1) == {"kept": 1}
    assert ran == [1]


@pytest.mark.anyio
async def test_an_awaiter_that_gives_up_leaves_the_call_and_its_other_awaiters_alone() -> None:
    """Two tasks await one call; one stops waiting (its scope times out): the call goes
    on, and the other gets its result (on asyncio each awaiter waits on a future of its
    own: cancelling one must not cancel the others')."""

    @task
    async def slow(x: int) -> int:
        await anyio.sleep(0.1)
        return x + 1

    @entrypoint()
    async def main(x: int) -> list[Any]:
        fut = slow(x)
        got: list[Any] = []

        async def impatient() -> None:
            with anyio.move_on_after(0.01):
                got.append(("impatient", await fut))

        async def patient() -> None:
            got.append(("patient", await fut))

        async with anyio.create_task_group() as tg:
            tg.start_soon(impatient)
            tg.start_soon(patient)
        got.append(("again", await fut))
        return got

    with anyio.fail_after(LIMIT):
        assert await main.ainvoke(1) == [("patient", 2), ("again", 2)]
