"""``/runs/crons`` and ``/threads/{thread_id}/runs/crons``: create (stateless or for a
thread), get, update, delete, search, count."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from actorgraph.server import auth
from actorgraph.server._context import ServerContext, ctx
from actorgraph.server.api._http import Endpoint, json_response, page_response, parse_body, require_uuid
from actorgraph.server.schemas import Cron, CronCount, CronCreate, CronPatch, CronSearch, ThreadCronCreate
from actorgraph.server.services import crons

__all__ = ("ENDPOINTS",)


async def _raw(request: Request) -> dict[str, Any]:
    # the body as sent (parse_body checked it is an object): it becomes the cron's payload
    return msgspec.json.decode(await request.body(), type=dict[str, Any])


async def _create(request: Request, thread_id: str | None, body: CronCreate | ThreadCronCreate) -> Response:
    raw = await _raw(request)
    value: dict[str, Any] = {
        "payload": raw, "schedule": body.schedule, "cron_id": None, "thread_id": thread_id, "user_id": None,
        "end_time": body.end_time, "metadata": dict(body.metadata or {}),
    }  # fmt: skip
    # (custom auth may refuse, and may fill the metadata: the cron keeps what it left)
    who = await auth.check_cron_create(request, value)
    user_id = who.get("langgraph_auth_user_id") if who else None
    cron = await crons.create_cron(ctx(request), thread_id, body, raw, metadata=value["metadata"], user_id=user_id)
    return json_response(cron)


async def create(request: Request) -> Response:
    return await _create(request, None, await parse_body(request, CronCreate))


async def create_for_thread(request: Request) -> Response:
    thread_id = require_uuid(str(request.path_params["thread_id"]), "thread ID")
    return await _create(request, thread_id, await parse_body(request, ThreadCronCreate))


def _metadata_of(c: ServerContext) -> Any:
    async def metadata_of(cron_id: str) -> Any:
        cron = await crons.find_cron(c, cron_id)
        return cron.metadata if cron is not None else None

    return metadata_of


async def get(request: Request) -> Response:
    cron_id = str(request.path_params["cron_id"])
    await auth.check_cron(request, "read", cron_id, _metadata_of(ctx(request)))
    return json_response(await crons.get_cron(ctx(request), cron_id))


async def patch(request: Request) -> Response:
    body = await parse_body(request, CronPatch)
    cron_id = str(request.path_params["cron_id"])
    raw = await _raw(request)
    await auth.check_cron(request, "update", cron_id, _metadata_of(ctx(request)), {"cron_id": cron_id, "payload": raw, "metadata": dict(body.metadata or {})})
    return json_response(await crons.update_cron(ctx(request), cron_id, body, raw))


async def delete(request: Request) -> Response:
    cron_id = str(request.path_params["cron_id"])
    await auth.check_cron(request, "delete", cron_id, _metadata_of(ctx(request)))
    await crons.delete_cron(ctx(request), cron_id)
    return Response(status_code=204)


async def search(request: Request) -> Response:
    body = await parse_body(request, CronSearch, empty=b"{}")
    keep = await auth.cron_keep(
        request, {"assistant_id": body.assistant_id, "thread_id": body.thread_id, "limit": body.limit, "offset": body.offset, "metadata": body.metadata or {}}
    )
    found = await crons.search_crons(
        ctx(request),
        assistant_id=body.assistant_id,
        thread_id=body.thread_id,
        enabled=body.enabled,
        metadata=body.metadata,
        limit=body.limit + 1,
        offset=body.offset,
        sort_by=body.sort_by,
        sort_order=body.sort_order,
        keep=keep,
    )
    return page_response(found, body.limit, body.offset, body.select)


async def count(request: Request) -> Response:
    body = await parse_body(request, CronCount, empty=b"{}")
    keep = await auth.cron_keep(request, {"assistant_id": body.assistant_id, "thread_id": body.thread_id, "metadata": body.metadata or {}})
    n = await crons.count_crons(ctx(request), assistant_id=body.assistant_id, thread_id=body.thread_id, metadata=body.metadata, keep=keep)
    return json_response(n)


_C = "/runs/crons/{cron_id}"
ENDPOINTS = (
    Endpoint(method="POST", path="/runs/crons", handler=create, summary="Create a stateless cron", body=CronCreate, response=Cron),
    Endpoint(method="POST", path="/threads/{thread_id}/runs/crons", handler=create_for_thread, summary="Create a cron for a thread", body=ThreadCronCreate, response=Cron),
    Endpoint(method="POST", path="/runs/crons/search", handler=search, summary="Search crons", body=CronSearch, response=list[Cron]),
    Endpoint(method="POST", path="/runs/crons/count", handler=count, summary="Count crons", body=CronCount, response=int),
    Endpoint(method="GET", path=_C, handler=get, summary="Get a cron", response=Cron),
    Endpoint(method="PATCH", path=_C, handler=patch, summary="Update a cron", body=CronPatch, response=Cron),
    Endpoint(method="DELETE", path=_C, handler=delete, summary="Delete a cron", status=204),
)
