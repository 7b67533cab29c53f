"""Authentication: load the ``langgraph_sdk.Auth`` object ``langgraph.json``'s ``auth.path``
names, and the ASGI middleware that runs its ``@auth.authenticate`` handler on every
request but the few LangGraph's server leaves open (health, info, metrics, the API
document), with the parameters the handler asks for. The user it returns rides in the
request's scope for the authorization handlers (:mod:`._authz`) and the runs."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
import structlog
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from actorgraph.errors import ConfigError
from actorgraph.server._json import dumps
from actorgraph.server.auth._user import AuthUser, normalize_auth_result

__all__ = ("OPEN_PATHS", "SCOPE_KEY", "AuthMiddleware", "RequestAuth", "ServerAuth", "load_auth", "startup_notice")

log = structlog.get_logger("actorgraph.server.auth")

# the paths LangGraph's server serves without authentication
OPEN_PATHS = frozenset({"/", "/ok", "/info", "/metrics", "/docs", "/openapi.json"})
SCOPE_KEY = "actorgraph.auth"

# what an authenticate handler may ask for, by parameter name (LangGraph's set)
_PARAMETERS = frozenset(
    {"request", "body", "user", "path", "method", "scopes", "path_params", "query_params", "headers", "authorization", "scope"}
)


@dataclass(frozen=True, slots=True)
class RequestAuth:
    """Who made this request: the user and the permissions the handler granted."""

    user: AuthUser
    permissions: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ServerAuth:
    """The loaded ``Auth`` object and what its authenticate handler takes."""

    auth: Any  # langgraph_sdk.Auth
    path: str
    params: frozenset[str]
    handler_cache: dict[tuple[str, str], Any] = field(default_factory=dict)


def _import(spec: str, root: Path) -> Any:
    module_name, _, attr = spec.rpartition(":")
    if not module_name or not attr:
        raise ConfigError(f"auth.path must be 'path/to/file.py:name' or 'module:name', got {spec!r}", key="auth.path", value=spec)
    if module_name.endswith(".py") or "/" in module_name:
        file = (root / module_name).resolve()
        if not file.is_file():
            raise ConfigError(f"auth.path: no file {module_name!r} (looked in {root})", key="auth.path", value=spec)
        name = f"actorgraph_auth_{abs(hash(str(file)))}"
        loader_spec = importlib.util.spec_from_file_location(name, file)
        assert loader_spec is not None and loader_spec.loader is not None
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[name] = module
        loader_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(module_name)
    if not hasattr(module, attr):
        raise ConfigError(f"auth.path: {module_name!r} has no attribute {attr!r}", key="auth.path", value=spec)
    return getattr(module, attr)


def load_auth(config: Mapping[str, Any] | None, root: str | Path) -> ServerAuth | None:
    """The deployment's ``Auth`` object (``None`` when ``langgraph.json`` names none);
    a missing file, a wrong type or an authenticate handler with parameters we can't give
    raise ``ConfigError`` naming ``auth.path``."""
    if not config or not config.get("path"):
        return None
    spec = str(config["path"])
    from langgraph_sdk import Auth

    auth = _import(spec, Path(root))
    if not isinstance(auth, Auth):
        raise ConfigError(
            f"auth.path {spec!r} must name a langgraph_sdk.Auth instance, got {type(auth).__name__}", key="auth.path", value=spec
        )
    handler = auth._authenticate_handler
    if handler is None:
        raise ConfigError(f"auth.path {spec!r}: the Auth object has no @auth.authenticate handler", key="auth.path", value=spec)
    params: set[str] = set()
    for name, p in inspect.signature(handler).parameters.items():
        if name in _PARAMETERS:
            params.add(name)
        elif p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise ConfigError(
                f"auth.path {spec!r}: the authenticate handler's parameter {name!r} is not one the server gives "
                f"(it may ask for: {', '.join(sorted(_PARAMETERS))})",
                key="auth.path",
                value=spec,
            )
    log.info("custom auth loaded", path=spec)
    _warn_uncovered(auth)
    return ServerAuth(auth=auth, path=spec, params=frozenset(params))


# every (resource, action) the server authorizes
_ACTIONS = {
    "threads": ("create", "read", "update", "delete", "search", "create_run"),
    "assistants": ("create", "read", "update", "delete", "search"),
    "crons": ("create", "read", "update", "delete", "search"),
    "store": ("put", "get", "search", "delete", "list_namespaces"),
}


def _warn_uncovered(auth: Any) -> None:
    """Handlers for some actions but not others leave the others open to every
    authenticated user: say which, as LangGraph's server does at start."""
    handlers = auth._handlers
    if not handlers or auth._global_handlers or ("*", "*") in handlers:
        return
    uncovered = [
        f"{resource}.{action}"
        for resource, actions in _ACTIONS.items()
        for action in actions
        if not {(resource, action), (resource, "*"), ("*", action)} & handlers.keys()
    ]
    if uncovered:
        log.warning(
            "custom auth has no handler for some actions: any authenticated user may do them "
            "(add a global @auth.on handler to deny by default)",
            uncovered=uncovered,
        )


