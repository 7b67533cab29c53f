"""Crons in Postgres: :class:`~actorgraph.server.storage._crons.CronStorage` as a mixin of
:class:`~actorgraph.server.storage.postgres.PostgresStorage`.

As in SQLite, ``next_run_date`` lives in its own column (epoch seconds) and is all the
scheduler writes: a firing is claimed by a compare-and-set of that column, so exactly one
process wins each firing, and an update of the cron's other fields (its row locked) never
overwrites the scheduler's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import msgspec

from actorgraph.server.schemas import Cron
from actorgraph.server.storage._base import Keep, matches, sort_direction
from actorgraph.server.storage._postgres_sql import jsonb

__all__ = ("PostgresCrons",)

# text in byte order, as SQLite sorts it (not the database's locale)
_SORT = {
    "cron_id": 'cron_id COLLATE "C"', "assistant_id": 'assistant_id COLLATE "C"', "thread_id": 'thread_id COLLATE "C"',
    "next_run_date": "next_run",
    "end_time": "end_ts", "created_at": "created_at", "updated_at": "updated_at",
}
_PUT = """INSERT INTO srv_crons VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s) ON CONFLICT (cron_id) DO UPDATE
    SET assistant_id = EXCLUDED.assistant_id, thread_id = EXCLUDED.thread_id, enabled = EXCLUDED.enabled,
        next_run = EXCLUDED.next_run, end_ts = EXCLUDED.end_ts, created_at = EXCLUDED.created_at,
        updated_at = EXCLUDED.updated_at, metadata = EXCLUDED.metadata, doc = EXCLUDED.doc"""


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _cron(doc: bytes, next_run: float | None) -> Cron:
    # the column is the truth for next_run_date: the scheduler moves only the column
    cron = msgspec.json.decode(doc, type=Cron)
    when = None if next_run is None else datetime.fromtimestamp(next_run, timezone.utc)
    return msgspec.structs.replace(cron, next_run_date=when)


def _params(c: Cron) -> Sequence[Any]:
    return (
        c.cron_id, c.assistant_id, c.thread_id, c.enabled, _ts(c.next_run_date), _ts(c.end_time),
        c.created_at, c.updated_at, jsonb(c.metadata or {}), msgspec.json.encode(c),
    )


class PostgresCrons:
    """:class:`~actorgraph.server.storage._crons.CronStorage` on Postgres; mixed into
    ``PostgresStorage``, whose connection helpers it uses."""

    _tx: Callable[..., Any]
    _rows: Callable[..., Any]
    _one: Callable[..., Any]
    _write: Callable[..., Any]

    async def cron_insert(self, cron: Cron) -> None:
        await self._write("cron_insert", _PUT, _params(cron))

    async def cron_get(self, cron_id: str) -> Cron | None:
        row = await self._one("cron_get", "SELECT doc, next_run FROM srv_crons WHERE cron_id = %s", (cron_id,))
        return None if row is None else _cron(row[0], row[1])

    async def cron_update(self, cron_id: str, change: Callable[[Cron], Cron]) -> Cron | None:
        async with self._tx("cron_update") as cur:
            await cur.execute("SELECT doc, next_run FROM srv_crons WHERE cron_id = %s FOR UPDATE", (cron_id,))
            row = await cur.fetchone()
            if row is None:
                return None
            updated = change(_cron(row[0], row[1]))
            await cur.execute(_PUT, _params(updated))
            return updated

    async def cron_delete(self, cron_id: str) -> bool:
        count = await self._write("cron_delete", "DELETE FROM srv_crons WHERE cron_id = %s", (cron_id,))
        return count > 0  # type: ignore[no-any-return]

    async def _crons(
        self,
        assistant_id: str | None,
        thread_id: str | None,
        enabled: bool | None,
        metadata: Mapping[str, Any] | None,
        order: str,
    ) -> list[Cron]:
        where: list[str] = ["TRUE"]
        params: list[Any] = []
        for column, value in (("assistant_id", assistant_id), ("thread_id", thread_id), ("enabled", enabled)):
            if value is not None:
                where.append(f"{column} = %s")
                params.append(value)
        if metadata:  # narrows the rows; ``matches`` decides (as SQLite)
            where.append("metadata @> %s::jsonb")
            params.append(jsonb(metadata))
        rows = await self._rows(
            "cron_search",
            f"SELECT doc, next_run FROM srv_crons WHERE {' AND '.join(where)} ORDER BY {order}, cron_id",
            params,
        )
        return [_cron(doc, next_run) for doc, next_run in rows]

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
        keep: Keep | None = None,
    ) -> list[Cron]:
        direction = sort_direction(sort_order)
        # NULLs sort as SQLite's do: first ascending, last descending
        order = f"{_SORT.get(sort_by or '', 'created_at')} {direction} NULLS {'FIRST' if direction == 'ASC' else 'LAST'}"
        found = [
            c for c in await self._crons(assistant_id, thread_id, enabled, metadata, order)
            if matches(c.metadata, metadata) and (keep is None or keep(c.metadata))
        ]  # fmt: skip
        return found[offset : offset + limit]

    async def cron_count(
        self,
        *,
        assistant_id: str | None = None,
        thread_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        keep: Keep | None = None,
    ) -> int:
        found = await self._crons(assistant_id, thread_id, None, metadata, "created_at")
        return sum(1 for c in found if matches(c.metadata, metadata) and (keep is None or keep(c.metadata)))

    async def cron_due(self, now: datetime) -> list[Cron]:
        stamp = now.timestamp()
        rows = await self._rows(
            "cron_due",
            """SELECT doc, next_run FROM srv_crons WHERE enabled AND next_run <= %s
               AND (end_ts IS NULL OR end_ts >= %s) ORDER BY next_run""",
            (stamp, stamp),
        )
        return [_cron(doc, next_run) for doc, next_run in rows]

    async def cron_advance(self, cron_id: str, expected: datetime | None, new: datetime | None) -> bool:
        # within a millisecond: the value went through a datetime (microseconds) and back
        old = _ts(expected)
        count = await self._write(
            "cron_advance",
            """UPDATE srv_crons SET next_run = %s WHERE cron_id = %s
               AND ((next_run IS NULL AND %s::float8 IS NULL) OR abs(next_run - %s::float8) < 0.001)""",
            (_ts(new), cron_id, old, old),
        )
        return count == 1  # type: ignore[no-any-return]

    async def cron_next_due(self, now: datetime) -> datetime | None:
        row = await self._one(
            "cron_next_due",
            """SELECT MIN(next_run) FROM srv_crons WHERE enabled AND next_run IS NOT NULL
               AND (end_ts IS NULL OR end_ts >= %s)""",
            (now.timestamp(),),
        )
        return None if row is None or row[0] is None else datetime.fromtimestamp(row[0], timezone.utc)
