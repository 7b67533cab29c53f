"""Spawning worker tasks cheaply, sync nodes' worker threads, and the one detached task
behind ``astream``.

This is the only engine module that talks to asyncio or Trio directly. anyio's task group
costs ~20-25 us per spawn here, the native spawn 4-6 us (PERF-NOTES); a fan-out that
suspends spawns one worker per task, so the difference is the product. Likewise a sync
node's thread hop: ``anyio.to_thread`` costs ~75 us (it yields to the loop before handing
the call over), ``run_in_thread`` hands it over at once for ~20 us (on asyncio; Trio and
calls abandoned at a timeout keep anyio's). Everything else
(events, cancel scopes) goes through anyio, and the structure stays the same: a
``WorkerGroup`` is a nursery someone owns, it never exits before its children, and
cancelling it cancels them.
"""

from __future__ import annotations

import os
import queue
from collections import deque
import sys
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel

_ANYIO_THREAD: Any
try:  # where anyio's worker threads keep their loop's token, for ``anyio.from_thread``
    from anyio._core._eventloop import threadlocals as _ANYIO_THREAD
except ImportError:  # pragma: no cover - a future anyio: from_thread then needs token=
    _ANYIO_THREAD = None

from actorgraph.persistence._threads import wait_for_thread

__all__ = (
    "WorkerGroup",
    "DetachedTask",
    "ThreadPort",
    "cancel_scope_class",
    "current_backend",
    "event_class",
    "loop_port",
    "run_in_thread",
    "thread_pool",
)

_SCOPE_CLASSES: dict[str, type[anyio.CancelScope]] = {}


def cancel_scope_class(backend: str) -> type[anyio.CancelScope]:
    """The running backend's own ``CancelScope`` class: instances behave as
    ``anyio.CancelScope()``'s, without its per-call lookup of the running backend (a few
    microseconds; a fan-out whose tasks suspend makes one scope per task)."""
    cls = _SCOPE_CLASSES.get(backend)
    if cls is None:
        cls = _SCOPE_CLASSES[backend] = type(anyio.CancelScope())
    return cls


_EVENT_CLASSES: dict[str, type[anyio.Event]] = {}


def event_class(backend: str) -> type[anyio.Event]:
    """The running backend's own ``Event`` class (as ``cancel_scope_class``): no lookup of
    the running backend per event (a wait in each suspended run makes one)."""
    cls = _EVENT_CLASSES.get(backend)
    if cls is None:
        cls = _EVENT_CLASSES[backend] = type(anyio.Event())
    return cls


def cancellation_requested() -> bool:
    """Whether the running task was asked to cancel (a cancellation exception it sees is
    then the framework's, not one its own code raised). Trio's cancellations can only come
    from a cancel scope, so they always count as requested."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None:
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        if task is not None:
            return task.cancelling() > 0
    return True


def current_backend() -> str:
    """``"asyncio"``, ``"trio"`` or ``"other"`` for the loop running this task."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None:
        try:
            if asyncio.current_task() is not None:
                return "asyncio"
        except RuntimeError:
            pass
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_task()
            return "trio"
        except RuntimeError:
            pass
    return "other"


