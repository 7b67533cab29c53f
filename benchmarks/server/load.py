"""The load, through the official ``langgraph-sdk`` client only: what a user's code does."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from langgraph_sdk import get_client

from benchmarks.server.graphs import EXPECTED, GRAPH_ID, INPUT, STEPS_GRAPH_ID

__all__ = ("first_events", "throughput", "Attempt", "DoubleTexting", "STRATEGY_MIX")


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


#: how double-texting runs are drawn by default: weights of ``multitask_strategy``
STRATEGY_MIX = {"enqueue": 4, "reject": 2, "interrupt": 2, "rollback": 2}


@dataclass
class Attempt:
    """One ``runs.create`` of the double-texting load. ``tag`` is unique per attempt (a
    create retried after a lost answer is a new attempt): it is the run's input ``run``, so
    its steps in the thread's ``log`` read ``<tag>:<i>``, and its ``metadata.tag``, so the
    run can be found when its create's answer was lost. ``outcome``: ``created``,
    ``rejected`` (409), ``unknown`` (no answer: the run may exist) or ``failed`` (another
    error answer: ``error`` says which)."""

    tag: str
    thread_id: str
    strategy: str
    outcome: str = "unknown"
    run_id: str | None = None
    created_at: str | None = None  # the server's, from the create's answer
    start_s: float = 0.0  # perf_counter at the create
    end_s: float | None = None  # perf_counter when the run was final (joined), rejected, or the answer lost
    result: Any = None  # the joined values; None when the run was gone (rolled back)
    error: str | None = None
    url: str | None = None  # the server of the last request about it


def _http_status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _lost(exc: BaseException) -> bool:
    """The request's answer is lost or says the server can't now: the connection failed or
    broke, or a 5xx (a server being killed, its database restarting). Retry elsewhere."""
    status = _http_status(exc)
    return isinstance(exc, httpx.TransportError) or (status is not None and status >= 500)


class DoubleTexting:
    """``n`` runs of the ``steps`` graph from ``clients`` concurrent ``langgraph-sdk`` clients,
    client ``k`` talking to ``urls[k % len(urls)]``. Each client, in turn: picks a thread of a
    shared pool of ``threads`` (so runs collide), a strategy from ``mix``, ``runs.create``,
    then ``runs.join`` until the run is final. A request that gets no answer or a 5xx moves
    the client to the next server and tries again (a create: as a new attempt, the old one
    may exist), until ``give_up_s``. ``finished`` counts the runs done so far (to time
    faults by). The pool's threads are made by ``run()`` before the clock starts."""

    def __init__(
        self, urls: list[str], n: int, *, clients: int = 50, threads: int = 100,
        mix: dict[str, int] | None = None, step_sleep: float = 0.01, seed: int = 0,
        give_up_s: float = 120.0,
    ) -> None:  # fmt: skip
        self.urls, self.n, self.n_clients, self.n_threads = urls, n, clients, threads
        self.mix = mix or STRATEGY_MIX
        self.step_sleep, self.give_up_s = step_sleep, give_up_s
        self.rng = random.Random(seed)
        self.thread_ids: list[str] = []
        self.attempts: list[Attempt] = []
        self.finished = 0
        self.seconds = 0.0

    async def run(self) -> None:
        sdk = [get_client(url=url, api_key=None) for url in self.urls]
        try:
            self.thread_ids = [(await sdk[i % len(sdk)].threads.create())["thread_id"] for i in range(self.n_threads)]
            strategies, weights = list(self.mix), list(self.mix.values())
            plans: list[list[tuple[str, str]]] = [[] for _ in range(self.n_clients)]
            for i in range(self.n):
                pick = (self.rng.choice(self.thread_ids), self.rng.choices(strategies, weights)[0])
                plans[i % self.n_clients].append(pick)
            t0 = time.perf_counter()
            await asyncio.gather(*(self._client(k, plan, sdk) for k, plan in enumerate(plans)))
            self.seconds = time.perf_counter() - t0
        finally:
            for c in sdk:
                await c.aclose()

    async def _client(self, k: int, plan: list[tuple[str, str]], sdk: list[Any]) -> None:
        at = k % len(sdk)
        for i, (thread_id, strategy) in enumerate(plan):
            deadline = time.perf_counter() + self.give_up_s
            for retry in itertools.count():
                attempt = Attempt(f"c{k}-{i}-{retry}", thread_id, strategy, start_s=time.perf_counter())
                self.attempts.append(attempt)
                attempt.url = self.urls[at]
                try:
                    run = await sdk[at].runs.create(
                        thread_id, STEPS_GRAPH_ID, input={"run": attempt.tag, "sleep": self.step_sleep},
                        metadata={"tag": attempt.tag}, multitask_strategy=strategy,
                    )  # fmt: skip
                except Exception as exc:  # noqa: BLE001 (what happened is the record)
                    if _lost(exc) and time.perf_counter() < deadline:
                        attempt.end_s = time.perf_counter()  # settled: retried as a new attempt
                        at = (at + 1) % len(sdk)
                        await asyncio.sleep(0.2)
                        continue
                    status = _http_status(exc)
                    attempt.outcome = "rejected" if status == 409 else "unknown" if _lost(exc) else "failed"
                    attempt.end_s, attempt.error = time.perf_counter(), f"{type(exc).__name__}: {exc}"[:300]
                    break
                attempt.outcome, attempt.run_id, attempt.created_at = "created", run["run_id"], run["created_at"]
                at = await self._join(attempt, sdk, at, deadline)
                break
            self.finished += 1

    async def _join(self, attempt: Attempt, sdk: list[Any], at: int, deadline: float) -> int:
        """Join the attempt's run until it is final (or gone: rolled back); the server to use
        next."""
        assert attempt.run_id is not None
        while True:
            attempt.url = self.urls[at]
            try:
                attempt.result = await sdk[at].runs.join(attempt.thread_id, attempt.run_id)
            except Exception as exc:  # noqa: BLE001
                if _http_status(exc) == 404:
                    attempt.result = None
                elif _lost(exc) and time.perf_counter() < deadline:
                    at = (at + 1) % len(sdk)
                    await asyncio.sleep(0.2)
                    continue
                else:
                    attempt.error = f"join: {type(exc).__name__}: {exc}"[:300]
            attempt.end_s = time.perf_counter()
            return at

    def unfinished(self) -> list[Attempt]:
        """Attempts still waiting for an answer or for their run to be final (after a
        timeout: what hung)."""
        return [a for a in self.attempts if a.end_s is None]

    def latencies(self) -> list[float]:
        """Create to final status, seconds, of every run created and joined."""
        return [a.end_s - a.start_s for a in self.attempts if a.outcome == "created" and a.end_s is not None]
