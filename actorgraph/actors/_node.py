"""NodeActor: one per graph node, alive for the whole run.

It receives one ``Activate`` per super-step carrying all of its tasks (a fan-out of 10,000
Sends is one message) and where they run (``_placement``): NOW, in its turn; LOOP, as a
dispatcher job; WORKER, in a worker thread (straight there for a plain sync node, else
from a job). A ``@task``'s actor receives a ``RunCall`` per call. Each task runs the
user's function, then the node's ``finish`` turns the result into writes and sends, and
its ``TaskResult`` goes to the barrier in a ``TaskDone``.
"""

from __future__ import annotations

import contextvars
import inspect
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
import anyio.lowlevel
import structlog

from actorgraph._constants import PULL
from actorgraph._types import Command
from actorgraph.actors._context import CURRENT, TaskContext
from actorgraph.actors._dispatcher import Job
from actorgraph.actors._events import task_retry
from actorgraph.actors._spawn import cancel_scope_class, cancellation_requested, run_in_thread
from actorgraph.actors._messages import Activate, CommandMsg, RunCall, SendMsg, TaskDone, TaskResult, TaskSpec, TaskStart
from actorgraph.actors._placement import NOW, WORKER, Placement
from actorgraph.actors._policies import (
    CACHE_NS,
    backoff,
    cache_key,
    function_identity,
    matching_policy,
    run_with_timeout,
    sleep_backoff,
)
from actorgraph.errors import GraphDrained, GraphInterrupt, NodeCancelledError, ParentCommand, _fill

if TYPE_CHECKING:
    from actorgraph.actors._program import NodeSpec
    from actorgraph.actors._run import RunState

__all__ = ("NodeActor", "post")


