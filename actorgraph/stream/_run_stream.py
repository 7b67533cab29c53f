"""The handles ``stream_events(version="v3")`` returns: ``GraphRunStream`` (sync) and
``AsyncGraphRunStream``, plus the per-subgraph handles ``SubgraphTransformer`` builds.

There is no background reader: whoever iterates a projection (or the raw events, or asks
for ``output``) pulls the graph's next stream part through the pump, which pushes it
through the mux. A projection nobody iterates keeps nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

import anyio

from actorgraph.stream._channel import StreamChannel
from actorgraph.stream._convert import convert_to_protocol_event
from actorgraph.stream._mux import StreamMux
from actorgraph.stream._types import ProtocolEvent

if TYPE_CHECKING:
    from actorgraph.stream._lifecycle import LifecyclePayload, SubgraphStatus

__all__ = ("AsyncGraphRunStream", "AsyncSubgraphRunStream", "GraphRunStream", "SubgraphRunStream")


def _missing_projection(run: object, name: str) -> NoReturn:
    # read the mux from __dict__: on a half-built instance ``run._mux`` would come back here
    mux = run.__dict__.get("_mux")
    registered = ", ".join(sorted(mux.native_keys)) if mux is not None else ""
    raise AttributeError(
        f"{type(run).__name__!r} object has no attribute {name!r} "
        f"(registered projections: {registered or 'none'})"
    )


class _RunState:
    """What every run handle tracks from its own scope's ``values`` events."""

    _mux: StreamMux
    _latest: Any
    _interrupted: bool
    _interrupts: list[Any]
    _scope_list: list[str]

    def _observe_event(self, event: ProtocolEvent) -> None:
        if event["method"] != "values":
            return
        params = event["params"]
        if params["namespace"] != self._scope_list:
            return
        self._latest = params["data"]
        interrupts = params.get("interrupts", ())
        if interrupts:
            self._interrupted = True
            self._interrupts.extend(interrupts)

    def _raise_if_failed(self) -> None:
        err = self._mux._events._error
        if err is not None:
            raise err


