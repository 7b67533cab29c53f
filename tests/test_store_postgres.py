"""The Postgres stores beyond the shared store tests (test_store.py and
test_store_semantic.py run PostgresStore through every operation): semantic search on
both vector backends (pgvector, and the Python fallback a server without pgvector gets,
forced here by ``use_pgvector = False``), the async store and its connections (pool, pipeline), versioned setup, TTL
sweeps, concurrent writers, and bad input. Each test works in a schema of its own."""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypedDict

import anyio
import pytest

import semantic_cases as cases
from actorgraph.graph import START, StateGraph
from actorgraph.persistence import _store_exec
from actorgraph.runtime import Runtime
from actorgraph.store.base import GetOp, PutOp, SearchOp
from actorgraph.store.postgres import AsyncPostgresStore, PoolConfig, PostgresStore
from actorgraph.store.postgres.base import MIGRATIONS
from pg_helpers import PG_URI, pg_schema, require_postgres
from test_store_semantic import INDEX, _afill, _arun, _assert_rankings, _expected

def _connect(url: str, **kwargs: Any) -> Any:
    import psycopg

    return psycopg.connect(url, autocommit=True, **kwargs)


def _pgvector_available() -> bool:
    require_postgres()
    with _connect(PG_URI) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchall())


class PythonVectorsStore(PostgresStore):
    use_pgvector = False


class PythonVectorsAsyncStore(AsyncPostgresStore):
    use_pgvector = False


