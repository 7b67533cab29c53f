"""Postgres for the store tests: each user gets a schema of its own (random name, made
on entry, dropped on exit), reached through a connection string whose ``search_path``
names it, so concurrent test runs on one database never meet. Without a reachable
server the tests skip, or fail when ``CI=true`` (``conftest.require_service``)."""

from __future__ import annotations

import contextlib
import functools
import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

from conftest import require_service

__all__ = ("BASE_URL", "fresh_schema", "require_postgres")

BASE_URL = os.environ.get("ACTORGRAPH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@functools.cache
def _reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(BASE_URL, connect_timeout=3):
            return True
    except Exception:
        return False


def require_postgres() -> None:
    require_service(f"PostgreSQL at {BASE_URL} (with psycopg installed)", _reachable())


@contextlib.contextmanager
def fresh_schema(*, public: bool = True) -> Iterator[str]:
    """A connection string to a new, empty schema (``public`` also on the search_path,
    where the ``vector`` extension lives; ``public=False`` hides it)."""
    require_postgres()
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(BASE_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    path = f"{schema},public" if public else schema
    sep = "&" if "?" in BASE_URL else "?"
    try:
        yield f"{BASE_URL}{sep}options={quote(f'-csearch_path={path}')}"
    finally:
        with psycopg.connect(BASE_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
