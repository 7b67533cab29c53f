"""``/store``: the graphs' long-term memory (the same store their nodes see)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from actorgraph.errors import SerializationError
from actorgraph.server import auth
from actorgraph.server._context import ctx
from actorgraph.server._errors import ApiError
from actorgraph.server.api._http import Endpoint, json_response, parse_body, query_bool
from actorgraph.server.schemas import (
    Item,
    ListNamespaces,
    ListNamespacesResponse,
    SearchItem,
    SearchItemsResponse,
    StoreDelete,
    StorePut,
    StoreSearch,
)

__all__ = ("ENDPOINTS",)


def _namespace(labels: list[str] | None, field: str) -> tuple[str, ...]:
    for label in labels or ():
        if not label or "." in label:
            raise ApiError(422, f"Invalid {field}: namespace labels must be non-empty and contain no '.', got {label!r}")
    return tuple(labels or ())


def _item(item: Any) -> Item:
    return Item(
        namespace=list(item.namespace), key=item.key, value=item.value, created_at=item.created_at, updated_at=item.updated_at
    )


def _item_namespace(labels: list[str] | None) -> tuple[str, ...]:
    # an item lives in a namespace of at least one label (LangGraph: 400, this text)
    if not labels:
        raise ApiError(400, "Namespace cannot be empty.")
    return _namespace(labels, "namespace")


_NOTHING: Any = object()


def _scoped_filter(asked: dict[str, Any] | None, scope: Any) -> Any:
    """The request's filter and the auth handler's, both to hold: keys they share must
    agree (else nothing can match: ``_NOTHING``)."""
    if not scope:
        return asked
    merged = dict(asked or {})
    for key, want in scope.items():
        if key in merged and merged[key] != want:
            return _NOTHING
        merged[key] = want
    return merged


async def put(request: Request) -> Response:
    body = await parse_body(request, StorePut)
    v: dict[str, Any] = {"namespace": _item_namespace(body.namespace), "key": body.key, "value": body.value, "index": body.index, "ttl": body.ttl}
    await auth.store_access(request, "put", v)
    namespace = _item_namespace(list(v["namespace"]))
    kwargs: dict[str, Any] = {}
    if v["ttl"] is not None:
        kwargs["ttl"] = v["ttl"]
    try:
        await ctx(request).store.aput(namespace, v["key"], v["value"], index=v["index"], **kwargs)
    except SerializationError as exc:  # e.g. an integer beyond 64 bits
        raise ApiError(422, f"Invalid value: {exc}") from None
    except ValueError as exc:  # the store's own checks, e.g. a ttl <= 0
        raise ApiError(422, f"Invalid request body: {exc}") from None
    return Response(status_code=204)


async def get(request: Request) -> Response:
    q = request.query_params
    key = q.get("key")
    if not key:
        raise ApiError(400, "Key is required (query parameter 'key')")
    raw_ns = q.get("namespace", "")
    namespace = _namespace(raw_ns.split("."), "namespace")
    refresh = query_bool(request, "refresh_ttl", True) if q.get("refresh_ttl") is not None else None
    v: dict[str, Any] = {"namespace": namespace, "key": key, "refresh_ttl": refresh}
    await auth.store_access(request, "get", v)
    namespace = _namespace(list(v["namespace"]), "namespace")
    item = await ctx(request).store.aget(namespace, v["key"], refresh_ttl=v["refresh_ttl"])
    return json_response(None if item is None else _item(item))


async def delete(request: Request) -> Response:
    body = await parse_body(request, StoreDelete)
    v: dict[str, Any] = {"namespace": _item_namespace(body.namespace), "key": body.key}
    await auth.store_access(request, "delete", v)
    await ctx(request).store.adelete(_item_namespace(list(v["namespace"])), v["key"])
    return Response(status_code=204)


async def search(request: Request) -> Response:
    body = await parse_body(request, StoreSearch)
    v: dict[str, Any] = {"namespace": _namespace(body.namespace_prefix, "namespace_prefix"), "filter": body.filter, "limit": body.limit,
         "offset": body.offset, "query": body.query, "refresh_ttl": body.refresh_ttl}
    scoped = _scoped_filter(v["filter"], await auth.store_access(request, "search", v))
    if scoped is _NOTHING:
        return json_response(SearchItemsResponse(items=[]))
    found = await ctx(request).store.asearch(
        _namespace(list(v["namespace"]), "namespace_prefix"),
        query=v["query"],
        filter=scoped,
        limit=v["limit"],
        offset=v["offset"],
        refresh_ttl=v["refresh_ttl"],
    )
    items = [
        SearchItem(
            namespace=list(i.namespace), key=i.key, value=i.value, created_at=i.created_at,
            updated_at=i.updated_at, score=getattr(i, "score", None),
        )
        for i in found
    ]
    return json_response(SearchItemsResponse(items=items))


async def namespaces(request: Request) -> Response:
    body = await parse_body(request, ListNamespaces)
    v: dict[str, Any] = {"namespace": _namespace(body.prefix, "prefix") or None, "suffix": _namespace(body.suffix, "suffix") or None,
         "max_depth": body.max_depth, "limit": body.limit, "offset": body.offset}
    await auth.store_access(request, "list_namespaces", v)
    found = await ctx(request).store.alist_namespaces(
        prefix=_namespace(list(v["namespace"] or ()), "prefix") or None,
        suffix=_namespace(list(v["suffix"] or ()), "suffix") or None,
        max_depth=v["max_depth"],
        limit=v["limit"],
        offset=v["offset"],
    )
    return json_response(ListNamespacesResponse(namespaces=[list(ns) for ns in found]))


ENDPOINTS = (
    Endpoint(method="PUT", path="/store/items", handler=put, summary="Store an item", body=StorePut, status=204),
    Endpoint(method="GET", path="/store/items", handler=get, summary="Get an item (null when missing)", response=Item | None, query=(("namespace", "string"), ("key", "string"), ("refresh_ttl", "boolean"))),
    Endpoint(method="DELETE", path="/store/items", handler=delete, summary="Delete an item", body=StoreDelete, status=204),
    Endpoint(method="POST", path="/store/items/search", handler=search, summary="Search items", body=StoreSearch, response=SearchItemsResponse),
    Endpoint(method="POST", path="/store/namespaces", handler=namespaces, summary="List namespaces", body=ListNamespaces, response=ListNamespacesResponse),
)
