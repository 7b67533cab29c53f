"""The storage protocol's conformance suite: every implementation (SQLite, Postgres)
passes the same tests, through the protocol only (Postgres: a fresh schema per test)."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from actorgraph.server.schemas import Assistant, Run, Thread
from actorgraph.server.storage import Conflict, SqliteStorage, Storage, matches
from tests.pg_helpers import pg_schema

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgres"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    with contextlib.ExitStack() as stack:
        impl: Storage
        if request.param == "postgres":
            from actorgraph.server.storage.postgres import PostgresStorage

            impl = PostgresStorage(stack.enter_context(pg_schema()))
        else:
            impl = SqliteStorage(tmp_path / "db.sqlite")
        await impl.setup()
        try:
            yield impl
        finally:
            await impl.close()


def assistant(graph_id: str = "g", **kw: object) -> Assistant:
    fields: dict = dict(
        assistant_id=str(uuid.uuid4()), graph_id=graph_id, config={}, context={}, metadata={},
        created_at=NOW, updated_at=NOW, version=1, name="a",
    )
    fields.update(kw)
    return Assistant(**fields)


def thread(**kw: object) -> Thread:
    fields: dict = dict(thread_id=str(uuid.uuid4()), created_at=NOW, updated_at=NOW, metadata={})
    fields.update(kw)
    return Thread(**fields)


def run(thread_id: str, **kw: object) -> Run:
    fields: dict = dict(
        run_id=str(uuid.uuid4()), thread_id=thread_id, assistant_id=str(uuid.uuid4()), created_at=NOW,
        updated_at=NOW, status="pending", metadata={}, kwargs={}, multitask_strategy="enqueue",
    )
    fields.update(kw)
    return Run(**fields)


async def test_assistants_insert_conflict_update_versions_latest(storage: Storage) -> None:
    a = await storage.assistant_insert(assistant(metadata={"k": 1}), if_exists=None)
    with pytest.raises(Conflict):
        await storage.assistant_insert(assistant(assistant_id=a.assistant_id), if_exists="raise")
    kept = await storage.assistant_insert(assistant(assistant_id=a.assistant_id, name="other"), if_exists="do_nothing")
    assert kept == a
    later = NOW + timedelta(seconds=5)
    v2 = await storage.assistant_update(a.assistant_id, {"name": "b"}, later)
    assert v2 is not None and v2.version == 2 and v2.name == "b" and v2.created_at == NOW and v2.updated_at == later
    assert [v.version for v in await storage.assistant_versions(a.assistant_id)] == [2, 1]
    back = await storage.assistant_set_latest(a.assistant_id, 1, later)
    assert back is not None and back.version == 1 and back.name == "a"
    assert (await storage.assistant_get(a.assistant_id)) == back
    assert await storage.assistant_set_latest(a.assistant_id, 9, later) is None
    assert await storage.assistant_update(str(uuid.uuid4()), {}, later) is None
    assert await storage.assistant_delete(a.assistant_id) and not await storage.assistant_delete(a.assistant_id)
    assert await storage.assistant_get(a.assistant_id) is None


async def test_assistants_search_and_count(storage: Storage) -> None:
    for i in range(4):
        await storage.assistant_insert(
            assistant("g1" if i % 2 else "g2", metadata={"i": i, "tag": {"x": 1}}, name=f"n{i}",
                      created_at=NOW + timedelta(seconds=i)),
            if_exists=None,
        )
    assert await storage.assistant_count() == 4 and await storage.assistant_count(graph_id="g1") == 2
    assert await storage.assistant_count(metadata={"tag": {"x": 1}, "i": 3}) == 1
    names = [a.name for a in await storage.assistant_search(sort_by="created_at", sort_order="asc", limit=3, offset=1)]
    assert names == ["n1", "n2", "n3"]
    assert [a.name for a in await storage.assistant_search(name="n2")] == ["n2"]


async def test_threads_insert_put_search_delete(storage: Storage) -> None:
    t = await storage.thread_insert(thread(metadata={"m": 1}), if_exists=None)
    with pytest.raises(Conflict):
        await storage.thread_insert(thread(thread_id=t.thread_id), if_exists=None)
    await storage.thread_put(t)
    busy = thread(status="busy", values={"x": [1, 2]}, metadata={"m": 2})
    await storage.thread_insert(busy, if_exists=None)
    assert [x.thread_id for x in await storage.thread_search(status="busy")] == [busy.thread_id]
    assert [x.thread_id for x in await storage.thread_search(values={"x": [2]})] == [busy.thread_id]
    assert await storage.thread_count(metadata={"m": 1}) == 1
    assert [x.thread_id for x in await storage.thread_search(ids=[t.thread_id])] == [t.thread_id]
    r = run(t.thread_id)
    await storage.run_insert(r, available_at=0)
    await storage.events_append(r.run_id, [(0, "values", b"{}")])
    assert await storage.thread_delete(t.thread_id) and not await storage.thread_delete(t.thread_id)
    assert await storage.run_get(r.run_id) is None and await storage.events_read(r.run_id) == []


async def test_runs_claim_one_at_a_time_per_thread_in_order(storage: Storage) -> None:
    t1, t2 = str(uuid.uuid4()), str(uuid.uuid4())
    first, second, other = run(t1), run(t1), run(t2)
    for r in (first, second, other):
        await storage.run_insert(r, available_at=0)
    now = time.time()
    got = (await storage.run_claim("w1", now + 30, now)).run
    assert got is not None and got.run_id == first.run_id and got.status == "running"
    got2 = (await storage.run_claim("w1", now + 30, now)).run
    assert got2 is not None and got2.run_id == other.run_id  # t1 is busy: its second run waits
    assert (await storage.run_claim("w1", now + 30, now)).run is None
    await storage.run_set_status(first.run_id, "success", NOW)
    got3 = (await storage.run_claim("w2", now + 30, now)).run
    assert got3 is not None and got3.run_id == second.run_id
    assert [r.run_id for r in await storage.run_active(t1)] == [second.run_id]
    assert (await storage.run_counts()) == {"success": 1, "running": 2}


async def test_runs_scheduled_later_and_expired_leases(storage: Storage) -> None:
    t = str(uuid.uuid4())
    later = run(t)
    now = time.time()
    await storage.run_insert(later, available_at=now + 60)
    assert (await storage.run_claim("w", now + 30, now)).run is None
    assert await storage.run_next_available() == pytest.approx(now + 60)
    got = (await storage.run_claim("w", now + 30, now + 61)).run
    assert got is not None
    assert await storage.run_requeue_expired(now + 10) == []
    await storage.run_renew([got.run_id], "w", now + 100)
    assert await storage.run_requeue_expired(now + 50) == []
    assert await storage.run_requeue_expired(now + 101) == [got.run_id]
    again = await storage.run_get(got.run_id)
    assert again is not None and again.status == "pending"


async def test_runs_list_and_delete_and_events(storage: Storage) -> None:
    t = str(uuid.uuid4())
    runs = [run(t) for _ in range(3)]
    for r in runs:
        await storage.run_insert(r, available_at=0)
    assert [r.run_id for r in await storage.run_list(t)] == [r.run_id for r in reversed(runs)]
    assert [r.run_id for r in await storage.run_list(t, limit=1, offset=1)] == [runs[1].run_id]
    assert await storage.run_list(t, status="success") == []
    await storage.events_append(runs[0].run_id, [(0, "metadata", b"{}"), (1, "values", b"1"), (2, "values", b"2")])
    await storage.events_append(runs[0].run_id, [(2, "values", b"2")])  # a retry doesn't duplicate
    assert [s for s, _, _ in await storage.events_read(runs[0].run_id)] == [0, 1, 2]
    assert await storage.events_read(runs[0].run_id, after=1) == [(2, "values", b"2")]
    assert await storage.run_delete(runs[0].run_id) and await storage.events_read(runs[0].run_id) == []


def test_metadata_containment() -> None:
    assert matches({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": 2}})
    assert not matches({"a": 1}, {"a": 2}) and not matches({"a": True}, {"a": 1})
    assert not matches({"a": 1}, {"a": True})
    assert matches({"tags": ["x", "y"]}, {"tags": ["y"]}) and not matches({"tags": ["x"]}, {"tags": ["z"]})
    assert matches(None, None) and not matches(None, {"a": 1})


async def test_claim_marks_the_thread_busy_and_knows_a_requeued_run(storage: Storage) -> None:
    t = await storage.thread_insert(thread(status="idle"), if_exists=None)
    r = run(t.thread_id)
    await storage.run_insert(r, available_at=0, thread=thread(thread_id=t.thread_id, status="busy", metadata={"k": 1}))
    assert (await storage.thread_get(t.thread_id)).metadata == {"k": 1}  # type: ignore[union-attr]
    await storage.thread_put(thread(thread_id=t.thread_id, status="idle"))
    now = time.time()
    first = await storage.run_claim("w1", now + 30, now)
    assert first.run is not None and first.run.run_id == r.run_id and not first.resumed
    assert (await storage.thread_get(t.thread_id)).status == "busy"  # type: ignore[union-attr]
    assert await storage.run_requeue_expired(now + 31) == [r.run_id]
    again = await storage.run_claim("w2", now + 60, now)
    assert again.run is not None and again.run.run_id == r.run_id and again.resumed
    assert again.next_due is None  # no other run is pending
    nothing = await storage.run_claim("w2", now + 60, now)
    assert nothing.run is None and nothing.next_due is None
    # a claim says when the earliest other pending run is due (the worker after it naps
    # until then unless woken, instead of claiming at once)
    t2 = str(uuid.uuid4())
    await storage.run_insert(run(t2), available_at=0)
    await storage.run_insert(run(t2), available_at=now + 5)
    claimed = await storage.run_claim("w3", now + 60, now)
    assert claimed.run is not None and claimed.run.thread_id == t2 and claimed.next_due == pytest.approx(now + 5)


async def test_run_finish_writes_events_status_and_thread_in_one_go(storage: Storage) -> None:
    t = await storage.thread_insert(thread(status="busy"), if_exists=None)
    first, queued = run(t.thread_id), run(t.thread_id)
    for r in (first, queued):
        await storage.run_insert(r, available_at=0)
    changes = {"status": "idle", "values": {"x": 1}, "error": None, "updated_at": NOW}
    await storage.run_finish(first.run_id, "success", NOW, [(1, "values", b"1"), (2, "__result__", b"1")], changes)
    assert (await storage.run_get(first.run_id)).status == "success"  # type: ignore[union-attr]
    assert [s for s, _, _ in await storage.events_read(first.run_id)] == [1, 2]
    got = await storage.thread_get(t.thread_id)
    assert got is not None and got.values == {"x": 1} and got.status == "busy"  # the queued run keeps it busy
    await storage.run_set_status(queued.run_id, "interrupted", NOW)
    await storage.thread_set_status(t.thread_id, "error", {"error": "E", "message": "m"}, NOW)
    got = await storage.thread_get(t.thread_id)
    assert got is not None and got.status == "error" and got.error == {"error": "E", "message": "m"}
    assert got.values == {"x": 1}


async def test_searches_match_alike_on_every_backend(storage: Storage) -> None:
    """Containment as ``matches`` says, even where Postgres' ``@>`` alone would differ
    (nested lists, a scalar against a list); a NUL character is stored and found."""
    nested = await storage.thread_insert(thread(values={"x": [[1, 2]], "tags": ["a"]}), if_exists=None)
    nul = await storage.thread_insert(thread(values={"s": "a\x00b"}, metadata={"k": "\x00"}), if_exists=None)
    assert await storage.thread_count(values={"x": [[1]]}) == 0  # @> says yes, matches says no
    assert await storage.thread_count(values={"x": [[1, 2]]}) == 1
    assert await storage.thread_count(values={"tags": "a"}) == 0
    assert [t.thread_id for t in await storage.thread_search(values={"s": "a\x00b"})] == [nul.thread_id]
    assert await storage.thread_count(metadata={"k": "\x00"}) == 1 and await storage.thread_count(metadata={"k": ""}) == 0
    assert await storage.thread_get(nul.thread_id) == nul and await storage.thread_get(nested.thread_id) == nested
    # an extra test (custom auth's) is applied before paging
    only_nul = {"keep": lambda t: t.thread_id == nul.thread_id}
    assert [t.thread_id for t in await storage.thread_search(limit=1, **only_nul)] == [nul.thread_id]
    assert await storage.thread_count(**only_nul) == 1 and await storage.thread_count() == 2
    a = await storage.assistant_insert(assistant(metadata={"l": [{"a": 1, "b": 2}]}), if_exists=None)
    assert [x.assistant_id for x in await storage.assistant_search(metadata={"l": [{"a": 1}]})] == [a.assistant_id]
    assert await storage.assistant_count(metadata={"l": [{"a": 2}]}) == 0
    assert [v.version for v in await storage.assistant_versions(a.assistant_id, metadata={"l": [{"b": 2}]})] == [1]
