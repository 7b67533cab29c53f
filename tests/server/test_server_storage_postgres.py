"""What only the Postgres storage does: several server processes share it. Each
``PostgresStorage`` here has its own pool, a stand-in for a process of its own: their
claims never start one run twice nor two runs of one thread, expired leases are requeued
once, setups race safely, a sweep and a run's insert never lose each other, and a
database that goes away raises ``Unavailable`` fast, then works again once it is back.
Each test runs in a fresh schema of the test database (see ``pg_helpers``)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import anyio
import psycopg
import pytest

from actorgraph.server.storage import Gone, Unavailable
from actorgraph.server.storage.postgres import PostgresStorage
from tests.pg_helpers import pg_schema
from tests.server.test_server_storage import NOW, run, thread

pytestmark = pytest.mark.anyio


@pytest.fixture
def uri() -> Iterator[str]:
    with pg_schema() as u:
        yield u


def named(uri: str, name: str) -> str:
    """``uri`` with an ``application_name``: a test terminates only its own connections."""
    return f"{uri}&application_name={name}"


@contextlib.asynccontextmanager
async def storages(uri: str, n: int, **kw: int) -> AsyncIterator[list[PostgresStorage]]:
    """``n`` storages on one database, set up at once (as processes starting together)."""
    opened = [PostgresStorage(uri, **kw) for _ in range(n)]
    try:
        async with anyio.create_task_group() as tg:
            for s in opened:
                tg.start_soon(s.setup)
        yield opened
    finally:
        for s in opened:
            await s.close()


async def test_setups_at_once_apply_each_migration_once(uri: str) -> None:
    async with storages(uri, 6):
        pass
    async with storages(uri, 2):  # and again, on a set-up database: nothing to do
        pass
    with psycopg.connect(uri) as conn:
        versions = [v for (v,) in conn.execute("SELECT v FROM srv_migrations ORDER BY v")]
    assert versions == list(range(len(versions))) and len(versions) > 5


async def test_setup_upgrades_an_older_schema_in_place_and_keeps_its_data(uri: str) -> None:
    async with storages(uri, 1) as (s,):
        t = await s.thread_insert(thread(metadata={"k": 1}), if_exists=None)
    with psycopg.connect(uri, autocommit=True) as conn:  # as a database from before the indexes
        conn.execute("DROP INDEX srv_threads_metadata")
        conn.execute("DELETE FROM srv_migrations WHERE v >= (SELECT MAX(v) - 1 FROM srv_migrations)")
    async with storages(uri, 2) as (s, _):
        assert await s.thread_get(t.thread_id) == t and await s.thread_count(metadata={"k": 1}) == 1
    with psycopg.connect(uri) as conn:
        assert conn.execute("SELECT to_regclass('srv_threads_metadata') IS NOT NULL").fetchone() == (True,)


async def test_concurrent_claims_take_each_run_once_and_one_run_per_thread(uri: str) -> None:
    """60 runs on 5 threads, 16 claimers on 4 pools: every run is claimed exactly once,
    and no thread ever has two running runs (checked by the claimers and in the table)."""
    runs_per_thread, threads = 12, [str(uuid.uuid4()) for _ in range(5)]
    async with storages(uri, 4, max_size=4) as stores:
        queued = [run(t) for _ in range(runs_per_thread) for t in threads]
        for r in queued:
            await stores[0].run_insert(r, available_at=0)
        claimed: list[str] = []
        running: set[str] = set()
        doubles: list[tuple[str, int]] = []

        async def claimer(s: PostgresStorage, owner: str) -> None:
            while len(claimed) < len(queued):
                now = time.time()
                got = (await s.run_claim(owner, now + 30, now)).run
                if got is None:
                    await anyio.sleep(0.001)
                    continue
                assert got.thread_id not in running, f"two runs of thread {got.thread_id} claimed at once"
                running.add(got.thread_id)
                claimed.append(got.run_id)
                await anyio.sleep(random.random() * 0.003)
                # before the finish commits: the thread's next claim can only come after it
                running.discard(got.thread_id)
                assert await s.run_finish(got.run_id, "success", NOW, [], None, owner=owner)

        async def watch() -> None:
            async with await psycopg.AsyncConnection.connect(uri, autocommit=True) as conn:
                while len(claimed) < len(queued):
                    cur = await conn.execute(
                        "SELECT thread_id, COUNT(*) FROM srv_runs WHERE status = 'running' GROUP BY thread_id HAVING COUNT(*) > 1"
                    )
                    doubles.extend(await cur.fetchall())
                    await anyio.sleep(0.002)

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(watch)
                for i, s in enumerate(stores):
                    for j in range(4):
                        tg.start_soon(claimer, s, f"p{i}w{j}")
        assert sorted(claimed) == sorted(r.run_id for r in queued)  # each exactly once
        assert doubles == []
        assert await stores[1].run_counts() == {"success": len(queued)}


async def test_expired_leases_are_requeued_once_among_processes_and_resumed_elsewhere(uri: str) -> None:
    async with storages(uri, 4) as stores:
        now = time.time()
        queued = [run(str(uuid.uuid4())) for _ in range(20)]
        for r in queued:
            await stores[0].run_insert(r, available_at=0)
        for _ in queued:
            await stores[0].run_claim("dead", now + 1, now)
        requeued: list[list[str]] = []

        async def requeue(s: PostgresStorage) -> None:
            requeued.append(await s.run_requeue_expired(now + 2))

        async with anyio.create_task_group() as tg:
            for s in stores:
                tg.start_soon(requeue, s)
        everything = [i for ids in requeued for i in ids]
        assert sorted(everything) == sorted(r.run_id for r in queued)  # none twice
        claim = await stores[3].run_claim("alive", now + 60, now + 2)
        assert claim.run is not None and claim.resumed
        # the dead owner, back, finds it lost and can't finish it
        assert (await stores[0].run_renew([claim.run.run_id], "dead", now + 60)).kept == ()
        assert not await stores[0].run_finish(claim.run.run_id, "success", NOW, [], None, owner="dead")
        assert await stores[1].run_request_cancel(claim.run.run_id, "interrupt")
        renewal = await stores[3].run_renew([claim.run.run_id], "alive", now + 90)
        assert renewal.cancels == {claim.run.run_id: "interrupt"}


async def test_a_sweep_and_run_inserts_racing_never_lose_each_other(uri: str) -> None:
    """Expired threads swept while runs are inserted on them from another pool: each
    thread ends either deleted (its run's insert raised Gone, nothing of it left) or
    kept with its run (the sweep saw it busy)."""
    async with storages(uri, 2) as (sweeper, requests):
        now = time.time()
        threads = [await sweeper.thread_insert(thread(), if_exists=None) for _ in range(30)]
        for t in threads:
            await sweeper.ttl_set(t.thread_id, "delete", 1, now - 1)
        outcomes: dict[str, str] = {}
        refused: set[str] = set()

        async def insert(t_id: str) -> None:
            await anyio.sleep(random.random() * 0.02)
            try:
                await requests.run_insert(run(t_id), available_at=0, thread=thread(thread_id=t_id, status="busy"))
            except Gone:
                refused.add(t_id)

        async def sweep(t_id: str) -> None:
            await anyio.sleep(random.random() * 0.02)
            outcomes[t_id] = await sweeper.ttl_expire(t_id, time.time())

        async with anyio.create_task_group() as tg:
            for t in threads:
                tg.start_soon(insert, t.thread_id)
                tg.start_soon(sweep, t.thread_id)
        for t in threads:
            left = await sweeper.thread_get(t.thread_id)
            active = await sweeper.run_active(t.thread_id)
            if outcomes[t.thread_id] == "delete":
                assert left is None and active == [] and t.thread_id in refused
            else:
                assert outcomes[t.thread_id] == "busy" and left is not None and len(active) == 1
                assert t.thread_id not in refused


async def test_an_expired_thread_takes_its_checkpoints_in_this_database(uri: str) -> None:
    from actorgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from tests.test_checkpoint_postgres import cfg, loop

    async with storages(uri, 1) as (s,), AsyncPostgresSaver.from_conn_string(uri) as saver:
        await saver.setup()
        doomed, other = [await s.thread_insert(thread(), if_exists=None) for _ in range(2)]
        for t in (doomed, other):
            await loop(saver, 3).ainvoke({"n": 0}, cfg(t.thread_id))
        await s.ttl_set(doomed.thread_id, "delete", 1, time.time() - 1)
        assert await s.ttl_expire(doomed.thread_id, time.time()) == "delete"
        assert [c async for c in saver.alist(cfg(doomed.thread_id))] == []
        assert len([c async for c in saver.alist(cfg(other.thread_id))]) > 1


# -- the database going away ----------------------------------------------------------------


class Proxy:
    """A TCP relay in front of the Postgres server, which the test can take down (every
    connection through it cut, new ones refused) and bring back on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for w in list(self._writers):
            w.transport.abort()
        await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            self._writers -= {writer, up_writer}


def through(uri: str, port: int) -> str:
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{port}"))


async def test_an_unreachable_database_is_unavailable_fast_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTORGRAPH_DB_TIMEOUT_SECONDS", "1")
    started = time.monotonic()
    with pytest.raises(Unavailable, match=r"127\.0\.0\.1:1\b.*setup"):
        await PostgresStorage("postgresql://postgres@127.0.0.1:1/test").setup()
    assert time.monotonic() - started < 5


async def test_a_database_that_went_away_is_unavailable_then_works_again(uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTORGRAPH_DB_TIMEOUT_SECONDS", "1")
    target = urlsplit(uri)
    proxy = Proxy((target.hostname or "127.0.0.1", target.port or 5432))
    await proxy.up()
    s = PostgresStorage(through(uri, proxy.port), max_size=2)
    await s.setup()
    try:
        t = await s.thread_insert(thread(), if_exists=None)
        await proxy.down()
        for _ in range(2):  # refused, then timed out: each fails fast, naming the call
            started = time.monotonic()
            with pytest.raises(Unavailable, match=rf"127\.0\.0\.1:{proxy.port}.*thread_get"):
                await s.thread_get(t.thread_id)
            assert time.monotonic() - started < 5
        await proxy.up()
        with anyio.fail_after(10):
            while True:  # the pool reconnects in the background: one call may still fail
                try:
                    got = await s.thread_get(t.thread_id)
                    break
                except Unavailable:
                    await anyio.sleep(0.2)
        assert got == t
        assert await s.thread_get(t.thread_id) == t
    finally:
        await s.close()
        await proxy.down()


async def test_connections_killed_by_the_server_are_replaced(uri: str) -> None:
    name = f"ag_{uuid.uuid4().hex[:12]}"
    async with storages(named(uri, name), 1, min_size=2, max_size=2) as (s,):
        t = await s.thread_insert(thread(), if_exists=None)
        with psycopg.connect(uri, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (name,)
            ).fetchall()
        assert killed
        outcomes = []
        for _ in range(3):
            try:
                outcomes.append(await s.thread_get(t.thread_id) == t)
            except Unavailable:
                outcomes.append(False)
        assert outcomes[1:] == [True, True]  # at most the first call fails
