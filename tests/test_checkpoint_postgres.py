"""What only the Postgres savers do: versioned migrations applied by ``setup()`` (again,
concurrently, over an older schema, never destroying data), tables of their own beside
LangGraph's, every way psycopg is handed to them (a connection with or without autocommit,
a pool, pipeline mode), metadata filters on nested JSON, and long histories walked in pages.
Each test runs in a fresh schema of the test database (see ``pg_helpers``)."""

from __future__ import annotations

import operator
import threading
from collections.abc import Iterator
from typing import Annotated, Any, TypedDict

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from actorgraph.checkpoint.postgres import PostgresSaver, ShallowPostgresSaver
from actorgraph.checkpoint.postgres.aio import AsyncPostgresSaver, AsyncShallowPostgresSaver
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import interrupt
from pg_helpers import pg_schema


class State(TypedDict, total=False):
    log: Annotated[list, operator.add]
    n: int


def loop(saver: Any, steps: int) -> Any:
    g = StateGraph(State)
    g.add_node("a", lambda s: {"log": [f"i{s.get('n', 0)}"], "n": s.get("n", 0) + 1})
    g.add_edge(START, "a")
    g.add_conditional_edges("a", lambda s: END if s["n"] >= steps else "a")
    return g.compile(checkpointer=saver)


def cfg(thread: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}, "recursion_limit": 10_000}


@pytest.fixture
def uri() -> Iterator[str]:
    with pg_schema() as u:
        yield u


def _migrations(uri: str) -> list[int]:
    with psycopg.connect(uri) as conn:
        return [r[0] for r in conn.execute("SELECT v FROM actorgraph_checkpoint_migrations ORDER BY v")]


def test_setup_applies_each_migration_once_even_from_threads_at_once(uri: str) -> None:
    """Eight savers call setup() at the same moment, then again: every migration is
    recorded once, and the tables work."""
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def setup() -> None:
        try:
            with PostgresSaver.from_conn_string(uri) as saver:
                barrier.wait()
                saver.setup()
                saver.setup()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=setup) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert _migrations(uri) == list(range(len(PostgresSaver.MIGRATIONS)))
    with PostgresSaver.from_conn_string(uri) as saver:
        assert loop(saver, 3).invoke({"n": 0}, cfg("t"))["n"] == 3


def test_setup_upgrades_an_older_schema_in_place_and_keeps_its_data(uri: str) -> None:
    """A database whose last migration is missing gets it from setup(); the checkpoints
    already stored stay, and a second setup() changes nothing."""
    with PostgresSaver.from_conn_string(uri) as saver:
        loop(saver, 3).invoke({"n": 0}, cfg("kept"))
    last = len(PostgresSaver.MIGRATIONS) - 1
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("DROP TABLE actorgraph_checkpoint_writes")  # as before the writes migration
        conn.execute("DELETE FROM actorgraph_checkpoint_migrations WHERE v = %s", (last,))
    with PostgresSaver.from_conn_string(uri) as saver:
        saver.setup()
        assert _migrations(uri) == list(range(last + 1))
        assert saver.get_tuple(cfg("kept")).checkpoint["channel_values"]["n"] == 3
        assert len(list(saver.list(cfg("kept")))) == 5
        saver.setup()
        assert loop(saver, 5).invoke(None, cfg("kept")) is not None


def test_its_tables_live_beside_langgraphs_without_touching_them(uri: str) -> None:
    """LangGraph's PostgresSaver tables (checkpoints, ...) in the same schema are left as
    they are: ours carry an actorgraph_ prefix."""
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("CREATE TABLE checkpoints (thread_id TEXT, checkpoint JSONB)")
        conn.execute("INSERT INTO checkpoints VALUES ('theirs', '{\"a\": 1}')")
    with PostgresSaver.from_conn_string(uri) as saver:
        saver.setup()
        loop(saver, 2).invoke({"n": 0}, cfg("ours"))
    with psycopg.connect(uri) as conn:
        assert conn.execute("SELECT thread_id, checkpoint FROM checkpoints").fetchall() == [("theirs", {"a": 1})]
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    assert {"actorgraph_checkpoints", "actorgraph_checkpoint_writes", "actorgraph_checkpoint_migrations"} <= tables


def test_a_connection_without_autocommit_commits_each_step(uri: str) -> None:
    """A plain psycopg connection (autocommit off, tuple rows): each step is committed, so
    another connection sees the run's checkpoints while the first stays open."""
    with psycopg.connect(uri) as conn:
        saver = PostgresSaver(conn)
        saver.setup()
        app = loop(saver, 4)
        app.invoke({"n": 0}, cfg("t"))
        with PostgresSaver.from_conn_string(uri) as other:
            assert other.get_tuple(cfg("t")).checkpoint["channel_values"]["n"] == 4
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_a_pipe_with_a_pool_is_refused() -> None:
    pool = ConnectionPool("postgresql://unused", open=False)
    with pytest.raises(ValueError, match="ConnectionPool"):
        PostgresSaver(pool, pipe=object())


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_an_async_pipe_with_a_pool_is_refused(anyio_backend: str) -> None:
    pool = AsyncConnectionPool("postgresql://unused", open=False)
    with pytest.raises(ValueError, match="AsyncConnectionPool"):
        AsyncPostgresSaver(pool, pipe=object())


