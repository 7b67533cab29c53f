"""The checkpoint-postgres suite's fixtures, pointed at the Postgres server this machine
and CI run (127.0.0.1:5432, trust auth; ``COMPAT_POSTGRES_URI`` overrides it) instead of
the suite's docker service.

The suite's tests make a database of their own per test, named after a random id, under
``DEFAULT_POSTGRES_URI``. Tests that use ``DEFAULT_URI`` directly get a database private
to this run (made here, dropped when the run ends), so concurrent runs on one server never
clear each other's tables. Laid in the reference run on real LangGraph too.
"""

from __future__ import annotations

import atexit
import os
import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest
from psycopg.errors import UndefinedTable
from psycopg.rows import dict_row

from tests.embed_test_utils import CharacterEmbeddings

DEFAULT_POSTGRES_URI = os.environ.get("COMPAT_POSTGRES_URI", "postgres://postgres@127.0.0.1:5432/")
_RUN_DB = f"compat_{uuid.uuid4().hex[:12]}"
DEFAULT_URI = f"{DEFAULT_POSTGRES_URI}{_RUN_DB}?sslmode=disable"
VECTOR_TYPES = ["vector", "halfvec"]


def _admin(sql: str) -> None:
    with psycopg.connect(DEFAULT_POSTGRES_URI + "postgres", autocommit=True) as admin:
        admin.execute(sql)


_admin(f"CREATE DATABASE {_RUN_DB}")
atexit.register(_admin, f"DROP DATABASE IF EXISTS {_RUN_DB} WITH (FORCE)")


@pytest.fixture
async def conn() -> AsyncIterator[psycopg.AsyncConnection]:
    async with await psycopg.AsyncConnection.connect(
        DEFAULT_URI, autocommit=True, prepare_threshold=0, row_factory=dict_row
    ) as c:
        yield c


@pytest.fixture(autouse=True)
async def clear_test_db(conn: psycopg.AsyncConnection) -> None:
    """Each test starts on empty tables of the run's database (tables not made yet are fine)."""
    for group in (
        ("checkpoints", "checkpoint_blobs", "checkpoint_writes", "checkpoint_migrations"),
        ("store_migrations", "store"),
    ):
        try:
            for table in group:
                await conn.execute(f"DELETE FROM {table}")
        except UndefinedTable:
            pass


@pytest.fixture
def fake_embeddings() -> CharacterEmbeddings:
    return CharacterEmbeddings(dims=500)
