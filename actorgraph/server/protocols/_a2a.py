"""``/a2a/{assistant_id}``: each assistant as an Agent2Agent agent, speaking JSON-RPC 2.0
as LangGraph's server does (the 1.0 method names ``SendMessage``, ``SendStreamingMessage``,
``GetTask``, ``CancelTask``, ``ListTasks``, ``GetExtendedAgentCard``, and the 0.x names
``message/send``, ``message/stream``, ``tasks/get``, ``tasks/cancel`` answered in the 0.x
spelling), with its agent card at ``/a2a/{assistant_id}/.well-known/agent-card.json``.
A bad request is a JSON-RPC error object (HTTP 200), never a 5xx."""

from __future__ import annotations

import os
from typing import Any

import msgspec
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actorgraph import __version__
from actorgraph.server._context import ServerContext, ctx
from actorgraph.server._json import dumps, loads

from . import _a2a_parts as parts_
from ._a2a_stream import message_stream
from ._a2a_tasks import (
    INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR, RpcError, get_assistant,
    input_fields, list_tasks, message_send, tasks_cancel, tasks_get,
)

__all__ = ("agent_card", "mount_a2a")

log = structlog.get_logger("actorgraph.server.a2a")

PROTOCOL_VERSION = "1.0"
_MODES = ["application/json", "text/plain"]
_ALIASES = {
    "message/send": "SendMessage",
    "message/stream": "SendStreamingMessage",
    "tasks/get": "GetTask",
    "tasks/cancel": "CancelTask",
}
_METHODS = frozenset({"SendMessage", "SendStreamingMessage", "GetTask", "CancelTask", "ListTasks", "GetExtendedAgentCard"})
_CARD_SUFFIXES = ("/.well-known/agent-card.json", "/.well-known/agent.json")


