"""State and history reads that a real server answers while ``threads.prune`` (keep_latest)
rewrites and deletes the same thread's checkpoints: every read answers 200 with whole
values, never a 500 naming a checkpoint missing from the saver."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langgraph_sdk import get_client

from tests.server.conftest import Server

pytestmark = pytest.mark.anyio

ROUNDS = 30


def _whole(values: dict[str, Any]) -> None:
    # the simple graph's log grows by a, b, c per run; x is a number whenever a ran
    log = values.get("log", [])
    assert log == ["a", "b", "c"] * (len(log) // 3) + ["a", "b", "c"][: len(log) % 3], values


async def test_reads_during_prunes_answer_with_whole_values(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    for i in range(ROUNDS):
        await client.runs.wait(tid, "simple", input={"x": i})
        reads = [client.threads.get_history(tid, limit=10) for _ in range(4)]
        reads += [client.threads.get_state(tid) for _ in range(4)]
        prune, *answers = await asyncio.gather(client.threads.prune([tid], strategy="keep_latest"), *reads)
        assert prune == {"pruned_count": 1}
        for answer in answers:
            for state in answer if isinstance(answer, list) else [answer]:
                _whole(state["values"])
    history = await client.threads.get_history(tid, limit=100)
    assert len(history) == 1 and len(history[0]["values"]["log"]) == 3 * ROUNDS


async def test_a_prune_while_a_run_of_the_thread_is_in_flight_leaves_the_thread_whole(server: Server) -> None:
    """``threads.prune`` (keep_latest) called again and again while a slow multi-step run
    of the thread goes on: the prune leaves a thread with a run in flight alone (its next
    checkpoints build on the ones it would delete), the run ends with the right state and
    the thread stays readable; once the run is over, the prune prunes."""
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "slow", input={"x": 0, "sleep": 0.01})  # a history to prune
    run = await client.runs.create(tid, "slow", input={"x": 0, "sleep": 0.15})
    counts = []
    while (await client.runs.get(tid, run["run_id"]))["status"] in ("pending", "running"):
        counts.append((await client.threads.prune([tid], strategy="keep_latest"))["pruned_count"])
        await asyncio.sleep(0.02)
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "success"
    assert 0 in counts  # skipped while the run was in flight
    state = await client.threads.get_state(tid)
    assert state["values"]["x"] == 4 and state["values"]["log"][-4:] == ["s0", "s1", "s2", "s3"]
    assert (await client.threads.get_history(tid, limit=100))[0]["values"] == state["values"]
    assert await client.threads.prune([tid], strategy="keep_latest") == {"pruned_count": 1}
    [latest] = await client.threads.get_history(tid, limit=100)
    assert latest["values"] == state["values"]
