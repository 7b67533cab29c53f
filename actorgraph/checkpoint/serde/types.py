"""Import-compatible path: the reserved write channels, the protocols checkpoint helpers
use, and the ``DeltaChannel`` snapshot record."""

from actorgraph.persistence._serde_protocols import (
    C,
    ERROR,
    INTERRUPT,
    RESUME,
    SCHEDULED,
    TASKS,
    ChannelProtocol,
    SendProtocol,
    Update,
    Value,
    _DeltaSnapshot,
)

__all__ = ("ERROR", "INTERRUPT", "RESUME", "SCHEDULED", "TASKS", "ChannelProtocol", "SendProtocol", "_DeltaSnapshot")
