"""actorgraph's addition to the conformance suite: every saver actorgraph ships passes
every capability the suite's own detection finds on it (not only the base ones)."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver


@checkpointer_test(name="actorgraph InMemorySaver")
async def memory_saver():
    yield InMemorySaver()


@checkpointer_test(name="actorgraph SqliteSaver")
async def sqlite_saver():
    with tempfile.TemporaryDirectory() as tmp:
        with SqliteSaver.from_conn_string(str(Path(tmp) / "c.db")) as saver:
            yield saver


@checkpointer_test(name="actorgraph AsyncSqliteSaver")
async def async_sqlite_saver():
    with tempfile.TemporaryDirectory() as tmp:
        async with AsyncSqliteSaver.from_conn_string(str(Path(tmp) / "c.db")) as saver:
            yield saver


PG_URI = os.environ.get("ACTORGRAPH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def pg_schema():
    """A connection string whose tables live in a new schema, dropped afterwards."""
    import psycopg

    schema = f"conf_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_URI, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in PG_URI else "?"
        yield f"{PG_URI}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(PG_URI, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@checkpointer_test(name="actorgraph PostgresSaver")
async def postgres_saver():
    with pg_schema() as uri, PostgresSaver.from_conn_string(uri) as saver:
        saver.setup()
        yield saver


@checkpointer_test(name="actorgraph AsyncPostgresSaver")
async def async_postgres_saver():
    with pg_schema() as uri:
        async with AsyncPostgresSaver.from_conn_string(uri) as saver:
            await saver.setup()
            yield saver


SAVERS = [memory_saver, sqlite_saver, async_sqlite_saver, postgres_saver, async_postgres_saver]


@pytest.mark.asyncio
@pytest.mark.parametrize("registered", SAVERS, ids=lambda r: r.name)
async def test_every_detected_capability_passes(registered) -> None:
    report = await validate(registered)
    report.print_report()
    detected = {name for name, res in report.results.items() if res.detected}
    failed = {name: res.failures for name, res in report.results.items() if res.detected and not res.passed}
    assert detected, "the suite's detection found no capability at all"
    assert not failed, f"{registered.name}: capabilities failing: {failed}"
