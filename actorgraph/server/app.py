"""``create_app(config)``: the Starlette app: the route table, error answers, and the
lifespan that opens the database (records, checkpoints, store), loads the graphs and
starts the run workers."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actorgraph.errors import ConfigError
from actorgraph.server._context import ServerContext
from actorgraph.server._errors import ApiError
from actorgraph.server._http_options import (
    HttpOptions,
    app_routes,
    custom_route_test,
    endpoint_group,
    finish_openapi,
    http_middleware,
    load_user_app,
    with_user_lifespan,
)
from actorgraph.server._databases import open_databases
from actorgraph.server._logging import AccessLog, configure_logging, redact
from actorgraph.server._tracing import Tracing
from actorgraph.server.api import assistants, meta, store, threads
from actorgraph.server.api._http import Endpoint, json_response
from actorgraph.server.auth import AuthMiddleware, load_auth
from actorgraph.server.config import ServerConfig, load_config
from actorgraph.server.crons import CronScheduler
from actorgraph.server.graphs import GraphRegistry
from actorgraph.server.retention import Retention, parse_store_ttl, parse_thread_ttl
from actorgraph.server.protocols import mount_a2a, mount_mcp
from actorgraph.server.services.assistants import ensure_system_assistants
from actorgraph.server.storage import is_unavailable
from actorgraph.server.webhooks import Webhooks, parse_webhook_policy

__all__ = ("create_app", "create_app_from_env", "endpoints")

log = structlog.get_logger("actorgraph.server")

DEFAULT_RUN_TIMEOUT = 86400.0  # as LangGraph's server


def endpoints() -> tuple[Endpoint, ...]:
    from actorgraph.server.api import crons, runs

    return (
        *meta.ENDPOINTS, *assistants.ENDPOINTS, *threads.ENDPOINTS, *runs.ENDPOINTS, *crons.ENDPOINTS, *store.ENDPOINTS
    )


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response({"detail": exc.detail}, status=exc.status, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return json_response({"detail": exc.detail}, status=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    if is_unavailable(exc):
        # the database is away (restarting): a fast 503 the client may retry, not a 500
        log.warning("request failed: database unavailable", path=request.url.path, error=str(exc))
        return json_response({"detail": f"Database unavailable, retry later: {exc}"}, status=503, headers={"Retry-After": "1"})
    log.exception("request failed", path=request.url.path, method=request.method)
    return json_response({"detail": f"{type(exc).__name__}: {exc}"}, status=500)


def _route(e: Endpoint) -> Route:
    return Route(e.path, e.handler, methods=[e.method])


def run_timeout_from_env() -> float:
    """``BG_JOB_TIMEOUT_SECS`` (LangGraph's server's name): the seconds a run may take from
    its start before it ends ``timeout``; a day unless set."""
    raw = os.environ.get("BG_JOB_TIMEOUT_SECS", "").strip()
    if not raw:
        return DEFAULT_RUN_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not seconds > 0:
        raise ConfigError(f"BG_JOB_TIMEOUT_SECS must be a number of seconds above 0, got {raw!r}")
    return seconds


def create_app(
    config: ServerConfig,
    *,
    data_dir: str | os.PathLike[str],
    n_jobs: int = 10,
    database_uri: str | None = None,
    redis_uri: str | None = None,
) -> Starlette:
    """The ASGI app serving ``config``'s graphs, keeping its data in ``data_dir`` (an
    embedded SQLite file), or in the Postgres database ``database_uri`` that other server
    processes may share, with ``redis_uri`` carrying signals between them."""
    from actorgraph.server.runs import RunManager

    run_timeout = run_timeout_from_env()
    webhook_policy = parse_webhook_policy(config.webhooks)
    thread_ttl = parse_thread_ttl((config.checkpointer or {}).get("ttl"))
    store_ttl = parse_store_ttl((config.store or {}).get("ttl"))
    tracing = Tracing.from_env()  # None unless OTEL_* configures an OTLP endpoint
    graphs = GraphRegistry(config)
    graphs.load()
    server_auth = load_auth(config.auth, config.root)
    folder = Path(data_dir)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            dbs = await stack.enter_async_context(
                open_databases(
                    folder, database_uri=database_uri, redis_uri=redis_uri, index=(config.store or {}).get("index"),
                    store_ttl=store_ttl.store_config, pool_size=n_jobs + 5,
                )
            )
            c = ServerContext(config, dbs.storage, graphs, n_jobs=n_jobs)
            c.checkpointer, c.store = dbs.checkpointer, dbs.store
            graphs.attach(c.checkpointer, c.store)
            c.tracing = tracing
            if c.tracing is not None:
                # the last spans' export may wait on the collector: not on the event loop
                stack.push_async_callback(anyio.to_thread.run_sync, c.tracing.shutdown)
            await ensure_system_assistants(c)
            manager = RunManager(c, n_jobs=n_jobs, run_timeout=run_timeout, broker=dbs.broker)
            c.runs = manager
            # entered before the runs, left after them: runs ending at shutdown still send theirs
            c.webhooks = Webhooks(webhook_policy, app, enabled=config.http_options.webhooks_enabled)
            await stack.enter_async_context(c.webhooks.running())
            c.retention = Retention(c, thread_ttl, store_ttl)
            await stack.enter_async_context(c.retention.running())
            c.crons = CronScheduler(c)
            app.state.ctx = c
            async with manager.running(), c.crons.running():
                log.info(
                    "server ready", graphs=graphs.ids(), data=dbs.where, n_jobs=n_jobs,
                    redis=redact(redis_uri) if dbs.broker.shared else None,
                )
                yield

    # langgraph.json's http: groups switched off, the user's app, CORS, prefix, body limit
    options = config.http_options
    table = tuple(e for e in endpoints() if options.serves(endpoint_group(e.handler)))
    routes = [_route(e) for e in table]
    if options.serves("meta"):
        routes += [_route(e) for e in meta.EXTRA]
    else:
        routes.insert(0, Route("/ok", meta.ok, methods=["GET"]))  # as LangGraph: probes still work
    user_app = load_user_app(options.app, config.root) if options.app else None
    app = Starlette(
        routes=app_routes(options, routes, user_app),
        lifespan=with_user_lifespan(lifespan, user_app),
        # (auth inside CORS and the body limit: a preflight is answered before credentials are asked)
        middleware=[Middleware(AccessLog), *http_middleware(options), Middleware(
            AuthMiddleware, server=server_auth, prefix=options.mount_prefix or "", skip=custom_route_test(options, user_app)
        )],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _unexpected},
    )
    app.state.openapi = finish_openapi(meta.openapi_document(table), options, user_app)
    app.state.auth = server_auth
    mount_agent_protocols(app, options)
    return app


def mount_agent_protocols(app: Starlette, options: HttpOptions) -> None:
    """MCP (``/mcp``) and A2A (``/a2a/{assistant_id}``) beside the API, as LangGraph's
    server serves them, unless ``http.disable_mcp`` / ``http.disable_a2a`` leave one out."""
    if options.mcp_enabled:
        mount_mcp(app)
    if options.a2a_enabled:
        mount_a2a(app)


def create_app_from_env() -> Starlette:
    """The app ``actorgraph dev`` serves (uvicorn imports it by name, in each reload):
    its settings come from the ``ACTORGRAPH_SERVER_*`` environment variables the CLI set."""
    from actorgraph.server.cli import prepare

    configure_logging(
        os.environ.get("ACTORGRAPH_SERVER_LOG_LEVEL", "info"), os.environ.get("ACTORGRAPH_SERVER_LOG_FORMAT", "console")
    )
    config_path = os.environ["ACTORGRAPH_SERVER_CONFIG"]
    config = load_config(config_path)
    alias = os.environ.get("ACTORGRAPH_SERVER_ALIAS_LANGGRAPH") == "1"
    prepare(config, alias_langgraph=alias)
    data_dir = os.environ["ACTORGRAPH_SERVER_DATA_DIR"]
    n_jobs = int(os.environ.get("ACTORGRAPH_SERVER_N_JOBS", "10"))
    return create_app(
        config, data_dir=data_dir, n_jobs=n_jobs,
        database_uri=os.environ.get("ACTORGRAPH_SERVER_DATABASE_URI") or None,
        redis_uri=os.environ.get("ACTORGRAPH_SERVER_REDIS_URI") or None,
    )


