"""The run queue: N workers claim pending runs (oldest first, one at a time per thread)
with a lease they renew while the run goes on, sleep on pushed wake-ups when there is
nothing to do, and stop cleanly: on shutdown, runs still going after the grace period
are put back to ``pending`` for the next start.
"""

from __future__ import annotations

import contextlib
import math
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anyio
import msgspec
import structlog

from actorgraph.server._context import ServerContext, now
from actorgraph.server._json import dumps
from actorgraph.server._tracing import note_outcome, run_trace
from actorgraph.server.broker import InProcessBroker, LiveRun
from actorgraph.server.runs._execute import RESULT_EVENT, TIMEOUT_ERROR, Outcome, execute
from actorgraph.server.schemas import Run
from actorgraph.server.storage import Claim

if TYPE_CHECKING:
    from actorgraph.server.webhooks import Webhooks

__all__ = ("RunManager", "RunStatistics")

log = structlog.get_logger("actorgraph.server.runs")

LEASE_SECONDS = 30.0


# upper bounds (seconds) of the run duration histogram /metrics shows
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


def _interrupt_error(run: Run) -> dict[str, str]:
    return {"error": "UserInterrupt", "message": "interrupt requested via a cancel of run " + run.run_id}


class RunStatistics(msgspec.Struct, frozen=True, kw_only=True):
    workers: int
    in_flight: int
    live_streams: int
    finished: int
    duration_sum: float
    duration_buckets: tuple[int, ...]  # cumulative counts per LATENCY_BUCKETS bound


class _Active:
    __slots__ = ("scope", "action", "run", "ending")

    def __init__(self, run: Run) -> None:
        self.run = run
        self.scope = anyio.CancelScope()
        self.action: str | None = None
        self.ending = False  # the graph is done; the outcome is being recorded


