"""What every endpoint shares: the route declaration (read by the router and by the
OpenAPI generator), body decoding into Structs (a bad field is a 422 naming it), JSON
responses, and the error type handlers raise."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from actorgraph.server._errors import ApiError
from actorgraph.server._json import dumps

__all__ = ("ApiError", "Endpoint", "json_response", "page_response", "parse_body", "query_bool", "query_int", "require_uuid")

T = TypeVar("T")
Handler = Callable[[Request], Awaitable[Response]]


class Endpoint(msgspec.Struct, frozen=True, kw_only=True):
    method: str
    path: str
    handler: Handler
    summary: str
    body: Any = None
    response: Any = None
    status: int = 200
    stream: bool = False
    query: tuple[tuple[str, str], ...] = ()


def json_response(content: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dumps(content), status_code=status, headers=dict(headers or {}), media_type="application/json")


def page_response(found: Sequence[Any], limit: int, offset: int, select: Sequence[str] | None = None) -> Response:
    """A search's answer from ``found`` (fetched with ``limit + 1``, so one more than the
    page says there is a next one: ``X-Pagination-Next``, as LangGraph's server sends),
    each record cut to the ``select``ed fields when asked."""
    headers = {}
    if len(found) > limit:
        found = found[:limit]
        headers["X-Pagination-Next"] = str(offset + limit)
    if select:
        fields = set(select)
        return json_response([{k: v for k, v in msgspec.structs.asdict(r).items() if k in fields} for r in found], headers=headers)
    return json_response(list(found), headers=headers)


def _field_path(message: str) -> str:
    # msgspec says "... - at `$.config.configurable`": keep it, it names the field
    return message


async def parse_body(request: Request, type_: type[T], *, empty: bytes | None = None) -> T:
    raw = await request.body()
    if not raw.strip():
        if empty is None:
            raise ApiError(422, "Invalid JSON in request body: the body is empty")
        raw = empty
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        raise ApiError(422, f"Invalid request body: {_field_path(str(exc))}") from None
    except msgspec.DecodeError as exc:
        raise ApiError(422, f"Invalid JSON in request body: {exc}") from None


def require_uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ApiError(422, f"Invalid {what}: must be a UUID, got {value!r}") from None


def query_bool(request: Request, name: str, default: bool = False) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ApiError(422, f"Invalid query parameter {name!r}: {raw!r} is not a boolean")


def query_int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(422, f"Invalid query parameter {name!r}: {raw!r} is not an integer") from None
