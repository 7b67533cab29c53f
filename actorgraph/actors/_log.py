"""Debug logging through structlog, free when off.

actorgraph logs only when the stdlib logger ``"actorgraph"`` is enabled for DEBUG (the
usual switch for a library: ``logging.getLogger("actorgraph").setLevel(logging.DEBUG)``),
through whatever structlog configuration the application has. A run checks this once and
keeps a bound logger (``run_id``, ``thread_id``, ``graph``) or ``None``; the per-step and
per-task paths test that attribute and nothing else.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

__all__ = ("run_logger",)

_stdlib = logging.getLogger("actorgraph")


def run_logger(**bound: Any) -> Any:
    """A structlog logger bound to the run, or ``None`` when debug logging is off."""
    if not _stdlib.isEnabledFor(logging.DEBUG):
        return None
    return structlog.get_logger("actorgraph").bind(**bound)
