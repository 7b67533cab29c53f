"""Import-compatible path: listeners for the serializer's allow-list events."""

from actorgraph.persistence._serde_policy import (
    SerdeEvent,
    SerdeEventListener,
    emit_serde_event,
    register_serde_event_listener,
)

__all__ = ("SerdeEvent", "SerdeEventListener", "emit_serde_event", "register_serde_event_listener")
