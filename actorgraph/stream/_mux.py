"""``StreamMux``: routes a run's protocol events through its transformers into the main log.

One mux per scope: the root run's, plus one child ("mini") mux per discovered subgraph,
built from the same transformer factories so every scope gets fresh transformers. The
mux owns the main event log, numbers the events it keeps (root only), auto-wires the
``StreamChannel``s transformers return, and closes or fails all of them when the run ends.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from actorgraph.stream._channel import StreamChannel
from actorgraph.stream._types import ProtocolEvent, StreamTransformer, transformer_requires_async

__all__ = ("StreamMux", "TransformerFactory")

TransformerFactory = Callable[[tuple[str, ...]], StreamTransformer]
"""Builds a transformer for a scope: ``factory(scope)``. A transformer class whose
constructor takes the scope is one; ``lambda scope: T(scope, option=...)`` configures one."""


class StreamMux:
    """Dispatches protocol events through an ordered pipeline of transformers.

    ``factories`` build the transformers (again for each child scope, see
    ``_make_child``); ``transformers`` are ready-made instances registered on this mux
    only. Transformers with ``before_builtins`` are registered first; otherwise the
    given order is kept. ``is_async`` picks the lane: ``push``/``close``/``fail`` or
    ``apush``/``aclose``/``afail``, and the iteration protocol of every channel.

    ``extensions`` is the merged projection dict (read it, don't change it);
    ``native_keys`` are the keys of ``_native`` transformers.
    """

    def __init__(
        self,
        transformers: list[StreamTransformer] | None = None,
        *,
        is_async: bool = False,
        factories: list[TransformerFactory] | None = None,
        scope: tuple[str, ...] = (),
        _assign_seq: bool = True,
    ) -> None:
        self.is_async = is_async
        self.scope: tuple[str, ...] = scope
        # child muxes share the root's event objects: only the root stamps ``seq``
        self._assign_seq = _assign_seq
        self._seq = 0
        self._push_seq = 0
        self._events: StreamChannel[ProtocolEvent] = StreamChannel()
        self._events._bind(is_async=is_async)
        self._events._bind_mux(self)
        self._transformers: list[StreamTransformer] = []
        self._channels: list[StreamChannel[Any]] = []
        self.extensions: dict[str, Any] = {}
        self.native_keys: set[str] = set()
        self._projection_owners: dict[str, str] = {}
        self._transformer_by_key: dict[str, StreamTransformer] = {}
        self._factories: list[TransformerFactory] | None = list(factories) if factories is not None else None
        self._pump_fn: Callable[[], bool] | None = None
        self._apump_fn: Callable[[], Awaitable[bool]] | None = None
        # factories first (they propagate to child scopes), then the ready-made instances;
        # in each group the before_builtins lane goes first
        if factories is not None:
            for t in _lanes([factory(scope) for factory in factories]):
                self._register(t)
        for t in _lanes(list(transformers or ())):
            self._register(t)

    def transformer_by_key(self, key: str) -> StreamTransformer | None:
        """The transformer whose projection has ``key``."""
        return self._transformer_by_key.get(key)

    def _next_push_seq(self) -> int:
        self._push_seq += 1
        return self._push_seq

    # -- pumps and child muxes ------------------------------------------------------------
    def bind_pump(self, fn: Callable[[], bool]) -> None:
        """Make every cursor of this mux (main log, projections, transformers that ask for
        it via ``_bind_pump``) pull more events through ``fn`` when it runs dry."""
        self._pump_fn = fn
        self._events._request_more = fn
        for ch in self._channels:
            ch._request_more = fn
        for t in self._transformers:
            bind = getattr(t, "_bind_pump", None)
            if bind is not None:
                bind(fn)

    def bind_apump(self, fn: Callable[[], Awaitable[bool]]) -> None:
        """``bind_pump`` for the async lane."""
        self._apump_fn = fn
        self._events._arequest_more = fn
        for ch in self._channels:
            ch._arequest_more = fn
        for t in self._transformers:
            bind = getattr(t, "_bind_apump", None)
            if bind is not None:
                bind(fn)

    def _make_child(self, scope: tuple[str, ...]) -> StreamMux:
        """A mux for the subgraph at ``scope``: fresh transformers from the same factories,
        the same pump, no ``seq`` numbering."""
        if self._factories is None:
            raise RuntimeError(
                "StreamMux._make_child needs a mux built with factories=: ready-made "
                "transformer instances can't be cloned into another scope"
            )
        child = StreamMux(factories=self._factories, is_async=self.is_async, scope=scope, _assign_seq=False)
        if self._pump_fn is not None:
            child.bind_pump(self._pump_fn)
        if self._apump_fn is not None:
            child.bind_apump(self._apump_fn)
        return child

    # -- registration -------------------------------------------------------------------
    def _register(self, transformer: StreamTransformer) -> None:
        name = type(transformer).__name__
        if transformer_requires_async(transformer) and not self.is_async:
            raise RuntimeError(
                f"{name} requires an async run (it overrides aprocess/afinalize/afail or sets "
                "requires_async=True): use astream_events(), not stream_events()"
            )
        projection = transformer.init()
        if not isinstance(projection, dict):
            raise TypeError(f"StreamTransformer.init() must return a dict, got {type(projection).__name__}")
        clash = sorted(set(projection) & set(self.extensions))
        if clash:
            owners = ", ".join(f"{key!r} (owned by {self._projection_owners[key]})" for key in clash)
            raise ValueError(
                f"Transformer {name} returned projection keys that conflict with registered ones: {owners}"
            )
        native = bool(getattr(transformer, "_native", False))
        self._transformers.append(transformer)
        for value in projection.values():
            if isinstance(value, StreamChannel):
                self._adopt(value, native)
        self.extensions.update(projection)
        for key in projection:
            self._projection_owners[key] = name
            self._transformer_by_key[key] = transformer
        if native:
            self.native_keys.update(projection)
        transformer._on_register(self)

    def _adopt(self, channel: StreamChannel[Any], native: bool) -> None:
        channel._bind(is_async=self.is_async)
        channel._bind_mux(self)
        self._channels.append(channel)
        if channel.name is not None:
            method = channel.name if native else f"custom:{channel.name}"
            channel._wire(functools.partial(self._forward, method))

    def _forward(self, method: str, item: Any) -> None:
        """A named channel's push as a protocol event in the main log. It skips the
        transformers (a transformer pushing while processing would see itself again)."""
        event: ProtocolEvent = {
            "type": "event",
            "method": method,
            "params": {"namespace": [], "timestamp": int(time.time() * 1000), "data": item},
        }
        if self._assign_seq:
            self._seq += 1
            event["seq"] = self._seq
        self._events.push(event)

    # -- sync lane ------------------------------------------------------------------------
    def push(self, event: ProtocolEvent) -> None:
        """Show ``event`` to every transformer in order, then log it unless one said no.
        ``seq`` is given just before logging, so events channels forwarded meanwhile
        come first, in order."""
        keep = True
        for t in self._transformers:
            if not t.process(event):
                keep = False
        if keep:
            self._log(event)

    def _log(self, event: ProtocolEvent) -> None:
        if self._assign_seq:
            self._seq += 1
            event["seq"] = self._seq
        self._events.push(event)

    def close(self) -> None:
        """Finalize every transformer, then close every channel and the main log; the
        first ``finalize`` error is raised once everything is closed."""
        first: BaseException | None = None
        for t in self._transformers:
            try:
                t.finalize()
            except BaseException as exc:
                if first is None:
                    first = exc
        self._close_channels()
        if first is not None:
            raise first

    def fail(self, err: BaseException) -> None:
        """Tell every transformer the run failed, and fail every channel and the main log."""
        for t in self._transformers:
            try:
                t.fail(err)
            except BaseException:
                pass
        self._fail_channels(err)

    def _close_channels(self) -> None:
        for ch in self._channels:
            if not ch._closed:
                ch.close()
        self._events.close()

    def _fail_channels(self, err: BaseException) -> None:
        for ch in self._channels:
            if not ch._closed:
                ch.fail(err)
        # even once closed: a run whose finalize failed ends with that error
        self._events.fail(err)

    # -- async lane -----------------------------------------------------------------------
    async def apush(self, event: ProtocolEvent) -> None:
        """``push`` on the async lane: each ``aprocess`` is awaited before the next."""
        keep = True
        for t in self._transformers:
            if not await t.aprocess(event):
                keep = False
        if keep:
            self._log(event)

    async def aclose(self) -> None:
        """Wait for the transformers' scheduled tasks (a failure of an ``on_error="raise"``
        one is raised), then ``afinalize`` each and close the channels."""
        pending = self._scheduled()
        if pending:
            import asyncio

            results = await asyncio.gather(*pending, return_exceptions=True)
            for r in results:
                if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
                    raise r
        first: BaseException | None = None
        for t in self._transformers:
            try:
                await t.afinalize()
            except BaseException as exc:
                if first is None:
                    first = exc
        self._close_channels()
        if first is not None:
            raise first

    async def afail(self, err: BaseException) -> None:
        """Cancel the scheduled tasks and wait for them, then ``afail`` each transformer
        and fail the channels."""
        pending = self._scheduled()
        if pending:
            import asyncio

            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for t in self._transformers:
            try:
                await t.afail(err)
            except BaseException:
                pass
        self._fail_channels(err)

    def _scheduled(self) -> list[Any]:
        return [
            task
            for t in self._transformers
            for task in getattr(t, "_stream_scheduled_tasks", ())
            if not task.done()
        ]


def _lanes(transformers: list[StreamTransformer]) -> list[StreamTransformer]:
    """``before_builtins`` transformers first, each lane in the given order."""
    early = [t for t in transformers if getattr(t, "before_builtins", False)]
    if not early:
        return transformers
    return early + [t for t in transformers if not getattr(t, "before_builtins", False)]