@pytest.fixture(params=["pgvector", "python"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "pgvector" and not _pgvector_available():
        pytest.skip("pgvector isn't installed on this Postgres server (the Python fallback is tested)")
    return str(request.param)


@pytest.fixture
def store_cls(backend: str) -> type[PostgresStore]:
    """The sync store scoring with pgvector, or told not to (the Python fallback, as on a
    server without pgvector)."""
    return PostgresStore if backend == "pgvector" else PythonVectorsStore


@pytest.fixture
def url() -> Iterator[str]:
    with pg_schema() as url:
        yield url


def _count(url: str, table: str) -> int:
    with _connect(url) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


# -- semantic search on both backends --------------------------------------------------------


def test_ranking_matches_langgraph_on_each_vector_backend(url: str, backend: str, store_cls: Any) -> None:
    with store_cls.from_conn_string(url, index=INDEX) as store:
        cases.fill(store)
        assert store.vector_backend == backend
        _assert_rankings(cases.run(store), _expected(unscored=False), tol=1e-5)
    # a store opened again ranks from the stored vectors, on the backend the table was made for
    with PostgresStore.from_conn_string(url, index=INDEX) as again:
        _assert_rankings(cases.run(again), _expected(unscored=False), tol=1e-5)
        assert again.vector_backend == backend


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # psycopg's async connections: asyncio
@pytest.mark.anyio
async def test_async_store_ranking_matches_langgraph(url: str, backend: str, anyio_backend: str) -> None:
    cls = AsyncPostgresStore if backend == "pgvector" else PythonVectorsAsyncStore
    async with cls.from_conn_string(url, index=INDEX) as store:
        await _afill(store)
        _assert_rankings(await _arun(store), _expected(unscored=False), tol=1e-5)
        assert store.vector_backend == backend


@pytest.mark.parametrize(("distance", "expected"), [("l2", ["near", "mid", "far"]), ("inner_product", ["far", "mid", "near"])])
def test_distance_types_rank_the_best_first(url: str, store_cls: Any, distance: str, expected: list[str]) -> None:
    vectors = {"near": [1.0, 0.1], "mid": [2.0, 2.0], "far": [5.0, 9.0], "q": [1.0, 0.0], "zero": [0.0, 0.0]}
    index = {"dims": 2, "embed": lambda texts: [vectors[t] for t in texts], "fields": ["t"], "distance_type": distance}
    with store_cls.from_conn_string(url, index=index) as store:  # type: ignore[arg-type]
        for name in ("far", "near", "mid"):
            store.put(("d",), name, {"t": name})
        found = store.search(("d",), query="q")
        assert [i.key for i in found] == expected
        score = {i.key: i.score for i in found}
        if distance == "l2":
            assert score["mid"] == pytest.approx(-math.dist([2.0, 2.0], [1.0, 0.0]), abs=1e-5)
        else:
            assert score["far"] == pytest.approx(5.0, abs=1e-4)  # the dot product with the query


def test_a_zero_vector_scores_zero_cosine_similarity(url: str, store_cls: Any) -> None:
    vectors = {"zero": [0.0, 0.0], "x": [1.0, 0.0], "q": [1.0, 0.0]}
    index = {"dims": 2, "embed": lambda texts: [vectors[t] for t in texts], "fields": ["t"]}
    with store_cls.from_conn_string(url, index=index) as store:  # type: ignore[arg-type]
        store.put(("d",), "zero", {"t": "zero"})
        store.put(("d",), "x", {"t": "x"})
        assert [(i.key, i.score) for i in store.search(("d",), query="q")] == [("x", 1.0), ("zero", 0.0)]


def test_vectors_follow_their_items_through_delete_overwrite_and_expiry(
    url: str, store_cls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1_700_000_000_000_000]
    monkeypatch.setattr(_store_exec, "now_us", lambda: now[0])
    index = {"dims": cases.DIMS, "embed": cases.embed, "fields": ["text", "items[*].body"]}
    with store_cls.from_conn_string(url, index=index) as store:
        store.put(("a", "b"), "k1", {"text": "one", "items": [{"body": "x"}, {"body": "y"}]})
        store.put(("a",), "k2", {"text": "two"}, ttl=1)
        store.put(("a",), "k3", {"text": "three"})
        with _connect(url) as conn:
            rows = sorted(conn.execute("SELECT ns, key, field FROM actorgraph_store_vectors").fetchall())
        assert rows == [
            ("a", "k2", "text"),
            ("a", "k3", "text"),
            ("a.b", "k1", "items[*].body.0"),
            ("a.b", "k1", "items[*].body.1"),
            ("a.b", "k1", "text"),
        ]
        store.put(("a", "b"), "k1", {"text": "one, no items"})
        store.delete(("a",), "k3")
        now[0] += 120_000_000  # k2 expires
        assert [i.key for i in store.search(("a",), query="two")] == ["k1"]
        store.sweep_ttl()
        assert _count(url, "actorgraph_store_vectors") == 1
        # a put and a delete of one key in one batch leave no vectors behind
        store.batch([PutOp(("a",), "k4", {"text": "four"}), PutOp(("a",), "k4", None)])
        assert _count(url, "actorgraph_store_vectors") == 1


def test_an_embedding_of_the_wrong_size_names_the_item_and_field_and_stores_nothing(url: str, store_cls: Any) -> None:
    index = {"dims": 3, "embed": lambda texts: [[1.0, 2.0] if t == "bad" else [1.0, 2.0, 3.0] for t in texts]}
    with store_cls.from_conn_string(url, index={**index, "fields": ["t"]}) as store:  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=r"field 't' of key 'k2' in namespace \('d',\) has 2 dimensions.*dims=3"):
            store.batch([PutOp(("d",), "k1", {"t": "good"}), PutOp(("d",), "k2", {"t": "bad"})])
        assert store.search(("d",)) == []
        with pytest.raises(ValueError, match="search query 'bad' has 2 dimensions"):
            store.search(("d",), query="bad")
    nan = {"dims": 2, "embed": lambda texts: [[math.nan, 1.0] for _ in texts]}
    with store_cls.from_conn_string(url, index=nan) as store:  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="key 'k' in namespace \\('d',\\) holds a NaN"):
            store.put(("d",), "k", {"t": "x"})


def test_a_store_whose_dims_differ_from_the_vectors_table_is_refused(url: str) -> None:
    if not _pgvector_available():
        pytest.skip("the vector column's size is pgvector's (the Python fallback stores any size)")
    with PostgresStore.from_conn_string(url, index={"dims": 2, "embed": lambda t: [[1.0, 0.0]] * len(t)}) as store:
        store.setup()
    other = {"dims": 3, "embed": lambda t: [[1.0, 0.0, 0.0]] * len(t)}
    with PostgresStore.from_conn_string(url, index=other) as store:
        with pytest.raises(ValueError, match="dims=3.*created with 2 dimensions"):
            store.setup()


def test_index_dims_must_be_a_positive_int() -> None:
    require_postgres()
    with pg_schema() as url, _connect(url) as conn:
        with pytest.raises(ValueError, match="'dims'.*got 'x'"):
            PostgresStore(conn, index={"dims": "x", "embed": lambda t: []})  # type: ignore[typeddict-item]