class NodeActor:
    __slots__ = (
        "node",
        "run",
        "mailbox",
        "scheduled",
        "activations",
        "started",
        "finished",
        "failed",
        "plain",
    )

    def __init__(self, node: NodeSpec, run: RunState) -> None:
        self.node = node
        self.run = run
        # (what is posted while its turn runs: rare, so a list, not a deque per actor per run)
        self.mailbox: list[Activate | RunCall] = []
        self.scheduled = False
        self.activations = 0
        self.started = 0
        self.finished = 0
        self.failed = 0
        # its tasks may run without the job's async machinery: a sync node with no
        # policies and a sync router, in a run that streams no messages
        self.plain = node.direct and run.messages is None and not run.cfg.program.retry_policy

    # -- actor turn --------------------------------------------------------------------
    def turn(self) -> None:
        """Handle every message in the mailbox: what was posted to the actor while its
        turn ran (see ``post``)."""
        mailbox = self.mailbox
        while mailbox:
            self._handle(mailbox.pop(0))
        self.scheduled = False

    def _handle(self, msg: Activate | RunCall) -> None:
        # (a closed set of message types: a type check, not a ``match`` with class
        # patterns, which costs a microsecond per message on this hot path)
        if type(msg) is Activate:
            self.activations += 1
            placement, alone = msg.placement, msg.alone
            for spec in msg.tasks:
                self._start(spec, placement, alone)
        else:
            assert type(msg) is RunCall
            tctx = msg.task
            run = self.run
            job = run.dispatcher.submit_task(self._run_task, TaskStart(tctx), msg.context)
            tctx.future.track(job, run)

    def _start(self, spec: TaskSpec, placement: Placement, alone: bool) -> None:
        run = self.run
        tctx = TaskContext(run, spec, self.node)
        tctx.alone = alone
        ctx = contextvars.copy_context()
        if placement is NOW and self.plain:  # (plain: no message streamer to set up)
            # the caller waits for it anyway: run it in this turn (in its context, which
            # the same call enters first)
            outcome = ctx.run(self._run_plain, tctx, ctx)
            if type(outcome) is TaskResult:
                run.barrier.post(TaskDone(step=spec.step, results=[outcome]))
            else:
                self._delivered(outcome)
            return
        ctx.run(CURRENT.set, tctx)
        if run.messages is not None:
            run.messages.setup(tctx, ctx)
        if placement is WORKER:
            subgraph = self.node.is_subgraph
            if subgraph or (self.plain and run.cfg.sync_call and spec.timeout is None and run.dispatcher.unbounded):
                # straight to a worker thread, no job waits for it: a plain task, or a
                # subgraph of a fan-out, whose whole run goes to the thread's own loop, where
                # its lone sync tasks then run (as in LangGraph) instead of each hopping to
                # a thread from this loop
                if run.loop_token is None:
                    # the code in the thread may call back into this loop (task calls,
                    # nested invokes): it needs the loop's token
                    run.loop_token = anyio.lowlevel.current_token()
                if subgraph:
                    tctx.alone = True
                    run.dispatcher.to_own_loop(self._subgraph_job, tctx, ctx, self._delivered)
                else:
                    run.dispatcher.to_thread(self._in_thread, (tctx, ctx), self._delivered)
                return
            run.dispatcher.submit_task(self._run_task, TaskStart(tctx), ctx)
        else:
            run.dispatcher.submit_task(self._run_task, TaskStart(tctx, inline=True), ctx)

    # -- one task ----------------------------------------------------------------------
    def _in_thread(self, job: tuple[TaskContext, contextvars.Context]) -> Any:
        """A plain sync task, in a worker thread: see ``_run_plain``; ``None`` if the run
        stopped before it started."""
        tctx, ctx = job
        if self.run.stopping:
            return None
        return ctx.run(self._run_plain, tctx, ctx)

    def _subgraph_job(self, tctx: TaskContext) -> Any:
        """A subgraph node's task, in a worker thread on the thread's own event loop (in
        the task's context): the coroutine that runs it to the end, whose value is its
        ``TaskResult`` (``None`` if the run stopped before it began)."""
        if self.run.stopping:
            return None
        return self._subgraph_task(tctx)

    async def _subgraph_task(self, tctx: TaskContext) -> TaskResult:
        node = self.node
        self.started += 1
        try:
            try:
                result = await node.call(self._input(tctx), tctx)
            except ParentCommand as pc:
                result = _as_own_command(pc.command)
            pending = node.finish(tctx, result)
            if pending is not None:
                await pending
        except TASK_ENDINGS as exc:
            return self._ended(tctx, exc)
        return self._ended(tctx)

    def _delivered(self, outcome: Any) -> None:
        """On the loop thread: report a ``_run_plain`` task's result (to the barrier, in a
        ``TaskDone``), or queue the job that finishes it."""
        if type(outcome) is TaskResult:
            self._report(outcome)
        elif type(outcome) is Job:
            self.started -= 1  # the job counts it
            self.run.dispatcher.submit_job(outcome)

    def _report(self, result: TaskResult) -> None:
        """Send a finished task's result to the barrier, in a ``TaskDone``."""
        self.run.barrier.post(TaskDone(step=result.task.step, results=[result]))

    def _run_plain(self, tctx: TaskContext, ctx: contextvars.Context) -> Any:
        """Run a task of a plain node right here (the barrier's turn, or a worker thread),
        in its context (``ctx``, entered by the caller; ``CURRENT`` is set here): its
        ``TaskResult``, or the ``Job`` that finishes the awaitable a sync callable
        returned."""
        CURRENT.set(tctx)
        node = self.node
        self.started += 1
        try:
            try:
                result = node.call(self._input(tctx), tctx)
            except ParentCommand as pc:
                # a subgraph run inside this node sent a Command to its parent: us
                result = _as_own_command(pc.command)
            if type(result) is not dict and result is not None and inspect.isawaitable(result):
                return Job(self._run_task, TaskStart(tctx, inline=True, first=result), ctx, True)
            node.finish(tctx, result)
        except TASK_ENDINGS as exc:
            return self._ended(tctx, exc)
        return self._outcome(tctx, None, (), False, None, False)

    async def _run_task(self, start: TaskStart) -> None:
        """A task as a dispatcher job."""
        tctx, inline, first = start.task, start.inline, start.first
        run = self.run
        if run.stopping:
            if first is not None and inspect.iscoroutine(first):
                first.close()
            return
        spec = tctx.spec
        self.started += 1
        cached = False
        try:
            inp = self._input(tctx)
            cache = run.cfg.program.cache
            policy = self.node.cache_policy
            if cache is not None and policy is not None:
                cached = await self._run_cached(tctx, inp, inline, cache, policy)
            elif tctx.future is not None and self.node.is_async:
                # an async task call runs in a scope of its own, so its caller can cancel it
                with cancel_scope_class(run.backend or "asyncio")() as scope:
                    tctx.call_scope = scope
                    await self._attempts(tctx, inp, inline, first)
                tctx.call_scope = None
                if scope.cancelled_caught:
                    tctx.future.mark_cancelled()
                    self._report(TaskResult(task=spec, writes=[], sends=[], call=True, cancelled=True))
                    return
            else:
                await self._attempts(tctx, inp, inline, first)
        except anyio.get_cancelled_exc_class():
            future = tctx.future
            if future is not None and not future.done():
                # a caller in a worker thread may be blocked on .result(): release it
                future.set_exception(RuntimeError(f"task '{spec.name}' was cancelled: the run stopped"))
            if not run.cancelling:
                # the node's own code raised a cancellation: a failure of this node
                self.failed += 1
                err = NodeCancelledError(self.node.name)
                self._report(TaskResult(task=spec, writes=[], sends=[], error=err, call=future is not None))
                if not cancellation_requested():
                    # nobody cancelled this task: the exception is the node's, not ours to
                    # pass on (it would tear the run down as if the caller cancelled it)
                    return
            raise
        except TASK_ENDINGS as exc:
            self._report(self._ended(tctx, exc, cached))
            return
        self._report(self._ended(tctx, None, cached))

    def _ended(self, tctx: TaskContext, exc: BaseException | None = None, cached: bool = False) -> TaskResult:
        """The result of a task that returned (``exc`` None) or raised ``exc``: an
        interrupt pauses it, a ``Command`` for the parent graph travels up, anything else
        (``GraphDrained`` too: a subgraph run inside it was drained, so is this run) is
        its error."""
        if exc is None:
            return self._outcome(tctx, None, (), False, None, cached)
        if isinstance(exc, GraphInterrupt):
            return self._outcome(tctx, None, tuple(exc.interrupts), True, None, cached)
        if isinstance(exc, ParentCommand):
            return self._outcome(tctx, None, (), False, CommandMsg(command=exc.command), cached)
        return self._outcome(tctx, exc, (), False, None, cached)

    def _outcome(
        self,
        tctx: TaskContext,
        error: BaseException | None,
        interrupts: tuple[Any, ...],
        paused: bool,
        parent_command: CommandMsg | None,
        cached: bool,
    ) -> TaskResult:
        """Count a finished task, answer its caller (a task call) and build its result."""
        run = self.run
        spec = tctx.spec
        if error is not None:
            self.failed += 1
            error.add_note(f"During task with name '{spec.name}' and id '{spec.id}'")
            _fill(error, node=spec.name)
        else:
            self.finished += 1
            if run.messages is not None and not paused:
                run.messages.task_output(tctx, tctx.writes)
        future = tctx.future
        if future is not None:
            # a task call: its caller gets the outcome, the run goes on either way
            if error is not None:
                future.set_exception(error)
            elif paused:
                future.set_exception(GraphInterrupt(interrupts))
            elif parent_command is not None:
                future.set_exception(ParentCommand(parent_command.command))
            else:
                future.set_result(tctx.writes[0][1] if tctx.writes else None)
        ok = error is None and not paused
        return TaskResult(
            task=spec,
            writes=tctx.writes if ok else [],
            sends=tctx.sends if ok else [],
            error=error,
            interrupts=interrupts,
            parent_command=parent_command,
            cached=cached,
            paused=paused,
            call=future is not None,
        )

    def _input(self, tctx: TaskContext) -> Any:
        """The node's argument: the task input with managed values, coerced to the
        node's input schema (pull tasks; a Send's argument is passed as it is)."""
        node = self.node
        spec = tctx.spec
        inp = spec.input
        if spec.path[0] != PULL:
            return inp
        if node.managed:
            inp = dict(inp)
            step, stop = spec.step, self.run.stop
            for key, fn in node.managed:
                inp[key] = fn(step, stop)
        mapper = node.mapper
        if mapper is not None:
            try:
                inp = mapper(inp)
            except Exception as exc:
                exc.add_note(f"While building the input of node '{spec.name}' from the state")
                raise
        return inp

    async def _attempts(self, tctx: TaskContext, inp: Any, inline: bool, first: Any = None) -> None:
        """Run the node (and its ``finish``), retrying per its retry policies (``first``:
        the awaitable the node already returned, for the first attempt)."""
        node = self.node
        policies = node.retry_policy or self.run.cfg.program.retry_policy
        timeout = tctx.spec.timeout or node.timeout
        attempt = 1
        while True:
            try:
                try:
                    if first is not None:
                        result, first = await first, None
                    elif timeout is not None:
                        result = await self._call_with_timeout(tctx, inp, timeout)
                    elif node.is_async:
                        result = await node.call(inp, tctx)  # _call's first case, one frame less
                    else:
                        result = await self._call(tctx, inp, inline, abandon=False)
                except ParentCommand as pc:
                    # a subgraph run inside this node sent a Command to its parent: us
                    result = _as_own_command(pc.command)
                pending = node.finish(tctx, result)
                if pending is not None:
                    await pending
                return
            except Exception as exc:
                policy = matching_policy(policies, exc) if policies else None
                if policy is None or attempt >= policy.max_attempts:
                    if attempt > 1:
                        exc.add_note(f"Node '{node.name}' failed {attempt} attempts")
                    raise
                delay = backoff(policy, attempt)
                self._emit_retry(tctx, attempt, exc, delay)
                tctx.reset_for_retry()
                await sleep_backoff(delay, self.run.cfg.sync_call)
                attempt += 1

    async def _run_cached(
        self, tctx: TaskContext, inp: Any, inline: bool, cache: Any, policy: Any
    ) -> bool:
        """Serve the task from the node cache, or run it and fill the cache."""
        node = self.node
        ns = (CACHE_NS, function_identity(node.call_target), node.name)
        full_key = (ns, cache_key(policy, node.name, inp, node.is_call))
        entry = await _cached(cache, full_key, node.name)
        if entry is not None:
            writes, sends = entry
            tctx.writes.extend(writes)
            tctx.sends.extend(SendMsg(node=n, arg=a) for n, a in sends)
            return True
        await self._attempts(tctx, inp, inline)
        value = ([(c, v) for c, v in tctx.writes], [(m.node, m.arg) for m in tctx.sends])
        try:
            await cache.aset({full_key: (value, policy.ttl)})
        except Exception as exc:
            exc.add_note(f"While caching the writes of node '{node.name}' (its CachePolicy)")
            raise
        return False

    def _emit_retry(self, tctx: TaskContext, attempt: int, exc: BaseException, delay: float) -> None:
        run = self.run
        if run.cfg.log is not None:
            run.cfg.log.debug("task.retry", node=self.node.name, attempt=attempt, error=repr(exc), delay=delay)
        task_retry(run, tctx.spec, attempt, exc, delay)

    async def _call_with_timeout(self, tctx: TaskContext, inp: Any, timeout: Any) -> Any:
        # its own method: a lambda in _attempts would make every task allocate closure cells
        return await run_with_timeout(
            lambda: self._call(tctx, inp, False, abandon=True), timeout, self.node.name, tctx.progress
        )

    async def _call(self, tctx: TaskContext, inp: Any, inline: bool, abandon: bool) -> Any:
        node = self.node
        if node.is_async:
            return await node.call(inp, tctx)
        if not node.blocking or (inline and not abandon):
            # code that never blocks, or the lone task of a sync call (see _placement)
            result = node.call(inp, tctx)
        else:
            run = self.run
            run.dispatcher.threads_run += 1
            if run.loop_token is None:
                # the code in the thread may call back into this loop (task calls, nested
                # invokes): it needs the loop's token
                run.loop_token = anyio.lowlevel.current_token()
            ctx = contextvars.copy_context()
            if not abandon and run.backend == "asyncio":
                # asyncio (a sync call's private loop, or a shared one: the server's, an
                # ainvoke's): the cheap, immediate thread hop (~4x cheaper than anyio's)
                result = await run_in_thread(
                    run.loop_token, ctx.run, node.call, inp, tctx, task_cancel_orphans=not run.cfg.sync_call
                )
            else:
                result = await anyio.to_thread.run_sync(ctx.run, node.call, inp, tctx, abandon_on_cancel=abandon)
        if inspect.isawaitable(result):  # a sync callable that returned a coroutine
            result = await result
        return result


