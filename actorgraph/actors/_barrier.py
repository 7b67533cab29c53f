"""BarrierActor: closes each super-step of a run.

It sends each active node one ``Activate`` with all of that node's tasks, collects a
``TaskDone`` per task, and when the last one is in: applies every write at once in task
order (never completion order) on the ``StepState``, takes a checkpoint, emits stream
events and activates the nodes the changed channels trigger. A node with nothing new
gets no message: it has voted to halt. The run ends when no node is active and no Send
is pending; it pauses at an ``interrupt()`` or a static breakpoint.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import anyio

from actorgraph._constants import INPUT, PUSH, START
from actorgraph.actors._delta import ensure_message_ids
from actorgraph.actors._ids import task_id
from actorgraph.actors._dispatcher import Job
from actorgraph.actors._events import StepEvents
from actorgraph.actors._placement import NOW, Placement, decide
from actorgraph.actors._messages import Activate, TaskDone, TaskResult, TaskSpec, null_result
from actorgraph.actors._node import post
from actorgraph.actors._stream import NULL_SINK
from actorgraph.errors import (
    ErrorCode,
    GraphDrained,
    GraphRecursionError,
    InvalidUpdateError,
    NodeError,
    ParentCommand,
    create_error_message,
    is_invalid_resume,
)

if TYPE_CHECKING:
    from actorgraph.actors._run import RunState
    from actorgraph.actors._step import StepState

__all__ = ("BarrierActor",)


class BarrierActor:
    __slots__ = (
        "run",
        "cfg",
        "program",
        "state",
        "mailbox",
        "scheduled",
        "expected",
        "tasks",
        "results",
        "saved",
        "interrupts",
        "paused",
        "output_written",
        "steps_closed",
        "step_watch",
        "failure",
        "resumed_failures",
        "events",
        "loud",
        "_turn_job",
        "_profile",
    )

    def __init__(self, run: RunState, state: StepState) -> None:
        # (what the run is, never changed while it runs: read without going through it)
        self.cfg = cfg = run.cfg
        self.events = StepEvents(run, state)
        # some stream takes events (a run nobody streams pays no event calls)
        self.loud = cfg.sink is not NULL_SINK
        self.run = run
        self.program = cfg.program
        self.state = state
        self.mailbox: deque[TaskDone] = deque()
        self.scheduled = False
        # the job that gives it a turn (one is queued at a time: made once)
        self._turn_job: Job | None = Job(self.turn)
        # what placements depend on that is fixed for the run (see _placement)
        self._profile: tuple[bool, bool, bool, bool, bool] | None = None
        self.expected = 0
        self.tasks: list[TaskSpec] = []
        self.results: list[TaskResult] = []
        self.saved: set[str] = set()
        """Ids of this step's tasks whose writes are already saved."""
        self.interrupts: list[Any] = []
        self.paused = False
        self.output_written = False
        self.steps_closed = 0
        # the watchdog of the open step when the graph has a step_timeout
        self.step_watch: anyio.CancelScope | None = None
        # the step's first failed task: the run stops once siblings that are ready to
        # finish have (LangGraph keeps their work too)
        self.failure: TaskResult | None = None
        # a resumed step's tasks that failed before and were handed to their error
        # handler: task id -> the saved error (the handler runs again, not the task)
        self.resumed_failures: dict[str, Any] | None = None

    @property
    def step(self) -> int:
        return self.state.step

    def start_input(self, writes: list[tuple[str, Any]], input_step: int) -> Any:
        """A run with new input: apply it as the input step (checkpointed, so an accepted
        input is never lost), then activate the first step."""
        cfg = self.cfg
        state = self.state
        state.step = input_step
        run = self.run
        # the limit counts this run's steps, from its first (``__start__``) on
        run.stop = input_step + 1 + cfg.recursion_limit
        if self._input_unobserved(writes):
            # no checkpoint or stream shows the input step: skip it, and run __start__
            # on the input at once, as the step after it (a subgraph run's usual case)
            state.step = input_step + 1
            spec = state.pull_task(START, writes[0][1], run.task_seed(), cfg.checkpoint_ns)
            self.tasks = [spec]
            self.expected = 1
            post(run.actor(START), Activate(step=state.step, tasks=[spec], placement=NOW, alone=cfg.alone))
            return None  # the result comes back in a TaskDone
        if state.versions:
            state.discard_pending()
        if self.program.delta_value_channels:
            ensure_message_ids(self.program.channels, writes)
        updated, written, changed = state.apply_writes(writes, bump=False)
        state.seen.setdefault(INPUT, {})  # as LangGraph's checkpoints record an input
        self._emit_values(written)
        persistence = run.persistence
        rows = persistence.builder.input_rows(writes, state.step) if persistence is not None and persistence.builder.delta is not None else []
        return self._next_step(updated, changed, written, rows, "input", [], first=True)

    def _input_unobserved(self, writes: list[tuple[str, Any]]) -> bool:
        cfg = self.cfg
        run = self.run
        sink = cfg.sink
        start = self.program.nodes.get(START)
        return (
            start is not None
            and start.run_now
            and len(writes) == 1
            and writes[0][0] == START
            and run.persistence is None
            and run.messages is None
            and not (sink.modes and (not cfg.stream_ns or sink.subgraphs))
            and not cfg.interrupt_before
            and not cfg.interrupt_after
            and not self.program.retry_policy
        )

    def start_resume(
        self,
        fork: bool,
        done: dict[str, TaskResult],
        command: Any = None,
        loaded: Any = None,
        pending: dict[str, Any] | None = None,
        handled: dict[str, Any] | None = None,
    ) -> Any:
        """A run that continues a saved step (resume, retry after an error, replay):
        recompute the step's tasks; tasks whose writes were saved don't run again, and
        tasks that failed into their error handler (``handled``: id -> saved error) run
        their handler again instead. A replay of an older checkpoint first forks it, so
        the old branch is kept.
        ``command``: a Command's (writes, sends), applied to the saved step first (saved
        with it, so a crash doesn't lose them) - the tasks they trigger join the step."""
        cfg = self.cfg
        run = self.run
        state = self.state
        null_written: set[str] = set()
        null_changed: set[str] = set()
        if command is not None and (command[0] or command[1]):
            writes, sends = command
            result = null_result(state.step, list(writes), list(sends))
            try:
                if self.program.delta_value_channels:
                    ensure_message_ids(self.program.channels, result.writes)
                _, null_written, null_changed = state.apply_null(result)
                persistence = run.persistence
                if persistence is not None:
                    # the next checkpoint stores what the update changed
                    persistence.builder.dirty |= null_changed
                    if not fork:
                        # with the updates saved on this step before (they share one
                        # slot, so a save replaces what was there)
                        saved = null_result(state.step, [*run.resume.null_writes, *result.writes], list(sends))
                        persistence.save((), persistence.builder.task_rows(saved))
                    elif persistence.builder.delta is not None:
                        # a branch's first checkpoint holds the update's delta channels
                        # whole: the writes are saved nowhere to replay
                        persistence.builder.delta.forced.update(c for c in null_written if c in persistence.builder.delta.names)
            except Exception as exc:
                return run.stop_with_error(exc)
        # resuming passes any breakpoint of the saved state (LangGraph records this in
        # the checkpoint's versions_seen["__interrupt__"])
        state.mark_interrupt()
        # a resumed run starts from the saved state: it is the output so far, and the
        # values stream begins with it
        program = self.program
        if program.single_output is not None:
            self.output_written = program.single_output in state.state_values
        else:
            self.output_written = any(k in state.state_values for k in program.output_keys)
        if cfg.sink.wants("values", cfg.stream_ns) and self.output_written:
            cfg.sink.emit(cfg.stream_ns, "values", state.stream_values())
        if fork:
            state.step += 1
            run.stop = state.step + 1 + cfg.recursion_limit
            return self._next_step(None, null_changed, null_written, [], "fork", [], first=True)
        state.step += 1
        run.stop = state.step + 1 + cfg.recursion_limit
        tasks = state.prepare(None, run.task_seed(), cfg.checkpoint_ns)
        if command is not None and command[1] and done and run.persistence is not None:
            # the Command's Sends replaced the pending ones: results saved by tasks that
            # are gone aren't part of the step, so its delta channels snapshot rather
            # than replay them
            book = run.persistence.builder.delta
            if book is not None:
                ids = {t.id for t in tasks}
                book.forced.update(
                    c for tid, r in done.items() if tid not in ids for c, _ in r.writes if c in book.names
                )
        if loaded is not None:
            # the stream starts where the run does: at the checkpoint it continues
            if self.loud:
                self.events.checkpoint(loaded.row, tasks, loaded.metadata, pending)
        self.resumed_failures = handled or None
        return self._begin(tasks, done, first=True)

    # -- mailbox -----------------------------------------------------------------------
    def post(self, msg: TaskDone) -> None:
        self.mailbox.append(msg)
        if not self.scheduled:
            self._schedule()

    def turn(self, _: Any) -> Any:
        """Take every ``TaskDone`` in the mailbox; close the step when none is expected.

        ``scheduled`` stays set for the whole turn, so what is posted during it (the
        result of a task that ran in the turn, placed NOW) waits in the mailbox for this
        loop instead of queueing another turn: the message still travels, the hop
        doesn't."""
        mailbox = self.mailbox
        while True:
            while mailbox:
                for result in mailbox.popleft().results:  # TaskDone, the one message it takes
                    self._on_result(result)
            if self.expected != 0 or self.run.stopping:
                break
            pending = self._close_step()
            if pending is not None:
                # the step goes on asynchronously, outside this turn: later posts queue a
                # turn again (as does one already made meanwhile)
                self.scheduled = False
                if mailbox:
                    self._schedule()
                return pending
            if not mailbox:
                break
        self.scheduled = False
        return None

    def _schedule(self) -> None:
        self.scheduled = True
        job = self._turn_job
        assert job is not None  # (None only once the run is closed)
        self.run.dispatcher.submit_job(job)

    def expect_call(self) -> None:
        """A task call joined the step: the step closes after it too."""
        self.expected += 1

    def call_started(self, spec: TaskSpec) -> None:
        """A task call was submitted: the ``tasks``/``debug`` streams get its start event."""
        cfg = self.cfg
        sink = cfg.sink
        ns = cfg.stream_ns
        if sink.wants("tasks", ns) or sink.wants("debug", ns):
            self.events.task_start(spec, {})

    def _on_call(self, r: TaskResult) -> None:
        cfg = self.cfg
        self.expected -= 1
        if r.cancelled:
            return
        run = self.run
        persistence = run.persistence
        if r.error is not None or r.paused or r.parent_command is not None:
            # its caller got the outcome and decides what happens to the run; a paused call
            # keeps the answers it got so far, so its next run doesn't ask them again
            if r.paused and persistence is not None:
                try:
                    persistence.save((), persistence.builder.resume_rows(r))
                except Exception as exc:
                    run.stop_with_error(exc)
                    return
            if r.error is not None:
                if self.loud:
                    self.events.task_result(r)
            return
        if cfg.node_finished is not None:
            cfg.node_finished(r.task.name)
        if persistence is not None:
            try:
                persistence.save((), persistence.builder.task_rows(r))
            except Exception as exc:
                run.stop_with_error(exc)
                return
        sink = cfg.sink
        ns = cfg.stream_ns
        value = r.writes[0][1] if r.writes else None
        if sink.wants("updates", ns):
            chunk = {r.task.name: value}
            if r.cached:
                chunk["__metadata__"] = {"cached": True}
            sink.emit(ns, "updates", chunk)
        if self.loud:
            self.events.task_result(r)

    def _on_result(self, r: TaskResult) -> None:
        run = self.run
        if run.stopping:
            return
        if r.call:
            self._on_call(r)
            return
        cfg = self.cfg
        if cfg.log is not None:
            cfg.log.debug(
                "task.done",
                step=r.task.step,
                node=r.task.name,
                task_id=r.task.id,
                error=repr(r.error) if r.error is not None else None,
                interrupts=len(r.interrupts),
            )
        if r.error is not None:
            if isinstance(r.error, GraphDrained):
                # a subgraph run inside the task was drained: not a failure of the task,
                # which runs again when the thread is resumed
                run.stop_with_error(r.error)
                return
            if self.loud:
                self.events.task_result(r)
            handler = self.program.nodes[r.task.name].error_handler
            if handler is not None and r.task.failure is None:
                self._handle_failure(r, handler)
                return
            if self.failure is None:
                self.failure = r
                self.expected -= 1
                if self.expected > 0 and not is_invalid_resume(r.error):
                    # siblings already resuming (their awaits done) finish first, and
                    # their writes are kept, as in LangGraph; then the run stops. A bad
                    # answer to an interrupt lets every sibling finish: one answered in
                    # the same resume mustn't be cut off after its side effects
                    run.dispatcher.submit(self._fail_after_ready, r)
            else:
                self.expected -= 1
            return
        if r.parent_command is not None:
            if cfg.parent is None and self.program.strict:
                run.stop_with_error(
                    InvalidUpdateError(
                        f"Node '{r.task.name}' returned Command(graph=Command.PARENT), but graph "
                        f"'{self.program.name}' is not running as a subgraph: there is no parent "
                        "graph to send it to.",
                        node=r.task.name,
                        value=r.parent_command.command,
                    )
                )
            else:
                run.stop_with_error(ParentCommand(r.parent_command.command))
            return
        if r.writes and self.program.delta_value_channels:
            # before they are saved or applied, so every read sees the same ids
            try:
                ensure_message_ids(self.program.channels, r.writes)
            except Exception as exc:
                # a message the delta channel can't hold: the run fails as if the node had
                if self.loud:
                    self.events.task_result(r)
                run.stop_with_error(exc)
                return
        self.results.append(r)
        self.expected -= 1
        if cfg.node_finished is not None and not (r.interrupts or r.paused) and r.task.name != START:
            cfg.node_finished(r.task.name)
        persistence = run.persistence
        if persistence is not None and self.expected > 0:
            # others are still running: save this task's writes now, so a crash from
            # here on doesn't run it again
            try:
                persistence.save((), persistence.builder.task_rows(r))
            except Exception as exc:
                run.stop_with_error(exc)
                return
            self.saved.add(r.task.id)
        self._emit_result(r)

    async def _fail_after_ready(self, r: TaskResult) -> None:
        await anyio.lowlevel.checkpoint()
        run = self.run
        if not run.stopping:
            run.stop_with_error(r.error, failed=r)  # type: ignore[arg-type]

    def _handle_failure(self, r: TaskResult, handler: str) -> None:
        """Run the failed task's error handler in this step instead of failing the run.
        The failure stays in the step's history (saved as the task's error)."""
        run = self.run
        persistence = run.persistence
        if persistence is not None:
            try:
                persistence.save((), persistence.builder.task_rows(r, handled=True))
            except Exception as exc:
                run.stop_with_error(exc)
                return
        spec = self._handler_task(r.task, handler, r.error)
        # the failed task reported; its handler takes its place in the step
        where = self._placement(self.program.nodes[handler], alone=False, timeout=False)
        post(run.actor(handler), Activate(step=spec.step, tasks=[spec], placement=where))

    def _handler_task(self, failed: TaskSpec, handler: str, error: Any) -> TaskSpec:
        """The task of ``failed``'s error handler (``error``: the exception, or after a
        resume its saved text, as in LangGraph)."""
        run = self.run
        return TaskSpec(
            id=task_id(run.task_seed(), self.cfg.checkpoint_ns, failed.step, handler, PUSH, "node_error_handler", failed.id),
            name=handler,
            path=(*failed.path[:3], "node_error_handler", False),
            order=(*failed.order, "node_error_handler"),
            step=failed.step,
            input=failed.input,
            triggers=(PUSH,),
            failure=NodeError(node=failed.name, error=error),
        )

    def _emit_result(self, r: TaskResult) -> None:
        if self.program.nodes[r.task.name].hidden:
            return
        if r.paused:
            self.paused = True
            self.interrupts.extend(r.interrupts)
        if self.loud:
            self.events.result(r)

    def _emit_values(self, written: set[str]) -> None:
        if not self.output_written and not self.program.output_key_set.isdisjoint(written):
            self.output_written = True
        if self.loud:
            self.events.values(written)

    # -- step close --------------------------------------------------------------------
    def _close_step(self) -> Any:
        run = self.run
        if self.failure is not None:
            # a task failed: its siblings are in; the step fails instead of closing
            return run.stop_with_error(self.failure.error, failed=self.failure)  # type: ignore[arg-type]
        if self.step_watch is not None:
            self.step_watch.cancel()
            self.step_watch = None
        results = self.results
        if len(results) > 1:
            results = sorted(results, key=_order)
        if self.paused:
            unsaved = self._unsaved(results)
            finished = [r for r in results if not r.paused]
            if finished:
                # the output at a pause includes what the finished tasks wrote (they are
                # saved as pending writes, not as a new checkpoint)
                try:
                    written = self.state.apply_results(finished)[1]
                except Exception as exc:
                    return run.stop_with_error(exc)
                self._emit_values(written)
            return run.finish_interrupted(self.interrupts, unsaved, breakpoint=not self.interrupts)
        lone_rows = self._unsaved(results)
        self.results = []
        try:
            updated, written, changed = self.state.apply_results(results)
        except Exception as exc:
            # the tasks' writes stay saved as they were (a snapshot shows the conflict too)
            if lone_rows and run.persistence is not None:
                run.persistence.save((), lone_rows)
            return run.stop_with_error(exc)
        self.steps_closed += 1
        if self.steps_closed == 1:
            run.resume.close_resumed_step()
        self._emit_values(written)
        log = self.cfg.log
        if log is not None:
            log.debug(
                "step.close",
                step=self.state.step,
                tasks=len(results),
                writes=sum(len(r.writes) for r in results),
                updated=sorted(updated),
            )
        return self._next_step(updated, changed, written, lone_rows, "loop", self.tasks, first=False)

    def _unsaved(self, results: list[TaskResult]) -> list[Any]:
        persistence = self.run.persistence
        if persistence is None:
            return []
        rows = []
        for r in results:
            if r.task.id not in self.saved:
                rows.extend(persistence.builder.task_rows(r))
        return rows

    def _next_step(
        self,
        updated: set[str] | None,
        changed: set[str],
        written: set[str],
        lone_rows: list[Any],
        source: str,
        closed: list[TaskSpec],
        first: bool,
    ) -> Any:
        """After a step (or the input): work out the next step, take the checkpoint, then
        pause, stop or activate the next step's nodes."""
        cfg = self.cfg
        run = self.run
        state = self.state
        persistence = run.persistence
        paused = bool(closed and cfg.interrupt_after) and state.should_interrupt(cfg.interrupt_after, closed)
        status = "interrupt_after"
        if paused:
            state.mark_interrupt()
        saved_step = state.step
        state.step += 1
        cid = persistence.builder.reserve_id() if persistence is not None else None
        try:
            tasks = state.prepare(updated, cid or run.task_seed(), cfg.checkpoint_ns)
        except Exception as exc:
            return run.stop_with_error(exc)
        over = not first and state.step > run.stop
        if not paused and not over and tasks and cfg.interrupt_before and state.should_interrupt(cfg.interrupt_before, tasks):
            state.mark_interrupt()
            paused = True
            status = "interrupt_before"
        if persistence is not None and cid is not None:
            try:
                row = persistence.builder.checkpoint(state, source, saved_step, changed, cid, written)
            except Exception as exc:
                return run.stop_with_error(exc)
            persistence.save([row], lone_rows)
            if self.loud:
                self.events.checkpoint(row, tasks)
        if over:
            return run.stop_with_error(
                GraphRecursionError(
                    create_error_message(
                        message=(
                            f"Recursion limit of {cfg.recursion_limit} reached without "
                            "hitting a stop condition. You can increase the limit by setting "
                            "the `recursion_limit` config key, e.g. "
                            f"graph.invoke(inputs, {{'recursion_limit': {cfg.recursion_limit * 2}}})."
                        ),
                        error_code=ErrorCode.GRAPH_RECURSION_LIMIT,
                    ),
                    limit=cfg.recursion_limit,
                    thread_id=cfg.thread_id,
                )
            )
        if paused:
            return run.finish_interrupted([], [], breakpoint=True, status=status)
        # an accepted input is stored before the first step runs, whatever the durability
        return self._begin(tasks, {}, first, flush=source in ("input", "fork"))

    def _begin(self, tasks: list[TaskSpec], done: dict[str, TaskResult], first: bool, flush: bool = False) -> Any:
        cfg = self.cfg
        run = self.run
        if not tasks:
            return run.finish_ok()
        control = run.control
        if control is not None and control.drain_requested:
            # asked to drain: stop before the next step runs (after its breakpoints were
            # checked, so a resume that passes them doesn't skip one)
            return run.finish_drained()
        waits = []
        persistence = run.persistence
        if persistence is not None:
            if persistence.durability == "sync" or (flush and persistence.durability != "exit"):
                waits.append(persistence.flush())
            elif persistence.lagging():
                # saving fell too far behind (the run's steps outpace the saver): wait for
                # it, so a crash loses at most MAX_BACKLOG steps and memory stays bounded
                waits.append(persistence.flush())
        if not first and self.loud and cfg.sink.backlog():
            waits.append(cfg.sink.wait_drained())
        if waits:
            return self._dispatch_after(waits, tasks, done)
        if persistence is not None and persistence.handing_over():
            # the writer job queued for this step's rows runs first: once the saver has them
            # (its own thread does the I/O), a task that blocks this thread can't hold them up
            run.dispatcher.submit(self._dispatch_job, (tasks, done))
            return None
        self._dispatch(tasks, done)
        return None

    def _dispatch_job(self, job: tuple[list[TaskSpec], dict[str, TaskResult]]) -> None:
        if not self.run.stopping:
            self._dispatch(*job)

    async def _dispatch_after(self, waits: list[Any], tasks: list[TaskSpec], done: dict[str, TaskResult]) -> None:
        for w in waits:
            await w
        if not self.run.stopping:
            self._dispatch(tasks, done)

    def _dispatch(self, tasks: list[TaskSpec], done: dict[str, TaskResult]) -> None:
        cfg = self.cfg
        run = self.run
        self.tasks = tasks
        if done:
            self.saved = set(done)
            todo = [t for t in tasks if t.id not in done]
        else:
            self.saved = set()
            todo = list(tasks)
        handlers: list[TaskSpec] = []
        failures = self.resumed_failures
        if failures:
            self.resumed_failures = None
            for i, t in enumerate(todo):
                handler = self.program.nodes[t.name].error_handler if t.id in failures else None
                if handler is not None:
                    todo[i] = self._handler_task(t, handler, failures[t.id])
                    handlers.append(todo[i])
        self.expected = len(todo)
        if self.loud:
            sink = cfg.sink
            ns = cfg.stream_ns
            if sink.wants("tasks", ns) or sink.wants("debug", ns):
                nodes = self.program.nodes
                metadata: dict[str, Any] = {}
                for t in (*tasks, *handlers):
                    if not nodes[t.name].hidden:
                        self.events.task_start(t, metadata)
        if done:
            for t in tasks:
                r = done.get(t.id)
                if r is not None:
                    # its writes were saved before: use them, don't run it again
                    self.results.append(r)
                    self._emit_result(r)
        if not todo:
            self.run.dispatcher.submit(self._close_now)
            return
        by_node: dict[str, list[TaskSpec]]
        if len(todo) == 1:
            by_node = {todo[0].name: todo}
        else:
            by_node = {}
            for t in todo:
                lst = by_node.get(t.name)
                if lst is None:
                    by_node[t.name] = [t]
                else:
                    lst.append(t)
        step = self.state.step
        if self.program.step_timeout is not None:
            run.dispatcher.submit_job(Job(self._watch_step, step, None, True))
        # the step's only task may be the only work of its sync call
        alone = len(todo) == 1 and cfg.alone and cfg.sync_call and not cfg.live_stream
        nodes = self.program.nodes
        for name, specs in by_node.items():
            where = self._placement(nodes[name], alone=alone, timeout=specs[0].timeout is not None)
            post(run.actor(name), Activate(step=step, tasks=specs, placement=where, alone=alone))

    def _placement(self, node: Any, *, alone: bool, timeout: bool) -> Placement:
        """``decide()``'s answer for a task of ``node`` in this run (remembered for the
        graph's runs: it depends on nothing else)."""
        persistence = self.run.persistence
        caught_up = persistence is None or persistence.caught_up()
        profile = self._profile
        if profile is None:
            cfg = self.cfg
            run = self.run
            live = cfg.live_stream
            profile = self._profile = (
                cfg.sync_call,
                run.messages is None and not live and not self.program.retry_policy,  # plain
                live,
                cfg.trace is None and not cfg.sink.subgraphs,  # isolated
                not run.dispatcher.unbounded,  # bounded
            )
        key = (node, profile, alone, timeout, caught_up)
        placements = self.program.placements
        where = placements.get(key)
        if where is None:
            sync_call, plain, live, isolated, bounded = profile
            where = placements[key] = decide(
                node,
                sync_call=sync_call,
                alone=alone,
                plain=plain,
                timeout=timeout,
                live_stream=live,
                saver_caught_up=caught_up,
                isolated=isolated,
                bounded=bounded,
            )
        return where

    async def _watch_step(self, step: int) -> None:
        """Fail the run with ``TimeoutError`` if step ``step`` is still open after the
        graph's ``step_timeout`` (cancelled when the step closes)."""
        timeout = self.program.step_timeout
        assert timeout is not None
        with anyio.CancelScope() as scope:
            self.step_watch = scope
            await anyio.sleep(timeout)
            run = self.run
            if self.step_watch is scope and not run.stopping:
                self.step_watch = None
                run.stop_with_error(
                    TimeoutError(f"Step {step} of graph '{self.program.name}' took longer than its step_timeout of {timeout}s")
                )

    def _close_now(self, _: Any) -> Any:
        if self.run.stopping:
            return None
        return self._close_step()

def _order(r: TaskResult) -> tuple[Any, ...]:
    return r.task.order
