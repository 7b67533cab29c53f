"""Runs: the queue, its workers, cancellation, and each run's event log."""

from actorgraph.server.runs._manager import RunManager

__all__ = ("RunManager",)
