"""Pregel nodes as data: ``PregelNode`` (what a node reads, what triggers it, what it
runs, where its output goes) and ``NodeBuilder``, the fluent way to declare one.

Nothing here runs: ``_build`` turns each node into the engine's ``NodeSpec`` once, when
the program is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from actorgraph._types import CachePolicy, RetryPolicy, Send, TimeoutPolicy
from actorgraph.pregel._write import ChannelWrite, ChannelWriteEntry, ChannelWriteTupleEntry

__all__ = ("DEFAULT_BOUND", "NodeBuilder", "PregelNode")


class _DefaultBound:
    """The body of a node that only forwards what it reads to its writers."""

    __slots__ = ()

    def __call__(self, value: Any) -> Any:
        return value

    def invoke(self, value: Any, config: Any = None, **kwargs: Any) -> Any:
        return value

    async def ainvoke(self, value: Any, config: Any = None, **kwargs: Any) -> Any:
        return value

    def __repr__(self) -> str:
        return "DEFAULT_BOUND"


DEFAULT_BOUND: Any = _DefaultBound()


class RunnableSeq:
    """Steps a node's input passes through in order (``NodeBuilder().do(a).do(b)``)."""

    __slots__ = ("steps",)
    steps: tuple[Any, ...]

    def __init__(self, *steps: Any) -> None:
        flat: list[Any] = []
        for s in steps:
            flat.extend(s.steps if isinstance(s, RunnableSeq) else (s,))
        self.steps = tuple(flat)

    def __repr__(self) -> str:
        return " | ".join(repr(s) for s in self.steps)


