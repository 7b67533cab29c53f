"""Import-compatible path for the built-in transformers (``langgraph.stream.transformers``)."""

from actorgraph.stream._lifecycle import (
    LifecycleCause,
    LifecyclePayload,
    LifecycleTransformer,
    SubgraphStatus,
    SubgraphTransformer,
    _TasksLifecycleBase,  # noqa: F401  (a base for custom lifecycle transformers)
)
from actorgraph.stream._transformers import (
    CheckpointsTransformer,
    CustomTransformer,
    DebugTransformer,
    MessagesTransformer,
    TasksTransformer,
    UpdatesTransformer,
    ValuesTransformer,
)
from actorgraph.stream._types import ProtocolEvent, StreamTransformer

__all__ = (
    "CheckpointsTransformer",
    "CustomTransformer",
    "DebugTransformer",
    "LifecycleCause",
    "LifecyclePayload",
    "LifecycleTransformer",
    "MessagesTransformer",
    "ProtocolEvent",
    "StreamTransformer",
    "SubgraphStatus",
    "SubgraphTransformer",
    "TasksTransformer",
    "UpdatesTransformer",
    "ValuesTransformer",
)
