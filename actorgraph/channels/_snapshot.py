"""``_DeltaSnapshot``: a reducer channel's whole value, as a delta channel stores it every
so often (reading its history stops at the nearest one). LangGraph's name and shape."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ("_DeltaSnapshot",)


class _DeltaSnapshot(NamedTuple):
    """A delta channel's whole value at a snapshot."""

    value: Any
