"""The server's logs, through structlog: one JSON object per line (``actorgraph serve``'s
default, for log shippers) or readable console lines (``actorgraph dev``'s default), at the
``--log-level`` asked for; and ``AccessLog``, the one access-log entry per HTTP request
(method, path, status, duration). Run entries (run id, thread id, assistant, status,
duration) come from the run manager."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import structlog

__all__ = ("AccessLog", "LOG_FORMATS", "configure_logging", "redact")

LOG_FORMATS = ("json", "console")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_access = structlog.get_logger("actorgraph.server.access")


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """Route structlog's entries at ``level`` and above to stderr as ``fmt`` (``json`` or
    ``console``)."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, got {fmt!r}")
    # (uvicorn's "trace" is finer than debug: ours log nothing finer than debug)
    number = logging.DEBUG if level.lower() == "trace" else logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ValueError(f"unknown log level {level!r}")
    renderer: Any = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(number),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


class AccessLog:
    """ASGI middleware: an ``http.request`` entry per request once its response ended
    (a stream's once the stream closed): method, path, status, duration in ms."""

    __slots__ = ("app",)

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            _access.info(
                "http.request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - start) * 1000, 2),
            )


def redact(uri: str | None) -> str | None:
    """A database or Redis URI without its password, for the log and error messages."""
    if not uri:
        return uri
    scheme, sep, rest = uri.partition("://")
    if not sep or "@" not in rest:
        return uri
    user, _, host = rest.rpartition("@")
    return f"{scheme}://{user.partition(':')[0]}@{host}"
