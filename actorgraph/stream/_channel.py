"""``StreamChannel``: a single-consumer queue a transformer pushes projection items into.

The consumer's iteration drives the run: when the channel is empty, its cursor asks the
run stream's pump for one more graph event (``_request_more``), so nothing is produced
faster than it is read and a channel nobody subscribed to keeps nothing (pushes before
the first subscription are dropped). A named channel also has each push forwarded into
its mux's main event log (wired by the mux).
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from actorgraph.stream._mux import StreamMux

__all__ = ("StreamChannel",)

T = TypeVar("T")


class StreamChannel(Generic[T]):
    """A drainable, single-subscriber queue of projection items.

    ``name``: when set, the mux forwards every push into the main event log as a
    protocol event (method ``name`` for a native transformer's channel, ``custom:name``
    otherwise). A channel must be bound to the sync or the async lane (the mux does it)
    before it can be iterated, and then only that lane's iteration works. A second
    subscriber is refused: ``tee(n)`` / ``atee(n)`` fan out.
    """

    def __init__(self, name: str | None = None, *, maxlen: int | None = None) -> None:
        if maxlen is not None and maxlen <= 0:
            raise ValueError("StreamChannel maxlen must be a positive int or None")
        self.name = name
        # (push stamp, item): the stamps order items across channels (``interleave``)
        self._items: deque[tuple[int, T]] = deque()
        self._maxlen = maxlen  # accepted for compatibility; the pull-driven pump bounds memory
        self._closed = False
        self._error: BaseException | None = None
        self._is_async: bool | None = None
        self._subscribed = False
        self._request_more: Callable[[], bool] | None = None
        self._arequest_more: Callable[[], Awaitable[bool]] | None = None
        self._wire_fn: Callable[[T], None] | None = None
        self._mux: StreamMux | None = None

    # -- wiring (by the mux) -------------------------------------------------------------
    def _bind_mux(self, mux: StreamMux) -> None:
        self._mux = mux

    def _bind(self, *, is_async: bool) -> None:
        if self._is_async is not None:
            raise RuntimeError("StreamChannel is already bound to a lane; bind it once")
        self._is_async = is_async

    def _wire(self, fn: Callable[[T], None]) -> None:
        self._wire_fn = fn

    # -- producing -----------------------------------------------------------------------
    def push(self, item: T) -> None:
        """Add an item (kept only once someone subscribed), and forward it if wired."""
        if self._subscribed:
            if self._closed:
                raise RuntimeError("Cannot push to a closed StreamChannel")
            mux = self._mux
            self._items.append((mux._next_push_seq() if mux is not None else 0, item))
        wire = self._wire_fn
        if wire is not None:
            wire(item)

    def close(self) -> None:
        """No more items will come."""
        self._closed = True

    def fail(self, err: BaseException) -> None:
        """No more items will come; the subscriber gets ``err`` after the queued ones."""
        self._error = err
        self._closed = True

    # -- consuming -----------------------------------------------------------------------
    def _subscribe(self, want_async: bool) -> None:
        if self._is_async is None:
            raise TypeError(
                "StreamChannel has not been bound yet: register its transformer with a StreamMux "
                "(stream_events / astream_events do) before iterating it"
            )
        if self._is_async and not want_async:
            raise TypeError("This StreamChannel is bound to async mode: iterate it with 'async for'")
        if want_async and not self._is_async:
            raise TypeError("This StreamChannel is bound to sync mode: iterate it with 'for'")
        if self._subscribed:
            raise RuntimeError("StreamChannel already has a subscriber; use .tee(n) / .atee(n) for fan-out")
        self._subscribed = True

    def __iter__(self) -> Iterator[T]:
        self._subscribe(False)
        return self._cursor()

    def _cursor(self) -> Iterator[T]:
        items = self._items
        while True:
            if items:
                yield items.popleft()[1]
            elif self._closed:
                if self._error is not None:
                    raise self._error
                return
            else:
                more = self._request_more
                if more is None or (not more() and not items and not self._closed):
                    return

    def __aiter__(self) -> AsyncIterator[T]:
        self._subscribe(True)
        return self._acursor()

    async def _acursor(self) -> AsyncIterator[T]:
        items = self._items
        while True:
            if items:
                yield items.popleft()[1]
            elif self._closed:
                if self._error is not None:
                    raise self._error
                return
            else:
                more = self._arequest_more
                if more is None or (not await more() and not items and not self._closed):
                    return

    # -- fan-out ------------------------------------------------------------------------
    def tee(self, n: int = 2) -> tuple[Iterator[T], ...]:
        """Subscribe once and return ``n`` independent iterators over the same items."""
        if n < 1:
            raise ValueError("tee() requires n >= 1")
        source = iter(self)
        buffers: list[deque[T]] = [deque() for _ in range(n)]
        state = {"done": False}

        def branch(buf: deque[T]) -> Iterator[T]:
            while True:
                if buf:
                    yield buf.popleft()
                    continue
                if state["done"]:
                    return
                try:
                    item = next(source)
                except StopIteration:
                    state["done"] = True
                    return
                for b in buffers:
                    b.append(item)

        return tuple(branch(b) for b in buffers)

    def atee(self, n: int = 2) -> tuple[AsyncIterator[T], ...]:
        """Async ``tee``: one pull at a time from the shared cursor, copied to every branch."""
        import anyio

        if n < 1:
            raise ValueError("atee() requires n >= 1")
        source = self.__aiter__()
        buffers: list[deque[T]] = [deque() for _ in range(n)]
        state: dict[str, Any] = {"done": False, "error": None}
        lock = anyio.Lock()

        async def branch(buf: deque[T]) -> AsyncIterator[T]:
            while True:
                if buf:
                    yield buf.popleft()
                    continue
                if state["done"]:
                    if state["error"] is not None:
                        raise state["error"]
                    return
                async with lock:
                    if buf or state["done"]:
                        continue
                    try:
                        item = await source.__anext__()
                    except StopAsyncIteration:
                        state["done"] = True
                        continue
                    except Exception as exc:
                        state["error"] = exc
                        state["done"] = True
                        continue
                    for b in buffers:
                        b.append(item)

        return tuple(branch(b) for b in buffers)
