"""A psycopg connection from what a user passed a Postgres saver or store: a connection is
used as it is, a pool lends one for the block (``get_connection``, sync and async, at
LangGraph's import paths ``langgraph.checkpoint.postgres._internal`` / ``._ainternal``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeAlias

from psycopg import AsyncConnection, Connection

try:  # psycopg_pool is a separate distribution (in the ``postgres`` extra)
    from psycopg_pool import AsyncConnectionPool, ConnectionPool
except ImportError:  # pragma: no cover - the extra installs it
    AsyncConnectionPool = ConnectionPool = None  # type: ignore[assignment,misc]

__all__ = ("AsyncConn", "Conn", "aget_connection", "get_connection", "is_async_pool", "is_pool")

Conn: TypeAlias = "Connection[Any] | ConnectionPool[Any]"
AsyncConn: TypeAlias = "AsyncConnection[Any] | AsyncConnectionPool[Any]"


def is_pool(conn: Any) -> bool:
    return ConnectionPool is not None and isinstance(conn, ConnectionPool)


def is_async_pool(conn: Any) -> bool:
    return AsyncConnectionPool is not None and isinstance(conn, AsyncConnectionPool)


@contextlib.contextmanager
def get_connection(conn: Any) -> Iterator[Connection[Any]]:
    """``conn`` itself (a ``Connection``), or one borrowed from a ``ConnectionPool``."""
    if isinstance(conn, Connection):
        yield conn
    elif is_pool(conn):
        with conn.connection() as borrowed:
            yield borrowed
    else:
        raise TypeError(
            f"A Postgres saver or store takes a psycopg Connection or a psycopg_pool ConnectionPool, "
            f"got {type(conn).__name__}"
        )


@contextlib.asynccontextmanager
async def aget_connection(conn: Any) -> AsyncIterator[AsyncConnection[Any]]:
    """``conn`` itself (an ``AsyncConnection``), or one borrowed from an ``AsyncConnectionPool``."""
    if isinstance(conn, AsyncConnection):
        yield conn
    elif is_async_pool(conn):
        async with conn.connection() as borrowed:
            yield borrowed
    else:
        raise TypeError(
            f"An async Postgres saver or store takes a psycopg AsyncConnection or a psycopg_pool "
            f"AsyncConnectionPool, got {type(conn).__name__}"
        )
