"""Postgres for tests: each test gets a fresh schema in the test database (so concurrent
runs on one server never see each other's tables), dropped at the end. Without a server
the test skips on a laptop and fails in CI (``CI=true``).

The server: ``ACTORGRAPH_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

from conftest import require_service

__all__ = ("PG_URI", "pg_schema", "require_postgres", "schema_uri")

PG_URI = os.environ.get("ACTORGRAPH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@functools.cache
def _reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URI, connect_timeout=3):
            return True
    except Exception:
        return False


def require_postgres() -> None:
    require_service(f"PostgreSQL at {PG_URI}", _reachable())


def schema_uri(schema: str) -> str:
    """``PG_URI`` with ``schema`` first on every connection's search path."""
    sep = "&" if "?" in PG_URI else "?"
    return f"{PG_URI}{sep}options={quote(f'-csearch_path={schema}')}"


@contextlib.contextmanager
def pg_schema() -> Iterator[str]:
    """A connection string whose tables live in a new, private schema."""
    require_postgres()
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_URI, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema_uri(schema)
    finally:
        with psycopg.connect(PG_URI, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@contextlib.contextmanager
def open_postgres_saver(kind: str, uri: str) -> Iterator[Any]:
    """A set-up PostgresSaver: ``postgres`` (from_conn_string), ``postgres_pool`` (a
    ConnectionPool) or ``postgres_pipeline`` (a connection in pipeline mode)."""
    import psycopg
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    from actorgraph.checkpoint.postgres import PostgresSaver

    if kind == "postgres_pool":
        # as LangGraph's docs pass them: autocommit, dict rows
        with ConnectionPool(uri, max_size=4, kwargs={"autocommit": True, "row_factory": dict_row}) as pool:
            saver = PostgresSaver(pool)
            saver.setup()
            yield saver
    elif kind == "postgres_pipeline":
        with psycopg.connect(uri, autocommit=True, prepare_threshold=0, row_factory=dict_row) as conn:
            PostgresSaver(conn).setup()
            with conn.pipeline() as pipe:
                yield PostgresSaver(conn, pipe=pipe)
    else:
        with PostgresSaver.from_conn_string(uri) as saver:
            saver.setup()
            yield saver


@contextlib.asynccontextmanager
async def open_async_postgres_saver(kind: str, uri: str) -> AsyncIterator[Any]:
    """A set-up AsyncPostgresSaver: ``async_postgres``, ``async_postgres_pool`` or
    ``async_postgres_pipeline``."""
    import psycopg
    from psycopg_pool import AsyncConnectionPool

    from actorgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    if kind == "async_postgres_pool":
        async with AsyncConnectionPool(uri, max_size=4, kwargs={"autocommit": True}, open=False) as pool:
            saver = AsyncPostgresSaver(pool)
            await saver.setup()
            yield saver
    elif kind == "async_postgres_pipeline":
        async with await psycopg.AsyncConnection.connect(uri, autocommit=True) as conn:
            await AsyncPostgresSaver(conn).setup()
            async with conn.pipeline() as pipe:
                yield AsyncPostgresSaver(conn, pipe=pipe)
    else:
        async with AsyncPostgresSaver.from_conn_string(uri) as saver:
            await saver.setup()
            yield saver
