"""Crons over HTTP, driven by ``langgraph-sdk``'s ``client.crons`` against real servers:
create (for a thread, stateless), get, search, count, update, delete, bad input; and
firing: a due cron creates exactly one run per firing (also with two server processes on
one database, and once for a firing missed while the server was stopped), a disabled,
deleted or ended cron doesn't fire, an update moves the next firing.

Firing tests use croniter's seconds field (``* * * * * S``: each minute at second S, as
LangGraph's server accepts it) so a cron is due a few seconds after it is made; the
``* * * * *`` cron is made by the first test and checked by the last one, so its wait for
the minute's end overlaps the other tests.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import BadRequestError, NotFoundError, UnprocessableEntityError

from tests.server.conftest import Server, make_app_folder

pytestmark = pytest.mark.anyio

SIMPLE_ID = str(uuid.uuid5(uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8"), "simple"))
AHEAD = 5  # seconds from now to a test cron's firing: time to make the crons first


def _at(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _second_schedule(ahead: float = AHEAD) -> tuple[str, datetime]:
    """A schedule firing each minute at the second ``ahead`` seconds from now, and when it
    first fires."""
    due = (datetime.now(timezone.utc) + timedelta(seconds=ahead)).replace(microsecond=0) + timedelta(seconds=1)
    return f"* * * * * {due.second}", due


async def _until(due: datetime) -> None:
    await anyio.sleep(max(0.0, (due - datetime.now(timezone.utc)).total_seconds()))


async def _finished_runs(client: Any, thread_id: str, n: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """The thread's runs once ``n`` of them have ended (fails after ``timeout``)."""
    with anyio.fail_after(timeout):
        while True:
            runs = await client.runs.list(thread_id)
            if len(runs) >= n and all(r["status"] not in ("pending", "running") for r in runs):
                return runs
            await anyio.sleep(0.1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The crons' webhooks point at loopback: this server's webhook policy allows it (the
    default refuses loopback, as LangGraph's)."""
    folder = make_app_folder(
        tmp_path_factory.mktemp("crons"), webhooks={"url": {"disable_loopback": False, "require_https": False}}
    )
    srv = Server(folder).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def minute_cron(server: Server) -> Iterator[dict[str, Any]]:
    """A ``* * * * *`` cron on a thread, made at the module's start."""
    with httpx.Client(base_url=server.url) as http:
        thread = http.post("/threads", json={}).json()
        cron = http.post(
            f"/threads/{thread['thread_id']}/runs/crons",
            json={"assistant_id": "simple", "schedule": "* * * * *", "input": {"x": 1}},
        ).json()
    yield cron


# -- records ------------------------------------------------------------------------------


async def test_a_thread_cron_is_recorded_as_langgraphs_server_shows_it(server: Server, minute_cron: dict) -> None:
    client = get_client(url=server.url)
    thread = await client.threads.create()
    made = datetime.now(timezone.utc)
    cron = await client.crons.create_for_thread(
        thread["thread_id"], "simple", schedule="0 0 1 1 *", input={"x": 2}, metadata={"team": "a"},
        multitask_strategy="enqueue", webhook="http://127.0.0.1:9/hook", interrupt_before=["b"],
    )
    assert uuid.UUID(cron["cron_id"])
    assert cron["assistant_id"] == SIMPLE_ID and cron["thread_id"] == thread["thread_id"]
    assert cron["schedule"] == "0 0 1 1 *" and cron["timezone"] is None and cron["end_time"] is None
    assert cron["enabled"] is True and cron["on_run_completed"] is None and cron["metadata"] == {"team": "a"}
    assert _at(cron["next_run_date"]) == datetime(made.year + 1, 1, 1, tzinfo=timezone.utc)
    assert cron["payload"] == {
        "schedule": "0 0 1 1 *", "input": {"x": 2}, "metadata": {"team": "a"}, "assistant_id": SIMPLE_ID,
        "multitask_strategy": "enqueue", "webhook": "http://127.0.0.1:9/hook", "interrupt_before": ["b"],
        "config": {"configurable": {"cron_id": cron["cron_id"]}},
    }
    assert _at(cron["created_at"]) == _at(cron["updated_at"])
    async with httpx.AsyncClient(base_url=server.url) as http:
        got = (await http.get(f"/runs/crons/{cron['cron_id']}")).json()
    assert got == cron
    # the module's minute cron: next_run_date is the start of the next minute
    created = _at(minute_cron["created_at"])
    assert created is not None
    assert _at(minute_cron["next_run_date"]) == created.replace(second=0, microsecond=0) + timedelta(minutes=1)


async def test_a_stateless_cron_deletes_its_threads_unless_told_to_keep_them(server: Server) -> None:
    client = get_client(url=server.url)
    plain = await client.crons.create("simple", schedule="0 0 1 1 *")
    kept = await client.crons.create("simple", schedule="0 0 1 1 *", on_run_completed="keep", timezone="Europe/Paris")
    assert plain["thread_id"] is None and plain["on_run_completed"] == "delete"
    assert kept["on_run_completed"] == "keep" and kept["timezone"] == "Europe/Paris"
    # midnight of January 1st in Paris is 23:00 UTC the day before
    assert _at(kept["next_run_date"]).astimezone(ZoneInfo("Europe/Paris")).strftime("%m-%d %H:%M") == "01-01 00:00"  # type: ignore[union-attr]
    assert _at(kept["next_run_date"]).hour == 23  # type: ignore[union-attr]


async def test_search_filters_sorts_pages_and_selects_and_count_agrees(server: Server) -> None:
    client = get_client(url=server.url)
    tag = str(uuid.uuid4())
    thread = await client.threads.create()
    tid = thread["thread_id"]
    a = await client.crons.create_for_thread(tid, "simple", schedule="0 3 * * *", metadata={"tag": tag, "n": 1})
    b = await client.crons.create("simple", schedule="0 1 * * *", metadata={"tag": tag, "n": 2}, enabled=False)
    c = await client.crons.create("hitl", schedule="0 2 * * *", metadata={"tag": tag, "n": 3})
    found = await client.crons.search(metadata={"tag": tag}, limit=10)
    assert [x["cron_id"] for x in found] == [c["cron_id"], b["cron_id"], a["cron_id"]]  # newest first
    # daily at 03:00, 01:00, 02:00: which comes next depends on the time of day
    soonest = [x["cron_id"] for x in sorted((a, b, c), key=lambda x: _at(x["next_run_date"]))]
    by_next = await client.crons.search(metadata={"tag": tag}, sort_by="next_run_date", sort_order="asc")
    assert [x["cron_id"] for x in by_next] == soonest
    by_next = await client.crons.search(metadata={"tag": tag}, sort_by="next_run_date", sort_order="desc")
    assert [x["cron_id"] for x in by_next] == soonest[::-1]
    assert [x["cron_id"] for x in await client.crons.search(metadata={"tag": tag}, thread_id=tid)] == [a["cron_id"]]
    assert [x["cron_id"] for x in await client.crons.search(metadata={"tag": tag}, enabled=False)] == [b["cron_id"]]
    mine = await client.crons.search(metadata={"tag": tag}, assistant_id=SIMPLE_ID)
    assert {x["cron_id"] for x in mine} == {a["cron_id"], b["cron_id"]}
    page = await client.crons.search(metadata={"tag": tag}, limit=1, offset=1, select=["cron_id", "next_run_date"])
    assert page == [{"cron_id": b["cron_id"], "next_run_date": b["next_run_date"]}]
    assert await client.crons.count(metadata={"tag": tag}) == 3
    assert await client.crons.count(metadata={"tag": tag}, thread_id=tid) == 1
    assert await client.crons.count(metadata={"tag": tag}, assistant_id="hitl") == 1  # a graph stands for its assistant
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.post("/runs/crons/search", json={"metadata": {"tag": tag}, "limit": 2})
    assert r.headers["X-Pagination-Next"] == "2"


async def test_update_changes_schedule_next_run_date_metadata_and_end_time(server: Server) -> None:
    client = get_client(url=server.url)
    cron = await client.crons.create("simple", schedule="0 0 1 1 *", metadata={"a": 1}, input={"x": 1})
    end = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=3)
    updated = await client.crons.update(
        cron["cron_id"], schedule="30 6 * * *", metadata={"b": 2}, input={"x": 5}, end_time=end, enabled=False,
        on_run_completed="keep",
    )
    now = datetime.now(timezone.utc)
    expected = now.replace(hour=6, minute=30, second=0, microsecond=0)
    if expected <= now:
        expected += timedelta(days=1)
    assert updated["schedule"] == "30 6 * * *" and _at(updated["next_run_date"]) == expected
    assert updated["metadata"] == {"a": 1, "b": 2} and updated["enabled"] is False
    assert updated["on_run_completed"] == "keep" and _at(updated["end_time"]) == end
    assert updated["payload"]["input"] == {"x": 5} and updated["payload"]["schedule"] == "30 6 * * *"
    assert updated["payload"]["config"]["configurable"]["cron_id"] == cron["cron_id"]
    assert _at(updated["updated_at"]) > _at(cron["updated_at"])  # type: ignore[operator]
    assert updated["created_at"] == cron["created_at"]
    # (raw requests: langgraph-sdk before 0.4 drops a None end_time and has no timezone here)
    async with httpx.AsyncClient(base_url=server.url) as http:
        cleared = (await http.patch(f"/runs/crons/{cron['cron_id']}", json={"end_time": None})).json()
        assert cleared["end_time"] is None and cleared["schedule"] == "30 6 * * *"
        again = (await http.patch(f"/runs/crons/{cron['cron_id']}", json={"timezone": "Asia/Tokyo"})).json()
    assert _at(again["next_run_date"]).astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M") == "06:30"  # type: ignore[union-attr]


async def test_delete_removes_the_cron(server: Server) -> None:
    client = get_client(url=server.url)
    cron = await client.crons.create("simple", schedule="0 0 1 1 *")
    await client.crons.delete(cron["cron_id"])
    with pytest.raises(NotFoundError):
        await client.crons.delete(cron["cron_id"])
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get(f"/runs/crons/{cron['cron_id']}")).status_code == 404


