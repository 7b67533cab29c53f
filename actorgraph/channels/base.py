"""Import-compatible path: ``from actorgraph.channels.base import BaseChannel``."""

from actorgraph.channels._base import BaseChannel, Checkpoint, Update, Value  # noqa: F401 - type variables for channel authors

__all__ = ("BaseChannel",)

