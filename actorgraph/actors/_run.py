"""The run supervisor: one ``execute()`` call is one run of a program.

It owns the run's workers in one ``WorkerGroup`` (structured: a failed or cancelled run
leaves nothing behind), restores the thread from its checkpoint saver, starts the barrier
on the new input or on the saved step, and turns the barrier's verdict into the caller's
result or exception. Whatever happens, finished tasks' writes are saved before ``execute``
returns or raises (shielded from cancellation).

A run's ``RunState`` holds its live parts; what the run is, fixed when it starts, is its
``RunConfig`` (``run.cfg``), and what it continues from its ``ResumeState`` (``run.resume``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from actorgraph._constants import (
    CONF,
    CONFIG_KEY_CHECKPOINT_ID,
    CONFIG_KEY_CHECKPOINTER,
    CONFIG_KEY_CHECKPOINT_MAP,
    CONFIG_KEY_RUNTIME,
    CONFIG_KEY_STRICT_RESUME,
    CONFIG_KEY_THREAD_ID,
    INTERRUPT,
    NULL_TASK_ID,
    PREVIOUS,
    RETURN,
)
from actorgraph._runtime import RunControl, coerce_parent_runtime
from actorgraph._message_types import langchain_installed
from actorgraph.actors._barrier import BarrierActor
from actorgraph.actors._delta import rebuild_delta_channels
from actorgraph.actors._context import TaskContext
from actorgraph.actors._dispatcher import Dispatcher
from actorgraph.actors._ids import checkpoint_id as new_checkpoint_id
from actorgraph.actors._log import log_lost_save
from actorgraph.actors._message_stream import MessageStreamer
from actorgraph.actors._messages import SendMsg, TaskResult, null_result
from actorgraph.actors._node import NodeActor
from actorgraph.actors._resume import ANY_INTERRUPT, Replay, ResumeState
from actorgraph.actors._run_config import DEFAULT_RECURSION_LIMIT, RunConfig
from actorgraph.actors._persist import RunPersistence, decode_pending
from actorgraph.actors._spawn import WorkerGroup
from actorgraph.actors._step import StateReader, StepState
from actorgraph.actors._stream import NULL_SINK, StreamSink
from actorgraph.errors import CheckpointNotFoundError, ConfigError, EmptyInputError, GraphDrained, GraphInterrupt, UnknownInterruptError
from actorgraph.persistence._engine import engine_saver

if TYPE_CHECKING:
    from actorgraph.actors._langchain_trace import RunTrace
    from actorgraph.actors._program import Program
    from actorgraph.persistence._base import LoadedCheckpoint

__all__ = (
    "DEFAULT_RECURSION_LIMIT",
    "NO_RESUME",
    "RunInput",
    "RunOutcome",
    "RunState",
    "execute",
    "output_with_interrupts",
)

class _NoResume:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_RESUME"


NO_RESUME: Any = _NoResume()


@dataclass(slots=True)
class RunInput:
    """What a run starts from: new input ``writes``/``sends``, or (``writes`` None) the
    thread's saved step, with an optional ``resume`` answer."""

    writes: list[tuple[str, Any]] | None
    sends: list[SendMsg] = field(default_factory=list)
    resume: Any = NO_RESUME
    command: tuple[list[tuple[str, Any]], list[SendMsg]] | None = None
    """A Command's update/goto (writes, sends): on a thread with a saved step they are
    applied to that step, which then resumes; ``writes`` start a thread that has none."""


@dataclass(slots=True)
class RunOutcome:
    """How a run ended: ``values`` of the output keys (``None`` if none was ever written),
    the interrupts that paused it, and whether a static breakpoint paused it."""

    values: dict[str, Any] | None
    interrupts: list[Any] = field(default_factory=list)
    paused: bool = False
    state: dict[str, Any] | None = None
    """Every state key's value at the end (for ``invoke(..., output_keys=...)``)."""
    status: str = "done"
    """LangGraph's name for where the run stopped: ``done``, ``pending`` (interrupts),
    ``interrupt_before``/``interrupt_after`` (a breakpoint)."""


