"""Authorization: the deployment's ``@auth.on`` handlers, run before each endpoint acts.

:func:`authorize` picks the most specific handler for a (resource, action), as LangGraph's
server does: ``(resource, action)``, then ``(resource, "*")``, ``("*", action)``,
``("*", "*")``, then the global ``@auth.on``. The handler may change ``value`` (the
metadata a create stores, the namespace a store call uses), reject (``False`` or an
``Auth.exceptions.HTTPException``) or return a metadata filter that scopes what the user
may see and touch. The other functions apply that answer to one resource each, so an
endpoint makes a single call; without auth configured every one of them returns at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request

from actorgraph.server._context import ctx
from actorgraph.server._errors import ApiError
from actorgraph.server.auth._authn import SCOPE_KEY, RequestAuth, ServerAuth
from actorgraph.server.auth._filters import filter_matches

__all__ = (
    "Filter",
    "assistant_keep",
    "authorize",
    "check_assistant",
    "check_assistant_create",
    "check_run_assistant",
    "check_run_create",
    "check_thread",
    "check_thread_copy",
    "check_thread_create",
    "check_threads",
    "request_auth",
    "run_configurable",
    "server_auth",
    "store_access",
    "thread_keep",
    "threads_allowed",
)

Filter = Mapping[str, Any]
_ID_KEYS = ("thread_id", "run_id", "assistant_id", "cron_id")


def server_auth(request: Request) -> ServerAuth | None:
    """The app's loaded auth (``None``: the server runs without auth)."""
    return getattr(request.app.state, "auth", None)


def request_auth(request: Request) -> RequestAuth | None:
    """Who made this request, as the authenticate handler said."""
    return request.scope.get(SCOPE_KEY)  # type: ignore[no-any-return]


def _as_uuid(value: Any) -> Any:
    # LangGraph's server hands handlers ids as UUIDs
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return value


def _handler(server: ServerAuth, resource: str, action: str) -> Any:
    key = (resource, action)
    if key in server.handler_cache:
        return server.handler_cache[key]
    auth = server.auth
    found = None
    for candidate in (key, (resource, "*"), ("*", action), ("*", "*")):
        if candidate in auth._handlers:
            found = auth._handlers[candidate][-1]
            break
    if found is None and auth._global_handlers:
        found = auth._global_handlers[-1]
    server.handler_cache[key] = found
    return found


async def authorize(request: Request, resource: str, action: str, value: dict[str, Any]) -> Filter | None:
    """Run the handler for ``resource``/``action`` on ``value`` (which it may change).
    Returns its filter (``None``: no restriction); a rejection raises ``ApiError``."""
    server = server_auth(request)
    who = request_auth(request)
    if server is None or who is None:
        return None
    handler = _handler(server, resource, action)
    if handler is None:
        return None
    for key in _ID_KEYS:
        if isinstance(value.get(key), str):
            value[key] = _as_uuid(value[key])
    from langgraph_sdk import Auth

    context = Auth.types.AuthContext(user=who.user, permissions=who.permissions, resource=resource, action=action)  # type: ignore[arg-type]
    try:
        result = await handler(ctx=context, value=value)
    except Auth.exceptions.HTTPException as exc:
        raise ApiError(exc.status_code, str(exc.detail), headers=exc.headers) from None
    except AssertionError as exc:
        raise ApiError(403, str(exc) or "Forbidden") from None
    if result is None or result is True:
        return None
    if result is False:
        raise ApiError(403, "Forbidden")
    if not isinstance(result, Mapping):
        # the deployment's handler is at fault, not the request
        raise ApiError(
            500, f"the auth handler for {resource}.{action} returned a {type(result).__name__}: "
            "it must return None, True, False or a metadata filter (a dict)",
        )
    return result or None


# -- threads (and the runs on them, which LangGraph's server authorizes as threads) ----


