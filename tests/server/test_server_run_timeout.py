"""A run past its time limit (``BG_JOB_TIMEOUT_SECS``, as on LangGraph's server) ends
``timeout``: its thread ``error`` with a ``TimeoutError``, its finished steps kept, the
stream just ends, wait/join answer the values it reached (a join after its end: the
error), and a later run with ``input=None`` goes on from there."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import NotFoundError

from tests.server.conftest import Server, make_app_folder

pytestmark = pytest.mark.anyio

LIMIT = 1.5
# 3 steps of 0.6 s need 1.8 s: the limit cuts the third; what is left takes at most 1.2 s
SLOW = {"x": 0, "sleep": 0.6, "until": 3}
TIMEOUT_ERROR = {"error": "TimeoutError", "message": ""}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = make_app_folder(tmp_path_factory.mktemp("timeout"), {"aslow": "./graphs.py:aslow"})
    srv = Server(folder, env={"BG_JOB_TIMEOUT_SECS": str(LIMIT)}).start()
    try:
        yield srv
    finally:
        srv.stop()


def _reached(values: dict[str, Any]) -> int:
    """The steps a timed-out run finished (checked to be a proper prefix of the run)."""
    x = values["x"]
    assert 1 <= x < SLOW["until"], values
    assert values["log"] == [f"s{i}" for i in range(x)]
    return int(x)


async def test_background_run_times_out_keeps_its_steps_and_resumes(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    started = time.monotonic()
    run = await client.runs.create(tid, "aslow", input=SLOW)
    # a join while it runs answers the values it reached, not an error (LangGraph's server too)
    result = await client.runs.join(tid, run["run_id"])
    took = time.monotonic() - started
    assert LIMIT <= took < LIMIT + 1.0, took
    x = _reached(result)
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "timeout"
    assert [r["status"] for r in await client.runs.list(tid, status="timeout")] == ["timeout"]
    thread = await client.threads.get(tid)
    assert thread["status"] == "error" and thread["error"] == TIMEOUT_ERROR
    assert thread["values"] == result
    # the finished steps stay: one checkpoint each, and the cut step is next
    state = await client.threads.get_state(tid)
    assert state["values"] == result and state["next"] == ["aslow_step"]
    history = await client.threads.get_history(tid, limit=20)
    assert [h["values"].get("x") for h in history] == [*range(x, -1, -1), None]
    # a join after the end reads the thread's error
    assert await client.runs.join(tid, run["run_id"]) == {"__error__": TIMEOUT_ERROR}
    # input=None goes on from the cut step: no finished step runs again
    resumed = await client.runs.wait(tid, "aslow", input=None)
    assert resumed["x"] == SLOW["until"] and resumed["log"] == [f"s{i}" for i in range(SLOW["until"])]
    thread = await client.threads.get(tid)
    assert thread["status"] == "idle" and thread["error"] is None


async def test_wait_and_stream_past_the_limit(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    made: list[Any] = []
    result = await client.runs.wait(tid, "aslow", input=SLOW, on_run_created=made.append)
    _reached(result)
    assert (await client.runs.get(tid, made[0]["run_id"]))["status"] == "timeout"
    assert (await client.threads.get(tid))["status"] == "error"

    tid = (await client.threads.create())["thread_id"]
    parts = [p async for p in client.runs.stream(tid, "aslow", input=SLOW, stream_mode=["values", "updates"])]
    names = [p.event for p in parts]
    # the events up to the cut, then the stream just ends: no error event
    assert names[0] == "metadata" and "error" not in names and names[-1] == "values"
    x = _reached(parts[-1].data)
    assert [p.data for p in parts if p.event == "updates"] == [
        {"aslow_step": {"x": i + 1, "log": [f"s{i}"]}} for i in range(x)
    ]
    thread = await client.threads.get(tid)
    assert thread["status"] == "error" and thread["values"] == parts[-1].data

    # stateless: the values reached, and the temporary thread is gone as after any run
    made = []
    _reached(await client.runs.wait(None, "aslow", input=SLOW, on_run_created=made.append))
    with pytest.raises(NotFoundError):
        await client.threads.get(made[0]["thread_id"])


async def test_the_limit_counts_from_the_start_of_each_run(server: Server) -> None:
    """A run queued behind one that times out gets the whole limit once it starts."""
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    first = await client.runs.create(tid, "aslow", input=SLOW)
    # 2 steps of 0.6 s: done within the limit from its own start, not from its creation
    second = await client.runs.create(tid, "aslow", input={"x": 0, "sleep": 0.6, "until": 2})
    result = await client.runs.join(tid, second["run_id"])
    assert result["x"] == 2 and result["log"][-2:] == ["s0", "s1"]  # after the first run's steps
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "timeout"
    assert (await client.runs.get(tid, second["run_id"]))["status"] == "success"
    assert (await client.threads.get(tid))["status"] == "idle"


@pytest.mark.parametrize("value", ["soon", "0"])
def test_a_bad_limit_stops_the_server_at_start_naming_the_variable(tmp_path: Any, value: str) -> None:
    folder = make_app_folder(tmp_path, {"aslow": "./graphs.py:aslow"})
    with pytest.raises(RuntimeError, match="BG_JOB_TIMEOUT_SECS must be a number of seconds above 0"):
        Server(folder, env={"BG_JOB_TIMEOUT_SECS": value}).start()
