"""The cron scheduler: one task per server process that sleeps until the earliest
``next_run_date`` (or until a cron changes in this process) and then fires what is due.

Firing a cron claims it first: its ``next_run_date`` moves to the schedule's next time
after now by a compare-and-set in the database, so when several server processes share
one database exactly one of them wins each firing and creates the run.

Missed firings (the server was stopped, or busy, when a cron was due) follow LangGraph's
server: a cron whose ``next_run_date`` has passed fires once when the scheduler next
looks (at start, for a restart), however many times it was due meanwhile, and its
schedule then goes on from now. Disabled crons and crons past their ``end_time`` don't
fire. A process learns of crons another process created when it next looks (its own
next due time or a change made through it); meanwhile the process that made them fires
them. A claimed firing whose process dies before the run is written is lost (claiming
first, as LangGraph's server does with Postgres, never fires one twice).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import anyio
import msgspec
import structlog

from actorgraph.server._context import ServerContext, now
from actorgraph.server._errors import ApiError
from actorgraph.server.crons._schedule import next_run
from actorgraph.server.schemas import Cron, RunCreate
from actorgraph.server.services.runs import create_run

__all__ = ("CronScheduler", "CronStatistics", "run_request")

log = structlog.get_logger("actorgraph.server.crons")

RETRY_SECONDS = 1.0  # after the database failed a look: look again this soon

# fields of a cron's payload that describe the cron, not the runs it creates
_CRON_ONLY = frozenset({"schedule", "timezone", "end_time", "enabled", "on_run_completed"})


class CronStatistics(msgspec.Struct, frozen=True, kw_only=True):
    fired: int  # runs this process created for crons
    lost: int  # firings another process claimed first
    failed: int  # firings whose run could not be created (e.g. the thread was deleted)


def run_request(cron: Cron) -> RunCreate:
    """The run a firing of ``cron`` creates, as the HTTP API would receive it."""
    fields: dict[str, Any] = {k: v for k, v in cron.payload.items() if k not in _CRON_ONLY and v is not None}
    fields["metadata"] = {**cron.metadata, **(fields.get("metadata") or {})}
    if cron.thread_id is None:
        fields["on_completion"] = cron.on_run_completed or "delete"
    if fields.get("context"):
        # the cron's own id in configurable would make the run refuse its context
        config = dict(fields.get("config") or {})
        configurable = {k: v for k, v in (config.get("configurable") or {}).items() if k != "cron_id"}
        if configurable:
            config["configurable"] = configurable
        else:
            config.pop("configurable", None)
        fields["config"] = config
    return msgspec.convert(fields, RunCreate)


class CronScheduler:
    def __init__(self, c: ServerContext) -> None:
        self.c = c
        self._changed = anyio.Event()
        self._fired = self._lost = self._failed = 0

    def statistics(self) -> CronStatistics:
        return CronStatistics(fired=self._fired, lost=self._lost, failed=self._failed)

    def wake(self) -> None:
        """A cron changed: look again now (its next due time may be earlier)."""
        self._changed.set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._loop)
            try:
                yield
            finally:
                tg.cancel_scope.cancel()

    async def _loop(self) -> None:
        while True:
            # a fresh event before looking: a change made while we look wakes the next sleep
            self._changed = changed = anyio.Event()
            try:
                due = await self._fire_due()
                delay = math.inf if due is None else (due - now()).total_seconds()
            except Exception:
                log.exception("cron scheduler: looking for due crons failed")
                delay = RETRY_SECONDS
            if delay > 0:
                with anyio.move_on_after(delay):
                    await changed.wait()

    async def _fire_due(self) -> datetime | None:
        storage = self.c.storage
        stamp = now()
        for cron in await storage.cron_due(stamp):
            following = next_run(cron.schedule, stamp, cron.timezone)
            # claimed and fired as one step: a stop in between would lose the firing
            with anyio.CancelScope(shield=True):
                if not await storage.cron_advance(cron.cron_id, cron.next_run_date, following):
                    self._lost += 1
                    log.debug("cron firing claimed by another process", cron_id=cron.cron_id)
                    continue
                await self._fire(cron)
        return await storage.cron_next_due(now())

    async def _fire(self, cron: Cron) -> None:
        try:
            run = await create_run(self.c, cron.thread_id, run_request(cron), auth=_as_user(cron))
        except ApiError as exc:
            self._failed += 1
            log.warning("cron firing refused", cron_id=cron.cron_id, thread_id=cron.thread_id, detail=exc.detail)
        except Exception:
            self._failed += 1
            log.exception("cron firing failed", cron_id=cron.cron_id, thread_id=cron.thread_id)
        else:
            self._fired += 1
            log.info("cron fired", cron_id=cron.cron_id, run_id=run.run_id, thread_id=run.thread_id)


def _as_user(cron: Cron) -> dict[str, Any] | None:
    """The user a cron's runs run as (custom auth): who made it. Only the identity is kept
    with the cron, so a firing's runs see that user without the permissions it had."""
    if cron.user_id is None:
        return None
    return {
        "langgraph_auth_user": {"identity": cron.user_id, "is_authenticated": True, "display_name": cron.user_id, "permissions": []},
        "langgraph_auth_user_id": cron.user_id,
        "langgraph_auth_permissions": [],
    }