def startup_notice(config: Mapping[str, Any] | None, host: str) -> None:
    """Say at start whether requests are authenticated; warn when an unauthenticated
    server listens beyond this machine."""
    if config and config.get("path"):
        return
    log.info("no auth configured: every request is served without authentication (set auth.path in langgraph.json)")
    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        log.warning(
            "listening on a non-loopback address without auth: anyone who can reach it can read and run everything",
            host=host,
        )


class _Rejected(Exception):
    def __init__(self, status: int, detail: str, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def _arguments(params: frozenset[str], scope: Scope, request: Request | None) -> dict[str, Any]:
    headers = dict(scope.get("headers") or ())
    givers: dict[str, Callable[[], Any]] = {
        "request": lambda: request,
        "scope": lambda: scope,
        "user": lambda: None,
        "scopes": lambda: [],
        "path_params": lambda: scope.get("path_params", {}),
        "path": lambda: scope["path"],
        "query_params": lambda: QueryParams(scope.get("query_string") or b""),
        "headers": lambda: headers,
        "authorization": lambda: (headers.get(b"authorization") or b"").decode("latin-1") or None,
        "method": lambda: scope.get("method", "GET"),
        "body": lambda: None,
    }
    return {name: givers[name]() for name in params}


async def _authenticate(server: ServerAuth, scope: Scope, request: Request | None) -> RequestAuth:
    from langgraph_sdk import Auth

    fn = server.auth._authenticate_handler
    args = _arguments(server.params, scope, request)
    try:
        if inspect.iscoroutinefunction(fn):
            result = await fn(**args)
        else:
            result = await anyio.to_thread.run_sync(lambda: fn(**args))
    except Auth.exceptions.HTTPException as exc:
        raise _Rejected(exc.status_code, str(exc.detail), exc.headers) from None
    except HTTPException as exc:
        raise _Rejected(exc.status_code, str(exc.detail), exc.headers) from None
    except ValueError as exc:  # LangGraph's server answers a ValueError with 400
        raise _Rejected(400, str(exc)) from None
    except Exception as exc:
        log.exception("the authenticate handler failed", path=scope.get("path"))
        raise _Rejected(401, f"Authentication failed: {type(exc).__name__}") from None
    if result is None:
        raise _Rejected(401, "Unauthorized: the authenticate handler returned no user")
    try:
        user, permissions = normalize_auth_result(result)
    except (ValueError, KeyError) as exc:
        log.error("the authenticate handler returned no usable user", error=str(exc))
        raise _Rejected(401, f"Unauthorized: {exc}") from None
    return RequestAuth(user=user, permissions=permissions)


class AuthMiddleware:
    """Authenticates each HTTP request outside :data:`OPEN_PATHS`; a rejected one is
    answered here (401/403 or the status the handler raised) and goes no further."""

    def __init__(
        self, app: ASGIApp, server: ServerAuth | None, prefix: str = "", skip: Callable[[Scope], bool] | None = None
    ) -> None:
        self.app = app
        self.server = server
        # requests custom auth doesn't see: the user's own app's (http.enable_custom_route_auth off)
        self.skip = skip
        # ``http.mount_prefix``: the open paths are open under it too
        self.open_paths = OPEN_PATHS | {prefix + p for p in OPEN_PATHS if p != "/"} if prefix else OPEN_PATHS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = self.server
        if (
            server is None
            or scope["type"] != "http"
            or scope["path"] in self.open_paths
            or (self.skip is not None and self.skip(scope))
        ):
            await self.app(scope, receive, send)
            return
        replay: list[Message] = []
        request = None
        if "request" in server.params:
            # the handler may read the body: keep what it read for the endpoint
            async def recording() -> Message:
                message = await receive()
                replay.append(message)
                return message

            request = Request(scope, recording)
        try:
            who = await _authenticate(server, scope, request)
        except _Rejected as rejected:
            await _answer(send, rejected)
            return
        scope[SCOPE_KEY] = who

        async def replaying() -> Message:
            if replay:
                return replay.pop(0)
            return await receive()

        await self.app(scope, replaying if request is not None else receive, send)


async def _answer(send: Send, rejected: _Rejected) -> None:
    body = dumps({"detail": rejected.detail})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in rejected.headers.items()]
    await send({"type": "http.response.start", "status": rejected.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