async def test_deleting_a_thread_or_an_assistant_deletes_its_crons(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    assistant = await client.assistants.create("simple")
    on_thread = await client.crons.create_for_thread(tid, "simple", schedule="0 0 1 1 *")
    of_assistant = await client.crons.create(assistant["assistant_id"], schedule="0 0 1 1 *")
    kept = await client.crons.create("simple", schedule="0 0 1 1 *")
    await client.threads.delete(tid)
    await client.assistants.delete(assistant["assistant_id"])
    async with httpx.AsyncClient(base_url=server.url) as http:
        for cron, status in ((on_thread, 404), (of_assistant, 404), (kept, 200)):
            assert (await http.get(f"/runs/crons/{cron['cron_id']}")).status_code == status


async def test_bad_input_is_a_4xx_naming_the_field(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    with pytest.raises(UnprocessableEntityError, match="Invalid cron schedule: 'every day'"):
        await client.crons.create("simple", schedule="every day")
    with pytest.raises(UnprocessableEntityError, match="Invalid cron schedule: '0 0 30 2 \\*'"):
        await client.crons.create("simple", schedule="0 0 30 2 *")  # February 30th never comes
    with pytest.raises(UnprocessableEntityError, match="Invalid timezone: 'Mars/Olympus'"):
        await client.crons.create_for_thread(tid, "simple", schedule="* * * * *", timezone="Mars/Olympus")
    with pytest.raises(NotFoundError, match="Assistant 'nope' not found"):
        await client.crons.create("nope", schedule="* * * * *")
    with pytest.raises(NotFoundError, match="Thread with ID"):
        await client.crons.create_for_thread(str(uuid.uuid4()), "simple", schedule="* * * * *")
    with pytest.raises(BadRequestError, match="configurable and context"):
        await client.crons.create("simple", schedule="* * * * *", config={"configurable": {"a": 1}}, context={"b": 2})
    cron = await client.crons.create("simple", schedule="0 0 1 1 *")
    with pytest.raises(UnprocessableEntityError, match="Invalid cron schedule: 'zz'"):
        await client.crons.update(cron["cron_id"], schedule="zz")
    with pytest.raises(UnprocessableEntityError, match="Invalid timezone"):
        await client.crons.update(cron["cron_id"], timezone="../etc/passwd")
    with pytest.raises(NotFoundError, match="Cron"):
        await client.crons.update(str(uuid.uuid4()), enabled=False)
    async with httpx.AsyncClient(base_url=server.url) as http:
        checks = [
            ("POST", "/runs/crons", {"assistant_id": "simple"}, 422, "schedule"),
            ("POST", "/runs/crons", {"schedule": "* * * * *"}, 422, "assistant_id"),
            ("POST", "/runs/crons", {"assistant_id": "simple", "schedule": "* * * * *", "end_time": "soon"}, 422, "end_time"),
            ("POST", "/runs/crons", {"assistant_id": "simple", "schedule": "* * * * *", "on_run_completed": "x"}, 422, "on_run_completed"),
            ("POST", "/runs/crons", {"assistant_id": "simple", "schedule": "* * * * *", "config": {"configurable": 5}}, 422, "configurable"),
            ("POST", "/threads/not-a-uuid/runs/crons", {"assistant_id": "simple", "schedule": "* * * * *"}, 422, "thread ID"),
            ("PATCH", f"/runs/crons/{cron['cron_id']}", {}, 400, "empty"),
            ("PATCH", f"/runs/crons/{cron['cron_id']}", {"config": {"configurable": []}}, 422, "configurable"),
            ("PATCH", "/runs/crons/not-a-uuid", {"enabled": True}, 422, "cron ID"),
            ("DELETE", "/runs/crons/not-a-uuid", None, 422, "cron ID"),
            ("GET", "/runs/crons/not-a-uuid", None, 422, "cron ID"),
            ("POST", "/runs/crons/search", {"sort_by": "name"}, 422, "sort_by"),
            ("POST", "/runs/crons/search", {"select": ["nope"]}, 422, "select"),
            ("POST", "/runs/crons/search", {"limit": 0}, 422, "limit"),
            ("POST", "/runs/crons/search", {"thread_id": "x"}, 422, "thread ID"),
            ("POST", "/runs/crons/count", {"assistant_id": "not-a-graph"}, 422, "assistant ID"),
        ]
        for method, path, body, status, word in checks:
            r = await http.request(method, path, json=body)
            assert (r.status_code, word in r.json()["detail"]) == (status, True), (method, path, body, r.text)


# -- firing -------------------------------------------------------------------------------


async def test_due_crons_fire_once_and_disabled_deleted_ended_ones_dont(server: Server) -> None:
    """One wait for several crons due at the same second: a thread cron, a stateless cron
    that keeps its thread, a cron updated onto that second, and three that must not fire."""
    client = get_client(url=server.url)
    tag = str(uuid.uuid4())
    schedule, due = _second_schedule()
    threads = {name: (await client.threads.create())["thread_id"] for name in ("fires", "disabled", "deleted", "ended", "updated")}
    fires = await client.crons.create_for_thread(
        threads["fires"], "simple", schedule=schedule, input={"x": 1}, metadata={"tag": tag}, webhook="http://127.0.0.1:9/hook"
    )
    await client.crons.create_for_thread(threads["disabled"], "simple", schedule=schedule, enabled=False)
    deleted = await client.crons.create_for_thread(threads["deleted"], "simple", schedule=schedule)
    await client.crons.delete(deleted["cron_id"])
    await client.crons.create_for_thread(
        threads["ended"], "simple", schedule=schedule, end_time=datetime.now(timezone.utc) + timedelta(seconds=1)
    )
    moved = await client.crons.create_for_thread(threads["updated"], "simple", schedule="0 0 1 1 *")
    moved = await client.crons.update(moved["cron_id"], schedule=schedule, input={"x": 3})
    stateless = await client.crons.create("simple", schedule=schedule, input={"x": 2}, on_run_completed="keep", metadata={"tag": tag})
    for cron in (fires, moved, stateless):
        assert _at(cron["next_run_date"]) == due  # made before it was due
    await _until(due)

    runs = await _finished_runs(client, threads["fires"], 1)
    assert [r["status"] for r in runs] == ["success"]
    assert _at(runs[0]["created_at"]) >= due  # type: ignore[operator]
    assert runs[0]["metadata"]["tag"] == tag and runs[0]["kwargs"]["config"]["configurable"]["cron_id"] == fires["cron_id"]
    assert runs[0]["kwargs"]["webhook"] == "http://127.0.0.1:9/hook"  # the run calls the cron's webhook
    assert (await client.threads.get_state(threads["fires"]))["values"]["x"] == 20
    updated_runs = await _finished_runs(client, threads["updated"], 1)
    assert len(updated_runs) == 1 and (await client.threads.get_state(threads["updated"]))["values"]["x"] == 40
    with anyio.fail_after(30):
        while not (kept := await client.threads.search(metadata={"tag": tag})) or kept[0]["status"] != "idle":
            await anyio.sleep(0.1)
    assert len(kept) == 1 and kept[0]["values"]["x"] == 30  # one new thread, kept after its run

    after = {c["cron_id"]: c for c in await client.crons.search(metadata={"tag": tag})}
    assert _at(after[fires["cron_id"]]["next_run_date"]) == due + timedelta(minutes=1)
    for name in ("disabled", "deleted", "ended"):
        assert await client.runs.list(threads[name]) == [], name
    assert len(await client.runs.list(threads["fires"])) == 1  # once: the next firing is a minute away


async def test_an_update_moves_the_next_firing(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    first, first_due = _second_schedule()
    cron = await client.crons.create_for_thread(tid, "simple", schedule=first, input={"x": 1})
    later, later_due = _second_schedule(AHEAD + 3)
    updated = await client.crons.update(cron["cron_id"], schedule=later)
    assert _at(updated["next_run_date"]) == later_due
    await _until(first_due + timedelta(seconds=1))
    assert await client.runs.list(tid) == []  # not at the old time
    runs = await _finished_runs(client, tid, 1)
    assert len(runs) == 1 and _at(runs[0]["created_at"]) >= later_due  # type: ignore[operator]


# -- several processes, restarts ----------------------------------------------------------


def _firings(url: str) -> int:
    text = httpx.get(url + "/metrics").text
    found = re.search(r'actorgraph_cron_firings\{outcome="fired"\} (\d+)', text)
    assert found, text
    return int(found.group(1))


async def test_two_server_processes_on_one_database_fire_each_cron_once(tmp_path: Path) -> None:
    folder = make_app_folder(tmp_path)
    first = Server(folder, log=tmp_path / "first.log").start()
    second = Server(folder, log=tmp_path / "second.log")
    try:
        second.start()
        one, two = get_client(url=first.url), get_client(url=second.url)
        schedule, due = _second_schedule(AHEAD + 1)
        tids = [(await one.threads.create())["thread_id"] for _ in range(4)]
        for tid in tids:
            cron = await one.crons.create_for_thread(tid, "simple", schedule=schedule, input={"x": 1})
            # a change through the second process: its scheduler now knows the cron too
            touched = await two.crons.update(cron["cron_id"], metadata={"seen": True})
            assert _at(touched["next_run_date"]) == due
        await _until(due)
        for tid in tids:
            runs = await _finished_runs(one, tid, 1)
            assert [r["status"] for r in runs] == ["success"], tid
        assert _firings(first.url) + _firings(second.url) == len(tids)
        for tid in tids:
            assert len(await two.runs.list(tid)) == 1
    finally:
        second.stop()
        first.stop()


async def test_a_firing_missed_while_stopped_runs_once_at_start(tmp_path: Path) -> None:
    """Also for a stateless cron, whose thread is deleted after its run."""
    folder = make_app_folder(tmp_path)
    srv = Server(folder).start()
    tag = str(uuid.uuid4())
    try:
        client = get_client(url=srv.url)
        tid = (await client.threads.create())["thread_id"]
        schedule, due = _second_schedule(AHEAD + 1)
        cron = await client.crons.create_for_thread(tid, "simple", schedule=schedule, input={"x": 1})
        await client.crons.create("simple", schedule=schedule, input={"x": 1}, metadata={"tag": tag})
    finally:
        srv.stop()
    assert datetime.now(timezone.utc) < due, "the server took too long to stop"
    await _until(due + timedelta(seconds=1))
    again = Server(folder, port=srv.port).start()
    try:
        client = get_client(url=again.url)
        runs = await _finished_runs(client, tid, 1)
        assert len(runs) == 1 and [r["status"] for r in runs] == ["success"]
        # the schedule goes on from now: the next firing is next minute's
        got = await client.crons.search(thread_id=tid)
        assert [c["cron_id"] for c in got] == [cron["cron_id"]]
        assert _at(got[0]["next_run_date"]) == due + timedelta(minutes=1)
        assert len(await client.runs.list(tid)) == 1
        assert _firings(again.url) == 2  # the thread cron's and the stateless cron's
        with anyio.fail_after(30):
            while await client.threads.search(metadata={"tag": tag}):
                await anyio.sleep(0.1)  # the stateless run's thread goes when its run ends
    finally:
        again.stop()


# -- the module's minute cron (last: its wait overlapped the tests above) -------------------


async def test_an_every_minute_cron_fires_within_its_minute_exactly_once(server: Server, minute_cron: dict) -> None:
    client = get_client(url=server.url)
    due = _at(minute_cron["next_run_date"])
    assert due is not None
    await _until(due)
    runs = await _finished_runs(client, minute_cron["thread_id"], 1, timeout=50)
    assert [r["status"] for r in runs] == ["success"]
    assert due <= _at(runs[0]["created_at"]) < due + timedelta(minutes=1)  # type: ignore[operator]
    cron = (await client.crons.search(thread_id=minute_cron["thread_id"]))[0]
    assert _at(cron["next_run_date"]) == due + timedelta(minutes=1)
    assert len(await client.runs.list(minute_cron["thread_id"])) == 1
