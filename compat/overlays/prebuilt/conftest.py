"""actorgraph's conftest for langgraph-prebuilt's suite (replaces theirs in the compat run):
the same fixtures and parameter ids as theirs in its default fast mode (compat/fixtures.py)."""

from compat.fixtures import define

define(globals(), sync_savers=["memory"], async_savers=["memory"])
