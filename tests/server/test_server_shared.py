"""Several server processes on one Postgres database (and one Redis): any process answers
for any run. A stream, a wait and a cancel sent to one process follow and stop a run that
another process executes; without Redis the same holds, slower; a run whose process was
SIGKILLed is finished by another once its lease runs out, its finished steps not re-run."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from langgraph_sdk import get_sync_client

from tests.pg_helpers import pg_schema
from tests.server.conftest import GRAPHS, Server, make_app_folder

REDIS_URI = os.environ.get("ACTORGRAPH_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URI, socket_connect_timeout=2).ping())
    except Exception:
        return False


@pytest.fixture
def database() -> Iterator[str]:
    with pg_schema() as uri:
        yield uri


@pytest.fixture
def redis_uri() -> str:
    from conftest import require_service

    require_service(f"Redis at {REDIS_URI}", _redis_up())
    return REDIS_URI


def _wait_for(predicate, timeout: float = 30.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _start(folder: Path, uri: str, redis: str | None, *, jobs: int, name: str, env: dict[str, str] | None = None) -> Server:
    extra = ["--database-uri", uri, "--n-jobs-per-worker", str(jobs)]
    if redis is not None:
        extra += ["--redis-uri", redis]
    return Server(folder, *extra, env=env, log=folder / f"{name}.log").start()


def _status(client, thread_id: str, run_id: str) -> str:  # type: ignore[no-untyped-def]
    return str(client.runs.get(thread_id, run_id)["status"])


def _pair(folder: Path, uri: str, redis: str | None, env: dict[str, str] | None = None) -> tuple[Server, Server, str, str]:
    """A (one worker, kept busy by a long run on a thread of its own) and B: every other
    run created from now on executes on B, whichever process it is sent to."""
    a = _start(folder, uri, redis, jobs=1, name="a", env=env)
    client = get_sync_client(url=a.url)
    blocker_thread = client.threads.create()["thread_id"]
    blocker = client.runs.create(blocker_thread, "where", input={"sleep": 60, "until": 1})
    _wait_for(lambda: _status(client, blocker_thread, blocker["run_id"]) == "running", what="A's run to start")
    b = _start(folder, uri, redis, jobs=2, name="b", env=env)
    return a, b, blocker_thread, blocker["run_id"]


def _stop(*servers: Server) -> None:
    for s in servers:
        s.stop()


@pytest.mark.parametrize("with_redis", [True, False], ids=["redis", "no-redis"])
def test_one_process_streams_waits_and_cancels_a_run_another_executes(
    tmp_path: Path, database: str, request: pytest.FixtureRequest, with_redis: bool
) -> None:
    redis = request.getfixturevalue("redis_uri") if with_redis else None
    folder = make_app_folder(tmp_path, {**GRAPHS, "where": "./graphs.py:where"})
    # without Redis, cancels reach the run's worker at its lease renewal: a short lease
    env = None if with_redis else {"ACTORGRAPH_LEASE_SECONDS": "3"}
    a, b, blocker_thread, blocker = _pair(folder, database, redis, env)
    try:
        ca, cb = get_sync_client(url=a.url), get_sync_client(url=b.url)
        b_pid = b.proc.pid  # type: ignore[union-attr]
        a_pid = a.proc.pid  # type: ignore[union-attr]

        # a stream opened on A, of a run created on A and executed by B
        tid = ca.threads.create()["thread_id"]
        parts = list(
            ca.runs.stream(tid, "where", input={"sleep": 0.2, "until": 3}, stream_mode=["custom", "values"])
        )
        customs = [p.data for p in parts if p.event == "custom"]
        assert [c["x"] for c in customs] == [0, 1, 2]
        assert {c["pid"] for c in customs} == {b_pid}
        assert parts[-1].event == "values" and parts[-1].data["x"] == 3 and parts[-1].data["pids"] == [b_pid] * 3
        assert parts[0].event == "metadata"

        # a wait and a join on A of runs B executes
        assert ca.runs.wait(tid, "where", input={"x": 0, "sleep": 0.05, "until": 2})["pids"][-2:] == [b_pid] * 2
        run = ca.runs.create(tid, "where", input={"x": 0, "sleep": 0.05, "until": 2})
        assert ca.runs.join(tid, run["run_id"])["x"] == 2
        assert _status(cb, tid, run["run_id"]) == "success"

        # a cancel sent to A stops a run on B; one sent to B stops A's
        long_thread = ca.threads.create()["thread_id"]
        long = ca.runs.create(long_thread, "where", input={"sleep": 0.3, "until": 1000})
        _wait_for(lambda: _status(ca, long_thread, long["run_id"]) == "running", what="the long run to start")
        started = time.monotonic()
        ca.runs.cancel(long_thread, long["run_id"], wait=True)
        assert _status(ca, long_thread, long["run_id"]) == "interrupted"
        pids = cb.threads.get_state(long_thread)["values"].get("pids", [])
        assert set(pids) <= {b_pid}
        cb.runs.cancel(blocker_thread, blocker, wait=True)
        assert _status(cb, blocker_thread, blocker) == "interrupted"
        assert time.monotonic() - started < 30
        # A's worker is free again: its next run may execute anywhere, and ends
        assert ca.runs.wait(blocker_thread, "where", input={"x": 0, "sleep": 0.01, "until": 1})["pids"][-1] in (a_pid, b_pid)
        assert ca.threads.get(blocker_thread)["status"] == "idle"
    finally:
        _stop(a, b)


def test_a_run_of_a_killed_process_is_finished_by_another_once(tmp_path: Path, database: str, redis_uri: str) -> None:
    folder = make_app_folder(tmp_path)
    counts = tmp_path / "counts.txt"
    env = {"ACTORGRAPH_TEST_COUNT_FILE": str(counts), "ACTORGRAPH_LEASE_SECONDS": "2"}
    a = _start(folder, database, redis_uri, jobs=1, name="a", env=env)
    b = None
    try:
        ca = get_sync_client(url=a.url)
        tid = ca.threads.create()["thread_id"]
        run = ca.runs.create(tid, "counted", input={"x": 0, "sleep": 0.4}, durability="sync")
        _wait_for(lambda: counts.exists() and len(counts.read_text().split()) >= 2, what="two finished steps")
        time.sleep(0.15)  # the second step's checkpoint is saved; the third is under way
        a.kill()
        done_before = counts.read_text().split()
        assert done_before == ["0", "1"]
        b = _start(folder, database, redis_uri, jobs=2, name="b", env=env)
        cb = get_sync_client(url=b.url)
        result = cb.runs.join(tid, run["run_id"])
        assert result["x"] == 4 and result["log"] == ["s0", "s1", "s2", "s3"]
        assert counts.read_text().split() == ["0", "1", "2", "3"]  # each step finished exactly once
        assert [(r["run_id"], r["status"]) for r in cb.runs.list(tid)] == [(run["run_id"], "success")]
        assert cb.threads.get(tid)["status"] == "idle"
    finally:
        _stop(a, *(s for s in (b,) if s is not None))


def test_a_database_away_gets_503_fast_and_the_run_in_flight_resumes_after(
    tmp_path: Path, database: str, redis_uri: str
) -> None:
    import httpx

    from tests.server.tcp_proxy import TcpProxy

    proxy = TcpProxy("127.0.0.1", 5432).start()
    assert "@127.0.0.1:5432/" in database
    via_proxy = database.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")
    folder = make_app_folder(tmp_path)
    counts = tmp_path / "counts.txt"
    env = {"ACTORGRAPH_TEST_COUNT_FILE": str(counts), "ACTORGRAPH_DB_TIMEOUT_SECONDS": "2", "ACTORGRAPH_LEASE_SECONDS": "3"}
    server = _start(folder, via_proxy, redis_uri, jobs=2, name="s", env=env)
    try:
        client = get_sync_client(url=server.url)
        tid = client.threads.create()["thread_id"]
        run = client.runs.create(tid, "counted", input={"x": 0, "sleep": 0.4}, durability="sync")
        _wait_for(lambda: counts.exists() and len(counts.read_text().split()) >= 2, what="two finished steps")
        time.sleep(0.15)  # the second step's checkpoint is saved; the third is under way
        proxy.cut()
        started = time.monotonic()
        answer = httpx.get(f"{server.url}/threads/{tid}", timeout=30)
        assert answer.status_code == 503, answer.text
        assert "Database unavailable" in answer.json()["detail"]
        assert time.monotonic() - started < 10
        time.sleep(1.5)  # the run's next checkpoint cannot be saved meanwhile
        proxy.restore()
        _wait_for(lambda: httpx.get(f"{server.url}/threads/{tid}", timeout=30).status_code == 200, what="the database back")
        result = client.runs.join(tid, run["run_id"])
        assert result["x"] == 4 and result["log"] == ["s0", "s1", "s2", "s3"], result
        done = counts.read_text().split()
        # the steps whose checkpoints were saved before the cut ran once; the one in flight
        # may have run again (its result was never saved)
        assert done[:2] == ["0", "1"] and done.count("0") == 1 and done.count("1") == 1
        assert sorted(set(done)) == ["0", "1", "2", "3"]
        assert [(r["run_id"], r["status"]) for r in client.runs.list(tid)] == [(run["run_id"], "success")]
        assert client.threads.get(tid)["status"] == "idle"
    finally:
        server.stop()
        proxy.cut()


def test_redis_going_away_slows_things_down_but_loses_nothing(tmp_path: Path, database: str, redis_uri: str) -> None:
    from tests.server.tcp_proxy import TcpProxy

    host_port = redis_uri.split("://", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    proxy = TcpProxy(host, int(port)).start()
    via_proxy = f"redis://127.0.0.1:{proxy.port}/0"
    folder = make_app_folder(tmp_path, {**GRAPHS, "where": "./graphs.py:where"})
    a, b, blocker_thread, blocker = _pair(folder, database, via_proxy, {"ACTORGRAPH_LEASE_SECONDS": "3"})
    try:
        ca = get_sync_client(url=a.url)
        b_pid = b.proc.pid  # type: ignore[union-attr]
        tid = ca.threads.create()["thread_id"]
        run = ca.runs.create(tid, "where", input={"sleep": 0.3, "until": 4})
        _wait_for(lambda: _status(ca, tid, run["run_id"]) == "running", what="the run to start")
        proxy.cut()  # mid-run: its events, its end and the next wake-ups don't go through Redis
        assert ca.runs.join(tid, run["run_id"])["pids"] == [b_pid] * 4
        # created while Redis is away: found by B's fallback poll, its end seen through the database
        assert ca.runs.wait(tid, "where", input={"x": 0, "sleep": 0.01, "until": 2})["x"] == 2
        long = ca.runs.create(tid, "where", input={"x": 0, "sleep": 0.3, "until": 1000})
        _wait_for(lambda: _status(ca, tid, long["run_id"]) == "running", what="the long run to start")
        ca.runs.cancel(tid, long["run_id"], wait=True)  # reaches B at its lease renewal
        assert _status(ca, tid, long["run_id"]) == "interrupted"
        proxy.restore()
        # Redis back: a stream on A shows B's events as they happen again
        parts = list(ca.runs.stream(tid, "where", input={"x": 0, "sleep": 0.1, "until": 2}, stream_mode="custom"))
        assert [p.data["pid"] for p in parts if p.event == "custom"] == [b_pid, b_pid]
        ca.runs.cancel(blocker_thread, blocker, wait=True)
        statuses = {r["run_id"]: r["status"] for r in ca.runs.list(tid)}
        assert statuses[run["run_id"]] == "success" and statuses[long["run_id"]] == "interrupted"
        assert sorted(statuses.values()) == ["interrupted", "success", "success", "success"]
    finally:
        _stop(a, b)
        proxy.cut()
