"""Telling "the database is away" from every other error: such a failure gets a 503 the
client may retry, and sends a run back to the queue instead of failing it."""

from __future__ import annotations

import sys

from actorgraph.server.storage._base import Unavailable

__all__ = ("is_unavailable",)


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the database cannot be reached: the
    storage's :class:`Unavailable`, or a connection-level error of psycopg or its pool,
    which the Postgres checkpointer and store raise as they are."""
    kinds: list[type[BaseException]] = [Unavailable]
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        # (InterfaceError: the pool handed out a connection the restart closed)
        kinds += [psycopg.OperationalError, psycopg.InterfaceError]
    pool = sys.modules.get("psycopg_pool")
    if pool is not None:
        kinds.append(pool.PoolTimeout)
    seen: BaseException | None = exc
    for _ in range(8):  # an error wrapping the real one (a node's, the engine's)
        if seen is None:
            return False
        if isinstance(seen, tuple(kinds)):
            return True
        if isinstance(seen, BaseExceptionGroup):
            return any(is_unavailable(e) for e in seen.exceptions)
        seen = seen.__cause__
    return False
