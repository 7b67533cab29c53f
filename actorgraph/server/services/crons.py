"""Crons, apart from HTTP: create (for a thread or stateless), update, get, delete, search
and count, checked as LangGraph's server checks them. Each change wakes the scheduler,
which sleeps until the next due ``next_run_date``.

A cron keeps the request it was created from as its ``payload`` (as LangGraph's server
does): each firing creates a run from it (see :mod:`actorgraph.server.crons`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import msgspec

from actorgraph.server._context import ServerContext, now
from actorgraph.server._errors import ApiError
from actorgraph.server.webhooks import WebhookPolicy, check_webhook_url
from actorgraph.server.crons import check_schedule, check_timezone, next_run
from actorgraph.server.graphs import assistant_id_for_graph
from actorgraph.server.schemas import Assistant, Cron, CronCreate, CronPatch, ThreadCronCreate, UNSET

__all__ = ("count_crons", "create_cron", "delete_cron", "get_cron", "search_crons", "update_cron")


def _cron_uuid(cron_id: str) -> str:
    try:
        return str(uuid.UUID(cron_id))
    except ValueError:
        raise ApiError(422, "Invalid cron ID: must be a UUID") from None


def _filter_id(c: ServerContext, value: str | None, what: str) -> str | None:
    """A search filter's id as stored (a graph id stands for its default assistant)."""
    if value is None:
        return None
    if what == "assistant" and value in c.graphs:
        return assistant_id_for_graph(value)
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ApiError(422, f"Invalid {what} ID: must be a UUID") from None


async def _assistant(c: ServerContext, assistant_id: str) -> Assistant:
    resolved: str | None = assistant_id_for_graph(assistant_id) if assistant_id in c.graphs else None
    if resolved is None:
        try:
            resolved = str(uuid.UUID(assistant_id))
        except ValueError:
            resolved = None
    found = None if resolved is None else await c.storage.assistant_get(resolved)
    if found is None:
        raise ApiError(404, f"Assistant '{assistant_id}' not found")
    return found


def _utc(value: datetime | None) -> datetime | None:
    # an end_time without an offset is read as UTC, as schedules without a timezone are
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _check_config(config: Any, context: Any, cron_id: str) -> None:
    """A run refuses both ``config.configurable`` and ``context``: refuse the cron now
    rather than at each firing (its own ``cron_id`` in configurable doesn't count)."""
    configurable = config.get("configurable") if isinstance(config, Mapping) else None
    if configurable is not None and not isinstance(configurable, Mapping):
        raise ApiError(422, "Invalid request body: `$.config.configurable` must be an object")
    own = {k: v for k, v in (configurable or {}).items() if not (k == "cron_id" and v == cron_id)}
    if own and context:
        raise ApiError(400, "Cannot specify both configurable and context. Prefer setting context alone.")


def _with_cron_id(payload: dict[str, Any], cron_id: str) -> dict[str, Any]:
    config = payload.get("config")
    config = dict(config) if isinstance(config, Mapping) else {}
    configurable = config.get("configurable")
    config["configurable"] = {**(configurable if isinstance(configurable, Mapping) else {}), "cron_id": cron_id}
    return {**payload, "config": config}


async def create_cron(
    c: ServerContext,
    thread_id: str | None,
    body: ThreadCronCreate,
    raw: dict[str, Any],
    *,
    metadata: dict[str, Any] | None = None,
    user_id: str | None = None,
) -> Cron:
    """A new cron (``thread_id`` None: stateless); raises 404/422/400 naming what is wrong.
    ``metadata``: as custom auth left it (else the body's); ``user_id``: who made it (its
    firings run as that user)."""
    tz = check_timezone(body.timezone)
    assistant = await _assistant(c, body.assistant_id)
    if body.webhook is not None:
        # refused now, not at each firing
        await check_webhook_url(body.webhook, c.webhooks.policy if c.webhooks is not None else WebhookPolicy())
    if thread_id is not None and await c.storage.thread_get(thread_id) is None:
        raise ApiError(404, f"Thread with ID '{thread_id}' not found")
    cron_id = str(uuid.uuid4())
    _check_config(body.config, body.context, cron_id)
    stamp = now()
    first = check_schedule(body.schedule, tz, stamp)
    payload = _with_cron_id({**raw, "assistant_id": assistant.assistant_id}, cron_id)
    on_completed = (body.on_run_completed or "delete") if isinstance(body, CronCreate) and thread_id is None else None
    cron = Cron(
        cron_id=cron_id,
        assistant_id=assistant.assistant_id,
        thread_id=thread_id,
        end_time=_utc(body.end_time),
        schedule=body.schedule,
        timezone=tz,
        payload=payload,
        next_run_date=first,
        metadata=dict(body.metadata or {}) if metadata is None else metadata,
        user_id=user_id,
        on_run_completed=on_completed,
        enabled=True if body.enabled is None else body.enabled,
        created_at=stamp,
        updated_at=stamp,
    )
    await c.storage.cron_insert(cron)
    c.crons.wake()
    return cron


