"""The storage protocol's crons, in the conformance suite's way (through the protocol
only): a firing is claimed by one caller among several connections to one database, due
crons leave out disabled and ended ones, and an update keeps the scheduler's
``next_run_date``."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio
import msgspec
import pytest

from actorgraph.server.schemas import Cron
from actorgraph.server.storage import SqliteStorage, Storage
from tests.server.test_server_storage import storage  # noqa: F401  (the suite's fixture)

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)


def cron(**kw: object) -> Cron:
    fields: dict = dict(
        cron_id=str(uuid.uuid4()), assistant_id="a", thread_id=None, end_time=None, schedule="* * * * *",
        timezone=None, payload={}, next_run_date=NOW, metadata={}, on_run_completed="delete", enabled=True,
        created_at=NOW, updated_at=NOW,
    )
    fields.update(kw)
    return Cron(**fields)


async def test_due_crons_leave_out_disabled_ended_and_later_ones(storage: Storage) -> None:  # noqa: F811
    due = cron()
    for c in (
        due,
        cron(enabled=False),
        cron(end_time=NOW - timedelta(seconds=1)),
        cron(next_run_date=NOW + timedelta(minutes=5)),
        cron(next_run_date=None),
    ):
        await storage.cron_insert(c)
    assert [c.cron_id for c in await storage.cron_due(NOW)] == [due.cron_id]
    assert await storage.cron_next_due(NOW) == NOW
    assert await storage.cron_advance(due.cron_id, NOW, NOW + timedelta(minutes=1))
    assert await storage.cron_next_due(NOW) == NOW + timedelta(minutes=1)
    assert await storage.cron_due(NOW) == []


async def test_one_claim_wins_among_connections_to_one_database(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    stores = [SqliteStorage(path) for _ in range(4)]
    for s in stores:
        await s.setup()
    try:
        c = cron()
        await stores[0].cron_insert(c)
        wins: list[bool] = []

        async def claim(s: SqliteStorage) -> None:
            wins.append(await s.cron_advance(c.cron_id, NOW, NOW + timedelta(minutes=1)))

        async with anyio.create_task_group() as tg:
            for s in stores:
                tg.start_soon(claim, s)
        assert sorted(wins) == [False, False, False, True]
    finally:
        for s in stores:
            await s.close()


async def test_an_update_keeps_the_schedulers_next_run_date(storage: Storage) -> None:  # noqa: F811
    c = cron(metadata={"a": 1})
    await storage.cron_insert(c)
    assert await storage.cron_advance(c.cron_id, NOW, NOW + timedelta(minutes=1))
    seen: list[datetime | None] = []

    def change(current: Cron) -> Cron:
        seen.append(current.next_run_date)
        return msgspec.structs.replace(current, metadata={"a": 2})

    updated = await storage.cron_update(c.cron_id, change)
    assert seen == [NOW + timedelta(minutes=1)]
    assert updated is not None and updated.metadata == {"a": 2}
    got = await storage.cron_get(c.cron_id)
    assert got is not None and got.next_run_date == NOW + timedelta(minutes=1) and got.metadata == {"a": 2}
    assert await storage.cron_update(str(uuid.uuid4()), change) is None


async def test_crons_search_count_and_delete(storage: Storage) -> None:  # noqa: F811
    tid = str(uuid.uuid4())
    first = cron(thread_id=tid, metadata={"k": "x"}, next_run_date=NOW + timedelta(hours=2))
    second = cron(assistant_id="b", created_at=NOW + timedelta(seconds=1), next_run_date=NOW + timedelta(hours=1))
    for c in (first, second):
        await storage.cron_insert(c)
    assert [c.cron_id for c in await storage.cron_search()] == [second.cron_id, first.cron_id]
    by_next = await storage.cron_search(sort_by="next_run_date", sort_order="asc")
    assert [c.cron_id for c in by_next] == [second.cron_id, first.cron_id]
    assert [c.cron_id for c in await storage.cron_search(thread_id=tid)] == [first.cron_id]
    assert [c.cron_id for c in await storage.cron_search(metadata={"k": "x"})] == [first.cron_id]
    assert [c.cron_id for c in await storage.cron_search(limit=1, offset=1)] == [first.cron_id]
    assert await storage.cron_count(assistant_id="b") == 1 and await storage.cron_count() == 2
    assert await storage.cron_delete(first.cron_id) and not await storage.cron_delete(first.cron_id)
    assert await storage.cron_get(first.cron_id) is None and await storage.cron_count() == 1
