"""Stand-in for ``langgraph.pregel._checkpoint`` (compat run only): it *is* actorgraph's
own module for the same job (how delta channels are checkpointed), not a copy of its
names, because LangGraph's tests patch its ``DELTA_MAX_SUPERSTEPS_SINCE_SNAPSHOT`` and
the engine must see the patched value."""

import sys

from actorgraph.actors import _delta

sys.modules[__name__] = _delta
