"""Server processes under a double-texting load (``multitask_strategy`` enqueue / reject /
interrupt / rollback on shared threads) while things break: a process SIGKILLed and
restarted, Redis and Postgres restarted. Afterwards every run ended once in the status its
strategy allows and every thread's checkpoints form one chain with each kept run's steps
once (the rules: ``benchmarks/server/invariants.py``; the load: ``load.DoubleTexting``, the
same as ``python -m benchmarks.server.scale``'s).

Redis and Postgres here are private throwaway ones (``redis-server`` and ``initdb`` /
``pg_ctl`` on free ports in temp folders), so restarting them disturbs nobody: without those
binaries the cluster test skips (fails under CI=true)."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterator

import pytest
from langgraph_sdk import get_client

from benchmarks.server import invariants
from benchmarks.server.cluster import Cluster, PrivatePostgres, PrivateRedis, postgres_bin
from benchmarks.server.load import Attempt, DoubleTexting
from benchmarks.server.servers import Server, ServerSpec
from conftest import require_service
from tests.server.conftest import ROOT

pytestmark = pytest.mark.anyio


def _spec(**env: str) -> ServerSpec:
    return ServerSpec("ag", (sys.executable, "-m", "actorgraph.server.cli"), {"PYTHONPATH": str(ROOT), **env}, 10)


@pytest.fixture
def sqlite_server() -> Iterator[Server]:
    with Cluster(_spec(), 1) as cluster:
        yield cluster.servers[0]


async def _check(url: str, found: DoubleTexting | tuple[list[str], list[Attempt]], servers: list[Server]) -> None:
    """The invariants hold and every server is alive; else a message with each broken rule
    and the story (attempts, runs, log) of the threads that broke one."""
    thread_ids, attempts = (found.thread_ids, found.attempts) if isinstance(found, DoubleTexting) else found
    facts = await invariants.collect(url, thread_ids, attempts)
    bad = invariants.violations(facts, attempts)
    bad += [f"server {s.url} died:\n{s.log_tail()}" for s in servers if s.proc is not None and s.proc.poll() is not None]
    stories = [json.dumps(invariants.explain(f, attempts)) for f in facts if any(f.thread_id in v for v in bad)]
    assert not bad, "\n".join(bad + stories[:3])


def _log_lines(servers: list[Server], run_id: str, limit: int = 6) -> list[str]:
    """The servers' last log lines about ``run_id``, for a failure's message."""
    lines = []
    for server in servers:
        try:
            text = server.log_path.read_text(errors="replace")
        except OSError:
            continue
        lines += [f"  [{server.url}] {line[:300]}" for line in text.splitlines() if run_id in line]
    return lines[-limit:]


async def _under_faults(
    load: DoubleTexting, faults: list[tuple[int, Callable[[], None]]], timeout: float, servers: list[Server]
) -> None:
    """Run ``load``; each fault (a blocking call) once ``at`` runs of it have finished."""

    async def chaos() -> None:
        for at, fault in faults:
            while load.finished < at:
                await asyncio.sleep(0.05)
            await asyncio.to_thread(fault)

    task = asyncio.create_task(chaos())
    try:
        await asyncio.wait_for(load.run(), timeout)
    except TimeoutError:
        hung = []
        for a in load.unfinished()[:5]:
            hung.append(f"{a.tag} ({a.strategy}, {a.outcome}, run {a.run_id}, thread {a.thread_id}), last asked {a.url}")
            hung += _log_lines(servers, a.run_id) if a.run_id else []
        raise AssertionError(f"the load did not end in {timeout:g} s; waiting on:\n" + "\n".join(hung)) from None
    finally:
        if not task.done():
            task.cancel()
    await task  # every fault happened (and its restart is done)


async def _threads_of(url: str, scripts: list[list[tuple[float, str, float]]]) -> tuple[list[str], list[Attempt]]:
    """One new thread per script; a script's runs are created in order, each
    ``(seconds per step, multitask_strategy, pause after its create)``; the last is joined."""
    client = get_client(url=url, api_key=None)
    thread_ids: list[str] = []
    attempts: list[Attempt] = []

    async def one(k: int, script: list[tuple[float, str, float]]) -> None:
        thread_id = (await client.threads.create())["thread_id"]
        thread_ids.append(thread_id)
        for i, (sleep, strategy, pause) in enumerate(script):
            tag = f"t{k}-{i}"
            run = await client.runs.create(thread_id, "steps", input={"run": tag, "sleep": sleep}, metadata={"tag": tag},
                                           multitask_strategy=strategy)  # fmt: skip
            attempts.append(Attempt(tag, thread_id, strategy, "created", run["run_id"], run["created_at"]))
            await asyncio.sleep(pause)
        await client.runs.join(thread_id, run["run_id"])

    try:
        await asyncio.gather(*(one(k, script) for k, script in enumerate(scripts)))
    finally:
        await client.aclose()
    return thread_ids, attempts


async def test_interrupt_or_rollback_of_a_queue_never_runs_two_runs_of_a_thread_at_once(sqlite_server: Server) -> None:
    """A thread runs one run and has six queued; a seventh run with ``interrupt`` (or
    ``rollback``) stops them all. Stopping the queued ones while the running one ends (and
    the next is claimed) must not let a stopped run go on beside the new one."""
    scripts = [
        [(0.05, "enqueue", 0.03)] + [(0.02, "enqueue", 0.0)] * 6 + [(0.0, strategy, 0.0)]
        for strategy in ("interrupt", "rollback") for _ in range(8)
    ]  # fmt: skip
    found = await _threads_of(sqlite_server.url, scripts)
    await _check(sqlite_server.url, found, [sqlite_server])


async def test_a_rolled_back_run_leaves_no_step_behind(sqlite_server: Server) -> None:
    """80 threads, each a run of four 50 ms steps rolled back by a new run 150 to 350 ms
    after its create: with 10 workers, rollbacks land on runs queued, being claimed, running
    and finishing. Each rolled-back run is gone with all it wrote."""
    scripts = [[(0.05, "enqueue", 0.15 + i * 0.0025), (0.0, "rollback", 0.0)] for i in range(80)]
    found = await _threads_of(sqlite_server.url, scripts)
    await _check(sqlite_server.url, found, [sqlite_server])


async def test_one_sqlite_process_killed_and_restarted_under_a_queueing_load(sqlite_server: Server) -> None:
    """The embedded database, one process: SIGKILLed mid-load and restarted on its port and
    data; its runs are recovered, each run's steps are kept once."""

    def crash() -> None:
        sqlite_server.kill()
        time.sleep(0.3)
        sqlite_server.start()

    load = DoubleTexting([sqlite_server.url], 60, clients=10, threads=8, step_sleep=0.05, give_up_s=60)
    await _under_faults(load, [(20, crash)], timeout=90, servers=[sqlite_server])
    await _check(sqlite_server.url, load, [sqlite_server])
    assert sum(a.outcome == "created" for a in load.attempts) >= 40


