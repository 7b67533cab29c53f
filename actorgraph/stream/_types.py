"""The protocol event envelope and the ``StreamTransformer`` extension point.

A run's raw stream parts (``values``, ``messages``, ``tasks`` ...) are wrapped in one
uniform envelope (``ProtocolEvent``) and passed through a pipeline of transformers, each
of which may build projections (``StreamChannel``s and the like) out of them.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Coroutine
from typing import Any, ClassVar, Literal

from typing_extensions import NotRequired, TypedDict

__all__ = ("ProtocolEvent", "StreamTransformer", "transformer_requires_async")

_log = logging.getLogger("actorgraph.stream")


class _ProtocolEventParams(TypedDict):
    """What a protocol event carries. ``timestamp`` is wall-clock milliseconds (it can go
    backwards); order events by ``ProtocolEvent.seq``."""

    namespace: list[str]
    timestamp: int
    data: Any
    interrupts: NotRequired[tuple[Any, ...]]


class ProtocolEvent(TypedDict):
    """One stream part in the protocol envelope.

    ``method`` is the stream mode (or ``custom:<name>`` / a native channel's name for
    events forwarded from transformer channels); ``seq`` is a monotonic number the root
    mux gives every event it keeps.
    """

    type: Literal["event"]
    event_id: NotRequired[str]
    seq: NotRequired[int]
    method: str
    params: _ProtocolEventParams


class StreamTransformer(ABC):
    """Observes protocol events and builds projections of them.

    Subclasses implement ``init()`` (the projection dict: its keys become
    ``run.extensions`` entries, and attributes of the run stream when the class sets
    ``_native = True``) and ``process()`` (return False to keep an event out of the main
    event log) or its async twin ``aprocess()``. ``finalize``/``fail`` (and ``afinalize``/
    ``afail``) are optional end-of-run hooks; ``StreamChannel``s in the projection are
    closed or failed by the mux itself.

    Class options:

    - ``required_stream_modes``: the stream modes the graph must produce for this
      transformer; a ``stream_events(version="v3")`` run asks the graph for the union.
    - ``requires_async``: needs a running event loop (e.g. it calls ``schedule()``); it
      then can't be registered on a sync run. Overriding ``aprocess``/``afinalize``/
      ``afail`` implies it, unless ``supports_sync`` says the sync lane works too.
    - ``before_builtins``: register ahead of the built-in transformers, so in-place edits
      of events (redaction ...) are what the built-ins see.
    """

    requires_async: ClassVar[bool] = False
    supports_sync: ClassVar[bool] = False
    required_stream_modes: ClassVar[tuple[str, ...]] = ()
    before_builtins: ClassVar[bool] = False

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        self.scope: tuple[str, ...] = scope

    @abstractmethod
    def init(self) -> dict[str, Any]:
        """The projections this transformer offers, by name."""

    def _on_register(self, mux: Any) -> None:
        """Called once the mux has wired this transformer in (a hook for transformers
        that need the mux itself, e.g. to build child muxes)."""

    def process(self, event: ProtocolEvent) -> bool:
        """See one event (sync lane). False keeps it out of the main event log."""
        raise NotImplementedError(f"{type(self).__name__} must override process() or aprocess()")

    async def aprocess(self, event: ProtocolEvent) -> bool:
        """See one event (async lane); awaited before the next transformer sees it."""
        return self.process(event)

    def finalize(self) -> None:
        """The run ended normally (sync lane)."""

    async def afinalize(self) -> None:
        """The run ended normally (async lane); scheduled work has finished by now."""
        self.finalize()

    def fail(self, err: BaseException) -> None:
        """The run ended with ``err`` (sync lane)."""

    async def afail(self, err: BaseException) -> None:
        """The run ended with ``err`` (async lane); scheduled work was cancelled first."""
        self.fail(err)

    def schedule(
        self,
        coro: Coroutine[Any, Any, Any],
        *,
        on_error: Literal["log", "raise"] = "log",
    ) -> Any:
        """Run ``coro`` alongside the stream, owned by the mux: it is awaited before
        ``afinalize`` and cancelled before ``afail``. ``on_error="log"`` logs a failure;
        ``"raise"`` makes it fail the run. Needs a running asyncio loop (``astream``)."""
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                f"{type(self).__name__}.schedule() requires a running event loop: this "
                "transformer must run under astream_events(), not stream_events(). Set "
                "requires_async = True on the class so registering it on a sync run fails early."
            ) from None
        task = loop.create_task(self._logged(coro) if on_error == "log" else coro)
        tasks = self._scheduled_task_set()
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task

    @staticmethod
    async def _logged(coro: Coroutine[Any, Any, Any]) -> Any:
        import asyncio

        try:
            return await coro
        except asyncio.CancelledError:
            raise
        except BaseException:
            _log.exception("a task scheduled by a StreamTransformer failed")
            return None

    def _scheduled_task_set(self) -> set[Any]:
        # made on first use: subclasses needn't call super().__init__()
        tasks: set[Any] | None = self.__dict__.get("_stream_scheduled_tasks")
        if tasks is None:
            tasks = self.__dict__["_stream_scheduled_tasks"] = set()
        return tasks


_ASYNC_HOOKS = ("aprocess", "afinalize", "afail")


def transformer_requires_async(transformer: StreamTransformer) -> bool:
    """Whether ``transformer`` can only run on an async (``astream``) run."""
    if transformer.requires_async:
        return True
    if transformer.supports_sync:
        return False
    cls = type(transformer)
    return any(getattr(cls, name) is not getattr(StreamTransformer, name) for name in _ASYNC_HOOKS)
