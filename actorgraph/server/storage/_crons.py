"""The crons part of the storage protocol (see :mod:`actorgraph.server.storage._sqlite_crons`
for how SQLite keeps them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from actorgraph.server.schemas import Cron

__all__ = ("CronStorage",)


class CronStorage(Protocol):
    """What a storage backend keeps about crons."""

    async def cron_insert(self, cron: Cron) -> None: ...
    async def cron_get(self, cron_id: str) -> Cron | None: ...
    async def cron_update(self, cron_id: str, change: Callable[[Cron], Cron]) -> Cron | None:
        """``change(current)`` stored in place of the cron, atomically (None: no such cron)."""
    async def cron_delete(self, cron_id: str) -> bool: ...
    async def cron_search(
        self,
        *,
        assistant_id: str | None = None,
        thread_id: str | None = None,
        enabled: bool | None = None,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
        keep: Callable[[Any], bool] | None = None,
    ) -> list[Cron]:
        """``keep``: an extra test of each cron's metadata (custom auth's filter), applied
        before paging."""
    async def cron_count(
        self,
        *,
        assistant_id: str | None = None,
        thread_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        keep: Callable[[Any], bool] | None = None,
    ) -> int: ...
    async def cron_due(self, now: datetime) -> list[Cron]:
        """Enabled crons whose ``next_run_date`` has come and whose ``end_time`` hasn't passed."""
    async def cron_advance(self, cron_id: str, expected: datetime | None, new: datetime | None) -> bool:
        """Claim a firing: ``next_run_date`` becomes ``new`` only if it still is ``expected``
        (True: this caller won the firing)."""
    async def cron_next_due(self, now: datetime) -> datetime | None:
        """The earliest ``next_run_date`` of the crons that can still fire."""
