"""Event loops owned by threads: each thread that makes sync calls (or runs a subgraph
of a sync fan-out) keeps one asyncio loop for them, reused between calls."""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
from asyncio import events
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ("ThreadLoop", "thread_loop")


class ThreadLoop:
    """An asyncio event loop owned by one thread and reused by its sync calls; closed
    when the thread's locals go.

    Not ``asyncio.Runner``: its per-call SIGINT handler swap costs ~30 us (each
    ``signal.getsignal`` formats the task's repr for an enum lookup), about a fifth of a
    small invoke, and it runs every call in the context captured by its first call.
    Ctrl-C still stops a call cleanly: the run is cancelled and runs its cleanup before
    ``KeyboardInterrupt`` reaches the caller.
    """

    __slots__ = ("loop",)

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, coro: Awaitable[T]) -> T:
        loop = self.loop
        # (not when another loop runs in this thread: run_until_complete refuses that, and
        # its callers rely on the refusal)
        eager = not loop._ready and events._get_running_loop() is None  # type: ignore[attr-defined]
        task: asyncio.Task[T] = loop.create_task(coro, context=contextvars.copy_context())  # type: ignore[arg-type]
        try:
            if eager and self._first_step(task):
                return task.result()
            return loop.run_until_complete(task)
        except BaseException:
            if not task.done():
                # interrupted (Ctrl-C) with the run still going: cancel it, let it clean up
                task.cancel()
                try:
                    loop.run_until_complete(task)
                except BaseException:
                    pass
            raise

    def _first_step(self, task: asyncio.Task[Any]) -> bool:
        """Run the task's first step now, as the loop would (the task current, the loop
        running, its async generator hooks on), without a turn of the loop: True when that
        finished the task and left nothing else to run. A small sync call - its run never
        waits - then costs no loop iteration (about a tenth of a three-node invoke); one
        that waits goes on in the loop as any task."""
        loop = self.loop
        ready = loop._ready  # type: ignore[attr-defined]
        step = ready.pop()  # the task's first step, just scheduled
        hooks = sys.get_asyncgen_hooks()
        sys.set_asyncgen_hooks(firstiter=loop._asyncgen_firstiter_hook, finalizer=loop._asyncgen_finalizer_hook)  # type: ignore[attr-defined]
        events._set_running_loop(loop)
        try:
            step._run()
        finally:
            events._set_running_loop(None)
            sys.set_asyncgen_hooks(*hooks)
        return task.done() and not ready

    def close(self) -> None:
        loop = self.loop
        if loop.is_closed() or loop.is_running():
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            # no loop runs in this thread (the usual case): let async generators finish
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
        else:
            loop.close()  # collected inside another loop: it can't be driven from here

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


_local = threading.local()


def thread_loop() -> ThreadLoop:
    """This thread's own event loop, reused by its sync calls."""
    return _runner()


def _runner() -> ThreadLoop:
    holder = getattr(_local, "holder", None)
    if holder is None:
        holder = _local.holder = ThreadLoop()
    return holder
