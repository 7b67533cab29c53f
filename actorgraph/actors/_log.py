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

__all__ = ("log_lost_save", "run_logger")

_stdlib = logging.getLogger("actorgraph")


def log_lost_save(
    event: str, error: BaseException, *, thread_id: str | None, checkpoint_ns: str, checkpoint_id: str | None
) -> None:
    """Report, whatever the log level, a save that failed where its error can't be raised
    (the run is being cancelled, or already failed with another error): that work is lost."""
    structlog.get_logger("actorgraph").error(
        event,
        thread_id=thread_id,
        checkpoint_ns=checkpoint_ns,
        checkpoint_id=checkpoint_id,
        error=repr(error),
    )


def run_logger(**bound: Any) -> Any:
    """A structlog logger bound to the run, or ``None`` when debug logging is off."""
    if not _stdlib.isEnabledFor(logging.DEBUG):
        return None
    return structlog.get_logger("actorgraph").bind(**bound)