def _json(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json")


def _rpc_error(code: int, message: str, rpc_id: Any = None) -> Response:
    # JSON-RPC errors travel in a 200 answer; the HTTP status is for the transport
    return _json({"jsonrpc": "2.0", "id": rpc_id, "error": {"code": code, "message": message}})


def _accepts(header: str, media_type: str) -> bool:
    for item in header.split(","):
        candidate = item.split(";", 1)[0].strip().lower()
        if candidate in ("*/*", media_type) or (candidate.endswith("/*") and media_type.startswith(candidate[:-1])):
            return True
    return False


async def agent_card(c: ServerContext, request: Request, assistant_id: str) -> dict[str, Any]:
    """The agent card of an assistant (``RpcError`` when there is no such assistant, or
    the user may not read it)."""
    assistant = await get_assistant(c, request, assistant_id)
    schema = await input_fields(c, assistant)
    properties = schema.get("properties") or {}
    description = assistant.description or f"{assistant.name} assistant"
    url = f"{_base_url(request, assistant.assistant_id)}/a2a/{assistant.assistant_id}"
    skill = {
        "id": f"{assistant.assistant_id}-main",
        "name": f"{assistant.name} Capabilities",
        "description": description,
        "tags": ["assistant", "langgraph"],
        "examples": [],
        "inputModes": _MODES,
        "outputModes": _MODES,
        "metadata": {
            "inputSchema": {
                "required": schema.get("required") or [],
                "properties": sorted(properties),
                "supportsA2A": "messages" in properties,
            }
        },
    }
    return {
        "name": assistant.name,
        "description": description,
        "url": url,
        "supportedInterfaces": [{"url": url, "protocolBinding": "JSONRPC", "protocolVersion": PROTOCOL_VERSION}],
        "capabilities": {"streaming": True, "pushNotifications": False, "stateTransitionHistory": False},
        "defaultInputModes": _MODES,
        "defaultOutputModes": _MODES,
        "skills": [skill],
        "version": __version__,
    }


def _base_url(request: Request, assistant_id: str) -> str:
    """Where clients reach this server: the request's own origin and mount prefix."""
    scheme = request.headers.get("x-forwarded-proto") or request.url.scheme
    host = request.url.hostname or "localhost"
    port = request.url.port
    path = request.url.path
    for suffix in _CARD_SUFFIXES:
        path = path.removesuffix(suffix)
    path = path.rstrip("/").removesuffix(f"/a2a/{request.path_params.get('assistant_id', assistant_id)}")
    default_port = (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
    origin = f"{scheme}://{host}" if not port or default_port else f"{scheme}://{host}:{port}"
    return origin + path


async def _card_answer(request: Request, assistant_id: str | None) -> Response:
    if not assistant_id:
        return _json({"error": {"code": INVALID_PARAMS, "message": "Missing required query parameter: assistant_id"}}, 400)
    try:
        return _json(await agent_card(ctx(request), request, assistant_id))
    except RpcError as exc:
        return _json({"error": exc.body()}, 400)


async def card_of_assistant(request: Request) -> Response:
    return await _card_answer(request, str(request.path_params["assistant_id"]))


async def card_at_root(request: Request) -> Response:
    """``/.well-known/agent-card.json?assistant_id=...`` (or ``DEFAULT_A2A_ASSISTANT_ID``)."""
    return await _card_answer(request, request.query_params.get("assistant_id") or os.environ.get("DEFAULT_A2A_ASSISTANT_ID"))


async def endpoint(request: Request) -> Response:
    if request.method == "GET":  # the agent's URL itself answers with its card
        return await card_of_assistant(request)
    if request.method != "POST":
        return Response(status_code=405, headers={"Allow": "GET, POST"})
    try:
        message = loads(await request.body())
    except msgspec.DecodeError:
        return _rpc_error(PARSE_ERROR, "Invalid JSON payload")
    return await _answer(request, message)


async def _answer(request: Request, message: Any) -> Response:
    if not isinstance(message, dict):
        return _rpc_error(INVALID_REQUEST, "Invalid message format: expected object")
    rpc_id, method = message.get("id"), message.get("method")
    if rpc_id is not None and (not isinstance(rpc_id, (str, int, float)) or isinstance(rpc_id, bool)):
        return _rpc_error(INVALID_REQUEST, "Invalid JSON-RPC request: 'id' must be a string, number, or null")
    if message.get("jsonrpc") != "2.0":
        return _rpc_error(INVALID_REQUEST, "Invalid JSON-RPC message: missing or invalid jsonrpc version", rpc_id)
    legacy = isinstance(method, str) and method in _ALIASES
    method = _ALIASES.get(method, method) if isinstance(method, str) else method
    if method is not None and not isinstance(method, str):
        return _rpc_error(METHOD_NOT_FOUND, "Method not found: method must be a string", rpc_id)
    if method is not None and method not in _METHODS:
        return _rpc_error(METHOD_NOT_FOUND, f"Method not found: {method}", rpc_id)
    params = message.get("params", {})
    if method in ("SendMessage", "SendStreamingMessage"):
        if not isinstance(params, dict):
            return _rpc_error(INVALID_PARAMS, "Invalid params: must be an object", rpc_id)
        if not isinstance(params.get("message"), dict) or not params["message"]:
            return _rpc_error(INVALID_PARAMS, "Missing or invalid 'message' in params", rpc_id)
    elif not isinstance(params, dict):
        return _rpc_error(INVALID_PARAMS, "Invalid params: must be an object", rpc_id)
    accept = request.headers.get("accept") or ""
    wanted = "text/event-stream" if method == "SendStreamingMessage" else "application/json"
    if method is not None and not _accepts(accept, wanted):
        return _json({"error": f"Accept header must include {wanted}"}, 400)
    if rpc_id is None or method is None:
        if rpc_id is not None and ("result" in message or "error" in message):
            return Response(status_code=202)  # a response to us: nothing to answer
        if rpc_id is not None:
            return _rpc_error(INVALID_REQUEST, "Invalid JSON-RPC request: missing 'method' field", rpc_id)
        return _rpc_error(INVALID_REQUEST, "Invalid message format: must be a JSON-RPC request or notification")
    c = ctx(request)
    assistant_id = str(request.path_params["assistant_id"])
    if method == "SendStreamingMessage":
        return message_stream(c, request, params, assistant_id, rpc_id, legacy=legacy)
    try:
        if method == "SendMessage":
            result = await message_send(c, request, params, assistant_id)
        elif method == "GetTask":
            result = await tasks_get(c, request, params, assistant_id)
        elif method == "CancelTask":
            result = await tasks_cancel(c, request, params, assistant_id)
        elif method == "ListTasks":
            result = await list_tasks(c, request, params, assistant_id)
        else:
            result = await agent_card(c, request, assistant_id)
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": rpc_id, "result": result}
    except RpcError as exc:
        body = {"jsonrpc": "2.0", "id": rpc_id, "error": exc.body()}
    except Exception:
        log.exception("A2A request failed", method=method, assistant_id=assistant_id)
        body = {"jsonrpc": "2.0", "id": rpc_id, "error": {"code": INTERNAL_ERROR, "message": "Internal server error"}}
    return _json(parts_.legacy(body) if legacy else body)


def mount_a2a(app: Starlette) -> None:
    """Serve ``/a2a/{assistant_id}`` and the agent cards on ``app``."""
    app.router.routes.extend([
        Route("/a2a/{assistant_id}", endpoint, methods=["GET", "POST", "DELETE"]),
        Route("/a2a/{assistant_id}/", endpoint, methods=["GET", "POST", "DELETE"], include_in_schema=False),
        *(Route("/a2a/{assistant_id}" + suffix, card_of_assistant, methods=["GET"]) for suffix in _CARD_SUFFIXES),
        Route("/.well-known/agent-card.json", card_at_root, methods=["GET"]),
    ])
