"""Stream sinks: where a run's events (values, updates, custom, tasks, ...) go.

``NullSink`` for ``invoke`` (every ``wants`` is False, so nothing is even built),
``QueueSink`` for ``stream``/``astream``: a deque the consumer drains. ``emit`` may be
called from worker threads (sync nodes writing to ``custom``); it never blocks.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel

__all__ = ("NullSink", "QueueSink", "StreamSink", "END_OF_STREAM")

END_OF_STREAM: Any = object()


class StreamSink:
    """Base: decides what is wanted and receives ``(namespace, mode, chunk)`` events."""

    __slots__ = ("modes", "subgraphs")

    def __init__(self, modes: frozenset[str] = frozenset(), subgraphs: bool = False) -> None:
        self.modes = modes
        self.subgraphs = subgraphs

    def wants(self, mode: str, ns: tuple[str, ...]) -> bool:
        return mode in self.modes and (not ns or self.subgraphs)

    def emit(self, ns: tuple[str, ...], mode: str, chunk: Any) -> None:
        raise NotImplementedError

    def backlog(self) -> bool:
        """Whether events are waiting for the consumer."""
        return False

    async def wait_drained(self) -> None:
        return None


class NullSink(StreamSink):
    __slots__ = ()

    def wants(self, mode: str, ns: tuple[str, ...]) -> bool:
        return False

    def emit(self, ns: tuple[str, ...], mode: str, chunk: Any) -> None:
        return None


NULL_SINK = NullSink()


def _call_soon_threadsafe(token: Any, fn: Callable[[], None]) -> None:
    native = getattr(token, "native_token", None)
    if native is None:
        return
    call = getattr(native, "call_soon_threadsafe", None) or getattr(native, "run_sync_soon", None)
    if call is not None:
        try:
            call(fn)
        except RuntimeError:
            pass  # loop already closed: the consumer is gone


class QueueSink(StreamSink):
    """Buffers events for one consumer; ``get`` waits for the next one."""

    __slots__ = ("_events", "_wakeup", "_drained", "_token", "_thread", "_closed")

    def __init__(self, modes: frozenset[str], subgraphs: bool = False) -> None:
        super().__init__(modes, subgraphs)
        self._events: deque[Any] = deque()
        self._wakeup: anyio.Event | None = None
        self._drained: anyio.Event | None = None
        self._token = anyio.lowlevel.current_token()
        self._thread = threading.get_ident()
        self._closed = False

    def emit(self, ns: tuple[str, ...], mode: str, chunk: Any) -> None:
        self._events.append((ns, mode, chunk))
        self._wake()

    def close(self) -> None:
        self._events.append(END_OF_STREAM)
        self._wake()

    def _wake(self) -> None:
        w = self._wakeup
        if w is not None:
            if threading.get_ident() == self._thread:
                w.set()
            else:
                _call_soon_threadsafe(self._token, w.set)

    async def get(self) -> Any:
        """The next event, or ``END_OF_STREAM``."""
        events = self._events
        while not events:
            # the consumer wants more and has nothing: let a waiting barrier go on
            d = self._drained
            if d is not None:
                self._drained = None
                d.set()
            self._wakeup = anyio.Event()
            if events:  # an emit from another thread may have raced the new event
                break
            await self._wakeup.wait()
        self._wakeup = None
        return events.popleft()

    def backlog(self) -> bool:
        # a run on another thread (a subgraph called through the sync API by a node that
        # blocks the consumer's loop) must not wait for that consumer: it can't read
        return bool(self._events) and threading.get_ident() == self._thread

    async def wait_drained(self) -> None:
        """Wait until the consumer has taken every event so far and asks for the next.

        The barrier calls this before starting a step, so a stream runs lazily, as
        LangGraph's does: a step starts only when the consumer wants its output, a
        consumer that stops reading stops the run, and the buffer holds one step's events.
        """
        while self._events:
            # several runs may wait at once (subgraphs share their parent's stream): they
            # share one event
            d = self._drained
            if d is None:
                d = self._drained = anyio.Event()
            await d.wait()
