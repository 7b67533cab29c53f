"""The dispatcher: runs actors' turns and node tasks on a small, growing pool of workers.

Actors are objects with mailboxes, not tasks (Akka's dispatcher model): posting a message
schedules the actor, and a worker gives it a turn. A node task is a job too. Every job is
run *eagerly* in the worker that picks it up (``coro.send(None)``): a job that finishes
without suspending (sync nodes, async nodes that await nothing pending, most actor turns)
costs no task spawn and no hop. A job that suspends keeps its worker - a coroutine must
finish in the task it started in - and the dispatcher starts more workers so the rest of
the queue keeps moving: as many as are already running, so a large fan-out that suspends
reaches full width in log2(n) loop turns rather than n.

``max_concurrency`` caps the number of workers, hence of tasks in flight.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Coroutine, Generator
from contextvars import Context
from typing import Any

import threading
import time

import anyio
import msgspec

from actorgraph.actors._loops import thread_loop
from actorgraph.actors._spawn import ThreadPort, WorkerGroup, cancel_scope_class, event_class, loop_port, thread_pool

__all__ = ("Dispatcher", "DispatcherStatistics", "Job", "ThreadBatch")


class Job(msgspec.Struct, frozen=True):
    """One unit of work handed to the dispatcher: ``run(arg)`` returns None when it
    finished synchronously, or a coroutine for the worker to drive (in ``context``)."""

    run: Callable[[Any], Coroutine[Any, Any, Any] | None]
    arg: Any = None
    context: Context | None = None
    task: bool = False
    """A node task (``cancel_tasks`` cancels it), not an actor's turn."""


class _Resume:
    """Continues a coroutine that suspended during its eager first step, in this task.

    Equivalent to ``yield from coro`` resumed mid-way: it re-yields what the coroutine
    yielded to the event loop, and forwards what the loop sends or throws back, running
    each step in the job's context. Each time the coroutine parks its worker, the
    dispatcher gets a chance to start another worker for the queue.
    """

    __slots__ = ("coro", "first", "ctx", "disp")

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any, ctx: Context | None, disp: Dispatcher | _Alone) -> None:
        self.coro = coro
        self.first = first
        self.ctx = ctx
        self.disp = disp

    def __await__(self) -> Generator[Any, Any, Any]:
        coro = self.coro
        ctx = self.ctx
        disp = self.disp
        send = coro.send
        throw = coro.throw
        value = self.first
        while True:
            disp._park()
            try:
                sent = yield value
            except GeneratorExit:
                disp._running += 1
                coro.close()
                raise
            except BaseException as exc:
                disp._running += 1
                try:
                    value = ctx.run(throw, exc) if ctx is not None else throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                disp._running += 1
                try:
                    value = ctx.run(send, sent) if ctx is not None else send(sent)
                except StopIteration as stop:
                    return stop.value


class _Alone:
    """What ``_Resume`` tells when a job parks and resumes outside any dispatcher (a
    ``ThreadBatch`` job on a worker thread's own loop): nobody to keep moving."""

    __slots__ = ("_running",)

    def __init__(self) -> None:
        self._running = 0

    def _park(self) -> None:
        return None


_ALONE = _Alone()


class DispatcherStatistics(msgspec.Struct, frozen=True, kw_only=True):
    """A snapshot of one run's dispatcher (``graph.statistics()`` sums them over runs)."""

    queue_depth: int
    workers: int
    peak_workers: int
    jobs_run: int
    spawned: int
    """Workers started besides the root (each a task spawn)."""
    threads_run: int
    """Node tasks handed to worker threads."""
    failed: bool
    """An actor failed (an internal error): the run stopped."""
    tasks_running: int = 0
    """Node tasks started and not finished (suspended in a worker, or in a thread)."""


class _Worker:
    __slots__ = ("scope", "in_task")

    def __init__(self) -> None:
        self.scope: anyio.CancelScope | None = None
        self.in_task = False


