"""Crons: schedules checked and computed with croniter, and the scheduler that fires them
into runs (once per firing, whatever the number of server processes on the database)."""

from actorgraph.server.crons._schedule import check_schedule, check_timezone, next_run
from actorgraph.server.crons._scheduler import CronScheduler, CronStatistics, run_request

__all__ = ("CronScheduler", "CronStatistics", "check_schedule", "check_timezone", "next_run", "run_request")
