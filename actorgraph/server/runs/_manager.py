"""The run queue: N workers claim pending runs (oldest first, one at a time per thread)
with a lease they renew while the run goes on, sleep on pushed wake-ups when there is
nothing to do, and stop cleanly: on shutdown, runs still going after the grace period
are put back to ``pending`` for the next start.

On a database several processes share, a run whose worker died is recovered by any
process once its lease expires (from its last checkpoint), a worker that lost a lease
stops that run without recording anything, a cancel sent to another process reaches the
run's worker through the broker (or its next lease renewal), and a database that goes
away makes workers wait and retry instead of failing runs.
"""

from __future__ import annotations

import contextlib
import math
import os
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
from actorgraph.server.broker import RESULT_EVENT, InProcessBroker, LiveRun
from actorgraph.server.runs._execute import TIMEOUT_ERROR, Outcome, execute
from actorgraph.server.schemas import Run
from actorgraph.server.storage import Claim, is_unavailable

if TYPE_CHECKING:
    from actorgraph.server.webhooks import Webhooks

__all__ = ("RunManager", "RunStatistics")

log = structlog.get_logger("actorgraph.server.runs")

# how long a claimed run is a worker's without a renewal (a third of it between renewals)
LEASE_SECONDS = float(os.environ.get("ACTORGRAPH_LEASE_SECONDS", "30"))
# a worker that finds the database away waits this long (doubling, up to the max) between tries
RETRY_SECONDS, RETRY_MAX_SECONDS = 0.2, 5.0
# cancels remembered for runs not running here (see ``_cancel_here``)
EARLY_CANCELS_KEPT = 1000
CONFLICT_RETRIES = 3
"""How often a run goes back to the queue because a step of it was refused (the thread's
head moved: a worker that had lost its lease wrote meanwhile) before it ends in error."""
# a cancel's action when the run's lease was lost: stop it, record nothing (its new owner does)
LOST = "lost"


# upper bounds (seconds) of the run duration histogram /metrics shows
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


def _interrupt_error(run: Run) -> dict[str, str]:
    return {"error": "UserInterrupt", "message": "interrupt requested via a cancel of run " + run.run_id}


def _log_failure(exc: Exception, what: str) -> None:
    """A background loop's failed round: a warning while the database is away, else the
    whole traceback (a bug); the loop goes on either way."""
    if is_unavailable(exc):
        log.warning(f"database unavailable: {what}", error=str(exc))
    else:
        log.exception(what)


class RunStatistics(msgspec.Struct, frozen=True, kw_only=True):
    workers: int
    in_flight: int
    live_streams: int
    finished: int
    duration_sum: float
    duration_buckets: tuple[int, ...]  # cumulative counts per LATENCY_BUCKETS bound


class _Active:
    __slots__ = ("scope", "action", "run", "ending", "held_until", "gone")

    def __init__(self, run: Run, held_until: float) -> None:
        self.run = run
        self.scope = anyio.CancelScope()
        self.action: str | None = None
        self.ending = False  # the graph is done; the outcome is being recorded
        # until when its lease surely holds (the end its last claim or renewal asked for,
        # computed before the request went out)
        self.held_until = held_until
        self.gone = anyio.Event()  # its worker is done with it