# -- setup ---------------------------------------------------------------------------------------


def test_setup_is_versioned_idempotent_and_safe_to_run_concurrently(url: str) -> None:
    errors: list[BaseException] = []

    def setup() -> None:
        try:
            with PostgresStore.from_conn_string(url) as store:
                store.setup()
                store.setup()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=setup) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with _connect(url) as conn:
        versions = [v for (v,) in conn.execute("SELECT v FROM actorgraph_store_migrations ORDER BY v")]
    assert versions == list(range(1, len(MIGRATIONS) + 1))


def test_setup_applies_only_the_missing_versions_and_keeps_the_data(url: str) -> None:
    with _connect(url) as conn:  # a database at schema version 1, holding an item
        conn.execute(MIGRATIONS[0])
        conn.execute("CREATE TABLE actorgraph_store_migrations (v INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO actorgraph_store_migrations VALUES (1)")
    with PostgresStore.from_conn_string(url) as store:
        store.put(("a",), "k", {"v": 1})
        store.setup()
        assert store.get(("a",), "k").value == {"v": 1}  # type: ignore[union-attr]
    with _connect(url) as conn:
        assert conn.execute("SELECT max(v) FROM actorgraph_store_migrations").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("SELECT to_regclass('actorgraph_store_expiry')").fetchone()[0] is not None


# -- connections -------------------------------------------------------------------------------


def test_a_connection_a_pool_and_pipeline_mode_all_work(url: str) -> None:
    from psycopg_pool import ConnectionPool

    with PostgresStore.from_conn_string(url, pipeline=True) as store:
        store.batch([PutOp(("p",), "k", {"v": 1}), PutOp(("p",), "k2", {"v": 2}), GetOp(("p",), "k")])
        assert store.pipe is not None
        assert {i.key for i in store.search(("p",))} == {"k", "k2"}
        assert store.sweep_ttl() == 0
    with PostgresStore.from_conn_string(url, pool_config=PoolConfig(min_size=1, max_size=2)) as store:
        assert isinstance(store.conn, ConnectionPool)
        assert store.get(("p",), "k2").value == {"v": 2}  # type: ignore[union-attr]
    with _connect(url) as conn:
        store = PostgresStore(conn)
        assert store.list_namespaces() == [("p",)]


def test_something_that_is_not_a_connection_is_refused() -> None:
    with pytest.raises(TypeError, match="psycopg Connection or ConnectionPool"):
        PostgresStore("postgresql://x")
    with pytest.raises(TypeError, match="AsyncConnection or AsyncConnectionPool"):
        asyncio.run(_make_async_store_with("not a connection"))


async def _make_async_store_with(conn: Any) -> None:
    AsyncPostgresStore(conn)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
@pytest.mark.parametrize("how", ["connection", "pipeline", "pool"])
async def test_the_async_store_on_each_kind_of_connection(url: str, how: str, anyio_backend: str) -> None:
    kwargs: dict[str, Any] = {"pipeline": True} if how == "pipeline" else {}
    if how == "pool":
        kwargs["pool_config"] = {"min_size": 1, "max_size": 3}
    async with AsyncPostgresStore.from_conn_string(url, **kwargs) as store:
        await store.setup()
        await store.aput(("users", "u1"), "prefs", {"theme": "dark", "age": 30})
        await store.aput(("users", "u2"), "prefs", {"theme": "light", "age": 20})
        item = await store.aget(("users", "u1"), "prefs")
        assert item is not None and item.value == {"theme": "dark", "age": 30}
        found = await store.asearch(("users",), filter={"age": {"$gte": 25}})
        assert [(i.namespace, i.key) for i in found] == [(("users", "u1"), "prefs")]
        assert await store.alist_namespaces(prefix=("users",)) == [("users", "u1"), ("users", "u2")]
        # concurrent calls are gathered into batches and all answered
        await asyncio.gather(*(store.aput(("many",), f"k{i}", {"i": i}) for i in range(20)))
        assert len(await store.asearch(("many",), limit=50)) == 20
        await store.adelete(("users", "u1"), "prefs")
        assert await store.aget(("users", "u1"), "prefs") is None


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_async_and_sync_stores_share_the_tables_and_sync_calls_hop_onto_the_loop(
    url: str, anyio_backend: str
) -> None:
    async with AsyncPostgresStore.from_conn_string(url) as store:
        await store.aput(("s",), "k", {"v": 1})
        with pytest.raises(asyncio.InvalidStateError, match="aget|async"):
            store.get(("s",), "k")
        got = await anyio.to_thread.run_sync(lambda: store.get(("s",), "k"))
        assert got is not None and got.value == {"v": 1}
        await anyio.to_thread.run_sync(lambda: store.batch([PutOp(("s",), "k2", {"v": 2})]))
    with PostgresStore.from_conn_string(url) as sync_store:
        assert {i.key for i in sync_store.search(("s",))} == {"k", "k2"}


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_a_bad_op_fails_its_async_batch_writing_nothing(url: str, anyio_backend: str) -> None:
    async with AsyncPostgresStore.from_conn_string(url) as store:
        with pytest.raises(ValueError, match=r"key 'a\\x00b' in namespace \('n',\)"):
            await store.abatch([PutOp(("n",), "k", {"v": 1}), PutOp(("n",), "a\x00b", {"v": 2})])
        assert await store.asearch(("n",)) == []


