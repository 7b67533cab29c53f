"""What a running server holds: its config, storage, graphs, checkpointer, store and run
manager, built by the app's lifespan and reached by handlers through ``ctx(request)``."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

if TYPE_CHECKING:
    from actorgraph.server.config import ServerConfig
    from actorgraph.server.crons import CronScheduler
    from actorgraph.server.graphs import GraphRegistry
    from actorgraph.server.retention import Retention
    from actorgraph.server.runs import RunManager
    from actorgraph.server.storage import Storage
    from actorgraph.server.webhooks import Webhooks

__all__ = ("ServerContext", "ctx", "now")


def now() -> datetime:
    return datetime.now(timezone.utc)


class ServerContext:
    def __init__(self, config: ServerConfig, storage: Storage, graphs: GraphRegistry, *, n_jobs: int = 10) -> None:
        self.config = config
        self.storage = storage
        self.graphs = graphs
        self.n_jobs = n_jobs
        self.checkpointer: Any = None
        self.store: Any = None
        self.runs: RunManager | None = None
        self.webhooks: Webhooks | None = None  # set by the app's lifespan
        self.retention: Retention | None = None  # set by the app's lifespan
        self.tracing: Any = None  # a _tracing.Tracing when OTLP export is configured
        self.crons: CronScheduler = None  # type: ignore[assignment]  # set by the app's lifespan, before any request

    @property
    def run_manager(self) -> RunManager:
        assert self.runs is not None, "the run manager starts with the app"
        return self.runs


def ctx(request: Request) -> ServerContext:
    return request.app.state.ctx  # type: ignore[no-any-return]
