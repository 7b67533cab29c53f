"""``langgraph.json``'s ``http`` section: its options typed (:class:`HttpOptions`, a bad
value is a ``ConfigError`` naming ``http.<key>``) and applied to the app: the user's own
Starlette/FastAPI app beside ours (their routes first), CORS, a mount prefix, route groups
switched off, and the request body size limit (413).

The keys and their meaning are LangGraph's server's (``HttpConfig``); the body limit is its
``HTTP_MAX_REQUEST_BODY_BYTES`` environment variable, also accepted here as
``http.max_request_body_bytes``.
"""

from __future__ import annotations

import functools
import os
import re
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from actorgraph.errors import ConfigError

__all__ = (
    "DEFAULT_MAX_BODY_BYTES",
    "PINNED_PATHS",
    "BodyLimit",
    "CorsOptions",
    "HttpOptions",
    "UserFirst",
    "app_routes",
    "endpoint_group",
    "finish_openapi",
    "http_middleware",
    "load_user_app",
    "parse_http_options",
    "with_user_lifespan",
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# LangGraph's server's default (its gRPC message limit): 300 MiB
DEFAULT_MAX_BODY_BYTES = 300 * 1024 * 1024

# route groups LangGraph's ``disable_<group>`` flags switch off
_GROUPS = ("assistants", "threads", "runs", "store", "meta", "ui", "mcp", "a2a")
# the other keys LangGraph's server reads under ``http``: kept in ``config.http`` for the
# parts of the server that use them, not warned about
_OTHER_LANGGRAPH_KEYS = frozenset(
    {"configurable_headers", "logging_headers", "middleware_order", "disable_event_streaming"}
)
_CORS_LISTS = ("allow_origins", "allow_methods", "allow_headers", "expose_headers")


class CorsOptions(msgspec.Struct, frozen=True, kw_only=True):
    """``http.cors``: the arguments of Starlette's ``CORSMiddleware``."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ("GET",)
    allow_headers: tuple[str, ...] = ()
    allow_credentials: bool = False
    allow_origin_regex: str | None = None
    expose_headers: tuple[str, ...] = ()
    max_age: int = 600

    def middleware_kwargs(self) -> dict[str, Any]:
        return {name: (list(v) if isinstance(v, tuple) else v) for name, v in msgspec.structs.asdict(self).items()}


class HttpOptions(msgspec.Struct, frozen=True, kw_only=True):
    """The parsed ``http`` section (all defaults: the section is absent)."""

    app: str | None = None
    """``path/to/file.py:name`` or ``package.module:name`` of a Starlette or FastAPI app."""
    cors: CorsOptions | None = None
    """None: LangGraph's default, any origin (``CORS_ALLOW_ORIGINS`` narrows it)."""
    mount_prefix: str | None = None
    disabled: frozenset[str] = frozenset()
    """Route groups switched off: assistants, threads, runs, store, meta, ui, mcp, a2a."""
    disable_webhooks: bool = False
    max_request_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    enable_custom_route_auth: bool = False
    """Custom auth covers the user's app's routes too (by default, as on LangGraph's
    server, they answer without it)."""

    def serves(self, group: str) -> bool:
        """Whether the routes of ``group`` are served."""
        return group not in self.disabled

    @property
    def mcp_enabled(self) -> bool:
        """``/mcp`` is served (``http.disable_mcp`` is not set)."""
        return "mcp" not in self.disabled

    @property
    def a2a_enabled(self) -> bool:
        """``/a2a/{assistant_id}`` is served (``http.disable_a2a`` is not set)."""
        return "a2a" not in self.disabled

    @property
    def ui_enabled(self) -> bool:
        return "ui" not in self.disabled

    @property
    def webhooks_enabled(self) -> bool:
        """Runs' webhooks are called (``http.disable_webhooks`` is not set)."""
        return not self.disable_webhooks


def _bool(http: Mapping[str, Any], key: str) -> bool:
    value = http.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"http.{key} must be true or false, got {value!r}", key=f"http.{key}", value=value)
    return value


