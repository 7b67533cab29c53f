"""The sync API's bridge to the async engine.

``invoke``/``stream`` work from any thread:

- inside a sync node running in a worker thread of a run: the call hops back to that
  run's event loop (``anyio.from_thread``), so a nested graph runs on the same loop;
- in a thread with no event loop (scripts, worker threads): a per-thread asyncio loop
  that stays open between calls (no loop is built per call); each call runs in a copy of
  the caller's context, so context variables set before the call are seen by the nodes;
- in a thread whose event loop is running (a notebook cell, async code calling the sync
  API): a helper thread with its own loop, so there is never "event loop is already
  running".
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

import anyio.from_thread

from actorgraph.actors._context import CURRENT, current_task
from actorgraph.actors._loops import thread_loop
from actorgraph.actors._spawn import current_backend

T = TypeVar("T")

__all__ = ("iterate_sync", "run_sync")


def _loop_running_here() -> bool:
    """Whether this thread is inside a running event loop (asyncio or Trio). (No
    exception raised on the usual path, a plain thread: this runs on every sync call.)"""
    if asyncio._get_running_loop() is not None:
        return True
    trio = sys.modules.get("trio")
    if trio is None:
        return False
    in_run = getattr(trio.lowlevel, "in_trio_run", None)
    return in_run() if in_run is not None else current_backend() == "trio"


def _parent_token() -> Any:
    """The event-loop token of the run whose sync node is calling us from a worker thread."""
    tctx = current_task()
    if tctx is None:
        return None
    run = tctx.run
    if run.loop_thread == threading.get_ident():
        return None
    return run.loop_token


def run_sync(fn: Callable[[], Awaitable[T]]) -> T:
    """Run the coroutine made by ``fn()`` to completion from synchronous code."""
    token = _parent_token()
    if token is not None:
        return anyio.from_thread.run(_call, fn, token=token)  # type: ignore[arg-type]
    if not _loop_running_here():
        return thread_loop().run(_call(fn))
    return _in_helper_thread(lambda: thread_loop().run(_call(fn)))


async def _call(fn: Callable[[], Awaitable[T]]) -> T:
    return await fn()



def _helper_context() -> contextvars.Context:
    """A context for a helper thread that carries the calling task's context (so a sync
    node that calls ``invoke`` on the loop thread still runs it as its subgraph) but none
    of the calling event loop's own markers: the helper runs its own asyncio loop, and a
    copied Trio marker would make anyio drive it as Trio."""
    ctx = contextvars.Context()
    tctx = current_task()
    if tctx is not None:
        ctx.run(CURRENT.set, tctx)
    return ctx


def _in_helper_thread(body: Callable[[], T]) -> T:
    fut: Future[T] = Future()
    ctx = _helper_context()

    def target() -> None:
        try:
            fut.set_result(ctx.run(body))
        except BaseException as exc:  # delivered to the caller below
            fut.set_exception(exc)

    t = threading.Thread(target=target, name="actorgraph-sync", daemon=True)
    t.start()
    return fut.result()


def iterate_sync(make: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
    """Iterate an async iterator from synchronous code, one item per ``next()``."""
    token = _parent_token()
    if token is not None:
        agen = make()
        step: Callable[[Callable[[], Awaitable[Any]]], Any] = lambda f: anyio.from_thread.run(  # noqa: E731
            _call, f, token=token
        )
        yield from _drive(agen, step)
    elif not _loop_running_here():
        runner = thread_loop()
        agen = make()
        yield from _drive(agen, lambda f: runner.run(_call(f)))
    else:
        yield from _iterate_in_thread(make)


_DONE: Any = object()


def _drive(agen: AsyncIterator[T], step: Callable[[Callable[[], Awaitable[Any]]], Any]) -> Iterator[T]:
    async def next_item() -> Any:
        try:
            return await agen.__anext__()
        except StopAsyncIteration:
            return _DONE

    finished = False
    try:
        while True:
            item = step(next_item)
            if item is _DONE:
                finished = True
                return
            yield item
    finally:
        if not finished:
            aclose = getattr(agen, "aclose", None)
            if aclose is not None:
                step(aclose)


def _iterate_in_thread(make: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
    """The stream runs in a helper thread with its own loop; items cross over one by one."""
    import queue

    requests: queue.Queue[str] = queue.Queue()
    replies: queue.Queue[tuple[str, Any]] = queue.Queue()

    ctx = _helper_context()

    def target() -> None:
        ctx.run(serve)

    def serve() -> None:
        runner = asyncio.Runner()
        try:
            agen = make()

            async def pull() -> Any:
                try:
                    return await agen.__anext__()
                except StopAsyncIteration:
                    return _DONE

            while True:
                cmd = requests.get()
                if cmd == "close":
                    aclose = getattr(agen, "aclose", None)
                    if aclose is not None:
                        runner.run(aclose())
                    replies.put(("closed", None))
                    return
                try:
                    item = runner.run(pull())
                except BaseException as exc:
                    replies.put(("error", exc))
                    return
                replies.put(("item", item))
                if item is _DONE:
                    return
        finally:
            runner.close()

    t = threading.Thread(target=target, name="actorgraph-stream", daemon=True)
    t.start()
    done = False
    try:
        while True:
            requests.put("next")
            kind, value = replies.get()
            if kind == "error":
                done = True
                raise value
            if value is _DONE:
                done = True
                return
            yield value
    finally:
        if not done:
            requests.put("close")
            replies.get()
        t.join()