def test_a_saver_takes_only_psycopg_connections_and_pools() -> None:
    with pytest.raises(TypeError, match="psycopg Connection.*got str"):
        PostgresSaver("postgresql://not-a-connection").setup()


def test_metadata_filters_reach_into_nested_values_and_match_null(uri: str) -> None:
    """list(filter=...) with a dotted key compares a nested value; None matches a missing
    key or a JSON null; a key that could inject SQL is refused."""
    from actorgraph.checkpoint.base import empty_checkpoint

    with PostgresSaver.from_conn_string(uri) as saver:
        at = {"configurable": {"thread_id": "a", "checkpoint_ns": ""}}
        saver.put(at, empty_checkpoint(), {"source": "input", "user": {"level": 3}, "tag": None}, {})
        bt = {"configurable": {"thread_id": "b", "checkpoint_ns": ""}}
        saver.put(bt, empty_checkpoint(), {"source": "input", "user": {"level": 4}, "tag": "x"}, {})

        def threads(**flt: Any) -> set[str]:
            return {t.config["configurable"]["thread_id"] for t in saver.list(None, filter=flt)}

        assert threads(**{"user.level": 3}) == {"a"}
        assert threads(user={"level": 4}) == {"b"}
        assert threads(tag=None) == {"a"}
        assert threads(tag="x", source="input") == {"b"}
        with pytest.raises(ValueError, match="Invalid filter key"):
            list(saver.list(None, filter={"x') OR 1=1 --": 1}))


def test_a_long_history_is_walked_in_pages(uri: str) -> None:
    """The ancestors of a checkpoint 300 steps deep are read page by page, parent first,
    down to the thread's first checkpoint."""
    with PostgresSaver.from_conn_string(uri) as saver:
        loop(saver, 300).invoke({"n": 0}, cfg("deep"))
        ids = [t.config["configurable"]["checkpoint_id"] for t in saver.list(cfg("deep"))]
        assert len(ids) == 302
        assert list(saver._ancestors("deep", "", ids[0])) == ids[1:]
        assert list(saver._ancestors("deep", "", ids[150])) == ids[151:]

    async def walk() -> list[str]:
        async with AsyncPostgresSaver.from_conn_string(uri) as asaver:
            return [cid async for cid in asaver._aancestors("deep", "", ids[0])]

    import asyncio

    assert asyncio.run(walk()) == ids[1:]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_shallow_savers_keep_only_the_newest_checkpoint_and_it_reads_whole(uri: str, kind: str) -> None:
    """ShallowPostgresSaver / AsyncShallowPostgresSaver: after a run of many steps one
    checkpoint is left per thread namespace, holding the full state; an interrupt and its
    resume work."""
    import asyncio

    from actorgraph.types import Command

    def build(saver: Any) -> Any:
        g = StateGraph(State)
        g.add_node("ask", lambda s: {"log": [interrupt("more?")]})
        g.add_edge(START, "ask")
        g.add_edge("ask", END)
        return g.compile(checkpointer=saver)

    if kind == "sync":
        with PostgresSaver.from_conn_string(uri) as base:
            saver = ShallowPostgresSaver(base.conn)
            saver.setup()
            assert loop(saver, 20).invoke({"n": 0}, cfg("t"))["log"] == [f"i{i}" for i in range(20)]
            assert len(list(saver.list(cfg("t")))) == 1
            app = build(saver)
            app.invoke({"log": ["x"]}, cfg("i"))
            assert app.invoke(Command(resume="yes"), cfg("i"))["log"] == ["x", "yes"]
            assert len(list(saver.list(cfg("i")))) == 1
        return

    async def main() -> None:
        async with AsyncPostgresSaver.from_conn_string(uri) as base:
            saver = AsyncShallowPostgresSaver(base.conn)
            await saver.setup()
            out = await loop(saver, 20).ainvoke({"n": 0}, cfg("t"))
            assert out["log"] == [f"i{i}" for i in range(20)]
            assert len([t async for t in saver.alist(cfg("t"))]) == 1
            assert (await saver.aget_tuple(cfg("t"))).checkpoint["channel_values"]["log"] == out["log"]

    asyncio.run(main())


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_the_async_saver_on_trio_says_to_use_the_sync_one(anyio_backend: str, uri: str) -> None:
    """psycopg's async connections need asyncio: AsyncPostgresSaver under Trio fails with
    an error naming PostgresSaver (whose async methods run on Trio too)."""
    with psycopg.connect(uri, autocommit=True) as conn:
        PostgresSaver(conn).setup()
    saver = AsyncPostgresSaver(object())  # never reached: refused before any I/O
    saver.is_setup = True
    with pytest.raises(RuntimeError, match="asyncio only.*PostgresSaver"):
        await saver.aget_tuple(cfg("t"))
    with PostgresSaver.from_conn_string(uri) as sync_saver:
        assert (await loop(sync_saver, 2).ainvoke({"n": 0}, cfg("t")))["n"] == 2
