"""Import-compatible path for the run handles (``langgraph.stream.run_stream``)."""

from actorgraph.stream._run_stream import (
    AsyncGraphRunStream,
    AsyncSubgraphRunStream,
    GraphRunStream,
    SubgraphRunStream,
)
from actorgraph.stream._convert import convert_to_protocol_event
from actorgraph.stream._mux import StreamMux
from actorgraph.stream._types import ProtocolEvent

__all__ = (
    "AsyncGraphRunStream",
    "AsyncSubgraphRunStream",
    "GraphRunStream",
    "ProtocolEvent",
    "StreamMux",
    "SubgraphRunStream",
    "convert_to_protocol_event",
)
