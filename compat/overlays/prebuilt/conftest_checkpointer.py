"""The checkpointer factories LangGraph's test modules import, for actorgraph's savers.
Postgres factories are absent: tests that import them need a service this run lacks."""

from compat.fixtures import (
    checkpointer_memory as _checkpointer_memory,
    checkpointer_sqlite as _checkpointer_sqlite,
    checkpointer_sqlite_aes as _checkpointer_sqlite_aes,
    checkpointer_sqlite_aio as _checkpointer_sqlite_aio,
)

__all__ = ("_checkpointer_memory", "_checkpointer_sqlite", "_checkpointer_sqlite_aes", "_checkpointer_sqlite_aio")