class RunState:
    """One run's live parts, shared by the barrier, the node actors and the tasks: what
    the run is (``cfg``, frozen) and what it resumes from (``resume``) apart, the rest
    changes as it runs (its workers, actors, persistence, how and why it stops)."""

    __slots__ = (
        "cfg",
        "resume",
        "stop",
        "backend",
        "dispatcher",
        "barrier",
        "actors",
        "call_actors",
        "reader",
        "persistence",
        "messages",
        "control",
        "stopping",
        "cancelling",
        "error",
        "outcome",
        "checkpoint_id",
        "checkpoint_step",
        "loop_token",
        "loop_thread",
    )

    def __init__(
        self,
        program: Program,
        config: dict[str, Any],
        *,
        sink: StreamSink,
        parent: TaskContext | None,
        sync_call: bool,
        context: Any,
        durability: str | None = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        detached: bool = False,
        control: RunControl | None = None,
        trace: RunTrace | None = None,
        namespace: str = "",
    ) -> None:
        caller = parent
        cfg = self.cfg = RunConfig(
            program,
            config,
            sink=sink,
            caller=caller,
            detached=detached,
            sync_call=sync_call,
            context=context,
            durability=durability,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            trace=trace,
            namespace=namespace,
        )
        parent = cfg.parent
        if parent is not None:
            prun = parent.run
            self.resume: ResumeState = prun.resume.child(
                prun.cfg.checkpoint_ns,
                prun.persistence.builder.checkpoint_id if prun.persistence is not None else None,
            )
        else:
            self.resume = ResumeState(root=True, address_map=dict(cfg.configurable.get(CONFIG_KEY_CHECKPOINT_MAP) or {}))
        # the drain control a node's Runtime carries: the caller's (a subgraph, or a graph
        # with a thread of its own invoked inside a node: the caller's run is still the one
        # a drain stops), or a fresh one made when a node first asks (see ensure_control)
        if caller is not None:
            control = control or caller.run.control
        elif control is None:
            seeded = cfg.configurable.get(CONFIG_KEY_RUNTIME)
            if seeded is not None:
                control = coerce_parent_runtime(seeded).control
        self.control: RunControl | None = control
        # the last step the recursion limit allows (set again when the barrier starts on
        # the input or on the resumed step)
        self.stop = cfg.recursion_limit
        # "asyncio" or "trio": known once the run's worker group starts, after this
        self.backend: str | None = None
        self.dispatcher: Dispatcher = None  # type: ignore[assignment]
        self.barrier: BarrierActor = None  # type: ignore[assignment]
        # what the run's tasks may read of its state (set with its StepState)
        self.reader: StateReader | None = None
        self.actors: dict[str, NodeActor] = {}
        self.stopping = False
        self.cancelling = False
        self.error: BaseException | None = None
        self.outcome: RunOutcome | None = None
        # without a saver: the id of the step's (unsaved) checkpoint, made when a node first
        # asks for it (runtime.execution_info), and the step it belongs to
        self.checkpoint_id = ""
        self.checkpoint_step = -2
        self.loop_token: Any = None
        self.loop_thread = 0
        self.persistence: RunPersistence | None = None
        self.call_actors: dict[str, NodeActor] = {}
        # the run's message and tool streamer: it tracks what it streamed (shared with a
        # caller's run on the same sink) and runs handlers for each task as they go
        self.messages: MessageStreamer | None = None
        sink = cfg.sink
        if cfg.live_stream:
            streams_messages = sink.wants("messages", cfg.stream_ns)
            streams_tools = sink.wants("tools", cfg.stream_ns)
        else:
            streams_messages = streams_tools = False
        # callbacks given in the config (LangChain's event stream, tracers) reach the LangChain
        # components nodes call only through LangChain's config context, which the
        # streamer sets for each task
        if streams_messages or streams_tools or (config.get("callbacks") and langchain_installed()):
            shared = caller.run.messages if caller is not None and caller.run.cfg.sink is sink else None
            self.messages = MessageStreamer(
                self,
                shared.seen if shared is not None else None,
                messages=streams_messages,
                tools=streams_tools,
                v2=sink.messages_v2,
            )

    def emit_chunk(self, chunk: tuple[tuple[str, ...], str, Any]) -> None:
        """Stream a ``(namespace, mode, payload)`` chunk (from a LangChain handler)."""
        ns, mode, payload = chunk
        sink = self.cfg.sink
        if sink.wants(mode, ns):
            sink.emit(ns, mode, payload)

    # -- used by the barrier -----------------------------------------------------------
    def task_seed(self) -> str | None:
        """What this step's task ids derive from: the checkpoint the step starts from, so
        a resumed step gets the same ids (``None`` without a checkpointer: fresh ids)."""
        p = self.persistence
        return p.builder.checkpoint_id if p is not None else None

    def actor(self, name: str) -> NodeActor:
        actor = self.actors.get(name)
        if actor is None:
            node = self.cfg.program.nodes[name]
            trace = self.cfg.trace
            actor = self.actors[name] = NodeActor(node, self) if trace is None else trace.actor(node, self)
        return actor

    def call_actor(self, node: Any) -> NodeActor:
        """The actor that runs calls of the task ``node`` (one per task function)."""
        actor = self.call_actors.get(node.name)
        if actor is None or actor.node is not node:
            trace = self.cfg.trace
            actor = self.call_actors[node.name] = NodeActor(node, self) if trace is None else trace.actor(node, self)
        return actor

    def stop_with_error(self, exc: BaseException, failed: TaskResult | None = None) -> Any:
        """Stop the run: cancel tasks in flight, drop queued ones, save what finished (and
        the failure), report ``exc``."""
        if self.stopping:
            return None
        self.stopping = True
        self.cancelling = True
        self.error = exc
        self.dispatcher.cancel_tasks()
        persistence = self.persistence
        if persistence is None or persistence.failure is not None:
            self._end()
            return None
        rows: list[Any] = []
        try:
            barrier = self.barrier
            for r in barrier.results:
                if r.task.id not in barrier.saved:
                    rows.extend(persistence.builder.task_rows(r))
            if failed is not None:
                rows.extend(persistence.builder.task_rows(failed))
        except Exception as save_error:  # the failure wins; note what couldn't be saved
            exc.add_note(f"(and the finished tasks' writes couldn't be saved: {save_error})")
            rows = []
        persistence.save((), rows)
        self._flush_then_end()
        return None

    def finish_ok(self) -> Any:
        barrier = self.barrier
        self.stopping = True
        state = barrier.state
        self.outcome = RunOutcome(state.output_values() if barrier.output_written else None, state=state.state_values)
        persistence = self.persistence
        cfg = self.cfg
        if persistence is not None and cfg.parent is not None and cfg.program.checkpointer is not True:
            # "exit": a subgraph run kept under its task's namespace that finished stores
            # nothing (its parent's checkpoint holds its outcome), as in LangGraph
            persistence.drop_exit()
        self._flush_then_end()
        return None

    def finish_interrupted(
        self, interrupts: list[Any], rows: list[Any], breakpoint: bool = False, status: str = "pending"
    ) -> Any:
        self.stopping = True
        # a subgraph's breakpoint shows as its parent's (which pauses too), not twice
        cfg = self.cfg
        if breakpoint and cfg.parent is None and cfg.sink.wants("updates", cfg.stream_ns):
            cfg.sink.emit(cfg.stream_ns, "updates", {INTERRUPT: ()})
        barrier = self.barrier
        state = barrier.state
        # (no output if the run wrote none and didn't resume: LangGraph's invoke returns
        # the last values it streamed)
        values = state.output_values() if barrier.output_written else None
        self.outcome = RunOutcome(values, list(interrupts), paused=breakpoint, state=state.state_values, status=status)
        if self.persistence is not None and rows:
            self.persistence.save((), rows)
        self._flush_then_end()
        return None

    def finish_drained(self) -> Any:
        """Stop at this step boundary because a drain was requested: what the run did is
        saved (as at an interrupt), and the caller gets ``GraphDrained``."""
        control = self.control
        assert control is not None
        self.stopping = True
        self.error = GraphDrained(control.drain_reason or "shutdown")
        self._flush_then_end()
        return None

    def _flush_then_end(self) -> None:
        if self.persistence is None or self.persistence.settled():
            self._end()
            return
        # the run ends once what it saved is stored: the flush runs as a job of its own, so
        # callers needn't await anything
        self.dispatcher.submit(self._flush_job)

    def _flush_job(self, _: Any) -> Any:
        return self._flush_and_end()

    async def _flush_and_end(self) -> None:
        try:
            assert self.persistence is not None
            with anyio.CancelScope(shield=True):
                await self.persistence.flush()
        except Exception as exc:
            if self.error is None:
                self.error = exc
            else:  # the run's own error wins
                p = self.persistence
                log_lost_save(
                    "save.failed_after_error",
                    exc,
                    thread_id=p.thread if p is not None else None,
                    checkpoint_ns=self.cfg.checkpoint_ns,
                    checkpoint_id=p.builder.checkpoint_id if p is not None else None,
                )
        finally:
            self._end()

    def close(self) -> None:
        """Break the finished run's reference cycles (run <-> barrier, actors), so
        refcounting frees it at once: a fan-out of subgraph runs otherwise leaves each
        one to the cycle collector, which costs time and holds memory."""
        self.actors = {}
        self.call_actors = {}
        self.barrier.run = self.barrier.events.run = None  # type: ignore[assignment]
        self.barrier._turn_job = None  # (it holds the barrier's own turn)
        if self.persistence is not None:
            self.persistence.run = None  # type: ignore[assignment]

    def _end(self) -> None:
        # no node has anything left to do: every actor has voted to halt
        self.dispatcher.finish()

    # -- used by tasks (runtime) --------------------------------------------------------
    def current_checkpoint_id(self) -> str:
        """The id of the checkpoint the running step started from (with no saver, an id
        of its own per step, as LangGraph numbers unsaved checkpoints too)."""
        p = self.persistence
        if p is not None and p.builder.checkpoint_id is not None:
            return p.builder.checkpoint_id
        step = self.barrier.state.step if self.barrier is not None else -1
        if step != self.checkpoint_step or not self.checkpoint_id:
            self.checkpoint_step = step
            self.checkpoint_id = new_checkpoint_id()
        return self.checkpoint_id

    def ensure_control(self) -> RunControl:
        """The run's ``RunControl``, made now if the caller passed none: every node's
        runtime has one, and a drain requested through it stops this run and the runs
        that contain it."""
        control = self.control
        if control is None:
            control = RunControl()
            run: RunState | None = self
            while run is not None and run.control is None:
                run.control = control
                parent = run.cfg.parent
                run = parent.run if parent is not None else None
        return control


