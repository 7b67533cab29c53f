"""The storage protocol's leases, cancel requests and thread TTL clocks, on every backend
(the conformance suite's fixture): a lost lease is seen at renewal and fences its old
owner's writes, a cancel request reaches the owner through renewal, and an expired
thread's clock decides what a sweep does."""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

import pytest

from actorgraph.server.schemas import Run, Thread
from actorgraph.server.storage import Renewal, SqliteStorage, Storage
from tests.server.test_server_storage import NOW, run, storage, thread  # noqa: F401  (the suite's fixture)

pytestmark = pytest.mark.anyio


async def test_backends_say_whether_processes_share_them(storage: Storage) -> None:  # noqa: F811
    assert storage.shared is (type(storage).__name__ == "PostgresStorage")


async def test_renewal_keeps_owned_runs_and_drops_lost_ones(storage: Storage) -> None:  # noqa: F811
    now = time.time()
    mine, other = run(str(uuid.uuid4())), run(str(uuid.uuid4()))
    for r in (mine, other):
        await storage.run_insert(r, available_at=0)
    assert (await storage.run_claim("w1", now + 30, now)).run.run_id == mine.run_id  # type: ignore[union-attr]
    assert (await storage.run_claim("w2", now + 30, now)).run.run_id == other.run_id  # type: ignore[union-attr]
    assert await storage.run_renew([], "w1", now + 60) == Renewal()
    # another owner's run and an unknown id are not kept
    renewal = await storage.run_renew([mine.run_id, other.run_id, "nope"], "w1", now + 60)
    assert renewal == Renewal(kept=(mine.run_id,), cancels={})
    assert await storage.run_requeue_expired(now + 45) == [other.run_id]  # only w1's was renewed
    assert (await storage.run_renew([other.run_id], "w2", now + 90)).kept == ()  # w2 lost it


async def test_a_cancel_request_reaches_the_owner_at_renewal(storage: Storage) -> None:  # noqa: F811
    now = time.time()
    t = str(uuid.uuid4())
    first, queued = run(t), run(t)
    for r in (first, queued):
        await storage.run_insert(r, available_at=0)
    await storage.run_claim("w1", now + 30, now)
    assert not await storage.run_request_cancel(queued.run_id, "interrupt")  # pending, not running
    assert not await storage.run_request_cancel(str(uuid.uuid4()), "interrupt")
    assert await storage.run_request_cancel(first.run_id, "interrupt")
    assert await storage.run_request_cancel(first.run_id, "rollback")  # the latest request wins
    renewal = await storage.run_renew([first.run_id], "w1", now + 60)
    assert renewal == Renewal(kept=(first.run_id,), cancels={first.run_id: "rollback"})
    # the request outlives a requeue (the next owner learns it) and goes when the run ends
    await storage.run_requeue_expired(now + 61)
    again = await storage.run_claim("w2", now + 90, now)
    assert again.run is not None and again.run.run_id == first.run_id and again.resumed
    assert (await storage.run_renew([first.run_id], "w2", now + 120)).cancels == {first.run_id: "rollback"}
    assert await storage.run_finish(first.run_id, "interrupted", NOW, [], None, owner="w2")
    assert not await storage.run_request_cancel(first.run_id, "interrupt")
    await storage.run_set_status(first.run_id, "pending", NOW)  # (run again, as a retry would)
    assert (await storage.run_claim("w3", now + 90, now)).run.run_id == first.run_id  # type: ignore[union-attr]
    assert await storage.run_renew([first.run_id], "w3", now + 120) == Renewal(kept=(first.run_id,), cancels={})


async def _stalled(storage: Storage, now: float) -> tuple[Thread, Run]:
    """A busy thread's run claimed by ``w1``, which stalled past its lease: requeued."""
    t = await storage.thread_insert(thread(status="busy"), if_exists=None)
    r = run(t.thread_id)
    await storage.run_insert(r, available_at=0)
    await storage.run_claim("w1", now + 30, now)
    await storage.run_requeue_expired(now + 31)
    return t, r