def _cors(raw: Any) -> CorsOptions:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"http.cors must be an object, got {type(raw).__name__}", key="http.cors", value=raw)
    fields: dict[str, Any] = {}
    for name, value in raw.items():
        key = f"http.cors.{name}"
        if name in _CORS_LISTS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{key} must be a list of strings, got {value!r}", key=key, value=value)
            fields[name] = tuple(value)
        elif name == "allow_credentials":
            if not isinstance(value, bool):
                raise ConfigError(f"{key} must be true or false, got {value!r}", key=key, value=value)
            fields[name] = value
        elif name == "allow_origin_regex":
            try:
                re.compile(value)
            except (TypeError, re.error) as exc:
                raise ConfigError(f"{key} must be a regular expression: {exc}", key=key, value=value) from None
            fields[name] = value
        elif name == "max_age":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{key} must be a number of seconds (0 or more), got {value!r}", key=key, value=value)
            fields[name] = value
        else:
            known = ", ".join((*_CORS_LISTS, "allow_credentials", "allow_origin_regex", "max_age"))
            raise ConfigError(f"{key} is not a CORS option (known: {known})", key=key, value=value)
    return CorsOptions(**fields)


def _mount_prefix(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith("/"):
        raise ConfigError(
            f"http.mount_prefix must be a path starting with '/' such as '/my-api', got {value!r}",
            key="http.mount_prefix",
            value=value,
        )
    prefix = value.rstrip("/")
    if not prefix:
        raise ConfigError("http.mount_prefix '/' is no prefix: leave it out", key="http.mount_prefix", value=value)
    return prefix


def _body_limit(value: Any, key: str) -> int:
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{key} must be a number of bytes above 0, got {value!r}", key=key, value=value)
    return value


def parse_http_options(raw: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None) -> HttpOptions:
    """Check and type ``langgraph.json``'s ``http`` (``raw``). As LangGraph's server, the
    environment's ``MOUNT_PREFIX`` and ``HTTP_MAX_REQUEST_BODY_BYTES`` win over the file."""
    env = os.environ if environ is None else environ
    http = dict(raw or {})
    known = {
        "app", "cors", "mount_prefix", "max_request_body_bytes", "disable_webhooks", "enable_custom_route_auth",
        *(f"disable_{g}" for g in _GROUPS),
    }  # fmt: skip
    for key in http:
        if key not in known and key not in _OTHER_LANGGRAPH_KEYS:
            warnings.warn(f"langgraph.json: unknown key 'http.{key}' is ignored", stacklevel=4)
    app = http.get("app")
    if app is not None and (not isinstance(app, str) or ":" not in app or not app.rpartition(":")[2].isidentifier()):
        raise ConfigError(
            f"http.app must be 'path/to/file.py:name' or 'package.module:name', got {app!r}", key="http.app", value=app
        )
    cors = http.get("cors")
    env_prefix = env.get("MOUNT_PREFIX")
    limit = DEFAULT_MAX_BODY_BYTES
    if http.get("max_request_body_bytes") is not None:
        limit = _body_limit(http["max_request_body_bytes"], "http.max_request_body_bytes")
    if env.get("HTTP_MAX_REQUEST_BODY_BYTES", "").strip():
        limit = _body_limit(env["HTTP_MAX_REQUEST_BODY_BYTES"], "HTTP_MAX_REQUEST_BODY_BYTES")
    return HttpOptions(
        app=app,
        cors=_cors(cors) if cors is not None else None,
        mount_prefix=_mount_prefix(env_prefix if env_prefix else http.get("mount_prefix")),
        disabled=frozenset(g for g in _GROUPS if _bool(http, f"disable_{g}")),
        disable_webhooks=_bool(http, "disable_webhooks"),
        enable_custom_route_auth=_bool(http, "enable_custom_route_auth"),
        max_request_body_bytes=limit,
    )


# -- the route groups -------------------------------------------------------------------

# an API module -> the group whose flag switches it off (crons are runs, as in LangGraph)
_MODULE_GROUP = {"crons": "runs"}


def endpoint_group(handler: Callable[..., Any]) -> str:
    """The group of an endpoint: the API module its handler is in (``api/threads.py`` ->
    ``threads``), crons counting as ``runs``."""
    module = handler.__module__.rsplit(".", 1)[-1]
    return _MODULE_GROUP.get(module, module)


# -- the user's app -----------------------------------------------------------------------


def load_user_app(spec: str, root: str | os.PathLike[str]) -> Any:
    """Import ``http.app`` (a file path is taken from ``root``, the config's folder); it must
    be a Starlette application (FastAPI's is one)."""
    from starlette.applications import Starlette

    from actorgraph.server.config import GraphRef
    from actorgraph.server.graphs import import_ref

    module, _, name = spec.rpartition(":")
    is_file = module.endswith(".py") or "/" in module or os.sep in module
    ref = GraphRef(graph_id="app", module=module, attr=name, file=is_file)
    app = import_ref(ref, Path(root), key="http.app", prefix="_actorgraph_http_")
    if not isinstance(app, Starlette):
        raise ConfigError(
            f"http.app: {name!r} is a {type(app).__name__}, not a Starlette or FastAPI application", key="http.app", value=spec
        )
    return app


def _matches(routes: Iterable[Any], scope: Scope, wanted: Any) -> bool:
    return any(route.matches(scope)[0] == wanted for route in routes)


def custom_route_test(options: HttpOptions, user_app: Any) -> Callable[[Scope], bool] | None:
    """Whether a request goes to the user's app (for custom auth to leave it alone, as
    LangGraph's server does unless ``http.enable_custom_route_auth``); None when every
    request is the server's."""
    if user_app is None or options.enable_custom_route_auth:
        return None
    from starlette.routing import Match

    prefix = options.mount_prefix or ""
    routes = user_app.router.routes

    def goes_to_user_app(scope: Scope) -> bool:
        if prefix:
            path = scope["path"]
            if path != prefix and not path.startswith(prefix + "/"):
                return False
            scope = {**scope, "path": path[len(prefix):] or "/"}
        return scope["path"] not in PINNED_PATHS and _matches(routes, scope, Match.FULL)

    return goes_to_user_app


class UserFirst:
    """Routes a request to the user's app or to ours, as LangGraph's server's one route
    table does: ``pinned`` (health, metrics, the API document: a user's app can't shadow
    them), then the user's routes, then ours; a path the user's app only has for another
    method is ours (our 404 or 405, as there). The user's middleware wraps our routes too,
    as on LangGraph's server, each request passing it once."""

    def __init__(self, user_app: Any, pinned: Sequence[Any], ours: Sequence[Any]) -> None:
        from starlette.routing import Match, Router

        self.user_app = user_app
        self.pinned = list(pinned)
        self._full = Match.FULL
        inner: ASGIApp = Router(routes=[*self.pinned, *ours])
        for cls, args, kwargs in reversed(user_app.user_middleware):
            inner = cls(inner, *args, **kwargs)
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._pick(scope)(scope, receive, send)

    def _pick(self, scope: Scope) -> ASGIApp:
        if scope["type"] not in ("http", "websocket") or _matches(self.pinned, scope, self._full):
            return self.inner
        if _matches(self.user_app.router.routes, scope, self._full):
            return self.user_app  # type: ignore[no-any-return]
        return self.inner


# -- the body size limit ------------------------------------------------------------------


@functools.cache
def _too_large_type() -> type[Exception]:
    """The 413 this middleware raises (one class, made once: not one per request)."""
    from starlette.exceptions import HTTPException

    class TooLarge(HTTPException):
        pass

    return TooLarge


def _too_large(limit: int) -> Exception:
    return _too_large_type()(
        413,
        f"Request body too large: the limit is {limit} bytes "
        "(HTTP_MAX_REQUEST_BODY_BYTES, or http.max_request_body_bytes in langgraph.json)",
    )


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is refused with 413, at once
    when its ``content-length`` says so, else when the body read so far passes it: the
    read raises a 413 ``HTTPException`` the app's error handlers answer; one that comes
    back out of the app (a middleware wrapped it in an exception group) is answered here."""

    __slots__ = ("app", "limit")

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def _refuse(self, send: Send, exc: Any) -> None:
        from actorgraph.server._json import dumps

        body = dumps({"detail": exc.detail})
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        for name, value in scope.get("headers") or ():
            if name == b"content-length":
                if value.isdigit() and int(value) > limit:
                    await self._refuse(send, _too_large(limit))
                    return
                break
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _too_large(limit)
            return message

        async def noting(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, noting)
        except* _too_large_type():
            if started:
                raise
            await self._refuse(send, _too_large(limit))


# -- putting it together ------------------------------------------------------------------

# ours whatever the user's app defines (as LangGraph's "unshadowable" meta routes)
PINNED_PATHS = frozenset({"/ok", "/metrics", "/docs", "/openapi.json"})
# kept at the root under a mount prefix too, for probes and scrapers (as LangGraph)
_ROOT_PATHS = ("/ok", "/metrics")
# LangGraph's default CORS exposes its pagination headers
_EXPOSED = ["x-pagination-total", "x-pagination-next", "content-location"]


def http_middleware(options: HttpOptions, environ: Mapping[str, str] | None = None) -> list[Any]:
    """CORS (``http.cors``, or LangGraph's default: any origin, or ``CORS_ALLOW_ORIGINS``'s
    comma-separated list) and the body size limit."""
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware

    env = os.environ if environ is None else environ
    origins = [o.strip() for o in env.get("CORS_ALLOW_ORIGINS", "*").split(",") if o.strip()] or ["*"]
    if options.cors is None:
        cors = Middleware(
            CORSMiddleware, allow_origins=origins, allow_credentials="*" not in origins, allow_methods=["*"],
            allow_headers=["*"], expose_headers=_EXPOSED,
        )
    else:
        kwargs = options.cors.middleware_kwargs()
        if not kwargs["allow_origins"] and "CORS_ALLOW_ORIGINS" in env:
            kwargs["allow_origins"] = origins
        cors = Middleware(CORSMiddleware, **kwargs)
    return [cors, Middleware(BodyLimit, limit=options.max_request_body_bytes)]


def app_routes(options: HttpOptions, routes: Sequence[Any], user_app: Any = None) -> list[Any]:
    """The app's route table: ``routes`` (ours, already without the disabled groups), after
    the user's app's when there is one, under the mount prefix when there is one."""
    from starlette.routing import Mount

    pinned = [r for r in routes if r.path in PINNED_PATHS]
    core: list[Any] = list(routes)
    if user_app is not None:
        ours = [r for r in routes if r.path not in PINNED_PATHS]
        core = [Mount("", app=UserFirst(user_app, pinned, ours))]
    if options.mount_prefix is None:
        return core
    return [*(r for r in pinned if r.path in _ROOT_PATHS), Mount(options.mount_prefix, routes=core)]


def with_user_lifespan(lifespan: Callable[[Any], Any], user_app: Any) -> Callable[[Any], Any]:
    """Our lifespan with the user's app's inside it (started after ours, stopped before)."""
    import contextlib

    if user_app is None:
        return lifespan

    @contextlib.asynccontextmanager
    async def both(app: Any) -> Any:
        async with lifespan(app), user_app.router.lifespan_context(user_app):
            yield

    return both


def finish_openapi(doc: dict[str, Any], options: HttpOptions, user_app: Any = None) -> dict[str, Any]:
    """The API document as served: a FastAPI app's own paths merged in (its operation wins
    on a shared path and method, as its route does), the mount prefix as the server, and no
    ``webhook`` field when webhooks are off (as LangGraph's)."""
    openapi = getattr(user_app, "openapi", None)
    if callable(openapi):
        theirs = openapi()
        for path, ops in (theirs.get("paths") or {}).items():
            doc["paths"].setdefault(path, {}).update(ops)
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in ((theirs.get("components") or {}).get("schemas") or {}).items():
            schemas.setdefault(name, schema)
    if options.mount_prefix:
        doc["servers"] = [{"url": options.mount_prefix}]
    if options.disable_webhooks:
        for schema in doc.get("components", {}).get("schemas", {}).values():
            props = schema.get("properties") if isinstance(schema, dict) else None
            if isinstance(props, dict):
                props.pop("webhook", None)
    return doc
