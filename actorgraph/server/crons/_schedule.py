"""Cron expressions: checked with croniter (the parser LangGraph's server uses) and turned
into the next firing time in the cron's IANA timezone (UTC when none is given).

croniter's syntax is accepted as LangGraph's server accepts it: the five standard fields,
and croniter's optional sixth field for seconds (``* * * * * */10``: every ten seconds).
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from actorgraph.server._errors import ApiError

__all__ = ("check_schedule", "check_timezone", "next_run")


def check_timezone(name: str | None) -> str | None:
    """``name`` if it is an IANA timezone; a 422 naming the field otherwise."""
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ZoneInfo refuses paths and odd strings with ValueError/OSError, unknown names with KeyError
        raise ApiError(
            422, f"Invalid timezone: {name!r}. Use an IANA timezone name (e.g. 'America/New_York')."
        ) from None
    return name


def _bad_schedule(schedule: str, why: str) -> ApiError:
    return ApiError(
        422,
        f"Invalid cron schedule: {schedule!r}. Reason: {why}. Use the standard cron format "
        "(minute hour day_of_month month day_of_week), e.g. '*/5 * * * *' for every 5 minutes.",
    )


def next_run(schedule: str, after: datetime, tz: str | None = None) -> datetime | None:
    """The first time strictly after ``after`` that ``schedule`` names, in UTC (None: it
    names no later time, e.g. a year field in the past). ``schedule`` was checked."""
    base = after.astimezone(ZoneInfo(tz) if tz else timezone.utc)
    try:
        found = croniter(schedule, base).get_next(datetime)
    except Exception:  # croniter's CroniterBadDateError: no matching date within its search horizon
        return None
    return found.astimezone(timezone.utc)


def check_schedule(schedule: str, tz: str | None, now: datetime) -> datetime:
    """The schedule's next firing after ``now``; a 422 naming ``schedule`` if croniter
    can't read it or it never fires."""
    try:
        valid = croniter.is_valid(schedule)
    except Exception:  # a parser on untrusted text: anything it raises means "not valid"
        valid = False
    if not valid:
        raise _bad_schedule(schedule, "not a cron expression croniter can read")
    first = next_run(schedule, now, tz)
    if first is None:
        raise _bad_schedule(schedule, "it names no time after now")
    return first
