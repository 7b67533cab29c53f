"""Scenarios on Postgres (issue 15): the agent loop of ``agent_loop_200_sqlite`` with each
library's ``PostgresSaver`` on the local server.

Each build gets a schema of its own (dropped when the case closes), so the runs start
from empty tables and never see another's. The server: ``BENCH_POSTGRES_URI`` (default
the local test database).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import Any
from urllib.parse import quote

from benchmarks.registry import Case, scenario
from benchmarks.scenarios.issue6 import _agent_case
from benchmarks.shim import Api

GROUP = "issue15"
URI = os.environ.get("BENCH_POSTGRES_URI", "postgresql://postgres@127.0.0.1:5432/test")


def _schema(stack: contextlib.ExitStack) -> str:
    """A connection string whose tables live in a new schema, dropped on close."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(URI, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with psycopg.connect(URI, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")

    stack.callback(drop)
    sep = "&" if "?" in URI else "?"
    return f"{URI}{sep}options={quote(f'-csearch_path={schema}')}"


@scenario(
    "agent_loop_200_postgres",
    title="agent/tools loop, 200 turns, PostgresSaver on the local server (sync invoke)",
    unit="turn", n=200, quick_n=30, requires=("postgres",), group=GROUP,
)
def agent_postgres(api: Api, n: int) -> Case:
    stack = contextlib.ExitStack()
    saver: Any = stack.enter_context(api.PostgresSaver.from_conn_string(_schema(stack)))
    saver.setup()
    return _agent_case(api, n, saver, close=stack.close)
