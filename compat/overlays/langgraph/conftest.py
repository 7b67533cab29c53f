"""actorgraph's conftest for LangGraph's own suite (replaces theirs in the compat run):
the same fixtures and parameter ids as theirs with NO_DOCKER=true (compat/fixtures.py)."""

import os

from compat.fixtures import define

NO_DOCKER = os.getenv("NO_DOCKER", "false") == "true"

define(
    globals(),
    sync_savers=["memory", "sqlite", "sqlite_aes"],
    async_savers=["memory", "sqlite_aio"],
    caches=["sqlite", "memory"],
    with_durability=True,
)
