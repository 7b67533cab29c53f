"""Import-compatible path: the checkpoint saver interface, its data shapes and helpers."""

from actorgraph.errors import CheckpointError, EmptyChannelError
from actorgraph.persistence._saver_api import (
    EXCLUDED_METADATA_KEYS,
    LATEST_VERSION,
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
    PendingWrite,
    V,
    _with_msgpack_allowlist,
    copy_checkpoint,
    create_checkpoint,
    empty_checkpoint,
    get_checkpoint_id,
    get_checkpoint_metadata,
    get_serializable_checkpoint_metadata,
    logger,
    writes_sort_key,
)
from actorgraph.persistence._serde import JsonPlusSerializer
from actorgraph.persistence._serde_protocols import (
    ERROR,
    INTERRUPT,
    RESUME,
    SCHEDULED,
    ChannelProtocol,
    EncryptedSerializer,
    SerializerProtocol,
    maybe_add_typed_methods,
)
from actorgraph.persistence._uuid6 import uuid6

from . import id  # noqa: E402  (LangGraph exposes the module as checkpoint.base.id)

__all__ = (
    "ERROR",
    "EXCLUDED_METADATA_KEYS",
    "INTERRUPT",
    "LATEST_VERSION",
    "RESUME",
    "SCHEDULED",
    "WRITES_IDX_MAP",
    "BaseCheckpointSaver",
    "ChannelProtocol",
    "ChannelVersions",
    "Checkpoint",
    "CheckpointError",
    "CheckpointMetadata",
    "CheckpointTuple",
    "DeltaChannelHistory",
    "EmptyChannelError",
    "EncryptedSerializer",
    "JsonPlusSerializer",
    "PendingWrite",
    "SerializerProtocol",
    "V",
    "copy_checkpoint",
    "create_checkpoint",
    "empty_checkpoint",
    "get_checkpoint_id",
    "get_checkpoint_metadata",
    "get_serializable_checkpoint_metadata",
    "id",
    "logger",
    "maybe_add_typed_methods",
    "uuid6",
    "writes_sort_key",
)