class GraphRunStream(_RunState):
    """A sync run, driven by the caller's iteration.

    Projections: ``run.values``, ``run.messages``, ``run.lifecycle``, ``run.subgraphs``
    always, plus those of the transformers given to ``compile(transformers=...)`` /
    ``stream_events(transformers=...)`` (native ones as attributes, all of them in
    ``run.extensions``). Iterating the run itself yields every protocol event. Each
    projection has one subscriber (``tee(n)`` for more). ``output``, ``interrupted``
    and ``interrupts`` run the graph to the end first; a failed run raises its error.
    """

    values: StreamChannel[dict[str, Any]]
    messages: StreamChannel[Any]
    lifecycle: StreamChannel[LifecyclePayload]
    subgraphs: StreamChannel[SubgraphRunStream]
    updates: StreamChannel[dict[str, Any]]
    custom: StreamChannel[Any]
    checkpoints: StreamChannel[dict[str, Any]]
    debug: StreamChannel[dict[str, Any]]
    tasks: StreamChannel[dict[str, Any]]

    def __getattr__(self, name: str) -> StreamChannel[Any]:
        # only reached for names that are not attributes: unknown projections
        _missing_projection(self, name)

    def __init__(self, graph_iter: Iterator[Any] | None, mux: StreamMux, *, wire_pump: bool = True) -> None:
        self._graph_iter = graph_iter
        self._mux = mux
        self.extensions: Mapping[str, Any] = MappingProxyType(mux.extensions)
        self._exhausted = False
        self._latest: Any = None
        self._interrupted = False
        self._interrupts: list[Any] = []
        self._scope_list: list[str] = list(mux.scope)
        for key in mux.native_keys:
            setattr(self, key, mux.extensions[key])
        if wire_pump:
            mux.bind_pump(self._pump_next)

    def _pump_next(self) -> bool:
        """Pull one stream part from the graph into the mux. False once the graph is done
        (the mux is then closed, or failed with the run's error)."""
        if self._exhausted or self._graph_iter is None:
            return False
        try:
            part = next(self._graph_iter)
        except StopIteration:
            self._exhausted = True
            try:
                self._mux.close()
            except Exception as exc:  # a transformer's finalize failed: so does the run
                self._mux.fail(exc)
            return False
        except Exception as exc:
            self._exhausted = True
            self._mux.fail(exc)
            return False
        try:
            event = convert_to_protocol_event(part)
            self._observe_event(event)
            self._mux.push(event)
        except Exception as exc:
            # a transformer failed: the run fails with its error
            self._exhausted = True
            self._mux.fail(exc)
            self._stop_graph()
            return False
        return True

    def _stop_graph(self) -> None:
        graph_iter, self._graph_iter = self._graph_iter, None
        close = getattr(graph_iter, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                pass

    def abort(self) -> None:
        """Stop the run now: cancel what is running and close every projection. Idempotent."""
        if self._exhausted:
            return
        self._exhausted = True
        self._stop_graph()
        try:
            self._mux.close()
        except Exception:
            pass

    def __enter__(self) -> GraphRunStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.abort()

    def _run_to_end(self) -> None:
        pump = self._pump_next
        while pump():
            pass
        self._raise_if_failed()

    @property
    def output(self) -> Any:
        """The run's final state (its last ``values`` at this scope)."""
        self._run_to_end()
        return self._latest

    @property
    def interrupted(self) -> bool:
        """Whether the run paused at an interrupt."""
        self._run_to_end()
        return self._interrupted

    @property
    def interrupts(self) -> list[Any]:
        """The interrupts that paused the run."""
        self._run_to_end()
        return self._interrupts

    def __iter__(self) -> Iterator[ProtocolEvent]:
        return iter(self._mux._events)

    def interleave(self, *names: str) -> Iterator[tuple[str, Any]]:
        """Iterate several projections as one, yielding ``(name, item)`` in the order the
        items were pushed. The channels are subscribed for as long as this runs."""
        channels: dict[str, StreamChannel[Any]] = {}
        try:
            for name in names:
                ch = self.extensions[name]
                if not isinstance(ch, StreamChannel):
                    raise TypeError(f"interleave() takes StreamChannel projections; {name!r} is a {type(ch).__name__}")
                if ch._is_async is None:
                    raise TypeError(f"StreamChannel {name!r} has not been bound yet")
                if ch._is_async:
                    raise TypeError(f"StreamChannel {name!r} is bound to async mode: sync interleave() can't read it")
                if ch._subscribed:
                    raise RuntimeError(f"StreamChannel {name!r} already has a subscriber; use .tee(n) for fan-out")
                ch._subscribed = True
                channels[name] = ch
            open_ = dict(channels)
            while open_:
                best_name: str | None = None
                best_stamp = 0
                for name, ch in list(open_.items()):
                    if ch._items:
                        stamp = ch._items[0][0]
                        if best_name is None or stamp < best_stamp:
                            best_name, best_stamp = name, stamp
                    elif ch._closed:
                        if ch._error is not None:
                            raise ch._error
                        del open_[name]
                if best_name is not None:
                    yield best_name, open_[best_name]._items.popleft()[1]
                    continue
                if not open_:
                    return
                pump = self._mux._pump_fn
                if pump is None or not pump():
                    # nothing more will come: finish what closed, stop if nothing did
                    finished = False
                    for name, ch in list(open_.items()):
                        if not ch._items and ch._closed:
                            if ch._error is not None:
                                raise ch._error
                            del open_[name]
                            finished = True
                    if not finished and not any(ch._items for ch in open_.values()):
                        return
        finally:
            for ch in channels.values():
                ch._subscribed = False


class AsyncGraphRunStream(_RunState):
    """An async run, driven by the callers' iteration.

    As ``GraphRunStream``, with ``async for`` and awaitable ``output()``,
    ``interrupted()`` and ``interrupts()``. Several tasks may read projections at once:
    one of them pulls from the graph at a time and the others wait for its step. Use
    ``async with`` (or ``abort()``) to stop a run that is not read to the end.
    """

    values: StreamChannel[dict[str, Any]]
    messages: StreamChannel[Any]
    lifecycle: StreamChannel[LifecyclePayload]
    subgraphs: StreamChannel[AsyncSubgraphRunStream]
    updates: StreamChannel[dict[str, Any]]
    custom: StreamChannel[Any]
    checkpoints: StreamChannel[dict[str, Any]]
    debug: StreamChannel[dict[str, Any]]
    tasks: StreamChannel[dict[str, Any]]

    def __getattr__(self, name: str) -> StreamChannel[Any]:
        _missing_projection(self, name)

    def __init__(self, graph_aiter: AsyncIterator[Any] | None, mux: StreamMux, *, wire_pump: bool = True) -> None:
        self._graph_aiter = graph_aiter
        self._mux = mux
        self.extensions: Mapping[str, Any] = MappingProxyType(mux.extensions)
        self._exhausted = False
        self._latest: Any = None
        self._interrupted = False
        self._interrupts: list[Any] = []
        self._scope_list: list[str] = list(mux.scope)
        self._pump_cond: anyio.Condition | None = None  # made in the event loop, on first use
        self._pumping = False
        self._pull_scope: anyio.CancelScope | None = None
        self._pull_done: anyio.Event | None = None
        self._aborting = False
        for key in mux.native_keys:
            setattr(self, key, mux.extensions[key])
        if wire_pump:
            mux.bind_apump(self._apump_next)

    def _cond(self) -> anyio.Condition:
        cond = self._pump_cond
        if cond is None:
            cond = self._pump_cond = anyio.Condition()
        return cond

    async def _apump_next(self) -> bool:
        """Pull one stream part into the mux, or, if another task is pulling, wait for its
        step. False once the graph is done."""
        cond = self._cond()
        async with cond:
            if self._exhausted or self._graph_aiter is None:
                return False
            if self._pumping:
                await cond.wait()
                return not self._exhausted
            self._pumping = True
            self._pull_done = anyio.Event()
        try:
            return await self._pull_one()
        finally:
            self._pull_done.set()
            async with cond:
                self._pumping = False
                cond.notify_all()

    async def _pull_one(self) -> bool:
        graph_aiter = self._graph_aiter
        assert graph_aiter is not None
        # in a cancel scope of its own, so abort() from another task can stop the pull
        # (and through it the nodes running), which closing the generator can't while it runs
        scope = self._pull_scope = anyio.CancelScope()
        part: Any = _NOTHING
        try:
            with scope:
                part = await graph_aiter.__anext__()
        except StopAsyncIteration:
            self._exhausted = True
            await self._finish(None)
            return False
        except Exception as exc:
            self._exhausted = True
            await self._finish(exc)
            return False
        finally:
            self._pull_scope = None
        if part is _NOTHING:  # aborted mid-pull
            self._exhausted = True
            return False
        try:
            event = convert_to_protocol_event(part)
            self._observe_event(event)
            await self._mux.apush(event)
        except Exception as exc:
            self._exhausted = True
            await self._finish(exc)
            await self._close_graph(graph_aiter)
            return False
        return True

    async def _finish(self, exc: BaseException | None) -> None:
        if exc is None:
            try:
                await self._mux.aclose()
                return
            except Exception as close_error:
                exc = close_error
        await self._mux.afail(exc)

    async def _close_graph(self, graph_aiter: Any) -> None:
        self._graph_aiter = None
        aclose = getattr(graph_aiter, "aclose", None)
        if aclose is not None:
            try:
                await aclose()
            except Exception:
                pass

    async def abort(self) -> None:
        """Stop the run now: cancel a pull in flight (and so the nodes running), close the
        graph's stream and every projection. Idempotent."""
        cond = self._cond()
        async with cond:
            if self._exhausted:
                return
            self._exhausted = True
            self._aborting = True
            graph_aiter, self._graph_aiter = self._graph_aiter, None
            scope = self._pull_scope
            done = self._pull_done if self._pumping else None
            cond.notify_all()
        if scope is not None:
            scope.cancel()
        if done is not None:
            await done.wait()
        if graph_aiter is not None:
            await self._close_graph(graph_aiter)
        try:
            await self._mux.aclose()
        except Exception:
            pass

    async def __aenter__(self) -> AsyncGraphRunStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.abort()

    async def _run_to_end(self) -> None:
        pump = self._apump_next
        while await pump():
            pass
        self._raise_if_failed()

    async def output(self) -> Any:
        """Run to the end and return the final state."""
        await self._run_to_end()
        return self._latest

    async def interrupted(self) -> bool:
        """Run to the end and say whether the run paused at an interrupt."""
        await self._run_to_end()
        return self._interrupted

    async def interrupts(self) -> list[Any]:
        """Run to the end and return the interrupts that paused it."""
        await self._run_to_end()
        return self._interrupts

    def __aiter__(self) -> AsyncIterator[ProtocolEvent]:
        return self._mux._events.__aiter__()


_NOTHING: Any = object()


class SubgraphRunStream(GraphRunStream):
    """A subgraph seen in a sync run: its own projections, fed by the root run's pump.

    ``path`` is its namespace, ``graph_name`` the node (or agent) name, ``trigger_call_id``
    the id of the parent task that runs it; ``status`` goes from ``"started"`` to
    ``"completed"``, ``"failed"`` (with ``error``), ``"interrupted"`` or ``"drained"``.
    Subscribe to its projections inside the loop over ``run.subgraphs``, before reading on.
    """

    path: tuple[str, ...]
    graph_name: str | None
    trigger_call_id: str | None
    status: SubgraphStatus
    error: str | None

    def __init__(
        self,
        mux: StreamMux,
        *,
        path: tuple[str, ...],
        graph_name: str | None = None,
        trigger_call_id: str | None = None,
    ) -> None:
        self._parent_pump_fn: Callable[[], bool] | None = mux._pump_fn
        super().__init__(None, mux, wire_pump=False)
        self.path = path
        self.graph_name = graph_name
        self.trigger_call_id = trigger_call_id
        self.status = "started"
        self.error = None
        self._seen_terminal = False

    def _pump_next(self) -> bool:
        # drive the root run, but not past this subgraph's end
        if self._exhausted or self._seen_terminal or self._mux._events._closed or self._parent_pump_fn is None:
            return False
        return self._parent_pump_fn()


class AsyncSubgraphRunStream(AsyncGraphRunStream):
    """A subgraph seen in an async run (see ``SubgraphRunStream``)."""

    path: tuple[str, ...]
    graph_name: str | None
    trigger_call_id: str | None
    status: SubgraphStatus
    error: str | None

    def __init__(
        self,
        mux: StreamMux,
        *,
        path: tuple[str, ...],
        graph_name: str | None = None,
        trigger_call_id: str | None = None,
    ) -> None:
        self._parent_apump_fn: Callable[[], Awaitable[bool]] | None = mux._apump_fn
        super().__init__(None, mux, wire_pump=False)
        self.path = path
        self.graph_name = graph_name
        self.trigger_call_id = trigger_call_id
        self.status = "started"
        self.error = None
        self._seen_terminal = False

    async def _apump_next(self) -> bool:
        if self._exhausted or self._seen_terminal or self._mux._events._closed or self._parent_apump_fn is None:
            return False
        return await self._parent_apump_fn()
