"""Authorization of the crons API, ready for its endpoints: one call each, as the other
resources make (see :mod:`._authz`). The crons store is not known here, so the calls that
must look at a cron take a ``metadata_of`` loader: ``async (cron_id) -> metadata | None``.

- ``POST /threads/{id}/runs/crons``, ``POST /runs/crons``:
  ``auth = await check_cron_create(request, value)`` before storing, where ``value`` holds
  ``payload`` (the run body as a dict), ``schedule``, ``cron_id``, ``thread_id``,
  ``user_id``, ``end_time`` and ``metadata`` (the handler may fill it: store what it left);
  ``auth`` is the configurable keys naming the user, for the runs the cron starts.
- ``PATCH /runs/crons/{id}``: ``await check_cron(request, "update", cron_id, metadata_of, value)``
- ``DELETE /runs/crons/{id}``: ``await check_cron(request, "delete", cron_id, metadata_of)``
- a read of one cron: ``await check_cron(request, "read", cron_id, metadata_of)``
- ``POST /runs/crons/search`` and ``/count``: ``keep = await cron_keep(request, value)``,
  then keep only crons whose metadata passes ``keep`` (``None``: all), before paging.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request

from actorgraph.server._errors import ApiError
from actorgraph.server.auth._authz import authorize, check_run_assistant, check_thread, run_configurable, server_auth
from actorgraph.server.auth._filters import filter_matches

__all__ = ("check_cron", "check_cron_create", "cron_keep")

MetadataOf = Callable[[str], Awaitable[Mapping[str, Any] | None]]


async def check_cron_create(request: Request, value: dict[str, Any]) -> dict[str, Any] | None:
    """``crons.create``, then reading the run's assistant and thread, as LangGraph's
    server checks them (404 when the user may not see them)."""
    if server_auth(request) is None:
        return None
    await authorize(request, "crons", "create", value)
    payload = value.get("payload") or {}
    if payload.get("assistant_id"):
        try:
            await check_run_assistant(request, str(payload["assistant_id"]))
        except ApiError:
            raise ApiError(404, f"Assistant '{payload['assistant_id']}' not found") from None
    if value.get("thread_id"):
        await check_thread(request, "read", str(value["thread_id"]))
    return run_configurable(request)


async def check_cron(
    request: Request, action: str, cron_id: str, metadata_of: MetadataOf, value: dict[str, Any] | None = None
) -> None:
    """The user may ``action`` the cron: else 404, as if it did not exist."""
    filters = await authorize(request, "crons", action, value if value is not None else {"cron_id": cron_id})
    if filters is None:
        return
    metadata = await metadata_of(cron_id)
    if metadata is None or not filter_matches(metadata, filters):
        raise ApiError(404, f"Cron with ID {cron_id} not found")


async def cron_keep(request: Request, value: dict[str, Any]) -> Callable[[Mapping[str, Any] | None], bool] | None:
    """For a search or count: which crons (by their metadata) the user may see."""
    filters = await authorize(request, "crons", "search", value)
    if filters is None:
        return None
    return lambda metadata: filter_matches(metadata, filters)