async def test_a_finish_fenced_by_a_lost_lease_writes_nothing(storage: Storage) -> None:  # noqa: F811
    now = time.time()
    t, r = await _stalled(storage, now)
    changes = {"status": "idle", "values": {"x": 1}, "updated_at": NOW}
    # lost once requeued, before anyone claims it again: it will run again, resumed
    assert not await storage.run_finish(r.run_id, "success", NOW, [], changes, owner="w1")
    assert (await storage.run_claim("w2", now + 60, now + 31)).run is not None
    assert not await storage.run_finish(r.run_id, "success", NOW, [(0, "values", b"1")], changes, owner="w1")
    assert await storage.run_set_status(r.run_id, "error", NOW, owner="w1") is None
    got = await storage.run_get(r.run_id)
    assert got is not None and got.status == "running"
    assert await storage.events_read(r.run_id) == []
    assert (await storage.thread_get(t.thread_id)).values is None  # type: ignore[union-attr]
    # its owner's finish lands, and a finish without an owner is not fenced
    assert await storage.run_finish(r.run_id, "success", NOW, [(0, "values", b"1")], changes, owner="w2")
    assert (await storage.run_get(r.run_id)).status == "success"  # type: ignore[union-attr]
    assert (await storage.thread_get(t.thread_id)).values == {"x": 1}  # type: ignore[union-attr]
    assert await storage.run_finish(r.run_id, "error", NOW, [], None)
    assert not await storage.run_finish(str(uuid.uuid4()), "error", NOW, [], None)


async def test_a_rollback_delete_fenced_by_a_lost_lease_keeps_the_run(storage: Storage) -> None:  # noqa: F811
    # a rolled-back run's worker stalled past its lease (the database was away); the run's
    # new worker runs it on: the old worker's delete must not free the thread under it
    now = time.time()
    t, r = await _stalled(storage, now)
    await storage.events_append(r.run_id, [(0, "values", b"1")])
    assert not await storage.run_delete(r.run_id, owner="w1")  # pending: nobody's
    assert (await storage.run_claim("w2", now + 60, now + 31)).run is not None
    assert not await storage.run_delete(r.run_id, owner="w1")
    got = await storage.run_get(r.run_id)
    assert got is not None and got.status == "running"
    assert await storage.events_read(r.run_id) == [(0, "values", b"1")]
    assert await storage.run_active(t.thread_id) == [got]
    # its owner's delete lands, and so does one without an owner
    assert await storage.run_delete(r.run_id, owner="w2")
    assert await storage.run_get(r.run_id) is None and await storage.events_read(r.run_id) == []
    assert not await storage.run_delete(r.run_id)
    other = run(t.thread_id, status="success")
    await storage.run_insert(other, available_at=0)
    assert await storage.run_delete(other.run_id)