class RunManager:
    def __init__(
        self,
        c: ServerContext,
        *,
        n_jobs: int,
        grace_seconds: float = 25.0,
        run_timeout: float = math.inf,
        broker: InProcessBroker | None = None,
    ) -> None:
        self.c = c
        self.n_jobs = n_jobs
        self.run_timeout = run_timeout  # seconds a run may take from its start, then it ends "timeout"
        self.grace_seconds = grace_seconds
        self.broker = broker or InProcessBroker()
        self.broker.on_cancel = self._cancel_here
        self.owner = f"worker-{uuid.uuid4()}"
        self._active: dict[str, _Active] = {}
        # cancels for runs not (yet) running here: a run claimed by a worker of ours a
        # moment before its cancel came starts cancelled
        self._early: dict[str, str] = {}
        # runs sent back to the queue after a step was refused (``CONFLICT_RETRIES`` at most)
        self._conflicts: dict[str, int] = {}
        self._closing = False
        self._idle = anyio.Event()
        self._claiming = anyio.Lock()
        # the wake-up event taken before the last claim that left no run pending; while it
        # is not set, nothing was queued since (see ``_claim``, ``_worker``). Alone on its
        # database only: another process's wake-ups can be lost (its broker away), and
        # then a worker here must still look after each claim and each run's end
        self._quiet: anyio.Event | None = None
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
        while a run of it is in flight - its next checkpoints build on the ones a prune
        deletes - else True, and a run of it in this process waits until the prune is over
        (one another process claims meanwhile does not: a small window, shared databases only)."""
        # on a shared database a run of it may be in flight in another process
        elsewhere = self.broker.shared and any(r.status == "running" for r in await self.c.storage.run_active(thread_id))
        feed = self.broker.feed(thread_id)
        if feed.running > 0 or thread_id in self._pruning or elsewhere:
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
        # process that died are ours to finish now; on a shared one, only those whose
        # lease ran out (the others' workers are alive elsewhere)
        await self._requeue_expired(math.inf if not self.broker.shared else time.time())
        async with self.broker.running(), anyio.create_task_group() as tg:
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

    async def _requeue_expired(self, before: float) -> None:
        recovered = await self.c.storage.run_requeue_expired(before)
        if recovered:
            log.info("runs recovered", run_ids=recovered)
            self.broker.wake()

    async def _keep_leases(self) -> None:
        """Renew this process's leases; stop runs whose lease was lost, pass on cancels
        asked through the database; on a shared database, requeue runs of dead workers."""
        while True:
            await anyio.sleep(LEASE_SECONDS / 3)
            try:
                ids = list(self._active)
                until = time.time() + LEASE_SECONDS
                renewal = None
                with anyio.move_on_after(LEASE_SECONDS / 3):
                    renewal = await self.c.storage.run_renew(ids, self.owner, until)
                if renewal is not None:
                    for run_id in renewal.kept:
                        active = self._active.get(run_id)
                        if active is not None:
                            active.held_until = until
                    for run_id in set(ids) - set(renewal.kept):
                        log.warning("run lease lost: stopping it here", run_id=run_id)
                        self._cancel_here(run_id, LOST)
                    for run_id, action in renewal.cancels.items():
                        self._cancel_here(run_id, action)
                if self.broker.shared:
                    await self._requeue_expired(time.time())
            except Exception as exc:
                # never fatal: this loop dying would stop every worker of the process
                _log_failure(exc, "leases not renewed")
            finally:
                if self.broker.shared:  # (alone on its database, no other process takes a run over)
                    self._fence(time.time())

    def _fence(self, now: float) -> None:
        """Stop the runs whose lease may run out before the next renewal could keep it
        (the database didn't answer the last ones): once it has, another process may take
        a run over, and this one must not write a step of it meanwhile. Each goes back to
        the queue when its lease ends, and resumes from its last checkpoint."""
        for run_id, active in list(self._active.items()):
            if active.held_until - now <= LEASE_SECONDS / 2 and not active.ending and active.action is None:
                log.warning("run lease not renewed in time: stopping it here", run_id=run_id)
                self._cancel_here(run_id, LOST)

    async def _claim(self) -> tuple[Claim, float] | None:
        """The next run to execute (None: the server is stopping). One idle worker at a
        time looks and sleeps on the wake-up; the others queue on the lock, so a wake-up
        costs one claim, not one per idle worker. On a database of its own, a worker that
        gets the lock after a claim that left no run pending (``_quiet``) sleeps first: a
        claim now would find nothing unless a wake-up came since (every queued run wakes
        the workers)."""
        storage = self.c.storage
        pause = RETRY_SECONDS
        async with self._claiming:
            while not self._closing:
                quiet = self._quiet
                if quiet is not None and not quiet.is_set():
                    with anyio.move_on_after(self.broker.poll_seconds):
                        await quiet.wait()
                    self._quiet = None  # woken, or polling: look now
                    continue
                wake = self.broker.wake_event()
                stamp = time.time()
                try:
                    claim = await storage.run_claim(self.owner, stamp + LEASE_SECONDS, stamp)
                except Exception as exc:  # (never fatal, as above)
                    _log_failure(exc, "no run claimed")
                    await anyio.sleep(pause)
                    pause = min(pause * 2, RETRY_MAX_SECONDS)
                    continue
                pause = RETRY_SECONDS
                due = claim.next_due
                self._quiet = wake if due is None and not self.broker.shared else None
                if claim.run is not None:
                    return claim, stamp + LEASE_SECONDS
                if self._quiet is not None:
                    continue  # nothing pending: sleep on the wake-up above
                # nothing claimable yet: a run due later, one behind a running run of its
                # thread (whose end wakes the workers), or none (a shared database)
                timeout = due - stamp if due is not None and due > stamp else math.inf
                with anyio.move_on_after(min(timeout, self.broker.poll_seconds)):
                    await wake.wait()
        return None

    async def _worker(self) -> None:
        while not self._closing:
            claimed = await self._claim()
            if claimed is None:
                return
            claim, held_until = claimed
            run = claim.run
            assert run is not None
            previous = self._active.get(run.run_id)
            if previous is not None:
                # a worker of ours still has the run (its lease lapsed, and the run came back
                # to this process): it stops without an outcome, and is done first
                if not previous.ending and previous.action is None:
                    previous.action = LOST
                previous.scope.cancel()
                await previous.gone.wait()
                held_until = max(held_until, previous.held_until)
                # it may have recorded the run's end meanwhile (the lease fence is this
                # process's, as ours is): then nothing is left to run
                try:
                    current = await self.c.storage.run_get(run.run_id)
                except Exception as exc:  # (its lease runs out: it is claimed again)
                    _log_failure(exc, "a run taken back not started")
                    continue
                if current is None or current.status != "running":
                    continue
            active = self._active[run.run_id] = _Active(run, held_until)
            early = self._early.pop(run.run_id, None)
            if early is not None:  # cancelled between its claim and now
                active.action = early
                active.scope.cancel()
            self._idle = anyio.Event()
            try:
                with run_trace(self.c.tracing, run):
                    await self._run(run, active, resumed=claim.resumed)
            except Exception:
                # a bug of ours, or the database gone at a step that can't wait for it: the
                # worker goes on; the run is recovered once its lease runs out, and its
                # readers here follow it there
                log.exception("run not finished here: recovered after its lease", run_id=run.run_id)
                live = self.broker.live(run.run_id)
                if live is not None and not live.done:
                    self._hand_off(live)
            finally:
                if self._active.get(run.run_id) is active:
                    del self._active[run.run_id]
                active.gone.set()
                if not self._active:
                    self._idle.set()
                # a run of its thread queued behind it can start now: wake the workers -
                # unless no run was pending at the last claim and none was queued since
                quiet = self._quiet
                if quiet is None or quiet.is_set():
                    self.broker.wake()

    async def _run(self, run: Run, active: _Active, *, resumed: bool) -> None:
        c = self.c
        live = self.broker.live(run.run_id, create=True)
        assert live is not None
        if resumed:
            # its events go on after those its last worker published
            try:
                logged = await c.storage.events_read(run.run_id)
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                with anyio.CancelScope(shield=True):
                    await self._give_back(run, live, False)
                return
            last = max(logged[-1][0] if logged else 0, await self.broker.last_published(run.run_id))
            if not live.events:
                live.first_seq = last + 1
        # the claim marked the thread busy
        while (prune := self._pruning.get(run.thread_id)) is not None:
            await prune.wait()
        # (no await from the check to here: a prune starting now sees the run)
        started = time.monotonic()
        started_at = now()
        feed = self.broker.feed(run.thread_id)
        feed.running += 1
        try:
            retry = self._conflicts.get(run.run_id, 0) < CONFLICT_RETRIES
            outcome = await execute(
                c, run, live, active.scope, resumed=resumed, timeout=self.run_timeout, retry_conflict=retry
            )
        except anyio.get_cancelled_exc_class():
            # the server is stopping: the run goes back to the queue for the next start
            with anyio.CancelScope(shield=True):
                with contextlib.suppress(Exception):  # else its lease runs out: the same
                    await c.storage.run_set_status(run.run_id, "pending", now(), owner=self.owner)
                if self.broker.shared:
                    self._hand_off(live)
                else:
                    live.finish()
            raise
        except Exception as exc:  # a bug of ours, not the graph's: the run still ends
            if is_unavailable(exc):
                outcome = Outcome(status="error", unavailable=True)
            else:
                log.exception("run crashed", run_id=run.run_id)
                error = {"error": type(exc).__name__, "message": str(exc)}
                outcome = Outcome(status="error", error=error, result={"__error__": error})
        finally:
            feed.running -= 1
        if active.action == LOST or outcome.unavailable:
            self.broker.release_feed(run.thread_id)
            with anyio.CancelScope(shield=True):
                await self._give_back(run, live, active.action == LOST)
            return
        ended_at = now()
        active.ending = True
        with anyio.CancelScope(shield=True):
            recorded = await self._finish(run, live, outcome, active.action)
        if not recorded:
            self.broker.release_feed(run.thread_id)
            return
        note_outcome(outcome.status, outcome.error)
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

    def _hand_off(self, live: LiveRun) -> None:
        self.broker.drop(live.run_id)  # whoever runs it next publishes its events
        live.hand_off()

    async def _give_back(self, run: Run, live: LiveRun, lost: bool) -> None:
        """The run stops here without an outcome: its lease went to another worker
        (``lost``), or the database went away under it - then it goes back to the queue
        once the database answers, to resume from its last checkpoint (or its lease runs
        out first, which comes to the same)."""
        self._hand_off(live)
        if lost:
            return
        log.warning("run stopped mid-way: it goes back to the queue", run_id=run.run_id)
        await self._retrying(lambda: self.c.storage.run_set_status(run.run_id, "pending", now(), owner=self.owner))
        self.broker.wake()

    async def _retrying(self, write: Any) -> Any:
        """``await write()`` until the database takes it, for at most a lease (then the run
        is another worker's to recover): what it returned, or None if it never got in."""
        pause = RETRY_SECONDS
        with anyio.move_on_after(LEASE_SECONDS):
            while True:
                try:
                    return await write()
                except Exception as exc:
                    if not is_unavailable(exc):
                        raise
                    await anyio.sleep(pause)
                    pause = min(pause * 2, RETRY_MAX_SECONDS)
        log.error("database unavailable: a run's end not recorded here (its lease expires, it is recovered)")
        return None

    async def _finish(self, run: Run, live: LiveRun, outcome: Outcome, action: str | None) -> bool:
        """The run's end recorded, then told to its readers; False: it wasn't recorded (the
        run is another worker's now), its readers follow it there."""
        live.result = result = dumps(outcome.result)
        live.status = outcome.status
        recorded: bool | None = True
        try:
            recorded = await self._retrying(lambda: self._record(run, live, outcome, action, result))
        finally:
            if recorded:
                # only now: whoever waits on the run (wait, join, a stream's end) then
                # reads the run's and its thread's final status, not "busy"
                live.finish()
            else:
                # not recorded: the run was (or will be) taken over by another worker,
                # whose end is the run's: readers follow it there, never get this one
                live.result = live.status = None
                self._hand_off(live)
        return bool(recorded)

    async def _record(self, run: Run, live: LiveRun, outcome: Outcome, action: str | None, result: bytes) -> bool:
        """The run's end written (fenced by its lease); whether it was."""
        c = self.c
        if action == "rollback":
            return await self._rollback(run)
        events = [*outcome.events, (live.last_seq + 1, RESULT_EVENT, result)]
        status = outcome.status
        assert status in ("success", "error", "interrupted", "timeout"), status
        stamp = now()
        kwargs = run.kwargs
        if kwargs.get("temporary") and kwargs.get("on_completion") != "keep":
            if not await c.storage.run_finish(run.run_id, status, stamp, events, None, owner=self.owner):
                return False
            await c.storage.thread_delete(run.thread_id)
            await c.checkpointer.adelete_thread(run.thread_id)
            return True
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
        if not await c.storage.run_finish(run.run_id, status, stamp, events, thread, owner=self.owner):
            log.warning("run lease lost before its end was recorded: its new worker records it", run_id=run.run_id)
            return False
        return True

    async def _rollback(self, run: Run) -> bool:
        """What the run wrote deleted, then the run, while it is still ours: if its lease
        ran out meanwhile (the database was away), its new worker may be running it on
        from those checkpoints, and rolls it back itself (the request is durable)."""
        storage = self.c.storage
        renewal = await storage.run_renew([run.run_id], self.owner, time.time() + LEASE_SECONDS)
        if run.run_id not in renewal.kept:
            log.warning("run lease lost before its rollback: its new worker rolls it back", run_id=run.run_id)
            return False
        await self.c.checkpointer.adelete_for_runs([run.run_id])
        if not await storage.run_delete(run.run_id, owner=self.owner):
            return False
        await self._thread_status(run.thread_id, "idle")
        return True

    async def _thread_status(self, thread_id: str, status: str, *, error: Any = None) -> None:
        await self.c.storage.thread_set_status(thread_id, status, error, now())

    # -- cancellation -------------------------------------------------------------------

    async def cancel(self, run_id: str, action: str = "interrupt") -> bool:
        """Stop a run: ``interrupt`` keeps its finished steps, ``rollback`` removes the run
        and what it wrote. False when it isn't pending or running."""
        storage = self.c.storage
        for _ in range(3):  # (a pending run claimed meanwhile is looked at again, as running)
            active = self._active.get(run_id)
            if active is not None:
                if active.ending:
                    return False  # too late: it has finished
                active.action = action
                active.scope.cancel()
                return True
            run = await storage.run_get(run_id)
            if run is None or run.status not in ("pending", "running"):
                return False
            if run.status == "running":
                # its worker is in another process, or one of ours that claimed it a moment
                # ago: asked durably (seen at the worker's next lease renewal) and relayed now
                if await storage.run_request_cancel(run_id, action):
                    self._cancel_here(run_id, action)
                    await self.broker.send_cancel(run_id, action)
                    return True
                continue  # it ended, or went back to pending, meanwhile
            # pending: stopped before a worker takes it, atomically (a claim first wins)
            if action == "rollback":
                # taken out of the queue as a worker takes a run (so neither it nor its
                # thread's next run can start), then what it wrote (started before, its
                # worker died) is deleted, then the run: the next run never builds on it
                if await storage.run_take(run_id, self.owner, time.time() + LEASE_SECONDS, now()) is None:
                    continue
                await self.c.checkpointer.adelete_for_runs([run_id])
                await storage.run_delete(run_id, owner=self.owner)
            elif await storage.run_set_status(run_id, "interrupted", now(), expect="pending") is None:
                continue
            live = self.broker.live(run_id, create=True)
            assert live is not None
            live.result = dumps(None)
            await self._thread_status(run.thread_id, "idle")
            live.finish()
            return True
        return False

    def _cancel_here(self, run_id: str, action: str) -> None:
        """A cancel for a run this process may be running: relayed by another process, seen
        at a lease renewal, or asked here for a run a worker of ours has just claimed (kept
        for it until it starts)."""
        active = self._active.get(run_id)
        if active is None:
            if action != LOST:  # (a lost run that ended meanwhile: nothing to stop)
                self._early[run_id] = action
            while len(self._early) > EARLY_CANCELS_KEPT:  # mostly other processes' runs
                del self._early[next(iter(self._early))]
        elif not active.ending and active.action is None:
            active.action = action
            active.scope.cancel()

    async def cancel_thread(self, thread_id: str) -> None:
        """Stop every run of the thread (wherever it runs) and wait until they have."""
        active = await self.c.storage.run_active(thread_id)
        for run in active:
            await self.cancel(run.run_id, "interrupt")
        for run in active:
            await self.wait_done(run.run_id)

    async def wait_done(self, run_id: str, timeout: float = 60.0) -> None:
        with anyio.move_on_after(timeout):
            while True:
                reader = await self.broker.follow(run_id)
                if reader is not None:
                    while not reader.done and not reader.moved:
                        await reader.wait_changed(1.0)
                    if reader.done:
                        return
                    continue
                run = await self.c.storage.run_get(run_id)
                if run is None or run.status not in ("pending", "running"):
                    return
                await anyio.sleep(0.05)

