"""A ``version="v2"`` stream part as a protocol event."""

from __future__ import annotations

import time
from typing import Any

from actorgraph.stream._types import ProtocolEvent

__all__ = ("convert_to_protocol_event",)


def convert_to_protocol_event(part: Any) -> ProtocolEvent:
    """Wrap a stream part (``{"type", "ns", "data"[, "interrupts"]}``) in the protocol
    envelope: ``method`` is its type, ``params.namespace`` its namespace as a list, and
    ``params.timestamp`` the wall-clock time in milliseconds."""
    params: dict[str, Any] = {
        "namespace": list(part["ns"]),
        "timestamp": int(time.time() * 1000),
        "data": part["data"],
    }
    if "interrupts" in part:
        params["interrupts"] = part["interrupts"]
    return {"type": "event", "method": part["type"], "params": params}  # type: ignore[typeddict-item]
