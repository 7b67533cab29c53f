"""``graph.statistics()``: counters over a compiled graph's runs, summed at each run's end
from the statistics of its barrier, node actors and dispatcher (the benchmark report
prints them; a server's metrics will read them)."""

from __future__ import annotations

import operator
import threading
from typing import Annotated, Any, TypedDict

import anyio
import pytest

from actorgraph.func import entrypoint, task
from actorgraph.graph import START, StateGraph
from actorgraph.types import Send, interrupt
from actorgraph.checkpoint.memory import InMemorySaver


class S(TypedDict):
    xs: Annotated[list[int], operator.add]


def fan_out(work: Any, n: int = 5, checkpointer: Any = None) -> Any:
    g = StateGraph(S)
    g.add_node("work", work)
    g.add_conditional_edges(START, lambda s: [Send("work", {"xs": [i]}) for i in range(n)])
    return g.compile(checkpointer=checkpointer)


def echo(s: S) -> dict[str, list[int]]:
    return {"xs": s["xs"]}


def test_a_fresh_graph_has_counted_nothing() -> None:
    stats = fan_out(echo).statistics()
    assert stats.runs == stats.steps == stats.tasks == stats.jobs_run == stats.peak_workers == 0


def test_a_sync_fan_out_counts_its_steps_tasks_and_worker_threads_exactly() -> None:
    graph = fan_out(echo)
    assert graph.invoke({"xs": []}) == {"xs": [0, 1, 2, 3, 4]}
    stats = graph.statistics()
    # the input step (``__start__``, run in the barrier's turn) and the step of 5 Sends
    assert (stats.runs, stats.runs_failed, stats.runs_interrupted) == (1, 0, 0)
    assert (stats.steps, stats.tasks, stats.tasks_failed) == (2, 6, 0)
    assert stats.tasks_in_threads == 5  # a fan-out's sync tasks each go to a worker thread
    assert stats.jobs_run >= 2 and stats.peak_workers >= 1
    graph.invoke({"xs": []})
    again = graph.statistics()
    assert (again.runs, again.steps, again.tasks, again.tasks_in_threads) == (2, 4, 12, 10)


@pytest.mark.anyio
async def test_an_async_fan_out_whose_tasks_suspend_counts_its_workers() -> None:
    async def suspends(s: S) -> dict[str, list[int]]:
        await anyio.sleep(0)
        return {"xs": s["xs"]}

    graph = fan_out(suspends, n=8)
    assert await graph.ainvoke({"xs": []}) == {"xs": list(range(8))}
    stats = graph.statistics()
    assert (stats.runs, stats.steps, stats.tasks, stats.tasks_in_threads) == (1, 2, 9, 0)
    assert stats.jobs_run >= 8  # each suspending task ran as a job
    assert 2 <= stats.peak_workers <= 9 and stats.workers_started >= stats.peak_workers - 1


@pytest.mark.anyio
async def test_failed_and_interrupted_runs_and_failed_tasks_are_counted() -> None:
    def fails_on_3(s: S) -> dict[str, list[int]]:
        if s["xs"] == [3]:
            raise ValueError("3")
        return {"xs": s["xs"]}

    graph = fan_out(fails_on_3)
    with pytest.raises(ValueError):
        await graph.ainvoke({"xs": []})
    stats = graph.statistics()
    assert (stats.runs, stats.runs_failed, stats.tasks_failed) == (1, 1, 1)
    assert stats.tasks_in_threads == 5  # ainvoke: sync tasks in threads too

    def asks(s: S) -> dict[str, list[int]]:
        return {"xs": [interrupt("more?")]}

    paused = fan_out(asks, n=2, checkpointer=InMemorySaver())
    await paused.ainvoke({"xs": []}, {"configurable": {"thread_id": "t"}})
    stats = paused.statistics()
    assert (stats.runs, stats.runs_failed, stats.runs_interrupted, stats.tasks_failed) == (1, 0, 1, 0)


def test_task_calls_count_as_tasks() -> None:
    @task
    def square(x: int) -> int:
        return x * x

    @entrypoint()
    def main(n: int) -> list[int]:
        return [square(i).result() for i in range(n)]

    assert main.invoke(3) == [0, 1, 4]
    stats = main.statistics()
    assert (stats.runs, stats.steps, stats.tasks) == (1, 1, 4)  # the entrypoint and 3 calls


@pytest.mark.anyio
@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync-in-thread"])
async def test_a_run_going_on_is_counted_live_and_no_longer_once_it_ends(sync: bool) -> None:
    started = anyio.Event()
    release = threading.Event()

    async def waits(s: S) -> dict[str, list[int]]:
        started.set()
        await anyio.to_thread.run_sync(release.wait)
        return {"xs": s["xs"]}

    def blocks(s: S) -> dict[str, list[int]]:
        anyio.from_thread.run_sync(started.set)
        release.wait()
        return {"xs": s["xs"]}

    graph = fan_out(blocks if sync else waits, n=3)
    async with anyio.create_task_group() as tg:
        tg.start_soon(graph.ainvoke, {"xs": []})
        await started.wait()
        live = graph.statistics()
        assert live.runs_active == 1 and live.tasks_running >= 1 and live.runs == 0
        release.set()
    done = graph.statistics()
    assert (done.runs_active, done.tasks_running, done.jobs_queued, done.runs) == (0, 0, 0, 1)


@pytest.mark.anyio
async def test_a_cancelled_run_is_no_longer_counted_live() -> None:
    started = anyio.Event()

    async def hangs(s: S) -> dict[str, list[int]]:
        started.set()
        await anyio.sleep_forever()
        return {}

    graph = fan_out(hangs, n=1)
    async with anyio.create_task_group() as tg:
        tg.start_soon(graph.ainvoke, {"xs": []})
        await started.wait()
        assert graph.statistics().runs_active == 1
        tg.cancel_scope.cancel()
    assert (graph.statistics().runs_active, graph.statistics().tasks_running) == (0, 0)


def test_a_saver_counts_the_checkpoints_and_bytes_it_wrote() -> None:
    saver = InMemorySaver()
    assert (saver.statistics().checkpoints_written, saver.statistics().bytes_written) == (0, 0)
    graph = fan_out(echo, n=2, checkpointer=saver)
    graph.invoke({"xs": []}, {"configurable": {"thread_id": "t"}})
    first = saver.statistics()
    assert first.checkpoints_written == len(list(saver.list({"configurable": {"thread_id": "t"}})))
    assert first.bytes_written > 0
    graph.invoke({"xs": [7] * 1000}, {"configurable": {"thread_id": "t"}})
    second = saver.statistics()
    # the second run's input list alone is more than a thousand serialized items
    assert second.checkpoints_written > first.checkpoints_written
    assert second.bytes_written - first.bytes_written > 1000
