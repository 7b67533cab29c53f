"""``/assistants``: create, get, update (a new version), delete, search, count, versions,
set latest, and the graph behind an assistant (drawing, schemas, subgraphs)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from actorgraph.server import auth
from actorgraph.server._context import ctx, now
from actorgraph.server._errors import ApiError
from actorgraph.server.api._http import Endpoint, json_response, page_response, parse_body, query_bool
from actorgraph.server.schemas import (
    Assistant,
    AssistantCount,
    AssistantCreate,
    AssistantLatest,
    AssistantPatch,
    AssistantSearch,
    AssistantVersion,
    AssistantVersionsSearch,
    GraphSchemas,
)
from actorgraph.server.services import assistants as svc

__all__ = ("ENDPOINTS",)


def _aid(request: Request) -> str:
    return str(request.path_params["assistant_id"])


async def create(request: Request) -> Response:
    body = await parse_body(request, AssistantCreate)
    await auth.check_assistant_create(request, body)
    return json_response(await svc.create(ctx(request), body))


async def get(request: Request) -> Response:
    await auth.check_assistant(request, "read", _aid(request))
    return json_response(await svc.get(ctx(request), _aid(request)))


async def patch(request: Request) -> Response:
    body = await parse_body(request, AssistantPatch)
    value = {"assistant_id": _aid(request), "graph_id": body.graph_id, "config": body.config or {},
             "context": body.context or {}, "metadata": body.metadata or {}, "name": body.name}
    await auth.check_assistant(request, "update", _aid(request), value)
    return json_response(await svc.update(ctx(request), _aid(request), body))


async def delete(request: Request) -> Response:
    c = ctx(request)
    await auth.check_assistant(request, "delete", _aid(request))
    assistant = await svc.get(c, _aid(request))
    if query_bool(request, "delete_threads"):
        for thread in await c.storage.thread_search(metadata={"assistant_id": assistant.assistant_id}, limit=10**9):
            await c.storage.thread_delete(thread.thread_id)
            if c.checkpointer is not None:
                await c.checkpointer.adelete_thread(thread.thread_id)
    await c.storage.assistant_delete(assistant.assistant_id)
    return Response(status_code=204)


async def search(request: Request) -> Response:
    body = await parse_body(request, AssistantSearch)
    c = ctx(request)
    keep = await auth.assistant_keep(
        request, {"graph_id": body.graph_id, "metadata": body.metadata or {}, "limit": body.limit, "offset": body.offset}
    )
    found = await c.storage.assistant_search(
        graph_id=body.graph_id,
        name=body.name,
        metadata=body.metadata,
        limit=body.limit + 1,
        offset=body.offset,
        sort_by=body.sort_by,
        sort_order=body.sort_order,
        keep=keep,
    )
    return page_response(found, body.limit, body.offset, body.select)


async def count(request: Request) -> Response:
    body = await parse_body(request, AssistantCount)
    keep = await auth.assistant_keep(request, {"graph_id": body.graph_id, "metadata": body.metadata or {}, "limit": 0, "offset": 0})
    n = await ctx(request).storage.assistant_count(graph_id=body.graph_id, name=body.name, metadata=body.metadata, keep=keep)
    return json_response(n)


async def versions(request: Request) -> Response:
    body = await parse_body(request, AssistantVersionsSearch)
    await auth.check_assistant(request, "read", _aid(request))
    c = ctx(request)
    assistant = await svc.get(c, _aid(request))
    found = await c.storage.assistant_versions(
        assistant.assistant_id, metadata=body.metadata, limit=body.limit, offset=body.offset
    )
    return json_response(found)


async def latest(request: Request) -> Response:
    body = await parse_body(request, AssistantLatest)
    await auth.check_assistant(request, "update", _aid(request), {"assistant_id": _aid(request), "version": body.version})
    c = ctx(request)
    assistant = await svc.get(c, _aid(request))
    updated = None
    if body.version is not None:
        updated = await c.storage.assistant_set_latest(assistant.assistant_id, body.version, now())
    if updated is None:
        raise ApiError(404, f"Version {body.version} not found for assistant {assistant.assistant_id}")
    return json_response(updated)


async def graph(request: Request) -> Response:
    xray = svc.parse_xray(request.query_params.get("xray"))
    await auth.check_assistant(request, "read", _aid(request))
    return json_response(await svc.graph_drawing(ctx(request), _aid(request), xray))


async def schemas(request: Request) -> Response:
    await auth.check_assistant(request, "read", _aid(request))
    return json_response(await svc.graph_schemas(ctx(request), _aid(request)))


async def subgraphs(request: Request) -> Response:
    namespace = request.path_params.get("namespace")
    recurse = query_bool(request, "recurse")
    await auth.check_assistant(request, "read", _aid(request))
    return json_response(await svc.subgraph_schemas(ctx(request), _aid(request), namespace, recurse))


_P = "/assistants/{assistant_id}"
ENDPOINTS = (
    Endpoint(method="POST", path="/assistants", handler=create, summary="Create an assistant", body=AssistantCreate, response=Assistant),
    Endpoint(method="POST", path="/assistants/search", handler=search, summary="Search assistants", body=AssistantSearch, response=list[Assistant]),
    Endpoint(method="POST", path="/assistants/count", handler=count, summary="Count assistants", body=AssistantCount, response=int),
    Endpoint(method="GET", path=_P, handler=get, summary="Get an assistant", response=Assistant),
    Endpoint(method="PATCH", path=_P, handler=patch, summary="Update an assistant (a new version)", body=AssistantPatch, response=Assistant),
    Endpoint(method="DELETE", path=_P, handler=delete, summary="Delete an assistant", status=204, query=(("delete_threads", "boolean"),)),
    Endpoint(method="POST", path=_P + "/versions", handler=versions, summary="List an assistant's versions", body=AssistantVersionsSearch, response=list[AssistantVersion]),
    Endpoint(method="POST", path=_P + "/latest", handler=latest, summary="Set the latest version", body=AssistantLatest, response=Assistant),
    Endpoint(method="GET", path=_P + "/graph", handler=graph, summary="The assistant's graph (nodes and edges)", response=dict, query=(("xray", "string"),)),
    Endpoint(method="GET", path=_P + "/schemas", handler=schemas, summary="The graph's JSON schemas", response=GraphSchemas),
    Endpoint(method="GET", path=_P + "/subgraphs", handler=subgraphs, summary="The graph's subgraphs", response=dict[str, GraphSchemas], query=(("recurse", "boolean"),)),
    Endpoint(method="GET", path=_P + "/subgraphs/{namespace}", handler=subgraphs, summary="One subgraph", response=dict[str, GraphSchemas], query=(("recurse", "boolean"),)),
)
