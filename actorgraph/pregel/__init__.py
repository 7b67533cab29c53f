"""The low-level graph API: ``Pregel`` (nodes that read and write channels, run in
super-steps) and ``NodeBuilder`` to declare its nodes; graphs that run on a server are
``actorgraph.pregel.remote.RemoteGraph``."""

from actorgraph.pregel._node import NodeBuilder
from actorgraph.pregel._pregel import Pregel

__all__ = ("Pregel", "NodeBuilder")
