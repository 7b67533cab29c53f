"""Server-sent events for a run (``event:``/``data:``/``id:`` lines, CRLF, heartbeat
comments while idle) and the body of ``wait``/``join`` (blank lines while the run goes on,
then the JSON answer: whitespace before JSON keeps the connection alive and still parses)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Collection

import anyio

from actorgraph.server._context import ServerContext
from actorgraph.server._json import dumps
from actorgraph.server.broker import RESULT_EVENT, RunReader

__all__ = ("HEARTBEAT_SECONDS", "result_body", "run_events", "sse_frame")

# a comment line every so often while a run is quiet keeps proxies from closing the stream
HEARTBEAT_SECONDS = float(os.environ.get("ACTORGRAPH_SERVER_HEARTBEAT_SECONDS", "5"))
_HEARTBEAT = b": heartbeat\r\n\r\n"


def sse_frame(seq: int, event: str, data: bytes) -> bytes:
    return b"event: " + event.encode() + b"\r\ndata: " + data + b"\r\nid: " + str(seq).encode() + b"\r\n\r\n"


def _wanted(event: str, modes: Collection[str] | None) -> bool:
    if event == RESULT_EVENT:
        return False
    if not modes or event in ("metadata", "error"):
        return True
    mode = event.split("|", 1)[0]
    # the messages modes take every messages event (messages/partial, ...), as LangGraph's server
    return mode in modes or (mode.startswith("messages") and ("messages" in modes or "messages-tuple" in modes))


async def run_events(
    c: ServerContext,
    run_id: str,
    *,
    after: int | None,
    modes: Collection[str] | None = None,
    on_close: Callable[[bool], object] | None = None,
) -> AsyncIterator[bytes]:
    """The run's events after ``after`` (``None``: from now on, after its ``metadata``),
    live until it ends; from the event log if it ended earlier. ``on_close(finished)``
    runs when the reader goes away (``finished``: the run had ended)."""
    finished = False
    try:
        live = await c.run_manager.broker.follow(run_id)
        if live is None:
            if after is not None:
                for seq, event, data in await c.storage.events_read(run_id, after):
                    if _wanted(event, modes):
                        yield sse_frame(seq, event, data)
            finished = True
            return
        if after is None:
            if live.done:  # a finished run joined without an event id: nothing new to send
                finished = True
                return
            for seq, event, data in live.after(0):
                if event == "metadata":
                    yield sse_frame(seq, event, data)
            after = live.last_seq
        cursor = after
        while True:
            for seq, event, data in live.after(cursor):
                cursor = seq
                if _wanted(event, modes):
                    yield sse_frame(seq, event, data)
            if live.done:
                finished = True
                return
            if live.moved:  # it goes on in another worker: follow it there
                moved = await c.run_manager.broker.follow(run_id)
                if moved is None:
                    finished = True
                    return
                live = moved
                continue
            before = live.last_seq
            await live.wait_changed(HEARTBEAT_SECONDS)
            if live.last_seq == before and not live.done:
                yield _HEARTBEAT
    finally:
        if on_close is not None:
            with anyio.CancelScope(shield=True):
                result = on_close(finished)
                if hasattr(result, "__await__"):
                    await result  # type: ignore[misc]


async def final_result(c: ServerContext, run_id: str, live: RunReader | None) -> bytes | None:
    if live is not None and live.done and live.result is not None:
        return live.result
    for _, event, data in reversed(await c.storage.events_read(run_id)):
        if event == RESULT_EVENT:
            return data
    return None


async def result_body(c: ServerContext, run_id: str) -> AsyncIterator[bytes]:
    """Newlines every few seconds until the run ends, then its answer."""
    live = None
    while True:
        if live is None or live.moved:
            live = await c.run_manager.broker.follow(run_id)
        if live is None:
            # not live here yet (a run recovered at start) or ended long ago: its row says
            run = await c.storage.run_get(run_id)
            if run is None or run.status not in ("pending", "running"):
                break
            await anyio.sleep(0.05)
            continue
        if live.done:
            break
        before = live.last_seq
        await live.wait_changed(HEARTBEAT_SECONDS)
        if live.last_seq == before and not live.done:
            yield b"\n"
    data = await final_result(c, run_id, live)
    yield data if data is not None else dumps(None)


async def thread_events(
    c: ServerContext, thread_id: str, *, after: int | None, modes: Collection[str] | None = None
) -> AsyncIterator[bytes]:
    """Every run's events on a thread, as they happen, until the reader goes away (a
    ``metadata`` event ``{"status": "run_done"}`` after each run; heartbeats while idle)."""
    async with c.run_manager.broker.follow_thread(thread_id, after) as feed:
        cursor = feed.last_seq if after is None else after
        while True:
            for seq, event, data in feed.after(cursor):
                cursor = seq
                if _wanted(event, modes):
                    yield sse_frame(seq, event, data)
            before = feed.last_seq
            await feed.wait_changed(HEARTBEAT_SECONDS)
            if feed.last_seq == before:
                yield _HEARTBEAT