class RunManager:
    def __init__(
        self, c: ServerContext, *, n_jobs: int, grace_seconds: float = 25.0, run_timeout: float = math.inf
    ) -> None:
        self.c = c
        self.n_jobs = n_jobs
        self.run_timeout = run_timeout  # seconds a run may take from its start, then it ends "timeout"
        self.grace_seconds = grace_seconds
        self.broker = InProcessBroker()
        self.owner = f"worker-{uuid.uuid4()}"
        self._active: dict[str, _Active] = {}
        self._closing = False
        self._idle = anyio.Event()
        self._claiming = anyio.Lock()
        # threads whose checkpoints are being pruned: a run of one waits for the prune to end
        # before it starts (``pruning``)
        self._pruning: dict[str, anyio.Event] = {}
        self._finished = 0
        self._duration_sum = 0.0
        self._buckets = [0] * len(LATENCY_BUCKETS)

    def statistics(self) -> RunStatistics:
        return RunStatistics(
            workers=self.n_jobs,
            in_flight=len(self._active),
            live_streams=self.broker.active_streams(),
            finished=self._finished,
            duration_sum=self._duration_sum,
            duration_buckets=tuple(self._buckets),
        )

    @contextlib.asynccontextmanager
    async def pruning(self, thread_id: str) -> AsyncIterator[bool]:
        """Hold ``thread_id`` for a prune of its checkpoints: yields False (prune nothing)
        while a run of it is in flight in this process - its next checkpoints build on the
        ones a prune deletes - else True, and a run of it waits until the prune is over."""
        feed = self.broker.feed(thread_id)
        if feed.running > 0 or thread_id in self._pruning:
            self.broker.release_feed(thread_id)
            yield False
            return
        done = self._pruning[thread_id] = anyio.Event()
        try:
            yield True
        finally:
            del self._pruning[thread_id]
            done.set()
            self.broker.release_feed(thread_id)

    def _observe(self, seconds: float) -> None:
        self._finished += 1
        self._duration_sum += seconds
        for i, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                self._buckets[i] += 1

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        # one server process owns an embedded database: runs left running by a previous
        # process that died are ours to finish
        recovered = await self.c.storage.run_requeue_expired(math.inf)
        if recovered:
            log.info("runs recovered", run_ids=recovered)
        async with anyio.create_task_group() as tg:
            for _ in range(self.n_jobs):
                tg.start_soon(self._worker)
            tg.start_soon(self._keep_leases)
            try:
                yield
            finally:
                self._closing = True
                self.broker.wake()
                if self._active:
                    with anyio.move_on_after(self.grace_seconds, shield=True):
                        await self._idle.wait()
                tg.cancel_scope.cancel()

    def wake(self) -> None:
        self.broker.wake()

    async def _keep_leases(self) -> None:
        while True:
            await anyio.sleep(LEASE_SECONDS / 3)
            await self.c.storage.run_renew(list(self._active), self.owner, time.time() + LEASE_SECONDS)

    async def _claim(self) -> Claim | None:
        """The next run to execute (None: the server is stopping). One idle worker at a
        time looks and sleeps on the wake-up; the others queue on the lock, so a wake-up
        costs one claim, not one per idle worker."""
        storage = self.c.storage
        async with self._claiming:
            while not self._closing:
                wake = self.broker.wake_event()
                stamp = time.time()
                claim = await storage.run_claim(self.owner, stamp + LEASE_SECONDS, stamp)
                if claim.run is not None:
                    return claim
                due = claim.next_due
                timeout = due - stamp if due is not None and due > stamp else math.inf
                with anyio.move_on_after(timeout):
                    await wake.wait()
        return None

    async def _worker(self) -> None:
        while not self._closing:
            claim = await self._claim()
            if claim is None or claim.run is None:
                return
            run = claim.run
            active = self._active[run.run_id] = _Active(run)
            self._idle = anyio.Event()
            try:
                with run_trace(self.c.tracing, run):
                    await self._run(run, active, resumed=claim.resumed)
            finally:
                del self._active[run.run_id]
                if not self._active:
                    self._idle.set()
                self.broker.wake()

    async def _run(self, run: Run, active: _Active, *, resumed: bool) -> None:
        c = self.c
        live = self.broker.live(run.run_id, create=True)
        assert live is not None
        # the claim marked the thread busy
        while (prune := self._pruning.get(run.thread_id)) is not None:
            await prune.wait()
        # (no await from the check to here: a prune starting now sees the run)
        started = time.monotonic()
        started_at = now()
        feed = self.broker.feed(run.thread_id)
        feed.running += 1
        try:
            outcome = await execute(c, run, live, active.scope, resumed=resumed, timeout=self.run_timeout)
        except anyio.get_cancelled_exc_class():
            # the server is stopping: the run goes back to the queue for the next start
            with anyio.CancelScope(shield=True):
                await c.storage.run_set_status(run.run_id, "pending", now())
                live.finish()
            raise
        except Exception as exc:  # a bug of ours, not the graph's: the run still ends
            log.exception("run crashed", run_id=run.run_id)
            error = {"error": type(exc).__name__, "message": str(exc)}
            outcome = Outcome(status="error", error=error, result={"__error__": error})
        finally:
            feed.running -= 1
        ended_at = now()
        note_outcome(outcome.status, outcome.error)
        active.ending = True
        with anyio.CancelScope(shield=True):
            await self._finish(run, live, outcome, active.action)
        if c.webhooks is not None:
            self._webhook(c.webhooks, run, outcome, active.action, started_at, ended_at)
        feed.publish("metadata", dumps({"status": "run_done", "run_id": run.run_id}))
        self.broker.release_feed(run.thread_id)
        duration = time.monotonic() - started
        self._observe(duration)
        log.info(
            "run finished", run_id=run.run_id, thread_id=run.thread_id, assistant_id=run.assistant_id,
            status=outcome.status, duration_s=round(duration, 4),
        )

    @staticmethod
    def _webhook(
        webhooks: Webhooks, run: Run, outcome: Outcome, action: str | None, started: datetime, ended: datetime
    ) -> None:
        """The run's webhook, sent once its status is final (as LangGraph's server: a
        rolled-back run's says ``rollback``)."""
        status, error = outcome.status, outcome.error
        if action == "rollback":
            status, error = "rollback", {"error": "UserRollback", "message": "rollback requested via a cancel of run " + run.run_id}
        elif status == "interrupted":
            error = _interrupt_error(run)
        elif status == "timeout":
            error = TIMEOUT_ERROR
        webhooks.run_ended(run, status, outcome.values, error, started, ended)

    async def _finish(self, run: Run, live: LiveRun, outcome: Outcome, action: str | None) -> None:
        live.result = result = dumps(outcome.result)
        live.status = outcome.status
        try:
            await self._record(run, live, outcome, action, result)
        finally:
            # only now: whoever waits on the run (wait, join, a stream's end) then reads
            # the run's and its thread's final status, not "busy"
            live.finish()

    async def _record(self, run: Run, live: LiveRun, outcome: Outcome, action: str | None, result: bytes) -> None:
        c = self.c
        if action == "rollback":
            await self._rollback(run)
            return
        events = [*outcome.events, (live.last_seq + 1, RESULT_EVENT, result)]
        status = outcome.status
        assert status in ("success", "error", "interrupted", "timeout"), status
        stamp = now()
        kwargs = run.kwargs
        if kwargs.get("temporary") and kwargs.get("on_completion") != "keep":
            await c.storage.run_finish(run.run_id, status, stamp, events, None)
            await c.storage.thread_delete(run.thread_id)
            await c.checkpointer.adelete_thread(run.thread_id)
            return
        # the run's status, its last events and its thread's values and status: one write
        thread: dict[str, Any] = {**(outcome.thread_values or {}), "updated_at": stamp}
        if outcome.status == "error":
            thread.update(status="error", error=outcome.error)
        elif outcome.status == "timeout":
            thread.update(status="error", error=TIMEOUT_ERROR)
        elif outcome.status == "interrupted":
            thread.update(status="interrupted", error=_interrupt_error(run))
        else:
            thread.update(status="interrupted" if outcome.paused else "idle", error=None)
        await c.storage.run_finish(run.run_id, status, stamp, events, thread)

    async def _rollback(self, run: Run) -> None:
        await self.c.checkpointer.adelete_for_runs([run.run_id])
        await self.c.storage.run_delete(run.run_id)
        await self._thread_status(run.thread_id, "idle")

    async def _thread_status(self, thread_id: str, status: str, *, error: Any = None) -> None:
        await self.c.storage.thread_set_status(thread_id, status, error, now())

    # -- cancellation -------------------------------------------------------------------

    async def cancel(self, run_id: str, action: str = "interrupt") -> bool:
        """Stop a run: ``interrupt`` keeps its finished steps, ``rollback`` removes the run
        and what it wrote. False when it isn't pending or running."""
        active = self._active.get(run_id)
        if active is not None:
            if active.ending:
                return False  # too late: it has finished
            active.action = action
            active.scope.cancel()
            return True
        run = await self.c.storage.run_get(run_id)
        if run is None or run.status not in ("pending", "running"):
            return False
        live = self.broker.live(run_id, create=True)
        assert live is not None
        live.result = dumps(None)
        if action == "rollback":
            await self._rollback(run)
        else:
            await self.c.storage.run_set_status(run_id, "interrupted", now())
            await self._thread_status(run.thread_id, "idle")
        live.finish()
        return True

    async def cancel_thread(self, thread_id: str) -> None:
        for run in await self.c.storage.run_active(thread_id):
            await self.cancel(run.run_id, "interrupt")
        for run_id, active in list(self._active.items()):
            if active.run.thread_id == thread_id:
                await self.wait_done(run_id)

    async def wait_done(self, run_id: str, timeout: float = 60.0) -> None:
        with anyio.move_on_after(timeout):
            while True:
                live = self.broker.live(run_id)
                if live is not None and live.done:
                    return
                run = await self.c.storage.run_get(run_id)
                if run is None or run.status not in ("pending", "running"):
                    if live is None:
                        return
                if live is not None:
                    await live.wait_changed(1.0)
                else:
                    await anyio.sleep(0.05)