@pytest.fixture
def services() -> Iterator[tuple[PrivateRedis, PrivatePostgres]]:
    bindir = postgres_bin()
    require_service("redis-server and Postgres (initdb, pg_ctl) binaries", bool(bindir and shutil.which("redis-server")))
    assert bindir is not None
    with PrivateRedis() as redis, PrivatePostgres(bindir) as pg:
        yield redis, pg


@pytest.mark.timeout(200)
@pytest.mark.parametrize(
    "mix",
    [
        pytest.param({"enqueue": 3, "reject": 1}, id="queueing"),
        pytest.param({"enqueue": 4, "reject": 2, "interrupt": 2, "rollback": 2}, id="all-strategies"),
    ],
)  # fmt: skip
async def test_three_processes_survive_a_kill_and_redis_and_postgres_restarts(
    services: tuple[PrivateRedis, PrivatePostgres], mix: dict[str, int]
) -> None:
    """Three processes on one Postgres and one Redis, leases of 3 s. Mid-load: one process
    SIGKILLed and restarted (its runs are recovered by the others once their leases end),
    Redis restarted (every key and subscription lost), Postgres restarted (every connection
    dropped; requests meanwhile may answer 503, the load retries elsewhere)."""
    redis, pg = services
    with Cluster(_spec(ACTORGRAPH_LEASE_SECONDS="3"), 3, database_uri=pg.uri, redis_uri=redis.uri) as cluster:
        victim = cluster.servers[1]

        def crash() -> None:
            victim.kill()
            time.sleep(0.5)
            victim.start()

        load = DoubleTexting(cluster.urls, 150, clients=15, threads=15, mix=mix, step_sleep=0.05, give_up_s=60)
        faults = [(25, crash), (65, lambda: redis.restart(down_s=1.0)), (105, lambda: pg.restart(down_s=1.0))]
        await _under_faults(load, faults, timeout=150, servers=cluster.servers)
        await _check(cluster.urls[0], load, cluster.servers)
        assert sum(a.outcome == "created" for a in load.attempts) >= 100
