"""The in-process broker: workers sleep on a wake-up event (pushed when a run is created or
a thread frees up, never polled), and each running run has a :class:`LiveRun` that its SSE
readers follow.

A ``LiveRun`` holds the run's events in order (``seq`` 1, 2, ...) while it runs and for a
while after (``keep_seconds``), so a reader that joins or reconnects gets exactly the events
after the last one it saw; older runs are read back from the storage's event log.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import anyio

__all__ = ("InProcessBroker", "LiveRun")

Event = tuple[int, str, bytes]


class LiveRun:
    """One run's events as they happen. Bounded by the run: it grows with the run's events
    and is dropped ``keep_seconds`` after the run ends."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.events: list[Event] = []
        self.done = False
        self.ended_at = math.inf
        self.result: bytes | None = None  # what wait/join answer, once the run ended
        self._changed = anyio.Event()

    @property
    def last_seq(self) -> int:
        return self.events[-1][0] if self.events else 0

    def publish(self, event: str, data: bytes) -> Event:
        item = (self.last_seq + 1, event, data)
        self.events.append(item)
        self._notify()
        return item

    def finish(self) -> None:
        self.done = True
        self.ended_at = time.monotonic()
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    def after(self, seq: int) -> Iterator[Event]:
        # seqs are 1..n in order, so the events after ``seq`` start at index ``seq``
        yield from self.events[max(seq, 0) :]

    async def wait_changed(self, timeout: float) -> None:
        """Until a new event or the end arrives, or ``timeout`` seconds pass."""
        changed = self._changed
        with anyio.move_on_after(timeout):
            await changed.wait()


class InProcessBroker:
    def __init__(self, keep_seconds: float = 300.0) -> None:
        self.keep_seconds = keep_seconds
        self._wake = anyio.Event()
        self._live: dict[str, LiveRun] = {}

    # wake-ups --------------------------------------------------------------------------
    def wake_event(self) -> anyio.Event:
        """The event the next ``wake()`` sets: take it *before* looking for work, so a
        wake-up between the look and the wait is not lost."""
        return self._wake

    def wake(self) -> None:
        self._wake.set()
        self._wake = anyio.Event()

    # live events -----------------------------------------------------------------------
    def live(self, run_id: str, *, create: bool = False) -> LiveRun | None:
        self._forget_old()
        run = self._live.get(run_id)
        if run is None and create:
            run = self._live[run_id] = LiveRun(run_id)
        return run

    def drop(self, run_id: str) -> None:
        self._live.pop(run_id, None)

    def active_streams(self) -> int:
        return sum(1 for r in self._live.values() if not r.done)

    def _forget_old(self) -> None:
        horizon = time.monotonic() - self.keep_seconds
        for run_id in [r for r, live in self._live.items() if live.ended_at < horizon]:
            del self._live[run_id]