TASK_ENDINGS = (Exception, GraphDrained, GraphInterrupt, ParentCommand)
"""What a task's code may raise that ends the task, not the run (``_ended`` sorts it)."""


def _as_own_command(cmd: Command[Any]) -> Command[Any]:
    return Command(update=cmd.update, goto=cmd.goto, resume=cmd.resume)


def post(actor: NodeActor, msg: Activate | RunCall) -> None:
    """Deliver ``msg`` to ``actor``, whose turn runs at once unless one is already queued
    or running (the hop is skipped, not the message): a turn only places tasks - it
    queues their jobs, or hands them to threads - except a task placed NOW, which the
    caller waits for anyway. (A RunCall's caller gets a future it can cancel, or run in
    place, at once.)"""
    if actor.scheduled:
        actor.mailbox.append(msg)  # its turn is queued (or running): it takes this too
    else:
        # the turn starts with this message (its mailbox is empty)
        actor.scheduled = True
        actor._handle(msg)
        if actor.mailbox:
            actor.turn()  # what was posted to it meanwhile
        else:
            actor.scheduled = False


async def _cached(cache: Any, full_key: Any, node: str) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]] | None:
    """A node-cache entry as ([(channel, value)], [(node, arg)]); a damaged entry (or a
    cache that fails to answer) is a miss, logged, that the node's run overwrites."""
    try:
        entry = (await cache.aget([full_key])).get(full_key)
        if entry is None:
            return None
        writes, sends = entry
        return [(c, v) for c, v in writes], [(n, a) for n, a in sends]
    except Exception as exc:
        structlog.get_logger("actorgraph").warning("cache.damaged_entry", node=node, key=full_key[1], namespace=full_key[0], error=repr(exc))
        return None