class Seen(TypedDict, total=False):
    seen: Any


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_graph_nodes_reach_the_async_store(url: str, anyio_backend: str) -> None:
    async def node(state: Seen, runtime: Runtime) -> dict[str, Any]:
        await runtime.store.aput(("notes",), "n", {"hi": True})
        item = await runtime.store.aget(("notes",), "n")
        return {"seen": item.value}

    async with AsyncPostgresStore.from_conn_string(url) as store:
        graph = StateGraph(Seen).add_node("n", node).add_edge(START, "n").compile(store=store)
        assert (await graph.ainvoke({"seen": None}))["seen"] == {"hi": True}


# -- bad input ------------------------------------------------------------------------------------


def test_bad_input_errors_name_the_namespace_key_or_field(url: str) -> None:
    with PostgresStore.from_conn_string(url) as store:
        with pytest.raises(ValueError, match=r"key 'a\\x00b' in namespace \('n',\).*NUL"):
            store.put(("n",), "a\x00b", {"v": 1})
        with pytest.raises(TypeError, match=r"must be a dict.*key 'k' in namespace \('n',\)"):
            store.put(("n",), "k", ["not", "a", "dict"])  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="Invalid filter key"):
            store.search(("n",), filter={"x') OR 1=1 --": 1})
        with pytest.raises(ValueError, match=r"Unsupported filter operator '\$regex' for field 'v'"):
            store.search(("n",), filter={"v": {"$regex": "."}})
        with pytest.raises(TypeError) as info:
            store.put(("n",), "k", {"v": object()})
        assert any("key 'k' in namespace ('n',)" in note for note in info.value.__notes__)
        # a failed batch wrote nothing, and the store keeps working
        store.put(("n",), "ok", {"text": "fine \x00 inside a value"})
        assert [i.key for i in store.search(("n",))] == ["ok"]
        assert store.get(("n",), "ok").value == {"text": "fine \x00 inside a value"}  # type: ignore[union-attr]


@pytest.mark.parametrize("how", ["connection", "pipeline", "pool"])
def test_a_key_too_long_for_an_index_entry_is_a_value_error_naming_it_and_the_store_goes_on(
    url: str, how: str
) -> None:
    kwargs: dict[str, Any] = {"pipeline": True} if how == "pipeline" else {}
    if how == "pool":
        kwargs["pool_config"] = {"max_size": 2}
    long_key = os.urandom(8000).hex()  # random: Postgres can't compress it into an index entry
    with PostgresStore.from_conn_string(url, **kwargs) as store:
        with pytest.raises(ValueError, match=rf"key '{long_key[:60]}'\.\.\. \(16000 characters\) in namespace \('n',\)"):
            store.batch([PutOp(("n",), "fine", {"v": 1}), PutOp(("n",), long_key, {"v": 2})])
        assert store.search(("n",)) == []  # nothing of the batch landed
        store.put(("n",), "after", {"v": 3})
        assert [i.key for i in store.search(("n",))] == ["after"]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_the_async_store_names_a_key_too_long_too(url: str, anyio_backend: str) -> None:
    async with AsyncPostgresStore.from_conn_string(url, pipeline=True) as store:
        with pytest.raises(ValueError, match=r"\(16000 characters\) in namespace \('n',\) is too long"):
            await store.aput(("n",), os.urandom(8000).hex(), {"v": 1})
        await store.aput(("n",), "after", {"v": 3})
        assert [i.key for i in await store.asearch(("n",))] == ["after"]


