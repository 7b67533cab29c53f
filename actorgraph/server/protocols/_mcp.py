"""``/mcp``: every assistant as an MCP tool, over MCP's streamable HTTP transport (the
official ``mcp`` SDK, stateless, JSON answers), as LangGraph's server offers them: the
tool's name is the assistant's name made tool-safe, its input schema the graph's input
schema, and a call is a stateless run whose output (or error) is the tool's result.
With custom auth, a user's tools are the assistants the assistants search shows them
(and they may read), and a call is a run they start, as through the HTTP API."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
import mcp.types as types
import structlog
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.types import ASGIApp

from actorgraph import __version__
from actorgraph.server._context import ServerContext
from actorgraph.server._errors import ApiError
from actorgraph.server.auth import assistant_keep, check_assistant
from actorgraph.server.schemas import Assistant, RunCreate
from actorgraph.server.services.assistants import graph_schemas

from ._runs import start_run, wait_output

__all__ = ("mcp_app", "tool_name")

log = structlog.get_logger("actorgraph.server.mcp")

PAGE_SIZE = 100  # tools per tools/list page, as LangGraph's server
MAX_ASSISTANTS = 1000  # how many assistants a tools/call looks through for the name
_NAME_MAX = 128
_INVALID = re.compile(r"[^a-zA-Z0-9_\-.]")

# LangChain message types: a graph input that is a list of these is offered to the
# model as one string (the user's message), which add_messages turns into a message
_MESSAGE_TYPES = frozenset(
    f"{kind}{suffix}"
    for kind in ("AI", "Human", "Chat", "System", "Function", "Tool")
    for suffix in ("Message", "MessageChunk")
)
_SUPPORT_TYPES = frozenset(
    {"ToolCall", "ToolCallChunk", "InvalidToolCall", "UsageMetadata", "InputTokenDetails", "OutputTokenDetails"}
)
_ANNOTATIONS = types.ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)


def tool_name(name: str) -> str:
    """An assistant's name as an MCP tool name (``^[a-zA-Z0-9_\\-.]{1,128}$``)."""
    return _INVALID.sub("", re.sub(r"\s+", "_", name.strip()))[:_NAME_MAX]


def _is_message_list(prop: Any) -> bool:
    if not isinstance(prop, dict) or prop.get("type") != "array":
        return False
    items = prop.get("items")
    if not isinstance(items, dict):
        return False
    for option in items.get("anyOf") or items.get("oneOf") or []:
        if not isinstance(option, dict):
            continue
        ref = option.get("$ref")
        named = ref.rsplit("/", 1)[-1] if isinstance(ref, str) else option.get("title")
        if named in _MESSAGE_TYPES:
            return True
    return False


def _tool_schema(input_schema: dict[str, Any]) -> dict[str, Any]:
    schema = copy.deepcopy(input_schema)
    props = schema.get("properties")
    if isinstance(props, dict):
        for key, prop in list(props.items()):
            if _is_message_list(prop):
                props[key] = {
                    "type": "string",
                    "title": prop.get("title", key.title()),
                    "description": "The user message to send to the agent.",
                }
    defs = schema.get("$defs")
    if isinstance(defs, dict) and _MESSAGE_TYPES & set(defs):
        for name in _MESSAGE_TYPES | _SUPPORT_TYPES:
            defs.pop(name, None)
        if not defs:
            del schema["$defs"]
    schema.setdefault("type", "object")  # MCP requires an object schema at the root
    return schema


async def _tool(c: ServerContext, request: Request, assistant: Assistant, name: str) -> types.Tool | None:
    try:
        # LangGraph's server reads each tool's schemas as the user: one they may not read is left out
        await check_assistant(request, "read", assistant.assistant_id)
    except ApiError:
        return None
    try:
        schemas = await graph_schemas(c, assistant.assistant_id)
    except Exception as exc:  # a graph that can't be built is left out, not the whole list
        log.warning("assistant left out of the MCP tools", assistant_id=assistant.assistant_id, error=repr(exc))
        return None
    if schemas.input_schema is None:
        log.warning("assistant has no input schema, left out of the MCP tools", assistant_id=assistant.assistant_id)
        return None
    return types.Tool(
        name=name,
        title=assistant.name,
        description=assistant.description or f"Tool based on the {assistant.name} assistant",
        input_schema=_tool_schema(schemas.input_schema),
        annotations=_ANNOTATIONS,
    )


