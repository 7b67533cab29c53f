"""The in-process broker: workers sleep on a wake-up event (pushed when a run is created or
a thread frees up, never polled), and each running run has a :class:`LiveRun` that its SSE
readers follow. One server process owns its database, so every run it has is its own.

A ``LiveRun`` holds the run's events in order (``seq`` 1, 2, ...) while it runs and for a
while after (``keep_seconds``), so a reader that joins or reconnects gets exactly the events
after the last one it saw; older runs are read back from the storage's event log.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Protocol

import anyio

__all__ = ("RESULT_EVENT", "FeedReader", "InProcessBroker", "LiveRun", "RunReader", "ThreadFeed")

Event = tuple[int, str, bytes]

# the final answer of a run (what wait/join return) is kept in its event log under this
# name; SSE readers never see it
RESULT_EVENT = "__result__"

# what a run's events are sent on to, besides its local readers: (run, event), and at
# its end (run, None) - the shared broker's publisher
Sink = Callable[["LiveRun", Event | None], None]
# the same for a thread's events: (thread_id, event name, data)
ThreadSink = Callable[[str, str, bytes], None]


class FeedReader(Protocol):
    """What ``GET /threads/{id}/stream`` follows: the thread's events, numbered."""

    @property
    def last_seq(self) -> int: ...
    def after(self, seq: int) -> list[Event]: ...
    async def wait_changed(self, timeout: float) -> None: ...


class RunReader(Protocol):
    """What an SSE reader, a wait or a join follows: one run's events in order (``seq``
    1, 2, ...), its end, its final status and answer. A :class:`LiveRun` for a run of this
    process; the shared broker's remote reader for a run another process executes."""

    run_id: str
    done: bool
    moved: bool  # the run goes on elsewhere (its lease went to another worker): follow it again
    status: str | None
    result: bytes | None

    @property
    def last_seq(self) -> int: ...
    def after(self, seq: int) -> Iterator[Event]: ...
    async def wait_changed(self, timeout: float) -> None: ...


class LiveRun:
    """One run's events as they happen. Bounded by the run: it grows with the run's events
    and is dropped ``keep_seconds`` after the run ends."""

    def __init__(self, run_id: str, sink: Sink | None = None) -> None:
        self.run_id = run_id
        self.events: list[Event] = []
        self.first_seq = 1  # a resumed run goes on after the events its last worker published
        self.sink = sink
        self.done = False
        self.moved = False
        self.ended_at = math.inf
        self.result: bytes | None = None  # what wait/join answer, once the run ended
        self.status: str | None = None  # the run's final status, once it ended
        self._changed = anyio.Event()

    @property
    def last_seq(self) -> int:
        return self.events[-1][0] if self.events else self.first_seq - 1

    def publish(self, event: str, data: bytes) -> Event:
        item = (self.last_seq + 1, event, data)
        self.events.append(item)
        if self.sink is not None:
            self.sink(self, item)
        self._notify()
        return item

    def finish(self) -> None:
        self.done = True
        self.ended_at = time.monotonic()
        if self.sink is not None:
            self.sink(self, None)
        self._notify()

    def hand_off(self) -> None:
        """The run stops here unfinished and goes on in another worker: readers follow it
        there (no end is published)."""
        self.moved = True
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    def after(self, seq: int) -> Iterator[Event]:
        # seqs are first_seq.. in order, so the events after ``seq`` start at index ``seq - first_seq + 1``
        yield from self.events[max(seq - self.first_seq + 1, 0) :]

    async def wait_changed(self, timeout: float) -> None:
        """Until a new event or the end arrives, or ``timeout`` seconds pass."""
        changed = self._changed
        with anyio.move_on_after(timeout):
            await changed.wait()


class ThreadFeed:
    """The events of every run on one thread, as ``GET /threads/{id}/stream`` follows
    them: numbered per thread, the last ``size`` kept for readers that reconnect with a
    ``Last-Event-ID``. It lives while a run goes on or a reader follows it."""

    def __init__(self, thread_id: str, sink: ThreadSink | None = None, size: int = 1000) -> None:
        self.thread_id = thread_id
        self.sink = sink
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
        if self.sink is not None:
            self.sink(self.thread_id, event, data)
        self._changed.set()
        self._changed = anyio.Event()

    def after(self, seq: int) -> list[Event]:
        return [e for e in self.events if e[0] > seq]

    async def wait_changed(self, timeout: float) -> None:
        changed = self._changed
        with anyio.move_on_after(timeout):
            await changed.wait()


class InProcessBroker:
    shared = False  # runs of other processes: none (the shared broker says True)

    def __init__(self, keep_seconds: float = 300.0) -> None:
        self.keep_seconds = keep_seconds
        self._wake = anyio.Event()
        self._live: dict[str, LiveRun] = {}
        self._feeds: dict[str, ThreadFeed] = {}
        self._next_sweep = 0.0
        # the run manager's hook for a cancel another process relays: (run_id, action)
        self.on_cancel: Callable[[str, str], None] = lambda run_id, action: None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Whatever the broker runs in the background while the server serves (nothing here)."""
        yield

    @property
    def poll_seconds(self) -> float:
        """How long an idle worker sleeps without a wake-up before it looks for work anyway:
        never here (every wake-up is pushed in this process)."""
        return math.inf

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
        """The run's local events (``create``: start them, as its worker does)."""
        self._forget_old()
        run = self._live.get(run_id)
        if run is None and create:
            run = self._live[run_id] = self._new_live(run_id)
        return run

    def _new_live(self, run_id: str) -> LiveRun:
        return LiveRun(run_id)

    def expect(self, run_id: str) -> None:
        """A run was created: its events go to a local live stream that readers can open
        before its worker starts (here: the worker is in this process)."""
        self.live(run_id, create=True)

    async def last_published(self, run_id: str) -> int:
        """The last event number of the run that readers elsewhere saw (none here)."""
        return 0

    async def follow(self, run_id: str) -> RunReader | None:
        """What a reader of the run follows; None: no events of it are live here (it
        ended long ago, or never was: its event log and row tell the rest)."""
        return self.live(run_id)

    async def send_cancel(self, run_id: str, action: str) -> None:
        """Relay a cancel to the process running ``run_id`` (none other here)."""

    # thread feeds -----------------------------------------------------------------------
    def feed(self, thread_id: str) -> ThreadFeed:
        feed = self._feeds.get(thread_id)
        if feed is None:
            feed = self._feeds[thread_id] = self._new_feed(thread_id)
        return feed

    def _new_feed(self, thread_id: str) -> ThreadFeed:
        return ThreadFeed(thread_id)

    @contextlib.asynccontextmanager
    async def follow_thread(self, thread_id: str, after: int | None) -> AsyncIterator[FeedReader]:
        """The thread's events for one reader, while it reads (``after``: the event id it
        saw last)."""
        feed = self.feed(thread_id)
        feed.readers += 1
        try:
            yield feed
        finally:
            feed.readers -= 1
            self.release_feed(thread_id)

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