async def check_thread(
    request: Request, action: str, thread_id: str, value: dict[str, Any] | None = None, *,
    status: int = 404, detail: str | None = None,
) -> None:
    """The user may ``action`` the thread: else ``status`` (404: as if it did not exist)."""
    filters = await authorize(request, "threads", action, value if value is not None else {"thread_id": _as_uuid(thread_id)})
    if filters is None:
        return
    thread = await ctx(request).storage.thread_get(thread_id)
    if thread is None or not filter_matches(thread.metadata, filters):
        raise ApiError(status, detail or f"Thread with ID {thread_id} not found")


async def check_threads(request: Request, action: str, thread_ids: list[str]) -> None:
    """Every thread in ``thread_ids`` is the user's to ``action`` (prune)."""
    filters = await authorize(request, "threads", action, {"thread_ids": [_as_uuid(t) for t in thread_ids]})
    if filters is None:
        return
    storage = ctx(request).storage
    for thread_id in thread_ids:
        thread = await storage.thread_get(thread_id)
        if thread is None or not filter_matches(thread.metadata, filters):
            raise ApiError(404, "At least one thread not found or not authorized")


async def thread_keep(request: Request, value: dict[str, Any]) -> Callable[[Any], bool] | None:
    """For a search or count: which thread records the user may see."""
    filters = await authorize(request, "threads", "search", value)
    if filters is None:
        return None
    return lambda thread: filter_matches(thread.metadata, filters)


async def threads_allowed(
    request: Request, action: str, value: dict[str, Any]
) -> Callable[[str], Awaitable[bool]] | None:
    """For a call over many runs (cancel): whether the run's thread is the user's."""
    filters = await authorize(request, "threads", action, value)
    if filters is None:
        return None
    storage = ctx(request).storage

    async def allowed(thread_id: str) -> bool:
        thread = await storage.thread_get(thread_id)
        return thread is not None and filter_matches(thread.metadata, filters)

    return allowed


async def check_thread_create(request: Request, body: Any, *, thread_id: str | None) -> None:
    """``threads.create``: the handler may fill ``body.metadata`` (an owner); an existing
    thread with this id that the user may not see is a conflict, as in LangGraph."""
    if server_auth(request) is None:
        return
    metadata = dict(body.metadata or {})
    value = {"thread_id": _as_uuid(thread_id) if thread_id else None, "metadata": metadata,
             "if_exists": body.if_exists or "raise", "ttl": getattr(body, "ttl", None)}
    filters = await authorize(request, "threads", "create", value)
    body.metadata = value.get("metadata", metadata)
    if filters is not None and thread_id:
        existing = await ctx(request).storage.thread_get(thread_id)
        if existing is not None and not filter_matches(existing.metadata, filters):
            raise ApiError(409, f"Thread with ID {thread_id} already exists")


async def check_run_create(request: Request, thread_id: str | None, body: Any) -> dict[str, Any] | None:
    """``threads.create_run``: the handler may fill ``body.metadata`` (which a thread the
    run creates gets too); a thread or a user-made assistant the user may not see is
    \"not found\", as LangGraph's server answers. Returns the configurable keys that name
    the user to the run's graph (``None`` without auth)."""
    if server_auth(request) is None:
        return None
    metadata = dict(body.metadata or {})
    value = {
        "thread_id": _as_uuid(thread_id) if thread_id else None,
        "assistant_id": _as_uuid(body.assistant_id),
        "run_id": None,
        "status": "pending",
        "metadata": metadata,
        "prevent_insert_if_inflight": True,
        "multitask_strategy": body.multitask_strategy or "enqueue",
        "if_not_exists": body.if_not_exists or "reject",
        "after_seconds": body.after_seconds or 0,
        "kwargs": {"input": body.input, "config": body.config or {}, "context": body.context or {}},
    }
    filters = await authorize(request, "threads", "create_run", value)
    body.metadata = value.get("metadata", metadata)
    c = ctx(request)
    if filters is not None and thread_id:
        thread = await c.storage.thread_get(thread_id)
        if thread is not None and not filter_matches(thread.metadata, filters):
            raise ApiError(404, "Thread or assistant not found.")
    await check_run_assistant(request, body.assistant_id)
    return run_configurable(request)


