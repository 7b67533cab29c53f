"""The load, through the official ``langgraph-sdk`` client only: what a user's code does."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

from langgraph_sdk import get_client

from benchmarks.server.graphs import EXPECTED, GRAPH_ID, INPUT

__all__ = ("first_events", "throughput")


async def _one_stream(client: Any) -> dict[str, Any]:
    """One ``runs.stream`` on a fresh thread (made before the clock starts): seconds to the
    first event of any kind, to the first ``values`` event, and to the end of the stream."""
    thread = await client.threads.create()
    first = first_values = None
    last: Any = None
    t0 = time.perf_counter()
    async for part in client.runs.stream(
        thread["thread_id"], GRAPH_ID, input=INPUT, stream_mode="values"
    ):
        now = time.perf_counter() - t0
        if first is None:
            first = now
        if part.event == "values":
            if first_values is None:
                first_values = now
            last = part.data
    end = time.perf_counter() - t0
    if last != EXPECTED:
        raise AssertionError(f"stream ended with values {last!r}, expected {EXPECTED!r}")
    return {"first_event_s": first, "first_values_s": first_values, "end_s": end}


async def first_events(url: str, n: int, idle_s: float, *, seed: int = 0) -> dict[str, Any]:
    """``n`` streams, one at a time, the server left idle ``idle_s`` to ``1.5 * idle_s`` seconds
    before each (a random pause, so the samples don't lock onto a polling period). The first
    stream of the server's life is reported apart (``cold``)."""
    rng = random.Random(seed)
    client = get_client(url=url)
    try:
        cold = await _one_stream(client)
        samples = []
        for _ in range(n):
            await asyncio.sleep(rng.uniform(idle_s, 1.5 * idle_s))
            samples.append(await _one_stream(client))
    finally:
        await client.aclose()
    return {"cold": cold, "samples": samples}


async def throughput(
    url: str, n: int, concurrency: int, *, cpu_clock: Callable[[], float] = time.process_time
) -> dict[str, Any]:
    """``n`` background runs, each ``threads.create`` + ``runs.create`` + ``runs.join`` on a new
    thread, at most ``concurrency`` in flight; seconds from the first request to the last run's
    join, the client's CPU seconds over the same span (``cpu_clock``: this process's CPU by
    default), and the runs whose result was not ``EXPECTED``."""
    client = get_client(url=url)
    gate = asyncio.Semaphore(concurrency)
    wrong: list[str] = []

    async def one(i: int) -> None:
        async with gate:
            thread = await client.threads.create()
            run = await client.runs.create(thread["thread_id"], GRAPH_ID, input=INPUT)
            result = await client.runs.join(thread["thread_id"], run["run_id"])
            if result != EXPECTED:
                wrong.append(f"run {i}: {result!r}"[:300])

    try:
        cpu0, t0 = cpu_clock(), time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        seconds, client_cpu_s = time.perf_counter() - t0, cpu_clock() - cpu0
    finally:
        await client.aclose()
    return {"runs": n, "concurrency": concurrency, "seconds": seconds, "runs_per_s": n / seconds,
            "client_cpu_s": client_cpu_s, "wrong": wrong}  # fmt: skip
