"""``graph.statistics()``: counters over a compiled graph's runs, summed at each run's end
from the statistics of its barrier, node actors and dispatcher (the benchmark report
prints them; a server's metrics will read them)."""

from __future__ import annotations

import operator
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
