"""The one protocol every storage backend implements: assistants (with versions),
threads, runs (the queue's rows and leases), the event log of each run, and the thread
TTL clocks retention sweeps by.

Records are the response Structs of :mod:`actorgraph.server.schemas`; a backend stores them
whole and indexes what it filters and sorts by. Checkpoints and the store are not here:
they are the engine's savers and stores, opened on the same database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import msgspec

from actorgraph.server.schemas import Assistant, AssistantVersion, Run, Thread
from actorgraph.server.storage._crons import CronStorage

__all__ = ("ASSISTANT_SORT", "DEFAULT_SORT", "THREAD_SORT", "Claim", "Conflict", "Gone", "Keep", "Renewal", "Storage", "Unavailable", "matches", "sort_direction")


class Conflict(Exception):
    """A record with this id exists already (``if_exists="raise"``)."""


class Gone(Exception):
    """The record a write belongs to was deleted meanwhile (a run's thread, swept by
    retention between the request's read of it and the run's insert)."""


class Unavailable(Exception):
    """The database cannot be reached (refused, timed out, shut down, connection lost
    mid-call). Raised fast, after a few seconds at most; the same storage works again once
    the database is back (a call may still fail once while its pool reconnects)."""


class Claim(msgspec.Struct, frozen=True, kw_only=True):
    """What ``run_claim`` found: the run now ``running`` (None: nothing is due)."""

    run: Run | None
    resumed: bool = False  # the run was claimed before (its worker died or the server stopped)
    # when the earliest pending run (other than the one claimed) becomes due; None: no run
    # is pending
    next_due: float | None = None


class Renewal(msgspec.Struct, frozen=True, kw_only=True):
    """What ``run_renew`` did: the runs still leased to the caller (renewed) and the
    cancel requests recorded for them; a run given but not kept was lost (its lease ran
    out and it was requeued, maybe claimed elsewhere): its owner must stop running it."""

    kept: tuple[str, ...] = ()
    cancels: dict[str, str] = {}  # run_id -> "interrupt" | "rollback"


def matches(doc: Any, filt: Mapping[str, Any] | None) -> bool:
    """JSON containment (Postgres ``@>``): every key of ``filt`` is in ``doc`` with a value
    that contains the filter's value (objects recursively, lists element-wise)."""
    if not filt:
        return True
    if not isinstance(doc, Mapping):
        return False
    for key, want in filt.items():
        if key not in doc:
            return False
        have = doc[key]
        if isinstance(want, Mapping):
            if not matches(have, want):
                return False
        elif isinstance(want, list):
            if not isinstance(have, list) or not all(
                any(w == h or (isinstance(w, Mapping) and matches(h, w)) for h in have) for w in want
            ):
                return False
        elif have != want or (type(have) is bool) != (type(want) is bool):
            return False
    return True


# the columns a search may sort by (LangGraph's names -> ours), and what it sorts by otherwise
ASSISTANT_SORT = {c: c for c in ("assistant_id", "graph_id", "name", "created_at", "updated_at")}
THREAD_SORT = {c: c for c in ("thread_id", "status", "created_at", "updated_at")} | {"state_updated_at": "updated_at"}
DEFAULT_SORT = "created_at"


def sort_direction(sort_order: str | None) -> str:
    """``ASC`` or ``DESC`` (the default) for a search's ``sort_order``."""
    return "ASC" if (sort_order or "desc").lower() == "asc" else "DESC"


Keep = Callable[[Any], bool]
"""A search's extra test on each record (the auth handler's filter): only records it
passes are counted, paged and returned."""


