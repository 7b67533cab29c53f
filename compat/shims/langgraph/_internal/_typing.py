"""Stand-in for ``langgraph._internal._typing`` (compat run only): the empty-slot marker
is actorgraph's own, so channels built with it behave as LangGraph's do; ``DeprecatedKwargs``
is what actorgraph serves to libraries (``actorgraph._internal._typing``)."""

from actorgraph._internal._typing import DeprecatedKwargs  # noqa: F401
from actorgraph.channels._base import MISSING  # noqa: F401
