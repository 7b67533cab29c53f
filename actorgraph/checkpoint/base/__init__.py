"""Import-compatible path: the checkpoint saver interface and its data shapes."""

from actorgraph.errors import CheckpointError
from actorgraph.persistence._base import BaseCheckpointSaver
from actorgraph.persistence._model import Checkpoint, CheckpointMetadata, CheckpointTuple

__all__ = ("BaseCheckpointSaver", "Checkpoint", "CheckpointError", "CheckpointMetadata", "CheckpointTuple")
