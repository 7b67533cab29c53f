"""Stand-in for ``langgraph.pregel._read`` (compat run only): ``PregelNode`` is
actorgraph's own (a Pregel node as data, built into the engine's node spec)."""

from actorgraph.pregel._node import PregelNode  # noqa: F401
