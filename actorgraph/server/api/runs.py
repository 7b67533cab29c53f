"""``/threads/{thread_id}/runs`` and ``/runs``: create (background), stream (SSE), wait,
batch, list, get, delete, join, join the stream, cancel, cancel many."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from actorgraph.server import auth
from actorgraph.server._context import ServerContext, ctx
from actorgraph.server._errors import ApiError
from actorgraph.server.api._http import Endpoint, json_response, parse_body, query_bool, query_int, require_uuid
from actorgraph.server.runs._execute import TIMEOUT_ERROR
from actorgraph.server.runs._sse import result_body, run_events, thread_events
from actorgraph.server.schemas import Run, RunCancelMany, RunCreate, StreamModeName
from actorgraph.server.services.runs import create_run

__all__ = ("ENDPOINTS",)

_SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def _tid(request: Request) -> str | None:
    raw = request.path_params.get("thread_id")
    return None if raw is None else str(raw)


def _rid(request: Request) -> str:
    return require_uuid(str(request.path_params["run_id"]), "run ID")


def _run_path(run: Run) -> str:
    return f"/threads/{run.thread_id}/runs/{run.run_id}"


async def create(request: Request) -> Response:
    body = await parse_body(request, RunCreate)
    thread_id = _tid(request)
    run = await create_run(ctx(request), thread_id, body, auth=await auth.check_run_create(request, thread_id, body))
    location = _run_path(run) if thread_id is not None else f"/runs/{run.run_id}"
    return json_response(run, headers={"Content-Location": location})


async def stream(request: Request) -> Response:
    body = await parse_body(request, RunCreate)
    c = ctx(request)
    run = await create_run(c, _tid(request), body, auth=await auth.check_run_create(request, _tid(request), body))
    on_close = None
    if body.on_disconnect == "cancel":
        on_close = _cancel_unless_finished(c, run.run_id)
    events = run_events(c, run.run_id, after=0, on_close=on_close)
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={**_SSE_HEADERS, "Location": _run_path(run) + "/stream", "Content-Location": _run_path(run)},
    )


def _cancel_unless_finished(c: ServerContext, run_id: str) -> Any:
    async def close(finished: bool) -> None:
        if not finished:
            await c.run_manager.cancel(run_id, "interrupt")

    return close


async def wait(request: Request) -> Response:
    body = await parse_body(request, RunCreate)
    c = ctx(request)
    run = await create_run(c, _tid(request), body, auth=await auth.check_run_create(request, _tid(request), body))
    return StreamingResponse(
        result_body(c, run.run_id),
        media_type="application/json",
        headers={"Location": _run_path(run) + "/join", "Content-Location": _run_path(run)},
    )


async def batch(request: Request) -> Response:
    bodies = await parse_body(request, list[RunCreate])
    c = ctx(request)
    return json_response([await create_run(c, None, b, auth=await auth.check_run_create(request, None, b)) for b in bodies])


async def _thread_exists(c: ServerContext, thread_id: str) -> None:
    if await c.storage.thread_get(thread_id) is None:
        raise ApiError(404, f"Thread with ID {thread_id} not found")


async def list_runs(request: Request) -> Response:
    c = ctx(request)
    thread_id = require_uuid(str(request.path_params["thread_id"]), "thread ID")
    await auth.check_thread(request, "search", thread_id, {"thread_id": thread_id, "metadata": {}})
    await _thread_exists(c, thread_id)
    status = request.query_params.get("status") or None
    runs = await c.storage.run_list(
        thread_id, status=status, limit=query_int(request, "limit", 10), offset=query_int(request, "offset", 0)
    )
    select = request.query_params.getlist("select")
    if select:
        return json_response([{k: v for k, v in msgspec.structs.asdict(r).items() if k in select} for r in runs])
    return json_response(runs)


async def _run_of_thread(c: ServerContext, request: Request) -> Run:
    thread_id = require_uuid(str(request.path_params["thread_id"]), "thread ID")
    run = await c.storage.run_get(_rid(request))
    if run is None or run.thread_id != thread_id:
        raise ApiError(404, f"Run {request.path_params['run_id']} not found on thread {thread_id}")
    return run


async def get(request: Request) -> Response:
    await auth.check_thread(request, "read", require_uuid(str(request.path_params["thread_id"]), "thread ID"))
    return json_response(await _run_of_thread(ctx(request), request))


async def delete(request: Request) -> Response:
    c = ctx(request)
    thread_id, run_id = require_uuid(str(request.path_params["thread_id"]), "thread ID"), _rid(request)
    await auth.check_thread(request, "delete", thread_id, {"thread_id": thread_id, "run_id": run_id}, detail="Not Found")
    run = await _run_of_thread(c, request)
    if run.status in ("pending", "running"):
        await c.run_manager.cancel(run.run_id, "interrupt")
        await c.run_manager.wait_done(run.run_id)
    await c.storage.run_delete(run.run_id)
    return Response(status_code=204)


async def join(request: Request) -> Response:
    c = ctx(request)
    thread_id = require_uuid(str(request.path_params["thread_id"]), "thread ID")
    run_id = _rid(request)
    await auth.check_thread(request, "read", thread_id, detail="Thread not found")
    headers = {"Location": f"/threads/{thread_id}/runs/{run_id}/join", "Content-Location": f"/threads/{thread_id}/runs/{run_id}"}
    # a run this process runs (or ran lately) is answered without a read
    live = c.run_manager.broker.live(run_id)
    run = await c.storage.run_get(run_id) if live is None else None
    if live is None and (run is None or run.thread_id != thread_id):
        # LangGraph's server answers 200 with an error body here
        error = {"__error__": {"error": "HTTPException", "message": "404: Run not found"}}
        return json_response(error, headers=headers)
    ended = live.status if live is not None and live.done else run.status if run is not None else None
    if ended == "timeout":
        # those who waited got the values it reached; LangGraph's server answers a join
        # after the end from the thread, which holds the timeout as its error
        return json_response({"__error__": TIMEOUT_ERROR}, headers=headers)
    return StreamingResponse(result_body(c, run_id), media_type="application/json", headers=headers)


def _modes(request: Request) -> list[str] | None:
    modes = [m for m in request.query_params.getlist("stream_mode") if m and m != "None"]
    allowed = set(StreamModeName.__args__) | {"run_modes"}  # type: ignore[attr-defined]
    for m in modes:
        if m not in allowed:
            raise ApiError(422, f"Invalid query parameter 'stream_mode': {m!r} is not a stream mode")
    names = {"messages-tuple": "messages"}
    return [names.get(m, m) for m in modes if m != "run_modes"] or None


async def join_stream(request: Request) -> Response:
    c = ctx(request)
    thread_id = require_uuid(str(request.path_params["thread_id"]), "thread ID")
    run_id = _rid(request)
    after = _last_event_id(request)
    modes = _modes(request)
    run = await c.storage.run_get(run_id)
    headers = {**_SSE_HEADERS, "Location": f"/threads/{thread_id}/runs/{run_id}/stream"}
    try:
        await auth.check_thread(request, "read", thread_id, detail="Thread not found")
        missing = (run is None or run.thread_id != thread_id) and c.run_manager.broker.live(run_id) is None
        what = "Run"
    except ApiError:  # LangGraph's server answers in the stream here too
        missing, what = True, "Thread"
    if missing:
        frame = b'event: error\r\ndata: {"error":"HTTPException","message":"404: %s not found"}\r\n\r\n' % what.encode()

        async def not_found() -> Any:
            yield frame

        return StreamingResponse(not_found(), media_type="text/event-stream", headers=headers)
    on_close = _cancel_unless_finished(c, run_id) if query_bool(request, "cancel_on_disconnect") else None
    events = run_events(c, run_id, after=after, modes=modes, on_close=on_close)
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


def _last_event_id(request: Request) -> int | None:
    last = request.headers.get("last-event-id")
    if not last:
        return None
    try:
        return int(last)
    except ValueError:
        raise ApiError(422, f"Invalid Last-Event-ID header: {last!r} is not an event id of this server") from None


async def thread_stream(request: Request) -> Response:
    c = ctx(request)
    thread_id = require_uuid(str(request.path_params["thread_id"]), "thread ID")
    await auth.check_thread(request, "read", thread_id, detail="Thread not found")
    await _thread_exists(c, thread_id)
    events = thread_events(c, thread_id, after=_last_event_id(request), modes=_modes(request))
    return StreamingResponse(events, media_type="text/event-stream", headers=_SSE_HEADERS)


def _action(request: Request) -> str:
    action = request.query_params.get("action", "interrupt")
    if action not in ("interrupt", "rollback"):
        raise ApiError(422, f"Invalid query parameter 'action': {action!r} is not 'interrupt' or 'rollback'")
    return action


async def cancel(request: Request) -> Response:
    c = ctx(request)
    action = _action(request)
    thread_id = require_uuid(str(request.path_params["thread_id"]), "thread ID")
    run_id = _rid(request)
    value = {"thread_id": thread_id, "action": action, "metadata": {"run_ids": [run_id], "status": None}}
    await auth.check_thread(request, "update", thread_id, value, detail="No runs found to cancel.")
    run = await c.storage.run_get(run_id)
    if run is None or run.thread_id != thread_id:
        raise ApiError(404, "No runs found to cancel.")
    if not await c.run_manager.cancel(run_id, action):
        raise ApiError(404, f"No matching runs to cancel: run {run_id} is {run.status}, not pending or running.")
    if query_bool(request, "wait"):
        await c.run_manager.wait_done(run_id)
        return json_response({})
    return Response(status_code=202)


async def cancel_many(request: Request) -> Response:
    c = ctx(request)
    action = _action(request)
    body = await parse_body(request, RunCancelMany)
    if body.status is None and body.thread_id is None and not body.run_ids:
        raise ApiError(422, "Invalid request body: give thread_id (with run_ids) or status")
    runs: list[Run] = []
    if body.run_ids:
        for run_id in body.run_ids:
            run = await c.storage.run_get(require_uuid(run_id, "run ID in run_ids"))
            if run is not None and (body.thread_id is None or run.thread_id == body.thread_id):
                runs.append(run)
    elif body.thread_id is not None:
        runs = await c.storage.run_active(require_uuid(body.thread_id, "thread ID"))
    else:
        wanted = ("pending", "running") if body.status == "all" else (body.status,)
        for thread in await c.storage.thread_search(status="busy", limit=10**9):
            runs.extend(r for r in await c.storage.run_active(thread.thread_id) if r.status in wanted)
    allowed = await auth.threads_allowed(
        request, "update",
        {"thread_id": body.thread_id, "action": action, "metadata": {"run_ids": body.run_ids, "status": body.status}},
    )
    runs = [r for r in runs if allowed is None or await allowed(r.thread_id)]
    cancelled = [r for r in runs if await c.run_manager.cancel(r.run_id, action)]
    if (not cancelled and body.status is not None) or (body.run_ids and not runs):
        raise ApiError(404, "No runs found to cancel.")
    return Response(status_code=204)


_T = "/threads/{thread_id}/runs"
_R = _T + "/{run_id}"
ENDPOINTS = (
    Endpoint(method="POST", path=_T, handler=create, summary="Create a background run on a thread", body=RunCreate, response=Run),
    Endpoint(method="POST", path="/runs", handler=create, summary="Create a stateless background run", body=RunCreate, response=Run),
    Endpoint(method="POST", path=_T + "/stream", handler=stream, summary="Create a run and stream its events", body=RunCreate, stream=True),
    Endpoint(method="POST", path="/runs/stream", handler=stream, summary="Stream a stateless run", body=RunCreate, stream=True),
    Endpoint(method="POST", path=_T + "/wait", handler=wait, summary="Create a run and wait for its result", body=RunCreate, response=Any),
    Endpoint(method="POST", path="/runs/wait", handler=wait, summary="Wait for a stateless run", body=RunCreate, response=Any),
    Endpoint(method="POST", path="/runs/batch", handler=batch, summary="Create stateless runs", body=list[RunCreate], response=list[Run]),
    Endpoint(method="POST", path="/runs/cancel", handler=cancel_many, summary="Cancel runs", body=RunCancelMany, status=204, query=(("action", "string"),)),
    Endpoint(method="GET", path=_T, handler=list_runs, summary="List a thread's runs", response=list[Run], query=(("limit", "integer"), ("offset", "integer"), ("status", "string"))),
    Endpoint(method="GET", path=_R, handler=get, summary="Get a run", response=Run),
    Endpoint(method="DELETE", path=_R, handler=delete, summary="Delete a run", status=204),
    Endpoint(method="GET", path=_R + "/join", handler=join, summary="Wait for a run's result", response=Any),
    Endpoint(method="GET", path=_R + "/stream", handler=join_stream, summary="Join a run's event stream", stream=True, query=(("stream_mode", "string"), ("cancel_on_disconnect", "boolean"))),
    Endpoint(method="GET", path="/threads/{thread_id}/stream", handler=thread_stream, summary="Follow every run on a thread", stream=True, query=(("stream_mode", "string"),)),
    Endpoint(method="POST", path=_R + "/cancel", handler=cancel, summary="Cancel a run", status=202, query=(("wait", "boolean"), ("action", "string"))),
)
