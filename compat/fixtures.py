"""Checkpointer, store and cache fixtures for LangGraph's suites in the compat run.

LangGraph's conftests build these from Postgres, Redis and internal helpers; ours build
the same fixture names and parameter ids (as LangGraph's run with NO_DOCKER=true) from
the savers and stores actorgraph ships, through public ``langgraph`` imports only.
``define(globals(), ...)`` puts them into an overlay conftest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from uuid import UUID

import pytest

__all__ = (
    "checkpointer_memory",
    "checkpointer_sqlite",
    "checkpointer_sqlite_aes",
    "checkpointer_sqlite_aio",
    "define",
    "store_memory",
)


@contextmanager
def checkpointer_memory() -> Iterator[Any]:
    # their memory fixture checks that saved checkpoints are never mutated afterwards
    from tests.memory_assert import MemorySaverAssertImmutable

    yield MemorySaverAssertImmutable()


@contextmanager
def checkpointer_sqlite() -> Iterator[Any]:
    from langgraph.checkpoint.sqlite import SqliteSaver

    with SqliteSaver.from_conn_string(":memory:") as saver:
        yield saver


@contextmanager
def checkpointer_sqlite_aes() -> Iterator[Any]:
    from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
    from langgraph.checkpoint.sqlite import SqliteSaver

    with SqliteSaver.from_conn_string(":memory:") as saver:
        saver.serde = EncryptedSerializer.from_pycryptodome_aes(key=b"1234567890123456")
        yield saver


@asynccontextmanager
async def checkpointer_sqlite_aio() -> AsyncIterator[Any]:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with AsyncSqliteSaver.from_conn_string(":memory:") as saver:
        yield saver


@contextmanager
def store_memory() -> Iterator[Any]:
    from langgraph.store.memory import InMemoryStore

    yield InMemoryStore()


_SYNC_SAVERS: dict[str, Callable[[], Any]] = {
    "memory": checkpointer_memory,
    "sqlite": checkpointer_sqlite,
    "sqlite_aes": checkpointer_sqlite_aes,
}


def define(
    ns: dict[str, Any],
    *,
    sync_savers: list[str],
    async_savers: list[str],
    caches: list[str] | None = None,
    with_durability: bool = False,
) -> None:
    """Define the shared fixtures in a conftest's namespace ``ns``."""

    @pytest.fixture
    def anyio_backend() -> str:
        return "asyncio"

    @pytest.fixture()
    def deterministic_uuids(mocker: Any) -> Any:
        ids = (UUID(f"00000000-0000-4000-8000-{i:012}", version=4) for i in range(10000))
        return mocker.patch("uuid.uuid4", side_effect=ids)

    @pytest.fixture(params=["in_memory"])
    def sync_store(request: pytest.FixtureRequest) -> Iterator[Any]:
        with store_memory() as store:
            yield store

    @pytest.fixture(params=["in_memory"])
    async def async_store(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
        with store_memory() as store:
            yield store

    @pytest.fixture(params=sync_savers)
    def sync_checkpointer(request: pytest.FixtureRequest) -> Iterator[Any]:
        with _SYNC_SAVERS[request.param]() as saver:
            yield saver

    @pytest.fixture(params=async_savers)
    async def async_checkpointer(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
        if request.param == "memory":
            with checkpointer_memory() as saver:
                yield saver
        else:
            async with checkpointer_sqlite_aio() as saver:
                yield saver

    ns.update(
        anyio_backend=anyio_backend,
        deterministic_uuids=deterministic_uuids,
        sync_store=sync_store,
        async_store=async_store,
        sync_checkpointer=sync_checkpointer,
        async_checkpointer=async_checkpointer,
    )

    if with_durability:

        @pytest.fixture(params=["sync", "async", "exit"])
        def durability(request: pytest.FixtureRequest) -> str:
            return request.param

        ns["durability"] = durability

    if caches is not None:

        @pytest.fixture(params=caches)
        def cache(request: pytest.FixtureRequest) -> Iterator[Any]:
            from langgraph.cache.memory import InMemoryCache
            from langgraph.cache.sqlite import SqliteCache

            yield SqliteCache(path=":memory:") if request.param == "sqlite" else InMemoryCache()

        ns["cache"] = cache
