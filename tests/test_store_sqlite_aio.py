"""AsyncSqliteStore: the SQLite store on an aiosqlite connection (asyncio only, as
aiosqlite is). The statements are SqliteStore's, tested in test_store.py on every
operation; this module tests what differs: the connection, its thread, the sync bridge,
setup, sharing a file with SqliteStore, and use from graph nodes."""

from __future__ import annotations

import asyncio

import threading
from pathlib import Path
from typing import Any, TypedDict

import aiosqlite
import anyio
import pytest

from actorgraph.errors import InvalidNamespaceError
from actorgraph.graph import START, StateGraph
from actorgraph.persistence import _store_exec
from actorgraph.runtime import Runtime
from actorgraph.store.base import PutOp
from actorgraph.store.sqlite import SqliteStore
from actorgraph.store.sqlite.aio import AsyncSqliteStore

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # aiosqlite runs on asyncio only


async def test_the_async_api_round_trip(tmp_path: Path) -> None:
    async with AsyncSqliteStore.from_conn_string(tmp_path / "s.db") as store:
        await store.aput(("users", "u1"), "prefs", {"theme": "dark", "age": 30})
        await store.aput(("users", "u2"), "prefs", {"theme": "light", "age": 20})
        await store.aput(("users", "u2", "docs"), "d1", {"title": "notes"})
        item = await store.aget(("users", "u1"), "prefs")
        assert item is not None and item.value == {"theme": "dark", "age": 30}
        assert item.namespace == ("users", "u1") and item.key == "prefs"
        found = await store.asearch(("users",), filter={"age": {"$gte": 25}})
        assert [(i.namespace, i.key) for i in found] == [(("users", "u1"), "prefs")]
        assert await store.alist_namespaces(prefix=("users",), max_depth=2) == [("users", "u1"), ("users", "u2")]
        await store.adelete(("users", "u1"), "prefs")
        assert await store.aget(("users", "u1"), "prefs") is None


async def test_a_batch_applies_in_order_and_a_bad_op_writes_nothing(tmp_path: Path) -> None:
    async with AsyncSqliteStore.from_conn_string(tmp_path / "s.db") as store:
        got = await store.abatch([PutOp(("n",), "k", {"v": 1}), PutOp(("n",), "k", {"v": 2})])
        assert got == [None, None]
        item = await store.aget(("n",), "k")
        assert item is not None and item.value == {"v": 2}
        with pytest.raises(InvalidNamespaceError):
            await store.abatch([PutOp(("n",), "k", {"v": 3}), PutOp(("bad.label",), "k", {"v": 4})])
        item = await store.aget(("n",), "k")
        assert item is not None and item.value == {"v": 2}


async def test_it_shares_a_file_with_sqlite_store(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with SqliteStore.from_conn_string(path) as sync_store:
        sync_store.put(("docs",), "a", {"by": "sync"})
    async with AsyncSqliteStore.from_conn_string(path) as store:
        item = await store.aget(("docs",), "a")
        assert item is not None and item.value == {"by": "sync"}
        await store.aput(("docs",), "b", {"by": "async"})
    with SqliteStore.from_conn_string(path) as sync_store:
        assert {i.key: i.value["by"] for i in sync_store.search(("docs",))} == {"a": "sync", "b": "async"}


async def test_an_aiosqlite_connection_is_set_up_once_in_wal_mode(tmp_path: Path) -> None:
    async with aiosqlite.connect(tmp_path / "s.db") as conn:
        store = AsyncSqliteStore(conn)
        await store.setup()
        await store.setup()  # idempotent
        async with conn.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone()) == ("wal",)
        await store.aput(("x",), "k", {"v": 1})
        assert (await store.aget(("x",), "k")) is not None
        # the connection is the caller's: still usable after the store is done with it
        async with conn.execute("SELECT count(*) FROM actorgraph_store") as cur:
            assert (await cur.fetchone()) == (1,)


async def test_sync_methods_work_from_other_threads_and_refuse_the_loop_thread(tmp_path: Path) -> None:
    async with AsyncSqliteStore.from_conn_string(tmp_path / "s.db") as store:
        def in_a_thread() -> Any:
            store.put(("t",), "k", {"v": threading.get_ident()})
            return store.get(("t",), "k")

        item = await anyio.to_thread.run_sync(in_a_thread)
        assert item is not None and item.value["v"] != threading.get_ident()
        with pytest.raises(asyncio.InvalidStateError, match="async ones"):
            store.get(("t",), "k")


async def test_ttl_expires_and_sweep_ttl_is_async(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_700_000_000_000_000]
    monkeypatch.setattr(_store_exec, "now_us", lambda: now[0])
    async with AsyncSqliteStore.from_conn_string(tmp_path / "s.db") as store:
        await store.aput(("t",), "short", {"v": 1}, ttl=1)
        await store.aput(("t",), "kept", {"v": 2})
        now[0] += 61_000_000
        assert await store.sweep_ttl() == 1
        assert [i.key for i in await store.asearch(("t",))] == ["kept"]


def test_something_that_is_not_an_aiosqlite_connection_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="aiosqlite.Connection.*use SqliteStore"):
        AsyncSqliteStore(str(tmp_path / "s.db"))


class Counter(TypedDict):
    n: int


async def test_graph_nodes_reach_it_through_the_runtime(tmp_path: Path) -> None:
    async def count_visits(state: Counter, runtime: Runtime) -> dict[str, int]:
        assert runtime.store is not None
        item = await runtime.store.aget(("visits",), "total")
        total = (item.value["n"] if item else 0) + 1
        await runtime.store.aput(("visits",), "total", {"n": total})
        return {"n": total}

    async with AsyncSqliteStore.from_conn_string(tmp_path / "s.db") as store:
        graph = StateGraph(Counter).add_node("count_visits", count_visits)
        graph.add_edge(START, "count_visits")
        app = graph.compile(store=store)
        assert await app.ainvoke({"n": 0}) == {"n": 1}
        assert await app.ainvoke({"n": 0}) == {"n": 2}
