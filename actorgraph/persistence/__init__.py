"""Persistence: safe serialization, checkpoint savers, stores and node caches.

Used by the actor runtime through small protocols; never imports the runtime or the
graph layer.
"""

from actorgraph.errors import SerializationError
from actorgraph.persistence._serde import Serializer
from actorgraph.persistence._serde_policy import register_type

__all__ = ("SerializationError", "Serializer", "register_type")