def _offset(cursor: str | None) -> int:
    try:
        return max(int(cursor or 0), 0)
    except ValueError:
        return 0


def _request(rc: Any) -> Request:
    """The HTTP request an MCP message came in (the SDK hands it to the handlers): who
    the user is, for the auth checks."""
    request = getattr(rc, "request", None)
    if not isinstance(request, Request):
        raise MCPError(types.INTERNAL_ERROR, "The MCP message came without its HTTP request")
    return request


async def _visible(c: ServerContext, request: Request, limit: int, offset: int) -> list[Assistant]:
    """What the assistants search shows this user (without auth: every assistant)."""
    try:
        keep = await assistant_keep(request, {"graph_id": None, "metadata": {}, "limit": limit, "offset": offset})
    except ApiError as exc:  # the auth handler refused the search
        raise MCPError(types.INVALID_REQUEST, exc.detail) from None
    return await c.storage.assistant_search(limit=limit, offset=offset, keep=keep)


def build_server(app: Starlette) -> Server[Any]:
    def ctx() -> ServerContext:
        return app.state.ctx  # type: ignore[no-any-return]

    async def list_tools(rc: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        request = _request(rc)
        c = ctx()
        offset = _offset(params.cursor if params is not None else None)
        page = await _visible(c, request, PAGE_SIZE, offset)
        seen: set[str] = set()
        unique: list[tuple[Assistant, str]] = []
        for assistant in page:
            name = tool_name(assistant.name)
            if name in seen:
                log.warning("duplicate assistant name, left out of the MCP tools", name=assistant.name)
                continue
            seen.add(name)
            unique.append((assistant, name))
        tools: list[types.Tool | None] = [None] * len(unique)

        async def fill(i: int, assistant: Assistant, name: str) -> None:
            tools[i] = await _tool(c, request, assistant, name)

        async with anyio.create_task_group() as tg:
            for i, (assistant, name) in enumerate(unique):
                tg.start_soon(fill, i, assistant, name)
        next_cursor = str(offset + PAGE_SIZE) if len(page) == PAGE_SIZE else None
        return types.ListToolsResult(tools=[t for t in tools if t is not None], next_cursor=next_cursor)

    async def call_tool(rc: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        request = _request(rc)
        c = ctx()
        name = params.name
        matches = [a for a in await _visible(c, request, MAX_ASSISTANTS, 0) if name and tool_name(a.name) == name]
        if not matches:
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {name}")
        if len(matches) > 1:
            raise MCPError(types.INVALID_PARAMS, "Multiple tools found with the same name.")
        body = RunCreate(assistant_id=matches[0].assistant_id, input=params.arguments or {})
        try:
            run = await start_run(c, request, None, body)
        except ApiError as exc:
            raise MCPError(types.INVALID_PARAMS, exc.detail) from None
        output = await wait_output(c, run.run_id)
        if isinstance(output, dict) and "__error__" in output:
            # the graph failed: a tool error the model can see, not a protocol error
            error = output["__error__"]
            text = error.get("error") if isinstance(error, dict) else str(error)
            return types.CallToolResult(is_error=True, content=[types.TextContent(text=str(text))])
        # LangGraph's server answers with the output's Python repr
        return types.CallToolResult(content=[types.TextContent(text=repr(output))])

    return Server(
        "actorgraph", version=__version__, on_list_tools=list_tools, on_call_tool=call_tool
    )


def mcp_app(app: Starlette) -> tuple[ASGIApp, Callable[[], AbstractAsyncContextManager[Any]]]:
    """The ``/mcp`` endpoint of ``app`` (POST and DELETE; the caller answers GET) and
    the context its session manager must run in while it serves."""
    manager = StreamableHTTPSessionManager(build_server(app), stateless=True, json_response=True)
    return StreamableHTTPASGIApp(manager), manager.run
