"""Task calls: what calling a ``@task`` function inside a running node does.

The call becomes a task of the current super-step, run by the dispatcher alongside its
caller (so calls made one after another run in parallel), and answers through a
``CallFuture`` the caller awaits (async code) or ``.result()``s (sync code). Its result is
saved as a pending write as soon as it finishes, so when the caller runs again (after an
interrupt, an error or a crash) the same call - same id, from the same position in the
caller - gets the saved result and doesn't run again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
import anyio.from_thread
import structlog

from actorgraph._constants import PUSH
from actorgraph.actors._context import CURRENT, TaskContext, TaskTrace, current_task
from actorgraph.actors._ids import path_str, task_id
from actorgraph.actors._dispatcher import Job
from actorgraph.actors._messages import RunCall, TaskDone, TaskResult, TaskSpec, TaskStart
from actorgraph.actors._node import post
from actorgraph.actors._spawn import current_backend, event_class

if TYPE_CHECKING:
    from actorgraph.actors._program import NodeSpec
    from actorgraph.actors._run import RunState

__all__ = ("CallFuture", "call_task")


_PENDING: Any = object()
# guards the hand-over between a thread starting to wait in .result() and the loop setting
# the outcome; held for a few bytecodes, so one lock for all futures is enough
_WAKE_LOCK = threading.Lock()


T = TypeVar("T")


class CallFuture(Generic[T]):
    """The pending result of a task call: ``await fut`` in async code, ``fut.result()`` in
    sync code (a sync node or entrypoint, which runs in a worker thread).

    Lighter than ``concurrent.futures.Future`` (no lock and condition per call: a fan-out
    makes thousands); a thread that blocks in ``.result()`` gets an event of its own."""

    __slots__ = (
        "name",
        "_value",
        "_error",
        "_event",
        "_waiter",
        "_callbacks",
        "_loop_thread",
        "_job",
        "_run",
        "_cancelled",
    )

    def __init__(self, name: str, loop_thread: int) -> None:
        self.name = name
        self._value: Any = _PENDING
        self._error: BaseException | None = None
        # who awaits it: a future per awaiting task on asyncio (a cancelled awaiter cancels
        # only its own), else one anyio Event
        self._event: list[asyncio.Future[None]] | anyio.Event | None = None
        self._waiter: threading.Event | None = None
        self._callbacks: list[Callable[[CallFuture], Any]] | None = None
        self._loop_thread = loop_thread
        self._job: Any = None
        self._run: Any = None
        self._cancelled = False

    def __repr__(self) -> str:
        state = "done" if self.done() else "pending"
        return f"<CallFuture {self.name!r} {state}>"

    def done(self) -> bool:
        return self._value is not _PENDING or self._error is not None

    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> bool:
        """Cancel the call if it can be: one that hasn't started, or an async one that is
        running (a sync task running in a thread can't be stopped). Returns whether it was
        cancelled; awaiting a cancelled call raises the cancellation exception. Call it
        from the run's event loop (async code), as with asyncio's futures."""
        if self.done():
            return self._cancelled
        job, run = self._job, self._run
        if job is None or run is None:
            return False
        tctx = job.arg.task
        if run.dispatcher.take(job):
            # never started: it reports to the step as cancelled, its caller gets the error
            self.mark_cancelled()
            run.barrier.post(TaskDone(step=tctx.spec.step, results=[TaskResult(task=tctx.spec, writes=[], sends=[], call=True, cancelled=True)]))
            return True
        scope = tctx.call_scope
        if scope is None:
            return False
        scope.cancel()
        return True

    def track(self, job: Job, run: Any) -> None:
        """The job that runs the call (``cancel`` takes it back if it hasn't started)."""
        self._job = job
        self._run = run

    def mark_cancelled(self) -> None:
        self._cancelled = True
        self._settle(_PENDING, concurrent.futures.CancelledError(f"task '{self.name}' was cancelled"))

    def set_result(self, value: Any) -> None:
        self._settle(value, None)

    def set_exception(self, exc: BaseException) -> None:
        self._settle(_PENDING, exc)

    def _settle(self, value: Any, error: BaseException | None) -> None:
        with _WAKE_LOCK:
            if self.done():
                raise concurrent.futures.InvalidStateError(f"task '{self.name}' already has a result")
            self._value = value
            self._error = error
            waiter = self._waiter
        # the job holds the call's context, which holds this future: drop it, so a
        # finished call is freed by reference counting, not left to the cycle collector
        self._job = self._run = None
        if waiter is not None:
            waiter.set()
        event = self._event
        if event is not None:
            self._event = None
            if isinstance(event, list):
                for fut in event:
                    if not fut.done():
                        fut.set_result(None)
            else:
                event.set()
        callbacks = self._callbacks
        if callbacks is not None:
            self._callbacks = None
            for callback in callbacks:
                self._call_back(callback)

    def add_done_callback(self, fn: Callable[[CallFuture], Any]) -> None:
        """Call ``fn(future)`` when the call finishes (at once if it has)."""
        if self.done():
            self._call_back(fn)
        elif self._callbacks is None:
            self._callbacks = [fn]
        else:
            self._callbacks.append(fn)

    def _call_back(self, fn: Callable[[CallFuture], Any]) -> None:
        try:
            fn(self)
        except Exception:  # as concurrent.futures does: logged, and the run goes on
            structlog.get_logger("actorgraph").exception("task.done_callback_failed", task=self.name)

    def _outcome(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._value

    def result(self, timeout: float | None = None) -> T:
        """Wait for the call and return its result (or raise its exception)."""
        if not self.done():
            if threading.get_ident() == self._loop_thread:
                self._run_here()
            self._wait(timeout)
        return self._outcome()

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """Wait for the call and return its exception (None if it succeeded)."""
        if not self.done():
            if threading.get_ident() == self._loop_thread:
                self._run_here()
            self._wait(timeout)
        return self._error

    def _wait(self, timeout: float | None) -> None:
        with _WAKE_LOCK:
            if self.done():
                return
            if self._waiter is None:
                self._waiter = threading.Event()
            waiter = self._waiter
        if not waiter.wait(timeout):
            raise TimeoutError(f"task '{self.name}' did not finish within {timeout} s")

    def _run_here(self) -> None:
        """``.result()`` on the event loop's own thread (a sync node running inline): the
        loop can't run the call meanwhile, so run it here if it is a sync task that
        hasn't started; anything else would block the loop forever."""
        job = self._job
        run = self._run
        if job is not None and run is not None and not job.arg.task.node.is_async and run.dispatcher.take(job):
            coro = job.run(TaskStart(job.arg.task, inline=True))
            try:
                job.context.run(coro.send, None)
            except StopIteration:
                return
            coro.close()  # a sync call runs to the end in one go; this is unreachable
        raise RuntimeError(
            f"task '{self.name}' is still running, and .result() would block the event loop "
            "it runs on: in async code, `await` the future instead (or make the calling node async)"
        )

    def __await__(self) -> Generator[Any, None, T]:
        if not self.done():
            run = self._run
            backend = run.backend if run is not None else None
            waiters = self._event
            if backend == "asyncio" and (waiters is None or type(waiters) is list):
                fut = asyncio.get_running_loop().create_future()
                if waiters is None:
                    self._event = [fut]
                else:
                    waiters.append(fut)
                yield from fut.__await__()
            else:
                if self._event is None:
                    # (the backend's class itself: anyio.Event() looks the backend up each time)
                    self._event = event_class(backend)() if backend else anyio.Event()
                event = self._event
                assert not isinstance(event, list)
                yield from event.wait().__await__()
        if self._cancelled and current_backend() == "asyncio":
            # as awaiting a cancelled asyncio future does
            raise anyio.get_cancelled_exc_class()(f"task '{self.name}' was cancelled")
        return self._outcome()


def call_task(node: NodeSpec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> CallFuture:
    """Start a call of the task ``node`` from the running node or task."""
    parent = current_task()
    if parent is None:
        raise RuntimeError(
            f"Called task '{node.name}' outside of a running graph: a @task runs when an "
            "@entrypoint, another @task, or a StateGraph node calls it."
        )
    run = parent.run
    index = parent.calls
    parent.calls += 1
    path_text = parent.path_text
    if path_text is None:
        path_text = parent.path_text = path_str(parent.spec.path)
    spec = TaskSpec(
        # saved runs replay calls by id: derived from the caller's; otherwise just unique
        id=task_id(
            run.task_seed(),
            parent.ns,
            parent.spec.step,
            node.name,
            PUSH,
            path_text,
            str(index),
        ),
        name=node.name,
        path=(PUSH, parent.spec.path, index, True),  # LangGraph's shape for a call
        order=(2, parent.spec.order, index),
        step=parent.spec.step,
        input=(args, kwargs),
        triggers=(PUSH,),
    )
    if run.persistence is not None and run.cfg.program.strict:
        # arguments aren't stored (a resumed caller calls again): strict checks them anyway
        _check_storable(run, node, args, kwargs)
    future: CallFuture[Any] = CallFuture(node.name, run.loop_thread)
    # a traced call's run goes under its caller's run
    trace_parent = parent.config.get("callbacks") if run.cfg.trace is not None else None
    if threading.get_ident() == run.loop_thread:
        _submit(run, node, spec, future, trace_parent)
    else:
        anyio.from_thread.run_sync(_submit, run, node, spec, future, trace_parent, token=run.loop_token)
    return future


def _check_storable(run: RunState, node: NodeSpec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """With a checkpointer, a call's arguments must be storable like its result: a value
    that isn't fails here, naming the task, not later in a checkpoint."""
    from actorgraph.errors import SerializationError

    from actorgraph.persistence._store import BaseStore

    # a store handed to a task (LangGraph's docs pass the entrypoint's) is never stored
    args = tuple(a for a in args if not isinstance(a, BaseStore))
    kwargs = {k: v for k, v in kwargs.items() if not isinstance(v, BaseStore)}
    try:
        run.persistence.saver.serde.dumps([list(args), kwargs])  # type: ignore[union-attr]
    except SerializationError as exc:
        raise SerializationError(
            f"Can't call task '{node.name}' with these arguments: {exc}", value=exc.value, node=node.name
        ) from None


def _submit(run: RunState, node: NodeSpec, spec: TaskSpec, future: CallFuture, trace_parent: Any = None) -> None:
    saved = run.resume.saved_returns.get(spec.id)
    if saved is not None:
        # this call finished before the caller was interrupted or failed: reuse it (its
        # start is streamed again, as LangGraph does; its result isn't)
        run.barrier.call_started(spec)
        future.set_result(saved[0])
        return
    if run.stopping:
        future.set_exception(anyio.get_cancelled_exc_class()())
        return
    tctx = TaskContext(run, spec, node)
    tctx.future = future
    if run.cfg.trace is not None:
        tctx.trace = TaskTrace(trace_parent)
    ctx = contextvars.copy_context()
    ctx.run(CURRENT.set, tctx)
    if run.messages is not None:
        run.messages.setup(tctx, ctx)
    run.barrier.expect_call()
    run.barrier.call_started(spec)
    post(run.call_actor(node), RunCall(task=tctx, context=ctx))
