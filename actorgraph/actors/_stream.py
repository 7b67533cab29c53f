"""Stream sinks: where a run's events (values, updates, custom, tasks, ...) go.

``NullSink`` for ``invoke`` (every ``wants`` is False, so nothing is even built),
``QueueSink`` for ``stream``/``astream``: a deque the consumer drains. ``emit`` may be
called from worker threads (sync nodes writing to ``custom``); it never blocks.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import anyio
import anyio.lowlevel

__all__ = (
    "task_result_view",
    "END_OF_STREAM",
    "NullSink",
    "PrintSink",
    "QueueSink",
    "CallbackModesSink",
    "StreamSink",
    "TeeSink",
    "map_debug_tasks",
    "payload_metadata",
    "print_event",
    "task_metadata",
)

END_OF_STREAM: Any = object()


class StreamSink:
    """Base: decides what is wanted and receives ``(namespace, mode, chunk)`` events.

    ``messages_v2``: chat models stream protocol events (``stream_events(version="v3")``).
    """

    __slots__ = ("modes", "subgraphs", "messages_v2")

    def __init__(self, modes: frozenset[str] = frozenset(), subgraphs: bool = False) -> None:
        self.modes = modes
        self.subgraphs = subgraphs
        self.messages_v2 = False

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


class CallbackModesSink(StreamSink):
    """What a graph invoked in a node on a thread of its own (a root run, not a subgraph)
    streams to the caller's stream: as in LangGraph, only the modes its callbacks carry
    (``messages``, ``tools``), at the root namespace, and only to a stream that takes
    subgraph events."""

    __slots__ = ("target",)

    _MODES = frozenset(("messages", "tools"))

    def __init__(self, target: StreamSink) -> None:
        super().__init__(target.modes & self._MODES if target.subgraphs else frozenset(), target.subgraphs)
        self.messages_v2 = target.messages_v2
        self.target = target

    def wants(self, mode: str, ns: tuple[str, ...]) -> bool:
        return mode in self.modes and self.target.wants(mode, ns)

    def emit(self, ns: tuple[str, ...], mode: str, chunk: Any) -> None:
        self.target.emit(ns, mode, chunk)

    def backlog(self) -> bool:
        return self.target.backlog()

    async def wait_drained(self) -> None:
        await self.target.wait_drained()


class TeeSink(StreamSink):
    """The sink of a graph streamed from inside a node (``inner.stream(...)``): its events
    go to that stream's consumer, and also to the enclosing stream under the node's
    namespace (``prefix``) when that stream takes subgraph events, as a subgraph's
    would. ``parent_seen``: the enclosing run's messages ids, so a message streamed here
    is not streamed again when the node returns it."""

    __slots__ = ("own", "parent", "prefix", "parent_seen")

    def __init__(
        self, own: StreamSink, parent: StreamSink, prefix: tuple[str, ...], parent_seen: set[str] | None
    ) -> None:
        super().__init__(own.modes | parent.modes, True)
        self.messages_v2 = own.messages_v2
        self.own = own
        self.parent = parent
        self.prefix = prefix
        self.parent_seen = parent_seen

    def wants(self, mode: str, ns: tuple[str, ...]) -> bool:
        return self.own.wants(mode, ns) or self.parent.wants(mode, (*self.prefix, *ns))

    def emit(self, ns: tuple[str, ...], mode: str, chunk: Any) -> None:
        if self.own.wants(mode, ns):
            self.own.emit(ns, mode, chunk)
        full = (*self.prefix, *ns)
        if self.parent.wants(mode, full):
            if mode == "messages" and self.parent_seen is not None:
                mid = getattr(chunk[0], "id", None)
                if mid:
                    self.parent_seen.add(mid)
            self.parent.emit(full, mode, chunk)

    def backlog(self) -> bool:
        return self.own.backlog()

    async def wait_drained(self) -> None:
        await self.own.wait_drained()


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
_PLACEMENT_KEYS = frozenset(
    (
        "thread_id",
        "checkpoint_id",
        "checkpoint_ns",
        "checkpoint_map",
        "langgraph_step",
        "langgraph_node",
        "langgraph_triggers",
        "langgraph_path",
        "langgraph_checkpoint_ns",
    )
)


def payload_metadata(metadata: Any, tags: Any) -> dict[str, Any] | None:
    """The ``metadata`` of a task start event: a copy of the task's config metadata
    without the placement keys, plus its tags (but LangChain's ``seq:step:N`` ones)
    under ``tags``; ``None`` when that leaves nothing."""
    md = {k: v for k, v in (metadata or {}).items() if k not in _PLACEMENT_KEYS}
    kept = [t for t in tags or () if not t.startswith("seq:step")]
    if kept:
        md["tags"] = kept
    return md or None


def task_metadata(config: dict[str, Any], node_metadata: Any, node_tags: Any) -> dict[str, Any] | None:
    """``payload_metadata`` of a task of a node with ``node_metadata`` and ``node_tags``
    in a run with ``config``: what the task's config would hold, without building it."""
    from actorgraph.actors._context import propagated_metadata

    md = propagated_metadata(config)
    if node_metadata:
        md.update(node_metadata)
    tags = config.get("tags") or ()
    if node_tags:
        tags = (*tags, *node_tags)
    return payload_metadata(md, tags)


def task_result_view(writes: Iterable[tuple[str, Any]], keys: Any) -> dict[str, Any]:
    """A task's writes to ``keys`` as its result shows (``tasks``/``debug`` streams,
    snapshots): ``{key: value}``, or ``{key: {"$writes": [v1, v2, ...]}}`` for a key it
    wrote more than once, as LangGraph shows them."""
    out: dict[str, Any] = {}
    many: set[str] = set()
    for chan, value in writes:
        if chan not in keys:
            continue
        if chan in out:
            if chan not in many:
                many.add(chan)
                out[chan] = {"$writes": [out[chan]]}
            out[chan]["$writes"].append(value)
        else:
            out[chan] = value
    return out


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