# -- TTL ----------------------------------------------------------------------------------------


def _wait_until(check: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_sweep_ttl_and_the_sweeper_thread_delete_expired_items(url: str) -> None:
    ttl = {"default_ttl": 0.0005, "sweep_interval_minutes": 0.0005}  # 30 ms
    with PostgresStore.from_conn_string(url, ttl=ttl) as store:  # type: ignore[arg-type]
        store.batch([PutOp(("t",), f"k{i}", {"i": i}, ttl=0.0005) for i in range(3)])
        store.put(("t",), "forever", {"i": 0}, ttl=None)
        time.sleep(0.05)
        assert store.sweep_ttl() == 3
        assert _count(url, "actorgraph_store") == 1
        store.put(("t",), "soon", {"i": 1})
        future = store.start_ttl_sweeper()
        _wait_until(lambda: _count(url, "actorgraph_store") == 1, "the sweeper")
        assert store.stop_ttl_sweeper(timeout=10) and future.done()
        assert [i.key for i in store.search(("t",))] == ["forever"]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_the_async_sweeper_task_deletes_expired_items(url: str, anyio_backend: str) -> None:
    ttl = {"default_ttl": 0.0005, "sweep_interval_minutes": 0.0005}
    async with AsyncPostgresStore.from_conn_string(url, ttl=ttl) as store:  # type: ignore[arg-type]
        await store.aput(("t",), "k", {"v": 1})
        await asyncio.sleep(0.05)
        assert await store.sweep_ttl() == 1
        await store.aput(("t",), "k2", {"v": 1})
        task = await store.start_ttl_sweeper()
        deadline = time.monotonic() + 20
        while await anyio.to_thread.run_sync(_count, url, "actorgraph_store"):
            assert time.monotonic() < deadline, "timed out waiting for the sweeper"
            await asyncio.sleep(0.02)
        assert await store.stop_ttl_sweeper(timeout=10) and task.done()


def test_refresh_on_read_restarts_the_ttl(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_700_000_000_000_000]
    monkeypatch.setattr(_store_exec, "now_us", lambda: now[0])
    with PostgresStore.from_conn_string(url, ttl={"default_ttl": 1, "refresh_on_read": True}) as store:
        store.put(("t",), "k", {"v": 1})
        for _ in range(3):
            now[0] += 50_000_000
            assert store.get(("t",), "k") is not None  # each read restarts the minute
        now[0] += 50_000_000
        assert store.search(("t",)) != []
        now[0] += 61_000_000
        assert store.get(("t",), "k") is None


# -- concurrency ---------------------------------------------------------------------------------


def test_concurrent_writers_on_overlapping_keys_neither_deadlock_nor_lose_writes(url: str) -> None:
    """Threads, each with a store of its own, write overlapping keys in opposite orders
    (with expiring items among them, so the purges run concurrently too): every batch
    lands, and each key ends with one of the values written to it."""
    keys = [f"k{i}" for i in range(12)]
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with PostgresStore.from_conn_string(url) as store:
                for round_ in range(15):
                    order = keys if n % 2 else list(reversed(keys))
                    ops = [PutOp(("c",), k, {"by": n, "round": round_}, ttl=0.0001 if k == "k0" else None) for k in order]
                    ops.append(SearchOp(("c",), limit=3))
                    store.batch(ops)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with PostgresStore.from_conn_string(url) as store:
        store.setup()
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        final = {i.key: i.value for i in store.search(("c",), limit=100)}
        assert set(final) >= set(keys[1:])
        assert all(v["round"] == 14 and v["by"] in range(4) for k, v in final.items())


def test_one_connection_shared_by_threads_runs_one_batch_at_a_time(url: str) -> None:
    with _connect(url) as conn:
        store = PostgresStore(conn)

        def work(n: int) -> None:
            for i in range(20):
                store.batch([PutOp(("one",), f"{n}-{i}", {"i": i}), GetOp(("one",), f"{n}-{i}")])

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(store.search(("one",), limit=1000)) == 80
