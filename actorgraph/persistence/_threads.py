"""Blocking saver I/O in a worker thread, handed over at once.

``anyio.to_thread.run_sync`` first yields to the event loop and only then gives the call
to a thread, so a write queued just before the loop thread gets busy (a sync node of a
sync ``invoke`` runs there) would wait for it. ``in_thread`` gives the call to a thread
before it first suspends: from then on the write proceeds whatever the loop does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

__all__ = ("in_thread", "wait_for_thread")

T = TypeVar("T")


async def in_thread(fn: Callable[[], T]) -> T:
    """``fn()`` in a worker thread. If the caller is cancelled meanwhile, the call (which
    can't be stopped) is waited for before the cancellation goes on, as with
    ``anyio.to_thread.run_sync``."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # Trio: its to_thread hands the call over before suspending
        return await anyio.to_thread.run_sync(fn)
    return await wait_for_thread(loop.run_in_executor(None, fn))


async def wait_for_thread(fut: asyncio.Future[T]) -> T:
    """The result of ``fut``, a call running in a worker thread. A call can't be
    stopped: if the caller is cancelled meanwhile, it still waits for the call to end
    before the cancellation goes on."""
    try:
        return await asyncio.shield(fut)
    except asyncio.CancelledError:
        with anyio.CancelScope(shield=True):
            try:
                await fut
            except BaseException:
                pass
        raise
