"""Retention: threads and store items that expire, and the background sweeps that delete
them (``checkpointer.ttl`` and ``store.ttl`` of ``langgraph.json``, a thread's own ``ttl``).

When a thread expires (as LangGraph's server applies thread TTLs): a thread's TTL is the
``ttl`` it was created (or last patched) with, else ``checkpointer.ttl.default_ttl``, in
minutes. Its clock starts when the thread is created and starts again each time a run is
created on it (so a thread that is used keeps living, and a thread made before a
``default_ttl`` was configured gets it with its next run); a patch with a ``ttl`` sets a new
TTL from then. An expired thread is handled by its strategy: ``delete`` removes the thread,
its runs and its checkpoints; ``keep_latest`` keeps the thread and its latest checkpoint
and prunes the older ones (its clock then waits for the next run). A thread with a pending
or running run is left for a later sweep.

Store items expire as the store says (``default_ttl``, ``refresh_on_read``: the SQLite
store keeps per-item expiry); ``store.ttl.sweep_interval_minutes`` makes the server sweep
them too.

Each sweep is a loop in a task group the app's lifespan owns, sleeping between sweeps; a
sweep deletes thread by thread in short transactions, so requests go on meanwhile. The
clocks and the deletes are the storage's (``ttl_*``), so retention works alike on every
backend, and several server processes on one database can sweep at once.
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import anyio
import msgspec
import structlog

from actorgraph.errors import ConfigError
from actorgraph.server._errors import ApiError

if TYPE_CHECKING:
    from actorgraph.server._context import ServerContext

__all__ = ("Retention", "StoreTTL", "ThreadTTL", "parse_store_ttl", "parse_thread_ttl", "thread_ttl_of")

log = structlog.get_logger("actorgraph.server.retention")

STRATEGIES = ("delete", "keep_latest")
DEFAULT_SWEEP_MINUTES = 5.0
DEFAULT_SWEEP_LIMIT = 10000


class ThreadTTL(msgspec.Struct, frozen=True, kw_only=True):
    """``checkpointer.ttl``: what happens to expired threads and how often they are looked for."""

    strategy: str = "delete"
    default_ttl: float | None = None  # minutes; None: only threads with their own ttl expire
    sweep_interval_minutes: float = DEFAULT_SWEEP_MINUTES
    sweep_limit: int = DEFAULT_SWEEP_LIMIT


class StoreTTL(msgspec.Struct, frozen=True, kw_only=True):
    """``store.ttl`` as the server uses it (the store reads the rest of it itself)."""

    sweep_interval_minutes: float | None = None  # None: expired items go when met, no sweep
    # what the store is given: the known keys, reads refreshing a ttl unless said otherwise
    # (as LangGraph's server's store); None: no ttl config
    store_config: dict[str, Any] | None = None


def _minutes(section: Mapping[str, Any], name: str, where: str, *, default: Any) -> Any:
    value = section.get(name, default)
    if value is None or value is default:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or math.isinf(value):
        raise ConfigError(f"{where}.{name} must be a number of minutes above 0, got {value!r}", key=f"{where}.{name}", value=value)
    return float(value)


def _known(section: Mapping[str, Any], keys: frozenset[str], where: str) -> None:
    # as for langgraph.json's other keys: an unknown one warns (a newer LangGraph's key, a typo)
    for key in section:
        if key not in keys:
            warnings.warn(f"langgraph.json: unknown key {where}.{key} is ignored (known: {sorted(keys)})", stacklevel=4)


def parse_thread_ttl(raw: Mapping[str, Any] | None) -> ThreadTTL:
    """Check ``checkpointer.ttl`` (a ``ConfigError`` names the bad key)."""
    if raw is None:
        return ThreadTTL()
    where = "checkpointer.ttl"
    _known(raw, frozenset({"strategy", "default_ttl", "sweep_interval_minutes", "sweep_limit"}), where)
    strategy = raw.get("strategy", "delete")
    if strategy not in STRATEGIES:
        raise ConfigError(f"{where}.strategy must be one of {STRATEGIES}, got {strategy!r}", key=f"{where}.strategy", value=strategy)
    limit = raw.get("sweep_limit", DEFAULT_SWEEP_LIMIT)
    if type(limit) is not int or limit < 1:
        raise ConfigError(f"{where}.sweep_limit must be a positive integer, got {limit!r}", key=f"{where}.sweep_limit", value=limit)
    return ThreadTTL(
        strategy=strategy,
        default_ttl=_minutes(raw, "default_ttl", where, default=None),
        sweep_interval_minutes=_minutes(raw, "sweep_interval_minutes", where, default=DEFAULT_SWEEP_MINUTES),
        sweep_limit=limit,
    )


def parse_store_ttl(raw: Mapping[str, Any] | None) -> StoreTTL:
    """Check ``store.ttl`` (a ``ConfigError`` names the bad key)."""
    if raw is None:
        return StoreTTL()
    where = "store.ttl"
    _known(raw, frozenset({"default_ttl", "refresh_on_read", "sweep_interval_minutes"}), where)
    _minutes(raw, "default_ttl", where, default=None)
    if not isinstance(raw.get("refresh_on_read", True), bool):
        raise ConfigError(
            f"{where}.refresh_on_read must be true or false, got {raw['refresh_on_read']!r}",
            key=f"{where}.refresh_on_read", value=raw["refresh_on_read"],
        )
    keys = ("default_ttl", "refresh_on_read", "sweep_interval_minutes")
    return StoreTTL(
        sweep_interval_minutes=_minutes(raw, "sweep_interval_minutes", where, default=None),
        store_config={"refresh_on_read": True, **{k: raw[k] for k in keys if k in raw}},
    )


def thread_ttl_of(raw: Any, default_strategy: str = "delete") -> tuple[str, float] | None:
    """A request's thread ``ttl`` (``{"strategy": "delete", "ttl": minutes}``, as
    ``langgraph-sdk`` sends it) as (strategy, minutes); None: the default applies. A 422
    names what is wrong; as LangGraph's server, any number of minutes is taken (one at or
    below 0 expires at the next sweep) and an object without ``ttl`` gets the default."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ApiError(422, f"Invalid request body: ttl must be an object {{'strategy', 'ttl'}}, got {raw!r}")
    strategy = raw.get("strategy", default_strategy)
    if strategy not in STRATEGIES:
        raise ApiError(422, f"Invalid request body: ttl.strategy must be one of {list(STRATEGIES)}, got {strategy!r}")
    minutes = raw.get("ttl")
    if minutes is None:
        return None
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or math.isnan(minutes):
        raise ApiError(422, f"Invalid request body: ttl.ttl must be a number of minutes, got {minutes!r}")
    return strategy, float(minutes)


