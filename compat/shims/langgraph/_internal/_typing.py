"""Stand-in for ``langgraph._internal._typing`` (compat run only): the empty-slot marker
is actorgraph's own, so channels built with it behave as LangGraph's do."""

from actorgraph.channels._base import MISSING  # noqa: F401
