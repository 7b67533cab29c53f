"""The sinks a caller consumes a run's stream through: ``QueueSink`` for
``stream``/``astream`` (a deque the consumer drains; ``emit`` may be called from worker
threads - sync nodes writing to ``custom`` - and never blocks), ``PrintSink`` for
``print_mode``/``debug``, and the debug stream's task shapes."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import anyio
import anyio.lowlevel

from actorgraph.actors._stream import StreamSink, payload_metadata

__all__ = ("END_OF_STREAM", "PrintSink", "QueueSink", "map_debug_tasks", "print_event")

END_OF_STREAM: Any = object()


def print_event(ns: tuple[str, ...], mode: str, chunk: Any) -> None:
    """Print a stream event (``print_mode``): ``[mode]`` in bold, ``[graph=ns]`` for a
    subgraph's, then the chunk's repr."""
    head = f"\033[1m[{mode}]\033[0m"
    if ns:
        head += f" \033[1;33m[graph={ns}]\033[0m"
    print(f"{head} {chunk!r}")


class PrintSink(StreamSink):
    """The sink of an ``invoke`` with ``print_mode``: prints the graph's own events of
    those modes as they happen (from any thread)."""

    __slots__ = ()

    def emit(self, ns: tuple[str, ...], mode: str, chunk: Any) -> None:
        print_event(ns, mode, chunk)


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


# config metadata keys that say where a task runs: its stream event has them already


def map_debug_tasks(tasks: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Task start events for tasks that have ``id``, ``name``, ``input``, ``triggers`` and
    ``config`` attributes (hidden ones left out), as the ``tasks``/``debug`` streams
    show them."""
    from actorgraph._constants import TAG_HIDDEN

    for task in tasks:
        config = task.config
        if config is not None and TAG_HIDDEN in (config.get("tags") or ()):
            continue
        payload: dict[str, Any] = {"id": task.id, "name": task.name, "input": task.input, "triggers": task.triggers}
        if config is not None:
            md = payload_metadata(config.get("metadata"), config.get("tags"))
            if md:
                payload["metadata"] = md
        yield payload