class Dispatcher:
    """Owns a run's job queue and workers."""

    __slots__ = (
        "_queue",
        "_group",
        "_max_workers",
        "_workers",
        "_starting",
        "_root_wakeup",
        "_failure",
        "done",
        "jobs_run",
        "spawned",
        "peak_workers",
        "_running",
        "_scope_class",
        "_event_class",
        "_port",
        "_batch",
        "in_thread",
        "threads_run",
    )

    def __init__(self, group: WorkerGroup, max_workers: int | None = None) -> None:
        self._queue: deque[Job] = deque()
        self._group = group
        self._max_workers = max_workers
        self._workers: set[_Worker] = set()
        self._starting = 0
        self._root_wakeup: anyio.Event | None = None
        self._failure: BaseException | None = None
        self.done = False
        self.jobs_run = 0
        self.spawned = 0
        self.peak_workers = 0
        # workers executing code right now (not parked in a job or waiting for work); the
        # root worker counts from the start: jobs submitted before ``run_root`` are its own
        self._running = 1
        self._scope_class = cancel_scope_class(group.backend or "other")
        self._event_class = event_class(group.backend or "other")
        # sync node tasks running in worker threads (``to_thread``): the run waits for them
        self._port: ThreadPort | None = None
        self._batch: ThreadBatch | None = None
        self.in_thread = 0
        self.threads_run = 0

    # -- scheduling (sync, called from jobs) -------------------------------------------
    def submit(self, run: Callable[[Any], Any], arg: Any = None) -> None:
        """Queue an actor's turn (or other engine work) ``run(arg)``."""
        self.submit_job(Job(run, arg))

    def submit_task(self, run: Callable[[Any], Any], arg: Any, context: Context) -> Job:
        """Queue a node task ``run(arg)``, run in ``context``; the job can be ``take``n
        back until a worker picks it up."""
        job = Job(run, arg, context, True)
        self.submit_job(job)
        return job

    def submit_job(self, job: Job) -> None:
        self._queue.append(job)
        w = self._root_wakeup
        if w is not None:
            self._root_wakeup = None
            w.set()
        elif self._running == 0 and self._starting == 0:
            # submitted from outside the workers (a thread, a callback) while every worker
            # is parked: nobody would look at the queue
            self._grow()

    def _park(self) -> None:
        """A worker is about to park in a suspended job: keep the queue moving."""
        self._running -= 1
        if self._queue and self._starting < len(self._queue):
            w = self._root_wakeup
            if w is not None:
                self._root_wakeup = None
                w.set()
            else:
                self._grow()

    def to_thread(self, fn: Callable[[Any], Any], arg: Any, deliver: Callable[[Any], None]) -> None:
        """Run ``fn(arg)`` (sync code that must not raise) in a worker thread, then
        ``deliver`` its result on the loop thread, as a job is run. No task waits for the
        thread meanwhile: the run ends only once every such call has been delivered.
        asyncio only (the sync calls' private loops). One port per loop carries the
        results of all its runs, so results that arrive together wake the loop once."""
        self.in_thread += 1
        self.threads_run += 1
        thread_pool().submit_call(_call_and_put, (self._loop_port(), fn, arg, self._deliver_one, deliver))

    def to_own_loop(
        self, run: Callable[[Any], Coroutine[Any, Any, Any] | None], arg: Any, context: Context, deliver: Callable[[Any], None]
    ) -> None:
        """Run the async job ``run(arg)`` (in ``context``) to its end in a worker thread, on
        that thread's own event loop, then ``deliver`` its result here, as ``to_thread``
        does (the jobs of a run share one ``ThreadBatch``)."""
        batch = self._batch
        if batch is None:
            batch = self._batch = ThreadBatch(self._loop_port(), self._deliver_one)
        self.in_thread += 1
        self.threads_run += 1
        batch.add(run, arg, context, deliver)

    def _loop_port(self) -> ThreadPort:
        port = self._port
        if port is None:
            import asyncio

            port = self._port = loop_port(asyncio.get_running_loop())
        return port

    def _deliver_one(self, delivery: tuple[Callable[[Any], None], Any]) -> None:
        self.in_thread -= 1
        deliver, item = delivery
        try:
            deliver(item)
        except BaseException as exc:  # deliver handles its own errors: this is a bug
            self.fail(exc)
        if self.in_thread == 0:
            # the root waits for this in ``wait_threads`` (cancelled) or at the run's end
            w = self._root_wakeup
            if w is not None:
                self._root_wakeup = None
                w.set()

    async def wait_threads(self) -> None:
        """Wait until every ``to_thread`` call has been delivered."""
        while self.in_thread:
            self._root_wakeup = ev = self._event_class()
            await ev.wait()

    def take(self, job: Job) -> bool:
        """Remove ``job`` from the queue if no worker has picked it yet."""
        try:
            self._queue.remove(job)
        except ValueError:
            return False
        return True

    def finish(self) -> None:
        """The run is over (success, error or interrupt): release the root worker."""
        self.done = True
        w = self._root_wakeup
        if w is not None:
            self._root_wakeup = None
            w.set()

    def fail(self, exc: BaseException) -> None:
        """An internal error in an actor: stop everything."""
        if self._failure is None:
            self._failure = exc
        self.cancel_tasks()
        self.finish()

    def cancel_tasks(self) -> None:
        """Cancel every worker that is running a node task, and drop queued tasks."""
        self._queue = deque(job for job in self._queue if not job.task)
        for w in list(self._workers):
            if w.in_task and w.scope is not None:
                w.scope.cancel()

    def statistics(self) -> DispatcherStatistics:
        return DispatcherStatistics(
            queue_depth=len(self._queue),
            workers=len(self._workers),
            peak_workers=self.peak_workers,
            jobs_run=self.jobs_run,
            spawned=self.spawned,
            threads_run=self.threads_run,
            failed=self._failure is not None,
            tasks_running=self.tasks_running(),
        )

    def tasks_running(self) -> int:
        """Node tasks started and not finished: each suspended in a worker (one waiting on
        its worker thread included); a task that never suspends is over within a turn."""
        return sum(1 for w in self._workers if w.in_task)

    @property
    def unbounded(self) -> bool:
        """No ``max_concurrency`` (which only jobs count towards)."""
        return self._max_workers is None

    @property
    def failure(self) -> BaseException | None:
        return self._failure

    @property
    def queue_depth(self) -> int:
        return len(self._queue)

    @property
    def workers(self) -> int:
        return len(self._workers)

    # -- workers -----------------------------------------------------------------------
    async def run_root(self) -> None:
        """Work in the calling task until the run is done."""
        self._running -= 1  # counted from the start; ``_worker`` counts it again
        await self._worker(root=True)
        # root's scope was cancelled mid-task: wait for the barrier; and for calls still
        # running in threads (their code may call back into this loop)
        while not self.done or self.in_thread:
            self._root_wakeup = ev = self._event_class()
            await ev.wait()

    def _grow(self) -> None:
        # workers that are starting will each take a queued job: don't count those jobs
        active = len(self._workers) + self._starting
        n = min(len(self._queue) - self._starting, max(1, active))
        if self._max_workers is not None:
            n = min(n, self._max_workers - active)
        for _ in range(n):
            self._starting += 1
            self.spawned += 1
            self._group.start(self._worker, False)

    async def _worker(self, root: bool) -> None:
        # one coroutine per worker (no helper frames): a fan-out that suspends starts
        # one worker per task
        if not root:
            self._starting -= 1
        w = _Worker()
        self._workers.add(w)
        if len(self._workers) > self.peak_workers:
            self.peak_workers = len(self._workers)
        self._running += 1
        try:
            while True:
                queue = self._queue
                if not queue:
                    if not root or (self.done and not self.in_thread):
                        break
                    self._root_wakeup = ev = self._event_class()
                    self._running -= 1
                    try:
                        await ev.wait()
                    finally:
                        self._running += 1
                    continue
                job = queue.popleft()
                ctx = job.context
                is_task = job.task
                if is_task and w.scope is None:
                    # cancel_tasks() cancels node tasks through this scope. It is entered
                    # between jobs (so it nests correctly with scopes the jobs open) and
                    # only by a worker that runs a task: a run whose nodes all run in the
                    # barrier's turn needs none
                    w.scope = self._scope_class()
                    w.scope.__enter__()
                self.jobs_run += 1
                try:
                    coro = job.run(job.arg)
                    del job
                    if coro is None:
                        continue
                    try:
                        first = ctx.run(coro.send, None) if ctx is not None else coro.send(None)
                    except StopIteration:
                        continue
                    w.in_task = is_task
                    try:
                        await _Resume(coro, first, ctx, self)
                    finally:
                        w.in_task = False
                except anyio.get_cancelled_exc_class():
                    raise
                except BaseException as exc:  # jobs handle their own errors: this is a bug
                    self.fail(exc)
                    break
        except BaseException as exc:
            # the worker's scope (if it ran a task) swallows its own cancellation
            if w.scope is None or not w.scope.__exit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            if w.scope is not None:
                w.scope.__exit__(None, None, None)
        finally:
            self._running -= 1
            self._workers.discard(w)