class WorkerGroup:
    """A nursery for the workers of one run: ``start`` is fire-and-watch, and leaving the
    ``async with`` block waits for every worker. If the block is cancelled, or a worker
    fails, the remaining workers are cancelled."""

    __slots__ = ("backend", "_impl")

    def __init__(self, backend: str | None = None) -> None:
        self.backend = backend  # known when a parent run already asked
        self._impl: Any = None

    async def __aenter__(self) -> WorkerGroup:
        if self.backend is None:
            self.backend = current_backend()
        if self.backend != "asyncio":
            # Trio's nursery must be open before anything starts in it
            self._impl = _AnyioWorkers()
            await self._impl.__aenter__()
        # asyncio's is made at the first start(): most runs never spawn a worker
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        if self._impl is None:
            return None
        return await self._impl.__aexit__(*exc)

    def start(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        if self._impl is None:
            self._impl = _AsyncioWorkers()
        self._impl.start(fn, *args)

    def cancel(self) -> None:
        if self._impl is not None:
            self._impl.cancel()


class _AsyncioWorkers:
    __slots__ = ("_loop", "_tasks", "_idle", "_error", "_cancelled")

    def __init__(self) -> None:
        import asyncio

        self._loop = asyncio.get_running_loop()
        self._tasks: set[Any] = set()
        self._idle: anyio.Event | None = None
        self._error: BaseException | None = None
        self._cancelled = False

    async def __aenter__(self) -> None:
        return None

    def start(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        task: Any = self._loop.create_task(fn(*args))  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._on_done)

    def _on_done(self, task: Any) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            exc = task.exception()
            if exc is not None and self._error is None:
                self._error = exc
                self.cancel()
        if not self._tasks and self._idle is not None:
            self._idle.set()

    def cancel(self) -> None:
        self._cancelled = True
        for task in list(self._tasks):
            # once: a second cancel() (the owner, cancelled again while it waits) would
            # break into the shielded cleanup the first one started
            if not task.cancelling():
                task.cancel()

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> bool | None:
        if exc is not None:
            self.cancel()
        try:
            while self._tasks:
                self._idle = anyio.Event()
                await self._idle.wait()
        except BaseException:
            # the owner was cancelled while waiting: cancel the workers, then still wait
            # for them, so nothing outlives the group
            self.cancel()
            with anyio.CancelScope(shield=True):
                while self._tasks:
                    self._idle = anyio.Event()
                    await self._idle.wait()
            raise
        if self._error is not None and exc is None:
            raise self._error
        return None


class _AnyioWorkers:
    __slots__ = ("_cm", "_tg")

    def __init__(self) -> None:
        self._cm = anyio.create_task_group()
        self._tg: Any = None

    async def __aenter__(self) -> None:
        self._tg = await self._cm.__aenter__()

    def start(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        self._tg.start_soon(fn, *args)

    def cancel(self) -> None:
        self._tg.cancel_scope.cancel()

    async def __aexit__(self, *exc: Any) -> bool | None:
        try:
            return await self._cm.__aexit__(*exc)
        except BaseExceptionGroup as group:
            # workers never raise on purpose; unwrap a single internal failure so the
            # caller sees the real error
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise


class DetachedTask:
    """Runs ``fn()`` in a task of its own, outside the caller's cancel scopes.

    ``astream`` needs this: an async generator must not yield inside a task group (if the
    consumer stops early the generator is closed from another task, which corrupts both
    asyncio's and Trio's scope stacks). So the run lives in this task and the generator
    only reads a queue. ``fn`` must not raise: it reports its outcome through its own
    channel. ``cancel()`` + ``wait()`` stop it from any task.
    """

    __slots__ = ("_task", "_done", "_scope")

    def __init__(self, fn: Callable[[], Awaitable[None]]) -> None:
        self._task: Any = None
        self._done = anyio.Event()
        # made here, entered in the task: a cancel() that comes before the task first
        # runs is not lost
        self._scope = anyio.CancelScope()
        backend = current_backend()

        async def body() -> None:
            try:
                with self._scope:
                    await fn()
            finally:
                self._done.set()

        if backend == "asyncio":
            import asyncio

            self._task = asyncio.get_running_loop().create_task(body())
        elif backend == "trio":
            import contextvars

            import trio

            self._task = trio.lowlevel.spawn_system_task(body, context=contextvars.copy_context())
        else:  # pragma: no cover - anyio supports only the two above
            raise RuntimeError(f"actorgraph streams need asyncio or trio, not {backend}")

    def cancel(self) -> None:
        self._scope.cancel()

    async def wait(self) -> None:
        await self._done.wait()

    @property
    def done(self) -> bool:
        return self._done.is_set()


class _ThreadPool:
    """Daemon worker threads for sync nodes (on asyncio): a call is queued at once and
    its result set on the caller's loop. Daemon threads: a node stuck forever doesn't
    hold up the interpreter's exit; threads idle for ``IDLE`` seconds exit.

    How many threads: up to ``EAGER`` (the CPU count) start as calls come; more than
    that only help calls that block (Python code holds the GIL, and more threads
    contending for it slow everything down), so beyond ``EAGER`` a watcher adds one
    thread each ``STARVED`` seconds in which queued calls waited and none finished, up
    to ``MAX`` (anyio's default limit). A fan-out of quick calls stays on a few threads;
    blocked ones get threads of their own within milliseconds."""

    MAX = 40
    EAGER = max(2, os.cpu_count() or 2)
    STARVED = 0.002
    IDLE = 10.0

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[bool, Callable[..., Any], tuple[Any, ...]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._finished = 0  # calls finished (the watcher's measure of progress)
        self._watching = False
        # threads waiting for a call that no queued call has claimed yet: a call queued
        # while one waits claims it (and starts no thread); a thread that gets an
        # unclaimed call (queued while none waited) un-counts itself
        self._idle = 0

    @property
    def threads(self) -> int:
        return self._threads

    def submit_call(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """Run ``fn(*args)`` in a worker thread; ``fn`` reports its own outcome (through a
        loop's ``ThreadPort``) and must not raise."""
        with self._lock:
            claimed = self._idle > 0
            if claimed:
                self._idle -= 1
            self._queue.put((claimed, fn, args))
            if claimed:
                return  # a waiting thread takes it
            if self._threads < self.EAGER:
                self._threads += 1
                start = self._work
            elif not self._watching and self._threads < self.MAX:
                self._watching = True
                start = self._watch
            else:
                return  # queued: a thread takes it when free (or the watcher adds one)
        threading.Thread(target=start, name="actorgraph-node", daemon=True).start()

    def progress(self) -> None:
        """A call that runs several jobs (``ThreadBatch``) finished one: the watcher sees
        progress, not a stalled queue."""
        self._finished += 1

    def _watch(self) -> None:
        """Add a thread whenever queued calls made no progress for ``STARVED`` seconds;
        stop once the queue is empty."""
        last = -1
        while True:
            time.sleep(self.STARVED)
            with self._lock:
                if self._queue.empty() or self._threads >= self.MAX:
                    self._watching = False
                    return
                stalled = self._finished == last
                last = self._finished
                if stalled:
                    self._threads += 1
            if stalled:
                threading.Thread(target=self._work, name="actorgraph-node", daemon=True).start()

    def _work(self) -> None:
        q = self._queue
        lock = self._lock
        while True:
            with lock:
                self._idle += 1
            while True:
                try:
                    item = q.get(timeout=self.IDLE)
                    break
                except queue.Empty:
                    with lock:
                        if self._idle > 0 and q.empty():  # idle, and nothing on its way: retire
                            self._idle -= 1
                            self._threads -= 1
                            return
                    # a call claimed an idle thread: it is on its way
            claimed, fn, args = item
            if not claimed:
                with lock:
                    self._idle -= 1
            try:
                fn(*args)
            except BaseException:  # pragma: no cover - fn reports what it raises itself
                pass
            del item, fn, args
            self._finished += 1  # (a lost update only delays the watcher's next thread)


class ThreadPort:
    """Carries results from worker threads to one event loop: ``put`` from any thread;
    the loop runs each item's ``deliver(item)``, a batch per wake-up (one
    ``call_soon_threadsafe`` for however many results arrive meanwhile).

    A thread with more results on their way may ``put(..., defer=True)``: while the loop
    looks at the port again soon anyway (it does after each batch that had items), the
    item waits for that look instead of waking the loop now - every wake-up hands the GIL
    over twice, and a burst of results then costs a few of them, not one per result. The
    look comes ``DEFER`` seconds after a batch, and twice as late each time it finds more
    (a steady stream of results), up to ``DEFER_MAX``: so a deferred result waits at most
    that long, and a long fan-out takes the GIL from its threads a few dozen times a
    second, not hundreds."""

    __slots__ = ("_loop", "_items", "_scheduled", "_on_batch", "_polling", "_wait")

    DEFER = 0.002
    DEFER_MAX = 0.032

    def __init__(self, loop: Any, on_batch: Callable[[list[tuple[Callable[[Any], None], Any]]], None]) -> None:
        self._loop = loop
        self._items: deque[tuple[Callable[[Any], None], Any]] = deque()
        self._scheduled = False
        self._on_batch = on_batch
        self._polling = False  # the loop looks at the port again within ``_wait`` seconds
        self._wait = self.DEFER

    def put(self, deliver: Callable[[Any], None], item: Any, *, defer: bool = False) -> None:
        self._items.append((deliver, item))
        # (read after the append: a poll that clears the flag looks at the items after)
        if not self._scheduled and not (defer and self._polling):
            self._scheduled = True
            try:
                self._loop.call_soon_threadsafe(self._drain)
            except RuntimeError:
                pass  # the loop is closed: nobody waits any more

    def _drain(self) -> None:
        self._scheduled = False
        items = self._items
        batch = []
        while items:
            batch.append(items.popleft())
        if batch:
            if not self._polling:
                self._polling = True
                self._loop.call_later(self._wait, self._poll)
            self._on_batch(batch)

    def _poll(self) -> None:
        self._polling = False  # (cleared before the look: see put)
        if self._items:
            self._wait = min(self._wait * 2, self.DEFER_MAX)
            self._drain()
        else:
            self._wait = self.DEFER


_PORTS: weakref.WeakKeyDictionary[Any, ThreadPort] = weakref.WeakKeyDictionary()


def loop_port(loop: Any) -> ThreadPort:
    """The port that carries worker threads' results to ``loop`` (one per loop: results
    that arrive together, from any run on it, wake it once)."""
    port = _PORTS.get(loop)
    if port is None:
        port = _PORTS[loop] = ThreadPort(loop, _deliver_batch)
    return port


def _deliver_batch(batch: list[tuple[Callable[[Any], None], Any]]) -> None:
    for deliver, item in batch:
        deliver(item)


def _call_into_future(
    port: ThreadPort, fut: Any, fn: Callable[..., Any], args: tuple[Any, ...], token: Any
) -> None:
    # in a worker thread: ``fut`` (of the port's loop) gets the outcome of ``fn(*args)``
    claimed = token is not None and _ANYIO_THREAD is not None
    if claimed:  # (no cancel scope: anyio's check_cancelled never stops the call)
        _ANYIO_THREAD.current_token, _ANYIO_THREAD.current_cancel_scope = token, None
    try:
        result = fn(*args)
    except BaseException as exc:  # delivered to the awaiting task
        port.put(_settle, (fut, None, exc))
    else:
        port.put(_settle, (fut, result, None))
    finally:
        if claimed:
            del _ANYIO_THREAD.current_token, _ANYIO_THREAD.current_cancel_scope


def _settle(outcome: tuple[Any, Any, BaseException | None]) -> None:
    fut, result, exc = outcome
    if fut.done():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


_POOL = _ThreadPool()


def thread_pool() -> _ThreadPool:
    """The process's pool of worker threads for sync nodes."""
    return _POOL


async def run_in_thread(token: Any, fn: Callable[..., Any], *args: Any, task_cancel_orphans: bool = False) -> Any:
    """Run ``fn(*args)`` in a worker thread from asyncio and return its result. If the
    caller is cancelled meanwhile, the call (which can't be stopped) is waited for
    before the cancellation goes on, as with ``anyio.to_thread.run_sync``. ``token``
    (``anyio.lowlevel.current_token()`` of the caller's loop, or None): ``fn`` may call
    ``anyio.from_thread`` without a token, as from one of anyio's worker threads.

    ``task_cancel_orphans`` (a shared loop's run): as ``anyio.to_thread.run_sync`` there, a
    cancel scope's cancellation waits for the call, but the caller's ``Task.cancel()`` ends
    the wait at once; the call then finishes on its own and its result is dropped (as
    LangGraph's ``ainvoke`` leaves a sync node's executor thread)."""
    import asyncio

    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    _POOL.submit_call(_call_into_future, (loop_port(loop), fut, fn, args, token))
    if task_cancel_orphans:
        with anyio.CancelScope(shield=True):
            result = await fut
        await anyio.lowlevel.checkpoint_if_cancelled()  # a scope cancelled meanwhile: now
        return result
    return await wait_for_thread(fut)
