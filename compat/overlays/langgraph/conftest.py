"""actorgraph's conftest for LangGraph's own suite (replaces theirs in the compat run):
the same fixtures and parameter ids as theirs with NO_DOCKER=true (compat/fixtures.py)."""

import os

import langchain_core.language_models.base as _lc_models

from compat.fixtures import define

# LangGraph's suite expects an environment without the `langchain` package: a chat model's
# metadata (`lc_versions`, in the `messages` stream) then names langchain-core only. Our dev
# extra installs langchain (tests/test_ecosystem_*.py run it), which real LangGraph fails
# these tests with too; here models report as they would without it.
_lc_models._get_langchain_version = lambda: None

NO_DOCKER = os.getenv("NO_DOCKER", "false") == "true"

define(
    globals(),
    sync_savers=["memory", "sqlite", "sqlite_aes"],
    async_savers=["memory", "sqlite_aio"],
    caches=["sqlite", "memory"],
    with_durability=True,
)