class Storage(CronStorage, Protocol):
    """What the server keeps about assistants, threads, runs and crons.

    ``shared``: whether several server processes may use one database at once (their
    queues, leases and cancel requests then meet in it)."""

    shared: bool

    async def setup(self) -> None: ...
    async def close(self) -> None: ...

    # assistants
    async def assistant_insert(self, assistant: Assistant, *, if_exists: str | None) -> Assistant: ...
    async def assistant_get(self, assistant_id: str) -> Assistant | None: ...
    async def assistant_update(self, assistant_id: str, changes: Mapping[str, Any], now: datetime) -> Assistant | None: ...
    async def assistant_delete(self, assistant_id: str) -> bool: ...
    async def assistant_search(
        self,
        *,
        graph_id: str | None = None,
        name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
        keep: Keep | None = None,
    ) -> list[Assistant]: ...
    async def assistant_count(
        self, *, graph_id: str | None = None, name: str | None = None, metadata: Mapping[str, Any] | None = None,
        keep: Keep | None = None,
    ) -> int: ...
    async def assistant_versions(
        self, assistant_id: str, *, metadata: Mapping[str, Any] | None = None, limit: int = 10, offset: int = 0,
        keep: Keep | None = None,
    ) -> list[AssistantVersion]: ...
    async def assistant_set_latest(self, assistant_id: str, version: int, now: datetime) -> Assistant | None: ...

    # threads
    async def thread_insert(self, thread: Thread, *, if_exists: str | None) -> Thread:
        """``thread`` stored; one of that id already there is returned (``if_exists``
        ``do_nothing``) or a ``Conflict``. A new thread has no TTL clock: one an earlier
        thread of its id left is dropped in the same transaction."""
    async def thread_get(self, thread_id: str) -> Thread | None: ...
    async def thread_put(self, thread: Thread) -> None: ...
    async def thread_set_status(self, thread_id: str, status: str, error: Any, now: datetime) -> None:
        """``status`` and ``error`` on the thread; ``busy`` instead while a run on it is
        pending or running."""
    async def thread_delete(self, thread_id: str) -> bool: ...
    async def thread_search(
        self,
        *,
        ids: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
        status: str | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
        keep: Keep | None = None,
    ) -> list[Thread]: ...
    async def thread_count(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
        status: str | None = None,
        keep: Keep | None = None,
    ) -> int: ...

    # runs: rows of the queue
    async def run_insert(
        self, run: Run, *, available_at: float, thread: Thread | None = None, ttl_from: float | None = None
    ) -> bool:
        """The run's row (and ``thread``'s record, in the same transaction); ``Gone`` if
        ``thread`` was deleted meanwhile (nothing is written). With ``ttl_from`` (epoch
        seconds) the thread's TTL clock, if it has one, starts again from then in the
        same transaction, so a retention sweep is wholly before or after both; whether
        it had one."""
    async def run_get(self, run_id: str) -> Run | None: ...
    async def run_list(
        self, thread_id: str, *, status: str | None = None, limit: int = 10, offset: int = 0
    ) -> list[Run]: ...
    async def run_active(self, thread_id: str) -> list[Run]: ...
    async def run_set_status(
        self, run_id: str, status: str, now: datetime, *, owner: str | None = None, expect: str | None = None
    ) -> Run | None:
        """The run with its new status (None: no such run, or ``owner`` is given and the
        run is no longer running under it, as in ``run_finish``, or ``expect`` is given
        and the run's status is another - a pending run claimed meanwhile: nothing is
        written). A status other than pending or running ends its lease and drops its
        cancel request."""
    async def run_finish(
        self,
        run_id: str,
        status: str,
        now: datetime,
        events: Sequence[tuple[int, str, bytes]],
        thread_changes: Mapping[str, Any] | None,
        *,
        owner: str | None = None,
    ) -> bool:
        """A run's end in one transaction: its last events appended, its status set, and
        ``thread_changes`` (fields of :class:`Thread`) replaced on its thread, whose
        status stays ``busy`` while another run on it is pending or running. With
        ``owner`` the end is fenced: if the run is no longer running under ``owner`` (its
        lease ran out: it was requeued, maybe claimed by another worker, as ``run_renew``
        would have said) nothing is written. Whether it was written (without ``owner``:
        whether the run exists)."""
    async def run_delete(self, run_id: str, *, owner: str | None = None) -> bool:
        """The run and its events deleted; whether it existed. With ``owner``, fenced as
        ``run_finish``: only while the run is running under ``owner``."""
    async def run_claim(self, owner: str, lease_until: float, now: float) -> Claim: ...
    async def run_take(self, run_id: str, owner: str, lease_until: float, now: datetime) -> Run | None:
        """A pending run taken out of the queue to be ended, not executed: ``running``,
        leased to ``owner`` (so no worker claims it, nor the next run of its thread, until
        ``owner`` deletes or finishes it). None: it isn't pending (a worker claimed it)."""
    async def run_renew(self, run_ids: Sequence[str], owner: str, lease_until: float) -> Renewal:
        """Extend the leases of the given runs still running under ``owner``; see :class:`Renewal`."""
    async def run_request_cancel(self, run_id: str, action: str) -> bool:
        """Record durably that a running run should stop (``action``: "interrupt" or
        "rollback"); its owner learns it at its next ``run_renew``, in whichever process.
        False: the run is not running. The request is dropped when the run ends."""
    async def run_requeue_expired(self, now: float) -> list[str]: ...
    async def run_next_available(self) -> float | None: ...
    async def run_counts(self) -> dict[str, int]: ...

    # event log of each run
    async def events_append(self, run_id: str, events: Sequence[tuple[int, str, bytes]]) -> None: ...
    async def events_read(self, run_id: str, after: int = -1) -> list[tuple[int, str, bytes]]: ...

    # thread TTL clocks (retention): epoch seconds
    async def ttl_set(self, thread_id: str, strategy: str, minutes: float, expires_at: float | None) -> None: ...
    async def ttl_expired(self, now: float, limit: int) -> list[str]:
        """Threads whose clock ran out by ``now``, the longest expired first."""
    async def ttl_expire(self, thread_id: str, now: float) -> str:
        """An expired thread's strategy applied, its checks and deletes in one transaction
        (so a run created meanwhile is either seen, and the thread stays, or comes after and
        finds the thread gone: ``Gone``). What was done: ``delete`` (the thread, its runs,
        events and crons, its checkpoints in the engine's tables of this database, its
        clock), ``keep_latest`` (its clock stopped until the next run: the caller prunes),
        ``busy`` (a run is pending or running: a later sweep), ``fresh`` (its clock runs
        again) or ``gone`` (no such thread: its clock is dropped)."""
