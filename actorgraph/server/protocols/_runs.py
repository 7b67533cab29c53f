"""What MCP and A2A share: start a run through the server's own services, wait for its
output or follow its events, and add a protocol's background context to the app's
lifespan (the app's own lifespan stays as it is, the protocol's wraps inside it).
With custom auth, a run a protocol starts passes the same checks as ``POST /runs`` and
carries the user to its graph."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request

from actorgraph.server._context import ServerContext
from actorgraph.server._json import loads
from actorgraph.server.auth import check_run_create
from actorgraph.server.broker import RESULT_EVENT
from actorgraph.server.runs._sse import HEARTBEAT_SECONDS, result_body
from actorgraph.server.schemas import Run, RunCreate
from actorgraph.server.services.runs import create_run

__all__ = ("add_lifespan", "follow_run", "start_run", "wait_output")


async def start_run(c: ServerContext, request: Request, thread_id: str | None, body: RunCreate) -> Run:
    """The new run for the user who made ``request`` (``ApiError`` when it can't run or
    the user may not start it, as for ``POST /runs``)."""
    return await create_run(c, thread_id, body, auth=await check_run_create(request, thread_id, body))


async def wait_output(c: ServerContext, run_id: str) -> Any:
    """What ``/runs/wait`` answers for the run: its final values, or ``{"__error__": ...}``."""
    last = b"null"
    async for chunk in result_body(c, run_id):
        last = chunk
    return loads(last)


async def follow_run(c: ServerContext, run_id: str) -> AsyncIterator[tuple[str, Any]]:
    """The run's ``(event, data)`` pairs from its start until it ends, as ``/runs/stream``
    sends them (decoded)."""
    live = await c.run_manager.broker.follow(run_id)
    if live is None:
        # not live here: its event log is complete once the run is over
        await wait_output(c, run_id)
        for _, event, data in await c.storage.events_read(run_id):
            if event != RESULT_EVENT:
                yield event, loads(data)
        return
    cursor = 0
    while True:
        for seq, event, data in live.after(cursor):
            cursor = seq
            if event != RESULT_EVENT:
                yield event, loads(data)
        if live.done:
            return
        if live.moved:  # it goes on in another worker: follow it there
            moved = await c.run_manager.broker.follow(run_id)
            if moved is None:
                return
            live = moved
            continue
        await live.wait_changed(HEARTBEAT_SECONDS)


def add_lifespan(app: Starlette, enter: Callable[[], contextlib.AbstractAsyncContextManager[Any]]) -> None:
    """Run ``enter()`` for as long as the app serves, inside the app's own lifespan (so
    the server's context is ready before the protocol starts, and outlives it)."""
    outer = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with outer(a) as state, enter():
            yield state

    app.router.lifespan_context = lifespan