def _time_travel(loaded: LoadedCheckpoint, superseded: bool) -> bool:
    """Whether time travel to ``loaded`` forks: always, except at an update (or fork)
    checkpoint nothing was built on yet, which is itself the branch."""
    return superseded or loaded.metadata.get("source") not in ("update", "fork")


async def _latest_before(saver: Any, thread: str, ns: str, before: str) -> LoadedCheckpoint | None:
    conf = {CONF: {CONFIG_KEY_THREAD_ID: thread, "checkpoint_ns": ns}}
    async for tup in saver.alist(conf, before={CONF: {CONFIG_KEY_CHECKPOINT_ID: before}}, limit=1):
        loaded: LoadedCheckpoint | None = await saver.aload(thread, ns, tup.config[CONF][CONFIG_KEY_CHECKPOINT_ID])
        return loaded
    return None


def _saver(program: Program, parent: TaskContext | None, configurable: dict[str, Any]) -> Any:
    cp = program.checkpointer
    if cp is False:
        return None
    lent = configurable.get(CONFIG_KEY_CHECKPOINTER)
    if lent is not None:
        # a saver lent through the config (how LangGraph lends a subgraph its parent's)
        cp = lent
    if cp is not None and cp is not True:
        return engine_saver(cp)
    if parent is not None and parent.run.persistence is not None:
        return parent.run.persistence.saver
    return None