async def find_cron(c: ServerContext, cron_id: str) -> Cron | None:
    """The cron, or None (a malformed id is a 422 naming it)."""
    return await c.storage.cron_get(_cron_uuid(cron_id))


async def get_cron(c: ServerContext, cron_id: str) -> Cron:
    cron_id = _cron_uuid(cron_id)
    cron = await c.storage.cron_get(cron_id)
    if cron is None:
        raise ApiError(404, f"Cron '{cron_id}' not found")
    return cron


def _changed(cur: Cron, body: CronPatch, raw: dict[str, Any], stamp: datetime) -> Cron:
    """``cur`` with the patch applied (LangGraph's merge: metadata and payload shallowly)."""
    tz = check_timezone(body.timezone) if body.timezone is not None else cur.timezone
    schedule = body.schedule if body.schedule is not None else cur.schedule
    next_date = cur.next_run_date
    if body.schedule is not None or body.timezone is not None:
        next_date = check_schedule(schedule, tz, stamp)
    elif body.enabled and not cur.enabled:
        # enabling again: the schedule goes on from now, firings missed while disabled don't run
        next_date = next_run(schedule, stamp, tz)
    # the assistant stays the cron's; the rest of the patch is merged into the payload
    merged = {**cur.payload, **raw, "assistant_id": cur.payload.get("assistant_id", cur.assistant_id)}
    payload = _with_cron_id(merged, cur.cron_id)
    _check_config(payload.get("config"), payload.get("context"), cur.cron_id)
    changes: dict[str, Any] = {
        "schedule": schedule,
        "timezone": tz,
        "next_run_date": next_date,
        "payload": payload,
        "metadata": {**cur.metadata, **(body.metadata or {})},
        "updated_at": stamp,
    }
    if body.end_time is not UNSET:
        changes["end_time"] = _utc(body.end_time)  # type: ignore[arg-type]
    if body.enabled is not None:
        changes["enabled"] = body.enabled
    if body.on_run_completed is not None and cur.thread_id is None:
        changes["on_run_completed"] = body.on_run_completed
    return msgspec.structs.replace(cur, **changes)


async def update_cron(c: ServerContext, cron_id: str, body: CronPatch, raw: dict[str, Any]) -> Cron:
    cron_id = _cron_uuid(cron_id)
    if not raw:
        raise ApiError(400, "Request body cannot be empty")
    # checked before the transaction: what is wrong with the request alone
    if body.timezone is not None:
        check_timezone(body.timezone)
    _check_config(body.config, None, cron_id)
    if body.webhook is not None:
        await check_webhook_url(body.webhook, c.webhooks.policy if c.webhooks is not None else WebhookPolicy())
    stamp = now()
    updated = await c.storage.cron_update(cron_id, lambda cur: _changed(cur, body, raw, stamp))
    if updated is None:
        raise ApiError(404, f"Cron '{cron_id}' not found")
    c.crons.wake()
    return updated


async def delete_cron(c: ServerContext, cron_id: str) -> None:
    cron_id = _cron_uuid(cron_id)
    if not await c.storage.cron_delete(cron_id):
        raise ApiError(404, f"Cron '{cron_id}' not found")
    c.crons.wake()


async def search_crons(
    c: ServerContext,
    *,
    assistant_id: str | None,
    thread_id: str | None,
    enabled: bool | None,
    metadata: Mapping[str, Any] | None,
    limit: int,
    offset: int,
    sort_by: str | None,
    sort_order: str | None,
    keep: Any = None,
) -> list[Cron]:
    """``keep``: custom auth's test of each cron's metadata (applied before paging)."""
    return await c.storage.cron_search(
        assistant_id=_filter_id(c, assistant_id, "assistant"),
        thread_id=_filter_id(c, thread_id, "thread"),
        enabled=enabled,
        metadata=metadata,
        limit=limit,
        offset=offset,
        sort_by=sort_by,
        sort_order=sort_order,
        keep=keep,
    )


async def count_crons(
    c: ServerContext,
    *,
    assistant_id: str | None,
    thread_id: str | None,
    metadata: Mapping[str, Any] | None,
    keep: Any = None,
) -> int:
    return await c.storage.cron_count(
        assistant_id=_filter_id(c, assistant_id, "assistant"),
        thread_id=_filter_id(c, thread_id, "thread"),
        metadata=metadata,
        keep=keep,
    )
