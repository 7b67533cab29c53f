"""Stream sinks: where a run's events (values, updates, custom, tasks, ...) go.

The engine's side: the ``StreamSink`` protocol, ``NullSink`` for ``invoke`` (every
``wants`` is False, so nothing is even built), the tee and callback sinks of nested
runs, and how task events are shaped. The sinks callers consume (a queue for
``stream``/``astream``, printing) are in ``pregel/_sinks.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


__all__ = (
    "task_result_view",
    "NullSink",
    "CallbackModesSink",
    "StreamSink",
    "TeeSink",
    "payload_metadata",
    "task_metadata",
)



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