# the texts users match on are LangGraph's
_AMBIGUOUS_RESUME = (
    "When there are multiple pending interrupts, you must specify the interrupt id when resuming. "
    "Docs: https://docs.langchain.com/oss/python/langgraph/interrupts#handling-multiple-interrupts."
)


def _resume_map(resume: Any, pending: dict[str, dict[str, Any]], thread: str, strict: bool) -> dict[str, Any]:
    """Turn a ``Command(resume=...)`` into answers by interrupt id.

    As LangGraph: a map keyed by interrupt ids answers those ids (ids that aren't pending
    are ignored); a plain value answers the one pending interrupt and is an error when
    several are pending. ``strict`` (``compile(strict=True)`` or the config key
    ``__pregel_strict_resume``) refuses unknown ids and empty maps too, with
    ``UnknownInterruptError`` - raised before anything is written.
    """
    waiting = sorted({i.id for entry in pending.values() if not entry["done"] for i in entry["interrupts"]})
    if isinstance(resume, dict) and all(isinstance(k, str) and _looks_like_id(k) for k in resume):
        if strict:
            if not resume:
                raise UnknownInterruptError(
                    "The resume map names no interrupt", reason="empty_map", pending_ids=waiting, thread_id=thread
                )
            unknown = sorted(k for k in resume if k not in waiting)
            if unknown:
                raise UnknownInterruptError(
                    f"Unknown or already-consumed interrupt: {unknown[0]} (thread '{thread}'; "
                    f"waiting: {', '.join(waiting) or 'none'}). Nothing was changed.",
                    reason="not_pending",
                    interrupt_ids=unknown,
                    pending_ids=waiting,
                    thread_id=thread,
                )
        return dict(resume)
    if len(waiting) > 1:
        if strict:
            raise UnknownInterruptError(
                _AMBIGUOUS_RESUME, reason="ambiguous", pending_ids=waiting, thread_id=thread
            )
        raise RuntimeError(_AMBIGUOUS_RESUME)
    # as LangGraph's answer without an id, the first interrupt the resumed step raises
    # gets it - whatever id it asks with (a time-travelled step's tasks, or those of a
    # thread saved in an older channel layout, get new ids), and also when none was
    # waiting (a static breakpoint, or a checkpoint whose interrupted task finished since)
    return {ANY_INTERRUPT: resume}


