"""The agent protocols beside the LangGraph Server API: MCP (``/mcp``: each assistant
as a tool) and A2A (``/a2a/{assistant_id}``: each assistant as an agent). Each has one
function that mounts it on the app, so a config flag can leave it out."""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import structlog
from anyio.abc import TaskGroup
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ._runs import add_lifespan

__all__ = ("mount_a2a", "mount_mcp")

log = structlog.get_logger("actorgraph.server")


def mount_mcp(app: Starlette) -> bool:
    """Serve ``/mcp`` on ``app``; ``False`` (and nothing mounted) when the ``mcp``
    package (the ``mcp`` extra) isn't installed."""
    if importlib.util.find_spec("mcp") is None:
        log.info("MCP is off: the mcp package is not installed (pip install 'actorgraph[mcp]')")
        return False
    endpoint = _LazyMCP(app)
    app.router.routes.append(Route("/mcp", endpoint, methods=["GET", "POST", "DELETE"]))
    add_lifespan(app, endpoint.serving)
    return True


class _LazyMCP:
    """``/mcp``, with the ``mcp`` package imported when the first MCP message comes: it
    costs ~55 MiB of memory and ~0.3 s of start-up, which a server nobody asks over MCP
    shouldn't pay. GET is answered without it: without sessions there is no
    server-to-client stream, so GET says so (405, as the spec allows and LangGraph's
    server does) instead of holding an idle stream open."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.sdk: ASGIApp | None = None
        self.lock = anyio.Lock()
        self.tasks: TaskGroup | None = None

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        """For as long as the app serves: where the SDK's session manager runs, once
        it is started."""
        async with anyio.create_task_group() as tasks:
            self.tasks = tasks
            try:
                yield
            finally:
                self.tasks = None
                tasks.cancel_scope.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "GET":
            await Response(status_code=405, headers={"Allow": "POST, DELETE"})(scope, receive, send)
            return
        sdk = self.sdk
        if sdk is None:
            async with self.lock:
                if self.sdk is None:
                    if self.tasks is None:
                        raise RuntimeError("/mcp was called outside the app's lifespan")
                    from ._mcp import mcp_app

                    sdk, run = mcp_app(self.app)
                    await self.tasks.start(self._run, run)
                    self.sdk = sdk
                sdk = self.sdk
        await sdk(scope, receive, send)

    @staticmethod
    async def _run(run: Callable[[], contextlib.AbstractAsyncContextManager[Any]], *, task_status: Any) -> None:
        async with run():
            task_status.started()
            await anyio.sleep_forever()


def mount_a2a(app: Starlette) -> bool:
    """Serve ``/a2a/{assistant_id}`` (JSON-RPC and its agent card) on ``app``."""
    from ._a2a import mount_a2a as mount

    mount(app)
    return True