class Retention:
    """The thread TTLs (kept by the server's storage: ``c.storage``) and the sweeps."""

    def __init__(self, c: ServerContext, threads: ThreadTTL, store: StoreTTL) -> None:
        self.c = c
        self.threads = threads
        self.store = store

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._every, self.threads.sweep_interval_minutes, self.sweep_threads)
            if self.store.sweep_interval_minutes is not None:
                tg.start_soon(self._every, self.store.sweep_interval_minutes, self.sweep_store)
            try:
                yield
            finally:
                tg.cancel_scope.cancel()

    async def _every(self, minutes: float, sweep: Any) -> None:
        while True:
            await anyio.sleep(minutes * 60)
            try:
                await sweep()
            except Exception:  # a failed sweep is retried at the next interval
                log.exception("sweep failed", sweep=sweep.__name__)

    # -- thread clocks ----------------------------------------------------------------------

    async def thread_created(self, thread_id: str, ttl: tuple[str, float] | None) -> None:
        """Start a new thread's clock (its own ``ttl``, else the default, else none: its
        insert dropped any clock a deleted thread of the same id left)."""
        if ttl is None and self.threads.default_ttl is not None:
            ttl = (self.threads.strategy, self.threads.default_ttl)
        if ttl is not None:
            await self.set_thread_ttl(thread_id, ttl)

    async def set_thread_ttl(self, thread_id: str, ttl: tuple[str, float]) -> None:
        strategy, minutes = ttl
        await self.c.storage.ttl_set(thread_id, strategy, minutes, time.time() + minutes * 60)

    async def run_created(self, thread_id: str, clocked: bool) -> None:
        """A run on the thread was stored, its insert starting the thread's clock again
        (``run_insert(ttl_from=...)``); a thread that had none (``clocked`` False) gets
        the default TTL, if there is one."""
        if not clocked and self.threads.default_ttl is not None:
            await self.set_thread_ttl(thread_id, (self.threads.strategy, self.threads.default_ttl))

    # -- sweeps -------------------------------------------------------------------------------

    async def sweep_threads(self) -> int:
        """Handle the threads whose TTL ran out; how many were deleted or pruned."""
        storage = self.c.storage
        done = 0
        for thread_id in await storage.ttl_expired(time.time(), self.threads.sweep_limit):
            outcome = await storage.ttl_expire(thread_id, time.time())
            if outcome == "keep_latest" and not await self._prune_idle(thread_id):
                continue  # a run of it started since the check: its end restarts the clock
            done += outcome in ("delete", "keep_latest")
        if done:
            log.info("threads swept", count=done)
        return done

    async def _prune_idle(self, thread_id: str) -> bool:
        """Prune the thread's older checkpoints unless a run of it is in flight (whose next
        checkpoints build on them); whether it did."""
        runs = self.c.runs
        if runs is None:  # (no run manager: nothing runs)
            await self.c.checkpointer.aprune([thread_id], strategy="keep_latest")
            return True
        async with runs.pruning(thread_id) as free:
            if free:
                await self.c.checkpointer.aprune([thread_id], strategy="keep_latest")
            return free

    async def sweep_store(self) -> int:
        removed = int(await self.c.store.sweep_ttl())
        if removed:
            log.info("store items swept", count=removed)
        return removed