def _looks_like_id(key: str) -> bool:
    return len(key) == 32 and all(c in "0123456789abcdef" for c in key)


def _done_results(
    loaded: LoadedCheckpoint,
    pending: dict[str, dict[str, Any]],
    state: StepState,
    seed: str,
    ns: str,
    handled: dict[str, Any],
) -> dict[str, TaskResult]:
    """Results of the saved step's tasks that finished before (their writes are reused);
    fills ``handled`` with the tasks that failed into their error handler (id -> saved
    error): those don't run again, their handlers do."""
    done: dict[str, TaskResult] = {}
    saved_step = state.step
    state.step = saved_step + 1
    try:
        specs = state.prepare(None, seed, ns)
    finally:
        state.step = saved_step
    for spec in specs:
        entry = pending.get(spec.id)
        if entry is not None and entry["handled"] and entry["error"] is not None:
            handled[spec.id] = entry["error"]
        # done: it saved its writes (an interrupt or error saved before stays as history)
        if entry is None or not entry["done"]:
            continue
        done[spec.id] = TaskResult(task=spec, writes=entry["writes"], sends=entry["sends"], cached=True)
    return done


def _check_migration(program: Program, loaded: LoadedCheckpoint, pending: dict[str, dict[str, Any]], thread: str) -> None:
    """A thread paused in a node this graph no longer has can't be resumed: say so."""
    # (writes saved through put_writes by other code name no node: they can't be checked)
    missing = sorted(
        {e["node"] for e in pending.values() if e["interrupts"] and e["node"] and e["node"] not in program.nodes}
    )
    if not missing:
        for chan, value in loaded.values.items():
            if chan.startswith("branch:to:") and chan[len("branch:to:"):] not in program.nodes:
                missing.append(chan[len("branch:to:"):])
    if missing:
        raise ConfigError(
            f"Thread '{thread}' is paused before or in node(s) {missing}, which this graph no longer "
            "has (renamed or removed). Resume it with the graph that paused it, or start it over "
            "with new input.",
            thread_id=thread,
            value=missing,
        )


