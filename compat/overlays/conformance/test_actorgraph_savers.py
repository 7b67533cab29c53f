"""actorgraph's addition to the conformance suite: every saver actorgraph ships passes
every capability the suite's own detection finds on it (not only the base ones)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.memory import InMemorySaver
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


@pytest.mark.asyncio
@pytest.mark.parametrize("registered", [memory_saver, sqlite_saver, async_sqlite_saver], ids=lambda r: r.name)
async def test_every_detected_capability_passes(registered) -> None:
    report = await validate(registered)
    report.print_report()
    detected = {name for name, res in report.results.items() if res.detected}
    failed = {name: res.failures for name, res in report.results.items() if res.detected and not res.passed}
    assert detected, "the suite's detection found no capability at all"
    assert not failed, f"{registered.name}: capabilities failing: {failed}"
