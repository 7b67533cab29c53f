"""Event streaming with transformers (``langgraph.stream``).

``graph.stream_events(input, version="v3")`` (or ``await graph.astream_events(...)``)
returns a run handle whose projections (``run.values``, ``run.messages``,
``run.lifecycle``, ``run.subgraphs``, and those of the transformers given to
``compile(transformers=[...])`` or ``stream_events(transformers=[...])``) are built from
the run's events by ``StreamTransformer``s; reading them drives the run.
"""

from actorgraph.stream._channel import StreamChannel
from actorgraph.stream._lifecycle import LifecyclePayload, LifecycleTransformer, SubgraphStatus, SubgraphTransformer
from actorgraph.stream._run_stream import (
    AsyncGraphRunStream,
    AsyncSubgraphRunStream,
    GraphRunStream,
    SubgraphRunStream,
)
from actorgraph.stream._transformers import (
    CheckpointsTransformer,
    CustomTransformer,
    DebugTransformer,
    TasksTransformer,
    UpdatesTransformer,
)
from actorgraph.stream._types import ProtocolEvent, StreamTransformer

__all__ = (
    "AsyncGraphRunStream",
    "AsyncSubgraphRunStream",
    "CheckpointsTransformer",
    "CustomTransformer",
    "DebugTransformer",
    "GraphRunStream",
    "LifecyclePayload",
    "LifecycleTransformer",
    "ProtocolEvent",
    "StreamChannel",
    "StreamTransformer",
    "SubgraphRunStream",
    "SubgraphStatus",
    "SubgraphTransformer",
    "TasksTransformer",
    "UpdatesTransformer",
)