async def execute(
    program: Program,
    inp: RunInput,
    config: dict[str, Any],
    *,
    context: Any = None,
    sink: StreamSink = NULL_SINK,
    parent: TaskContext | None = None,
    sync_call: bool = False,
    durability: str | None = None,
    interrupt_before: Any = None,
    interrupt_after: Any = None,
    detached: bool = False,
    control: RunControl | None = None,
    trace: RunTrace | None = None,
) -> RunOutcome:
    """Run ``program`` on a thread: from new input, or from the thread's saved step.

    ``parent`` is the task running this graph inside it (``None`` at the top);
    ``detached`` says the graph keeps its own thread's lineage all the same (see RunConfig).
    """
    caller = parent
    run = RunState(
        program,
        config,
        sink=sink,
        parent=caller,
        sync_call=sync_call,
        context=context,
        durability=durability,
        interrupt_before=interrupt_before,
        interrupt_after=interrupt_after,
        detached=detached,
        control=control,
        trace=trace,
    )
    cfg = run.cfg
    parent = cfg.parent
    saver = _saver(program, parent, cfg.configurable)
    loaded = None
    head: str | None = None  # the thread namespace's latest checkpoint, with a saver
    child_mode = ""
    if saver is not None:
        if cfg.thread_id is None:
            raise ConfigError(
                "Checkpointer requires one or more of the following 'configurable' keys: thread_id, "
                f"checkpoint_ns, checkpoint_id. Graph '{program.name}' has a checkpointer, so each "
                "run needs a thread: pass config={'configurable': {'thread_id': '...'}}",
                key="thread_id",
            )
        run.persistence = RunPersistence(run, saver, cfg.thread_id, cfg.durability)
        conf = cfg.configurable
        if parent is None:
            # a subgraph's checkpoint config addresses this graph's checkpoint through its
            # map; the run then goes back to it and the subgraph to its own
            wanted = run.resume.address_map.get("") if conf.get("checkpoint_ns") else conf.get(CONFIG_KEY_CHECKPOINT_ID)
            loaded = await saver.aload(cfg.thread_id, cfg.checkpoint_ns, wanted)
        else:
            wanted = run.resume.address_map.get(cfg.checkpoint_ns)
            if wanted is not None:
                loaded = await saver.aload(cfg.thread_id, cfg.checkpoint_ns, wanted)
                # time travel into this subgraph: its interrupts ask again
                child_mode = "addressed"
            elif run.resume.replay is not None and run.resume.replay.first_visit(cfg.checkpoint_ns):
                loaded = await _latest_before(saver, cfg.thread_id, cfg.checkpoint_ns, run.resume.replay.before)
                child_mode = "replayed"
            else:
                loaded = await saver.aload(cfg.thread_id, cfg.checkpoint_ns, None)
        if loaded is not None:
            loaded.migrate(program.migrate)
        if loaded is None and wanted is not None:
            if parent is None:
                # never a new root: that would reset the thread's head (LangGraph's does)
                raise CheckpointNotFoundError(cfg.thread_id, cfg.checkpoint_ns, wanted)
            if inp.writes is None:
                raise EmptyInputError(
                    f"Thread '{cfg.thread_id}' has no checkpoint '{wanted}' to continue from; pass input to start a run",
                    thread_id=cfg.thread_id,
                    checkpoint_id=wanted,
                )
        # the head every checkpoint this run saves is compared with (read once: whether
        # the checkpoint asked for is the latest is asked of it below)
        if wanted is not None or child_mode == "replayed":
            head = await saver.alatest_id(cfg.thread_id, cfg.checkpoint_ns)
        else:
            head = loaded.id if loaded is not None else None
        run.persistence.head = head
    elif inp.resume is not NO_RESUME:
        raise ConfigError(
            "Command(resume=...) answers an interrupt saved by a checkpointer: compile the graph "
            "with one (e.g. InMemorySaver()) and pass the thread's config",
            key="checkpointer",
        )
    if parent is None or loaded is None:
        resuming = inp.writes is None or (inp.command is not None and loaded is not None)
    elif child_mode == "addressed":
        resuming = True
    elif child_mode == "replayed":
        resuming = False  # it starts over from its state at the replay point
    elif program.checkpointer is True:
        # its lineage spans the parent's runs: it resumes only when the parent task
        # that runs it is itself re-running a step the parent resumed
        resuming = caller is not None and caller.spec.step == caller.run.resume.resumed_step
    else:
        resuming = True  # its namespace is its task's: a saved run of it is this task's
    fork = rerun = False
    done: dict[str, TaskResult] = {}
    handled: dict[str, Any] = {}
    if resuming:
        if loaded is None:
            if inp.resume is not NO_RESUME:
                raise UnknownInterruptError(
                    f"Thread '{cfg.thread_id}' has nothing to resume: it has no saved run",
                    reason="not_pending",
                    thread_id=cfg.thread_id,
                )
            raise EmptyInputError(
                f"Received no input for graph '{program.name}': pass the initial state (a dict "
                "of state keys) to start a run, or resume a saved thread.",
                thread_id=cfg.thread_id,
            )
        pending = decode_pending(loaded)
        _check_migration(program, loaded, pending, cfg.thread_id or "")
        if parent is None and inp.resume is not NO_RESUME:
            strict = program.strict or bool(cfg.configurable.get(CONFIG_KEY_STRICT_RESUME))
            if strict and wanted is not None and wanted != head:
                # an earlier checkpoint: a task that finished after it may run and ask again
                strict = False
            run.resume.resume_map = _resume_map(inp.resume, pending, cfg.thread_id or "", strict)
        run.resume.prior_answers = {tid: e["resume"] for tid, e in pending.items() if e["resume"]}
        run.resume.saved_returns = {
            tid: (value,) for tid, e in pending.items() for chan, value in e["writes"] if chan == RETURN
        }
        state = await arestore(program, loaded, saver)
        null = pending.get(NULL_TASK_ID)
        if null is not None and null["writes"]:
            # a Command's update saved on this step before the run stopped: apply it again
            state.apply_null(null_result(state.step, null["writes"], null["sends"]))
            # (saved again with the next one's, which would replace them)
            run.resume.null_writes = list(null["writes"])
        fork = False
        if parent is None and wanted is not None:
            superseded = head != loaded.id
            if inp.resume is NO_RESUME:
                # time travel (input None or a Command without an answer, at a checkpoint
                # named by id): the step's tasks all run again, on a branch of their
                # own - except at an update that is still the latest, which replays
                # in place (as LangGraph)
                fork, rerun = _time_travel(loaded, superseded), True
            else:
                # answering an interrupt of a checkpoint the thread has moved past: as
                # LangGraph, no fork (the tasks keep their ids, so the answers reach
                # them), but finished tasks run again
                rerun = superseded
            if inp.resume is NO_RESUME and inp.command is None:
                # time travel (not answering an interrupt): interrupts ask again, and each
                # subgraph starts from its state at that point
                run.resume.prior_answers = {}
                before = loaded.id
                if loaded.metadata.get("source") in ("update", "fork") and loaded.row.parent_id:
                    before = loaded.row.parent_id
                run.resume.replay = Replay(before)
        elif child_mode == "addressed":
            # time travel into this subgraph: its finished tasks run again, its
            # interrupts ask again
            run.resume.prior_answers = {}
            superseded = head != loaded.id
            fork, rerun = _time_travel(loaded, superseded), True
        if not (fork or rerun):
            done = _done_results(loaded, pending, state, loaded.id, cfg.checkpoint_ns, handled)
        run.resume.resumed_step = loaded.row.step + 1
    elif loaded is not None:
        state = await arestore(program, loaded, saver)
    else:
        state = StepState(program, program.new_channels())
        if saver is not None:
            state.next_version = getattr(saver, "next_version", None)
    if run.persistence is not None and loaded is not None:
        run.persistence.builder.adopt(loaded, reapplies=resuming and not (fork or rerun))
        if run.persistence.builder.delta is not None:
            latest = wanted is None or head == loaded.id
            run.persistence.builder.delta_anchor = loaded.id if latest and inp.writes is not None else None
            if run.persistence.builder.exit_run is not None:
                run.persistence.builder.exit_run.base_latest = latest
            if resuming and not (fork or rerun):
                # saved writes this resume doesn't reuse (a task that runs again, an error
                # handler): the next checkpoint must not replay them, so its delta
                # channels snapshot
                book = run.persistence.builder.delta
                book.forced.update(
                    w[1] for w in loaded.writes if w[1] in book.names and w[0] not in done and w[0] != NULL_TASK_ID
                )
    prev = state.channels.get(PREVIOUS)
    if prev is not None and prev.is_available():
        run.resume.previous = prev.get()
    if trace is not None and resuming and loaded is not None:
        await trace.resumed(loaded.id, cfg.checkpoint_ns)
    run.barrier = BarrierActor(run, state)
    run.reader = StateReader(state)
    run.loop_thread = threading.get_ident()  # loop_token is taken when a node first goes to a thread
    log = cfg.log
    if log is not None:
        log.debug("run.start", resuming=resuming, fork=fork, checkpoint=loaded.id if loaded else None)
    async with WorkerGroup(caller.run.backend if caller is not None else None) as group:
        run.backend = group.backend
        run.dispatcher = Dispatcher(group, config.get("max_concurrency"))
        if resuming:
            command = inp.command if parent is None else None
            run.dispatcher.submit(lambda _: run.barrier.start_resume(fork, done, command, loaded, pending, handled))
        else:
            writes = list(inp.writes or ())
            step = loaded.row.step + 1 if loaded is not None else -1
            if inp.sends:
                state.pending_sends = list(inp.sends)
            run.dispatcher.submit(lambda _: run.barrier.start_input(writes, step))
        program.stats.begin(run)
        try:
            await run.dispatcher.run_root()
        except BaseException:
            program.stats.end(run)
            run.stopping = run.cancelling = True
            run.dispatcher.cancel_tasks()
            if run.dispatcher.in_thread:
                # sync code still running in threads can't be stopped: wait for it
                with anyio.CancelScope(shield=True):
                    await run.dispatcher.wait_threads()
            if run.persistence is not None:
                with anyio.CancelScope(shield=True):
                    try:
                        await run.persistence.flush_now()
                    except Exception as exc:  # the cancellation goes on: say what was lost
                        p = run.persistence
                        log_lost_save(
                            "save.failed_on_cancel",
                            exc,
                            thread_id=p.thread,
                            checkpoint_ns=p.builder.ns,
                            checkpoint_id=p.builder.checkpoint_id,
                        )
            raise
    failure = run.dispatcher.failure
    program.stats.record(run)
    if log is not None:
        log.debug(
            "run.end",
            steps=run.barrier.steps_closed,
            error=repr(failure or run.error) if (failure or run.error) else None,
            interrupts=len(run.outcome.interrupts) if run.outcome else 0,
            peak_workers=run.dispatcher.peak_workers,
        )
    run.close()
    if failure is not None:
        raise failure
    if run.error is not None:
        raise run.error
    assert run.outcome is not None
    if trace is not None and parent is None and (run.outcome.interrupts or run.outcome.paused):
        await trace.paused(run, run.outcome)
    if parent is not None and (run.outcome.interrupts or run.outcome.paused):
        # a subgraph's interrupt (or breakpoint) pauses its parent too
        raise GraphInterrupt(run.outcome.interrupts)
    return run.outcome


