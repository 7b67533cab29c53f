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
from collections import deque
from collections.abc import Iterator

import anyio

__all__ = ("InProcessBroker", "LiveRun", "ThreadFeed")

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
        self.status: str | None = None  # the run's final status, once it ended
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


class ThreadFeed:
    """The events of every run on one thread, as ``GET /threads/{id}/stream`` follows
    them: numbered per thread, the last ``size`` kept for readers that reconnect with a
    ``Last-Event-ID``. It lives while a run goes on or a reader follows it."""

    def __init__(self, size: int = 1000) -> None:
        self.events: deque[Event] = deque(maxlen=size)
        self.readers = 0
        self.running = 0
        self._seq = 0
        self._changed = anyio.Event()

    @property
    def last_seq(self) -> int:
        return self._seq

    def publish(self, event: str, data: bytes) -> None:
        self._seq += 1
        self.events.append((self._seq, event, data))
        self._changed.set()
        self._changed = anyio.Event()

    def after(self, seq: int) -> list[Event]:
        return [e for e in self.events if e[0] > seq]

    async def wait_changed(self, timeout: float) -> None:
        changed = self._changed
        with anyio.move_on_after(timeout):
            await changed.wait()


class InProcessBroker:
    def __init__(self, keep_seconds: float = 300.0) -> None:
        self.keep_seconds = keep_seconds
        self._wake = anyio.Event()
        self._live: dict[str, LiveRun] = {}
        self._feeds: dict[str, ThreadFeed] = {}
        self._next_sweep = 0.0

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

    # thread feeds -----------------------------------------------------------------------
    def feed(self, thread_id: str) -> ThreadFeed:
        feed = self._feeds.get(thread_id)
        if feed is None:
            feed = self._feeds[thread_id] = ThreadFeed()
        return feed

    def release_feed(self, thread_id: str) -> None:
        """Forget the feed once nobody reads it and no run writes it."""
        feed = self._feeds.get(thread_id)
        if feed is not None and feed.readers <= 0 and feed.running <= 0:
            del self._feeds[thread_id]

    def drop(self, run_id: str) -> None:
        self._live.pop(run_id, None)

    def active_streams(self) -> int:
        return sum(1 for r in self._live.values() if not r.done)

    def _forget_old(self) -> None:
        # a sweep looks at every run kept: at most one a second, not one per look-up
        stamp = time.monotonic()
        if stamp < self._next_sweep:
            return
        self._next_sweep = stamp + 1.0
        horizon = stamp - self.keep_seconds
        for run_id in [r for r, live in self._live.items() if live.ended_at < horizon]:
            del self._live[run_id]
