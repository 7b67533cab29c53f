"""A server killed with SIGKILL in the middle of a run, restarted on the same data: the
run ends ``success`` exactly once, its finished steps don't run again, no run stays
``running``; and a plain stop (SIGTERM) lets the run in flight finish."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_sync_client

from tests.server.conftest import Server, make_app_folder


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def _wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_sigkill_mid_run_then_restart_finishes_the_run_once(tmp_path: Path) -> None:
    folder = make_app_folder(tmp_path)
    counts = tmp_path / "counts.txt"
    env = {"ACTORGRAPH_TEST_COUNT_FILE": str(counts)}
    first = Server(folder, env=env).start()
    try:
        client = get_sync_client(url=first.url)
        tid = client.threads.create()["thread_id"]
        run = client.runs.create(tid, "counted", input={"x": 0, "sleep": 0.4}, durability="sync")
        _wait_for(lambda: len(_lines(counts)) >= 2)
        time.sleep(0.15)  # the second step's checkpoint is saved; the third step is under way
        first.kill()
    finally:
        first.stop()
    done_before = _lines(counts)
    assert done_before == ["0", "1"]
    second = Server(folder, env=env, port=first.port).start()
    try:
        client = get_sync_client(url=second.url)
        result = client.runs.join(tid, run["run_id"])
        assert result["x"] == 4 and result["log"] == ["s0", "s1", "s2", "s3"]
        assert _lines(counts) == ["0", "1", "2", "3"]  # each step finished exactly once
        runs = client.runs.list(tid)
        assert [(r["run_id"], r["status"]) for r in runs] == [(run["run_id"], "success")]
        assert client.threads.get(tid)["status"] == "idle"
    finally:
        second.stop()


def test_sigterm_lets_the_run_in_flight_finish(tmp_path: Path) -> None:
    folder = make_app_folder(tmp_path)
    counts = tmp_path / "counts.txt"
    srv = Server(folder, env={"ACTORGRAPH_TEST_COUNT_FILE": str(counts)}).start()
    try:
        client = get_sync_client(url=srv.url)
        tid = client.threads.create()["thread_id"]
        run = client.runs.create(tid, "counted", input={"x": 2, "sleep": 0.3})
        _wait_for(lambda: client.runs.get(tid, run["run_id"])["status"] == "running")
    finally:
        srv.stop()  # SIGTERM: drains
    assert _lines(counts) == ["2", "3"]
    again = Server(folder, env={"ACTORGRAPH_TEST_COUNT_FILE": str(counts)}).start()
    try:
        assert httpx.get(f"{again.url}/threads/{tid}/runs/{run['run_id']}").json()["status"] == "success"
    finally:
        again.stop()