async def arestore(program: Program, loaded: LoadedCheckpoint, saver: Any) -> StepState:
    """The state saved in ``loaded``, delta channels rebuilt from their history."""
    # (a thread LangGraph saved in an older channel layout reads as this graph's)
    loaded.migrate(program.migrate)
    state = _restore(program, loaded, saver)
    if program.replay_channels:
        await rebuild_delta_channels(program, state, loaded, saver)
    return state


def _restore(program: Program, loaded: LoadedCheckpoint, saver: Any) -> StepState:
    record = loaded.record
    sends: list[SendMsg] = []
    if record.pending_sends:
        for node, arg in saver.serde.loads(record.pending_sends):
            sends.append(SendMsg(node=node, arg=arg))
    state = StepState.restore(
        program, loaded.values, record.channel_versions, record.versions_seen, sends, loaded.row.step
    )
    if loaded.original is not None and record.v < 2:
        state.v1_seed = loaded.id
    state.next_version = getattr(saver, "next_version", None)
    return state


def output_with_interrupts(outcome: RunOutcome) -> Any:
    """The ``invoke`` result: the output values, plus ``__interrupt__`` when paused."""
    if outcome.interrupts:
        values = outcome.values
        if isinstance(values, dict):
            return {**values, INTERRUPT: list(outcome.interrupts)}
        return {INTERRUPT: list(outcome.interrupts)}
    return outcome.values