class PregelNode:
    """One node of a ``Pregel`` graph.

    ``channels``: a channel name (the node gets its value, and only runs when it holds
    one) or a list of names (the node gets a dict of those that hold values).
    ``triggers``: the node runs in the step after any of these is written. ``bound``
    computes the output from the input; ``writers`` (``ChannelWrite``) say where it goes.
    """

    __slots__ = (
        "channels",
        "triggers",
        "mapper",
        "writers",
        "bound",
        "retry_policy",
        "cache_policy",
        "timeout",
        "tags",
        "metadata",
        "trace_policy",
        "is_error_handler",
        "error_handler_node",
        "subgraphs",
    )

    def __init__(
        self,
        *,
        channels: str | list[str],
        triggers: Sequence[str],
        mapper: Callable[[Any], Any] | None = None,
        writers: list[Any] | None = None,
        tags: list[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        trace_policy: Any = None,
        bound: Any = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        cache_policy: CachePolicy[Any] | None = None,
        is_error_handler: bool = False,
        error_handler_node: str | None = None,
        subgraphs: Sequence[Any] | None = None,
        timeout: float | timedelta | TimeoutPolicy | None = None,
    ) -> None:
        self.channels = channels
        self.triggers = list(triggers)
        self.mapper = mapper
        self.writers = list(writers or [])
        self.bound = bound if bound is not None else DEFAULT_BOUND
        self.retry_policy: Sequence[RetryPolicy] | None = (
            (retry_policy,) if isinstance(retry_policy, RetryPolicy) else retry_policy
        )
        self.cache_policy = cache_policy
        self.timeout = TimeoutPolicy.coerce(timeout)
        self.tags = tags
        self.metadata = metadata
        self.trace_policy = trace_policy
        self.is_error_handler = is_error_handler
        self.error_handler_node = error_handler_node
        if subgraphs is not None:
            self.subgraphs = list(subgraphs)
        else:
            self.subgraphs = [getattr(s, "graph", s) for s in _steps(self.bound) if _is_graph(s)][:1]

    def copy(self, update: dict[str, Any]) -> PregelNode:
        attrs = {k: getattr(self, k) for k in self.__slots__}
        attrs.update(update)
        return PregelNode(**attrs)

    @property
    def flat_writers(self) -> list[Any]:
        """The writers, consecutive ``ChannelWrite``s merged into one."""
        out: list[Any] = []
        for w in self.writers:
            if out and isinstance(w, ChannelWrite) and isinstance(out[-1], ChannelWrite):
                out[-1] = ChannelWrite([*out[-1].writes, *w.writes])
            else:
                out.append(w)
        return out

    def __repr__(self) -> str:
        return f"PregelNode(channels={self.channels!r}, triggers={self.triggers!r}, bound={self.bound!r})"


def _steps(bound: Any) -> tuple[Any, ...]:
    return bound.steps if isinstance(bound, RunnableSeq) else (bound,)


def _is_graph(obj: Any) -> bool:
    from actorgraph.pregel._runnable import GraphRunnable

    # a graph, or a graph mapped over a list (``graph.map()``)
    return isinstance(obj, GraphRunnable) or isinstance(getattr(obj, "graph", None), GraphRunnable)


class NodeBuilder:
    """Declares a ``PregelNode`` step by step::

        NodeBuilder().subscribe_only("input").do(fn).write_to("output")
    """

    __slots__ = (
        "_channels",
        "_triggers",
        "_tags",
        "_metadata",
        "_writes",
        "_bound",
        "_retry_policy",
        "_cache_policy",
        "_timeout",
    )

    def __init__(self) -> None:
        self._channels: str | list[str] = []
        self._triggers: list[str] = []
        self._tags: list[str] = []
        self._metadata: dict[str, Any] = {}
        self._writes: list[Any] = []
        self._bound: Any = DEFAULT_BOUND
        self._retry_policy: list[RetryPolicy] = []
        self._cache_policy: CachePolicy[Any] | None = None
        self._timeout: TimeoutPolicy | None = None

    def subscribe_only(self, channel: str) -> NodeBuilder:
        """Run when ``channel`` is written, with its value as the input."""
        if self._channels:
            raise ValueError(
                "Cannot subscribe to single channels when other channels are already subscribed to"
            )
        self._channels = channel
        self._triggers.append(channel)
        return self

    def subscribe_to(self, *channels: str, read: bool = True) -> NodeBuilder:
        """Run when any of ``channels`` is written; with ``read``, their values are in the
        input dict."""
        if isinstance(self._channels, str):
            raise ValueError("Cannot subscribe to channels when subscribed to a single channel")
        if read:
            self._channels.extend(channels)
        self._triggers.extend(channels)
        return self

    def read_from(self, *channels: str) -> NodeBuilder:
        """Also put ``channels`` in the input dict, without running on their writes."""
        if isinstance(self._channels, str):
            raise ValueError("Cannot read additional channels when subscribed to a single channel")
        self._channels.extend(channels)
        return self

    def do(self, node: Any) -> NodeBuilder:
        """Pass the input (or the previous step's output) through ``node``: a function, a
        compiled graph or any runnable."""
        if not callable(node) and not hasattr(node, "ainvoke"):
            raise TypeError(f"NodeBuilder.do() takes a function, a graph or a runnable, got {node!r}")
        self._bound = node if self._bound is DEFAULT_BOUND else RunnableSeq(self._bound, node)
        return self

    def write_to(self, *channels: str | ChannelWriteEntry, **kwargs: Any) -> NodeBuilder:
        """Write the output to ``channels``; ``name=value`` writes a fixed value, or
        ``name=fn`` writes ``fn(output)``."""
        for c in channels:
            if isinstance(c, str):
                self._writes.append(ChannelWriteEntry(c))
            elif isinstance(c, (ChannelWriteEntry, ChannelWriteTupleEntry, Send)):
                self._writes.append(c)
            else:
                raise TypeError(f"write_to() takes channel names or ChannelWriteEntry objects, got {c!r}")
        for k, v in kwargs.items():
            self._writes.append(ChannelWriteEntry(k, mapper=v) if callable(v) else ChannelWriteEntry(k, value=v))
        return self

    def meta(self, *tags: str, **metadata: Any) -> NodeBuilder:
        """Tag the node and add metadata (seen in its config and streamed events)."""
        self._tags.extend(tags)
        self._metadata.update(metadata)
        return self

    def add_retry_policies(self, *policies: RetryPolicy) -> NodeBuilder:
        """Retry the node per these policies (the first that matches an error applies)."""
        self._retry_policy.extend(policies)
        return self

    def add_cache_policy(self, policy: CachePolicy[Any]) -> NodeBuilder:
        """Serve the node's writes from the graph's cache for inputs seen before."""
        self._cache_policy = policy
        return self

    def set_timeout(self, timeout: float | timedelta | TimeoutPolicy | None) -> NodeBuilder:
        """Fail an attempt that runs longer than ``timeout``."""
        self._timeout = TimeoutPolicy.coerce(timeout)
        return self

    def build(self) -> PregelNode:
        """The ``PregelNode`` declared so far."""
        return PregelNode(
            channels=self._channels,
            triggers=self._triggers,
            tags=self._tags,
            metadata=self._metadata,
            writers=[ChannelWrite(self._writes)],
            bound=self._bound,
            retry_policy=self._retry_policy,
            cache_policy=self._cache_policy,
            timeout=self._timeout,
        )
