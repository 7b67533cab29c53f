"""Crons in SQLite: :class:`~actorgraph.server.storage._crons.CronStorage` as a mixin of
:class:`~actorgraph.server.storage.SqliteStorage`.

``next_run_date`` lives in its own column (epoch seconds) and is the only thing the
scheduler writes: a firing is claimed by a compare-and-set of that column, so among
several processes on one database exactly one wins each firing, and a concurrent update
of the cron's other fields is never overwritten by the scheduler.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import msgspec

from actorgraph.server.schemas import Cron
from actorgraph.server.storage._base import Keep, matches, sort_direction

__all__ = ("CRON_SCHEMA", "SqliteCrons")

CRON_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS srv_crons (
        cron_id TEXT PRIMARY KEY, assistant_id TEXT NOT NULL, thread_id TEXT, enabled INTEGER NOT NULL,
        next_run REAL, end_ts REAL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, doc BLOB NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS srv_crons_due ON srv_crons (enabled, next_run)",
)

_SORT = {
    "cron_id": "cron_id", "assistant_id": "assistant_id", "thread_id": "thread_id", "next_run_date": "next_run",
    "end_time": "end_ts", "created_at": "created_at", "updated_at": "updated_at",
}


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _cron(doc: bytes | str, next_run: float | None) -> Cron:
    # the column is the truth for next_run_date: the scheduler moves only the column
    cron = msgspec.json.decode(doc, type=Cron)
    when = None if next_run is None else datetime.fromtimestamp(next_run, timezone.utc)
    return msgspec.structs.replace(cron, next_run_date=when)


def _row(c: Cron) -> tuple[str, Sequence[Any]]:
    return (
        "INSERT OR REPLACE INTO srv_crons VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            c.cron_id, c.assistant_id, c.thread_id, int(c.enabled), _ts(c.next_run_date), _ts(c.end_time),
            c.created_at.isoformat(), c.updated_at.isoformat(), msgspec.json.encode(c),
        ),
    )


class SqliteCrons:
    """:class:`~actorgraph.server.storage._crons.CronStorage` on SQLite; mixed into
    ``SqliteStorage``, whose connection helpers it uses."""

    _rows: Callable[..., Any]
    _one: Callable[..., Any]
    _call: Callable[..., Any]
    conn: Any

    async def cron_insert(self, cron: Cron) -> None:
        await self.conn.execute(*_row(cron))

    async def cron_get(self, cron_id: str) -> Cron | None:
        row = await self._one("SELECT doc, next_run FROM srv_crons WHERE cron_id = ?", (cron_id,))
        return None if row is None else _cron(row[0], row[1])

    async def cron_update(self, cron_id: str, change: Callable[[Cron], Cron]) -> Cron | None:
        def update(conn: sqlite3.Connection) -> Cron | None:
            row = conn.execute("SELECT doc, next_run FROM srv_crons WHERE cron_id = ?", (cron_id,)).fetchone()
            if row is None:
                return None
            updated = change(_cron(row[0], row[1]))
            conn.execute(*_row(updated))
            return updated

        return await self._call(update)  # type: ignore[no-any-return]

    async def cron_delete(self, cron_id: str) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM srv_crons WHERE cron_id = ?", (cron_id,)).rowcount > 0

        return await self._call(delete)  # type: ignore[no-any-return]

    async def _crons(
        self, assistant_id: str | None, thread_id: str | None, enabled: bool | None, order: str
    ) -> list[Cron]:
        where: list[str] = ["1=1"]
        params: list[Any] = []
        for column, value in (("assistant_id", assistant_id), ("thread_id", thread_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if enabled is not None:
            where.append("enabled = ?")
            params.append(int(enabled))
        rows = await self._rows(
            f"SELECT doc, next_run FROM srv_crons WHERE {' AND '.join(where)} ORDER BY {order}, cron_id", params
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
        order = f"{_SORT.get(sort_by or '', 'created_at')} {direction}"
        found = [
            c for c in await self._crons(assistant_id, thread_id, enabled, order)
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
        found = await self._crons(assistant_id, thread_id, None, "created_at")
        return sum(1 for c in found if matches(c.metadata, metadata) and (keep is None or keep(c.metadata)))

    async def cron_due(self, now: datetime) -> list[Cron]:
        stamp = now.timestamp()
        rows = await self._rows(
            """SELECT doc, next_run FROM srv_crons WHERE enabled = 1 AND next_run <= ?
               AND (end_ts IS NULL OR end_ts >= ?) ORDER BY next_run""",
            (stamp, stamp),
        )
        return [_cron(doc, next_run) for doc, next_run in rows]

    async def cron_advance(self, cron_id: str, expected: datetime | None, new: datetime | None) -> bool:
        def advance(conn: sqlite3.Connection) -> bool:
            # within a millisecond: the value went through a datetime (microseconds) and back
            old = _ts(expected)
            cursor = conn.execute(
                """UPDATE srv_crons SET next_run = ? WHERE cron_id = ?
                   AND ((next_run IS NULL AND ? IS NULL) OR ABS(next_run - ?) < 0.001)""",
                (_ts(new), cron_id, old, old),
            )
            return cursor.rowcount == 1

        return await self._call(advance)  # type: ignore[no-any-return]

    async def cron_next_due(self, now: datetime) -> datetime | None:
        row = await self._one(
            """SELECT MIN(next_run) FROM srv_crons WHERE enabled = 1 AND next_run IS NOT NULL
               AND (end_ts IS NULL OR end_ts >= ?)""",
            (now.timestamp(),),
        )
        return None if row is None or row[0] is None else datetime.fromtimestamp(row[0], timezone.utc)