async def check_run_assistant(request: Request, assistant_id: str) -> None:
    """A user-made assistant a run or cron uses must be one the user may read."""
    from actorgraph.server.services import assistants as svc

    c = ctx(request)
    try:
        assistant = await c.storage.assistant_get(svc.resolve_id(c, assistant_id))
    except ApiError:
        return  # the run's own checks answer a bad id
    if assistant is None or assistant.metadata.get("created_by") == "system":
        return  # the graphs' own assistants are everyone's
    filters = await authorize(request, "assistants", "read", {"assistant_id": _as_uuid(assistant.assistant_id)})
    if filters is not None and not filter_matches(assistant.metadata, filters):
        raise ApiError(404, "Thread or assistant not found.")


def run_configurable(request: Request) -> dict[str, Any]:
    """The keys a run's config carries about who asked for it (LangGraph's names)."""
    who = request_auth(request)
    if who is None:
        return {}
    return {
        "langgraph_auth_user": dict(who.user),
        "langgraph_auth_user_id": who.user.identity,
        "langgraph_auth_permissions": list(who.permissions),
    }


# -- assistants -----------------------------------------------------------------------


async def check_assistant(request: Request, action: str, assistant_id: str, value: dict[str, Any] | None = None) -> None:
    """The user may ``action`` the assistant: else 404, as if it did not exist."""
    if server_auth(request) is None:
        return
    from actorgraph.server.services import assistants as svc

    c = ctx(request)
    resolved = svc.resolve_id(c, assistant_id)
    filters = await authorize(request, "assistants", action, value if value is not None else {"assistant_id": _as_uuid(resolved)})
    if filters is None:
        return
    assistant = await c.storage.assistant_get(resolved)
    if assistant is None or not filter_matches(assistant.metadata, filters):
        raise ApiError(404, f"Assistant '{assistant_id}' not found")


async def check_assistant_create(request: Request, body: Any) -> None:
    """``assistants.create``: the handler may fill ``body.metadata``; an existing assistant
    with this id that the user may not see is a conflict."""
    if server_auth(request) is None:
        return
    metadata = dict(body.metadata or {})
    value = {
        "assistant_id": _as_uuid(body.assistant_id) if body.assistant_id else None,
        "graph_id": body.graph_id,
        "config": body.config or {},
        "context": body.context or {},
        "metadata": metadata,
        "if_exists": body.if_exists or "raise",
        "name": body.name or "Untitled",
    }
    filters = await authorize(request, "assistants", "create", value)
    body.metadata = value.get("metadata", metadata)
    if filters is not None and body.assistant_id:
        try:
            existing = await ctx(request).storage.assistant_get(str(uuid.UUID(body.assistant_id)))
        except ValueError:
            return
        if existing is not None and not filter_matches(existing.metadata, filters):
            raise ApiError(409, f"Assistant {body.assistant_id} already exists")


async def assistant_keep(request: Request, value: dict[str, Any]) -> Callable[[Any], bool] | None:
    """For a search or count: which assistants (or versions) the user may see."""
    filters = await authorize(request, "assistants", "search", value)
    if filters is None:
        return None
    return lambda assistant: filter_matches(assistant.metadata, filters)


# -- store ----------------------------------------------------------------------------


async def store_access(request: Request, action: str, value: dict[str, Any]) -> Filter | None:
    """``store.<action>``: the handler may rewrite ``value`` (its ``namespace`` above all,
    to scope the user to their own); for a search, its filter is returned to apply to
    the items' values."""
    return await authorize(request, "store", action, value)


async def check_thread_copy(request: Request, thread_id: str) -> None:
    """Copying is reading the thread (LangGraph's server answers 409 when the user may
    not) and creating one like it."""
    await check_thread(request, "read", thread_id, status=409, detail="Conflict")
    if server_auth(request) is None:
        return
    source = await ctx(request).storage.thread_get(thread_id)
    metadata = dict(source.metadata) if source is not None else {}
    await authorize(request, "threads", "create", {"thread_id": None, "metadata": metadata, "if_exists": "raise"})
