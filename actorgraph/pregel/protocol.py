"""Import-compatible path: ``from actorgraph.pregel.protocol import PregelProtocol``."""

from actorgraph.pregel._protocol import PregelProtocol, StreamChunk, StreamProtocol  # noqa: F401

__all__ = ("PregelProtocol", "StreamProtocol")
