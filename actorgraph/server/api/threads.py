"""``/threads``: records (create, get, update, delete, search, count, copy, prune) and
graph state (get, at a checkpoint, update, history)."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from actorgraph.server import auth
from actorgraph.server._context import ctx
from actorgraph.server._errors import ApiError
from actorgraph.server.api._http import Endpoint, json_response, parse_body, query_bool, query_int, require_uuid
from actorgraph.server.schemas import (
    Thread,
    ThreadCount,
    ThreadCreate,
    ThreadHistory,
    ThreadPatch,
    ThreadPrune,
    ThreadSearch,
    ThreadState,
    ThreadStateAtCheckpoint,
    ThreadStateUpdate,
    ThreadUpdateStateResponse,
)
from actorgraph.server.services import threads as svc
from actorgraph.server.services.state import get_thread

__all__ = ("ENDPOINTS",)


def _tid(request: Request) -> str:
    return require_uuid(str(request.path_params["thread_id"]), "thread ID")


async def create(request: Request) -> Response:
    body = await parse_body(request, ThreadCreate)
    await auth.check_thread_create(request, body, thread_id=body.thread_id)
    return json_response(await svc.create(ctx(request), body))


async def get(request: Request) -> Response:
    await auth.check_thread(request, "read", _tid(request))
    return json_response(await get_thread(ctx(request), _tid(request)))


async def patch(request: Request) -> Response:
    body = await parse_body(request, ThreadPatch)
    await auth.check_thread(request, "update", _tid(request), {"thread_id": _tid(request), "metadata": body.metadata or {}})
    thread = await svc.patch(ctx(request), _tid(request), body.metadata, body.ttl)
    if request.headers.get("prefer", "").lower() == "return=minimal":
        return Response(status_code=204)
    return json_response(thread)


async def delete(request: Request) -> Response:
    await auth.check_thread(request, "delete", _tid(request))
    await svc.delete(ctx(request), _tid(request))
    return Response(status_code=204)


async def search(request: Request) -> Response:
    body = await parse_body(request, ThreadSearch)
    visible = await auth.thread_keep(
        request, {"metadata": body.metadata or {}, "values": body.values or {}, "status": body.status,
                  "limit": body.limit, "offset": body.offset, "ids": body.ids}
    )
    found = await ctx(request).storage.thread_search(
        ids=body.ids,
        metadata=body.metadata,
        values=body.values,
        status=body.status,
        limit=body.limit,
        offset=body.offset,
        sort_by=body.sort_by,
        sort_order=body.sort_order,
        keep=visible,
    )
    if body.select:
        keep = set(body.select)
        return json_response([{k: v for k, v in msgspec.structs.asdict(t).items() if k in keep} for t in found])
    return json_response(found)


async def count(request: Request) -> Response:
    body = await parse_body(request, ThreadCount)
    keep = await auth.thread_keep(request, {"metadata": body.metadata or {}, "values": body.values or {}, "status": body.status})
    n = await ctx(request).storage.thread_count(metadata=body.metadata, values=body.values, status=body.status, keep=keep)
    return json_response(n)


async def copy(request: Request) -> Response:
    await auth.check_thread_copy(request, _tid(request))
    return json_response(await svc.copy(ctx(request), _tid(request)))


async def prune(request: Request) -> Response:
    body = await parse_body(request, ThreadPrune)
    ids = [require_uuid(t, "thread ID in thread_ids") for t in body.thread_ids]
    await auth.check_threads(request, "delete", ids)
    return json_response({"pruned_count": await svc.prune(ctx(request), ids, body.strategy)})


async def get_state(request: Request) -> Response:
    checkpoint_id = request.path_params.get("checkpoint_id")
    await auth.check_thread(request, "read", _tid(request))
    state = await svc.get_state(
        ctx(request), _tid(request), checkpoint_id=checkpoint_id, subgraphs=query_bool(request, "subgraphs")
    )
    return json_response(state)


async def get_state_at_checkpoint(request: Request) -> Response:
    body = await parse_body(request, ThreadStateAtCheckpoint)
    await auth.check_thread(request, "read", _tid(request))
    state = await svc.get_state(ctx(request), _tid(request), checkpoint=body.checkpoint, subgraphs=body.subgraphs)
    return json_response(state)


async def update_state(request: Request) -> Response:
    body = await parse_body(request, ThreadStateUpdate)
    await auth.check_thread(request, "update", _tid(request))
    return json_response(await svc.update_state(ctx(request), _tid(request), body))


async def history_post(request: Request) -> Response:
    body = await parse_body(request, ThreadHistory)
    await auth.check_thread(request, "read", _tid(request))
    return json_response(await svc.history(ctx(request), _tid(request), body))


async def history_get(request: Request) -> Response:
    q = request.query_params
    raw = {"limit": query_int(request, "limit", 1)}
    if q.get("before"):
        raw["before"] = q["before"]  # type: ignore[assignment]
    try:
        body = msgspec.convert(raw, ThreadHistory)
    except msgspec.ValidationError as exc:
        raise ApiError(422, f"Invalid query parameter: {exc}") from None
    await auth.check_thread(request, "read", _tid(request))
    return json_response(await svc.history(ctx(request), _tid(request), body))


_P = "/threads/{thread_id}"
ENDPOINTS = (
    Endpoint(method="POST", path="/threads", handler=create, summary="Create a thread", body=ThreadCreate, response=Thread),
    Endpoint(method="POST", path="/threads/search", handler=search, summary="Search threads", body=ThreadSearch, response=list[Thread]),
    Endpoint(method="POST", path="/threads/count", handler=count, summary="Count threads", body=ThreadCount, response=int),
    Endpoint(method="POST", path="/threads/prune", handler=prune, summary="Prune threads", body=ThreadPrune, response=dict),
    Endpoint(method="GET", path=_P, handler=get, summary="Get a thread", response=Thread),
    Endpoint(method="PATCH", path=_P, handler=patch, summary="Update a thread's metadata (merged)", body=ThreadPatch, response=Thread),
    Endpoint(method="DELETE", path=_P, handler=delete, summary="Delete a thread", status=204),
    Endpoint(method="POST", path=_P + "/copy", handler=copy, summary="Copy a thread with its checkpoints", response=Thread),
    Endpoint(method="GET", path=_P + "/state", handler=get_state, summary="The thread's latest state", response=ThreadState, query=(("subgraphs", "boolean"),)),
    Endpoint(method="POST", path=_P + "/state", handler=update_state, summary="Update the thread's state", body=ThreadStateUpdate, response=ThreadUpdateStateResponse),
    Endpoint(method="POST", path=_P + "/state/checkpoint", handler=get_state_at_checkpoint, summary="The state at a checkpoint", body=ThreadStateAtCheckpoint, response=ThreadState),
    Endpoint(method="GET", path=_P + "/state/{checkpoint_id}", handler=get_state, summary="The state at a checkpoint id", response=ThreadState, query=(("subgraphs", "boolean"),)),
    Endpoint(method="GET", path=_P + "/history", handler=history_get, summary="The thread's past states", response=list[ThreadState], query=(("limit", "integer"), ("before", "string"))),
    Endpoint(method="POST", path=_P + "/history", handler=history_post, summary="The thread's past states (filtered)", body=ThreadHistory, response=list[ThreadState]),
)