class ThreadBatch:
    """Async jobs of one run that run to their end in worker threads (the subgraph runs of
    a sync fan-out), each on its thread's own event loop.

    A worker thread that takes one keeps taking the next while any are left, in one turn
    of its loop, and drives each eagerly in the job's own context: a job that finishes
    without suspending costs no task, no loop iteration and no trip through the pool's
    queue. Each result goes to the loop through the port as its job ends (while more jobs
    follow, the port may hold it a moment, to wake the loop once for several).

    One thread drains the batch while it keeps up: Python code holds the GIL, and a second
    thread running jobs beside it only slows both down. Beside the drainers, one pool call
    stands by: it looks at the batch's progress, more rarely the longer the drainers keep
    up (``STALL`` seconds at first, doubling up to ``PATIENCE``: each look takes the GIL
    from a drainer), and joins in when no job started or finished for ``STALL`` seconds
    (a job blocks), queueing a new stand-by first. So threads are added one per stall
    while every drainer is blocked (the pool adds threads for queued calls that wait),
    and a fan-out that keeps up wakes no other thread."""

    __slots__ = ("_jobs", "_port", "_on_loop", "_draining", "_progress", "_standby", "_cond")

    STALL = 0.002
    PATIENCE = 0.02

    def __init__(self, port: ThreadPort, on_loop: Callable[[Any], None]) -> None:
        self._jobs: deque[tuple[Callable[[Any], Any], Any, Context, Callable[[Any], None]]] = deque()
        self._port = port
        self._on_loop = on_loop
        self._draining = 0  # threads draining the batch
        self._progress = 0.0  # when one last started or finished a job (monotonic)
        self._standby = False  # a stand-by call is queued or looking (see the class)
        self._cond = threading.Condition(threading.Lock())

    def add(self, run: Callable[[Any], Any], arg: Any, context: Context, deliver: Callable[[Any], None]) -> None:
        self._jobs.append((run, arg, context, deliver))
        with self._cond:
            if self._standby:
                if not self._draining:
                    self._cond.notify()  # nobody drains: the stand-by takes it now
                return
            self._standby = True
        thread_pool().submit_call(self._take, ())

    def _take(self) -> None:
        # in a worker thread: the stand-by call
        jobs = self._jobs
        cond = self._cond
        wait = self.STALL
        with cond:
            while True:
                if not jobs:
                    self._standby = False
                    return
                if not self._draining or time.monotonic() - self._progress >= self.STALL:
                    break
                cond.wait(wait)  # the drainers keep up: look again later
                wait = min(wait * 2, self.PATIENCE)
            # this thread drains too; another call stands by for when it stalls
            self._draining += 1
            self._progress = time.monotonic()
        thread_pool().submit_call(self._take, ())
        try:
            thread_loop().run(self._drain())
        finally:
            with cond:
                self._draining -= 1
                if not self._draining and jobs:
                    cond.notify()  # (jobs added as it finished: the stand-by takes them)

    async def _drain(self) -> None:
        jobs = self._jobs
        port = self._port
        on_loop = self._on_loop
        pool = thread_pool()
        clock = time.monotonic
        while True:
            try:
                run, arg, ctx, deliver = jobs.popleft()
            except IndexError:
                return
            self._progress = clock()
            try:
                coro = run(arg)
                result = None
                if coro is not None:
                    try:
                        first = ctx.run(coro.send, None)
                    except StopIteration as stop:
                        result = stop.value
                    else:
                        result = await _Resume(coro, first, ctx, _ALONE)
            except BaseException as exc:  # jobs catch what user code raises: this is a bug
                port.put(on_loop, (_reraise, exc))
            else:
                # (the loop gets it now, or in a moment with the next ones if more follow)
                port.put(on_loop, (deliver, result), defer=bool(jobs))
            self._progress = clock()
            pool.progress()


def _call_and_put(
    port: ThreadPort, fn: Callable[[Any], Any], arg: Any, on_loop: Callable[[Any], None], deliver: Callable[[Any], None]
) -> None:
    # in a worker thread
    try:
        item = fn(arg)
    except BaseException as exc:  # fn catches what user code raises: this is a bug
        port.put(on_loop, (_reraise, exc))
    else:
        port.put(on_loop, (deliver, item))


def _reraise(exc: BaseException) -> None:
    raise exc