async def test_thread_clocks_decide_what_an_expired_thread_gets(storage: Storage) -> None:  # noqa: F811
    now = time.time()
    doomed, kept, busy, fresh = [await storage.thread_insert(thread(), if_exists=None) for _ in range(4)]
    await storage.ttl_set(doomed.thread_id, "delete", 1, now - 30)
    await storage.ttl_set(kept.thread_id, "keep_latest", 1, now - 20)
    await storage.ttl_set(busy.thread_id, "delete", 1, now - 10)
    await storage.ttl_set(fresh.thread_id, "delete", 1, now + 50)
    await storage.ttl_set("no-such-thread", "delete", 1, now - 40)
    await storage.run_insert(run(busy.thread_id), available_at=0)
    r = run(doomed.thread_id, status="success")
    await storage.run_insert(r, available_at=0)
    assert await storage.ttl_expired(now, 10) == ["no-such-thread", doomed.thread_id, kept.thread_id, busy.thread_id]
    assert await storage.ttl_expired(now, 1) == ["no-such-thread"]
    outcomes = {tid: await storage.ttl_expire(tid, now) for tid in await storage.ttl_expired(now, 10)}
    assert outcomes == {
        "no-such-thread": "gone", doomed.thread_id: "delete", kept.thread_id: "keep_latest", busy.thread_id: "busy",
    }
    assert await storage.ttl_expire(fresh.thread_id, now) == "fresh"
    assert await storage.thread_get(doomed.thread_id) is None and await storage.run_get(r.run_id) is None
    assert await storage.thread_get(kept.thread_id) is not None
    # only the busy thread is still due; a stopped clock waits for a restart
    assert await storage.ttl_expired(now, 10) == [busy.thread_id]
    # a run's insert starts its thread's clock again (and says whether there was one)
    assert await storage.run_insert(run(kept.thread_id, status="success"), available_at=0, ttl_from=now)
    assert await storage.ttl_expire(kept.thread_id, now) == "fresh"
    assert await storage.ttl_expired(now + 61, 10) == [busy.thread_id, fresh.thread_id, kept.thread_id]
    assert not await storage.run_insert(run(doomed.thread_id, status="success"), available_at=0, ttl_from=now)
    assert not await storage.run_insert(run(fresh.thread_id, status="success"), available_at=0)
    assert await storage.ttl_expired(now + 61, 10) == [busy.thread_id, fresh.thread_id, kept.thread_id]
    # a thread deleted keeps its clock until a sweep drops it; a new thread of its id
    # starts without it
    assert await storage.thread_delete(fresh.thread_id)
    assert await storage.ttl_expired(now + 61, 10) == [busy.thread_id, fresh.thread_id, kept.thread_id]
    assert await storage.thread_insert(thread(thread_id=fresh.thread_id), if_exists=None)
    assert await storage.ttl_expired(now + 61, 10) == [busy.thread_id, kept.thread_id]
    # an existing thread returned by if_exists="do_nothing" keeps its clock
    assert (await storage.thread_insert(thread(thread_id=kept.thread_id), if_exists="do_nothing")).thread_id == kept.thread_id
    assert await storage.ttl_expired(now + 61, 10) == [busy.thread_id, kept.thread_id]


async def test_a_sqlite_file_from_before_cancel_requests_gets_them(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:  # srv_runs as it was made before
        conn.execute(
            """CREATE TABLE srv_runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT UNIQUE NOT NULL,
               thread_id TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL, available_at REAL NOT NULL,
               lease_owner TEXT, lease_until REAL, doc BLOB NOT NULL)"""
        )
    old = SqliteStorage(path)
    await old.setup()
    try:
        r = run(str(uuid.uuid4()))
        await old.run_insert(r, available_at=0)
        await old.run_claim("w", time.time() + 30, time.time())
        assert await old.run_request_cancel(r.run_id, "interrupt")
        assert (await old.run_renew([r.run_id], "w", time.time() + 60)).cancels == {r.run_id: "interrupt"}
    finally:
        await old.close()


async def test_a_pending_run_taken_to_be_ended_blocks_its_thread_and_is_never_claimed(storage: Storage) -> None:  # noqa: F811
    # a rollback of a pending run takes it (as a worker would) before deleting what it wrote
    now = time.time()
    t = str(uuid.uuid4())
    doomed, after = run(t), run(t)
    for r in (doomed, after):
        await storage.run_insert(r, available_at=0)
    taken = await storage.run_take(doomed.run_id, "canceller", now + 30, NOW)
    assert taken is not None and taken.status == "running"
    assert await storage.run_take(doomed.run_id, "other", now + 30, NOW) is None  # once
    assert (await storage.run_claim("w1", now + 30, now)).run is None  # nor the thread's next run
    assert (await storage.run_renew([doomed.run_id], "canceller", now + 60)).kept == (doomed.run_id,)
    assert await storage.run_delete(doomed.run_id, owner="canceller")
    claimed = (await storage.run_claim("w1", now + 30, now)).run
    assert claimed is not None and claimed.run_id == after.run_id
    assert await storage.run_take(after.run_id, "canceller", now + 30, NOW) is None  # claimed first
    assert await storage.run_take(str(uuid.uuid4()), "canceller", now + 30, NOW) is None
