"""Import-compatible path: ``from actorgraph.pregel.main import Pregel, NodeBuilder``."""

from actorgraph.pregel._node import NodeBuilder
from actorgraph.pregel._pregel import Pregel

__all__ = ("NodeBuilder", "Pregel")
