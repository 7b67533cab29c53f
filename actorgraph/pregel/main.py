"""Import-compatible path: ``from actorgraph.pregel.main import Pregel, NodeBuilder``."""

from actorgraph.pregel._node import NodeBuilder
from actorgraph.pregel._pregel import Pregel
from actorgraph.stream._entry import (
    normalize_stream_transformer_factories as _normalize_stream_transformer_factories,  # noqa: F401 - LangGraph's private name
)

__all__ = ("NodeBuilder", "Pregel")
