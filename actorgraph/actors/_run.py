"""The run supervisor: one ``execute()`` call is one run of a program.

It owns the run's workers in one ``WorkerGroup`` (structured: a failed or cancelled run
leaves nothing behind), creates the barrier and the node actors (lazily, on their first
activation), enforces the recursion limit through the barrier, and turns the barrier's
verdict into the caller's result or exception.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio.lowlevel


from actorgraph._constants import CONF, CONFIG_KEY_THREAD_ID, INTERRUPT
from actorgraph.actors._barrier import BarrierActor
from actorgraph.actors._context import _NO_ANSWER, TaskContext
from actorgraph.actors._dispatcher import Dispatcher
from actorgraph.actors._log import run_logger
from actorgraph.actors._message_stream import MessageStreamer
from actorgraph.actors._messages import SendMsg, TaskDone, TaskResult
from actorgraph.actors._node import NodeActor
from actorgraph.actors._spawn import WorkerGroup
from actorgraph.actors._stream import NULL_SINK, StreamSink

if TYPE_CHECKING:
    from actorgraph.actors._program import Program

__all__ = ("DEFAULT_RECURSION_LIMIT", "RunOutcome", "RunState", "execute", "output_with_interrupts")

DEFAULT_RECURSION_LIMIT = 25


@dataclass(slots=True)
class RunOutcome:
    """How a run ended: ``values`` of the output keys (``None`` if none was ever written),
    and the interrupts that stopped it, if any."""

    values: dict[str, Any] | None
    interrupts: list[Any] = field(default_factory=list)


class RunState:
    """Run-wide facts and plumbing shared by the barrier, the node actors and the tasks."""

    sink: StreamSink
    stream_ns: tuple[str, ...]
    checkpoint_ns: str
    context: Any
    store: Any

    __slots__ = (
        "program",
        "config",
        "context",
        "store",
        "sink",
        "stream_ns",
        "checkpoint_ns",
        "parent",
        "thread_id",
        "run_id",
        "recursion_limit",
        "stop",
        "sync_call",
        "dispatcher",
        "barrier",
        "actors",
        "stopping",
        "cancelling",
        "error",
        "outcome",
        "previous",
        "checkpoint_id",
        "loop_token",
        "loop_thread",
        "log",
        "messages",
        "_seed",
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
    ) -> None:
        self.program = program
        self.config = config
        self.parent = parent
        self.sync_call = sync_call
        configurable = config.get(CONF) or {}
        self.thread_id = configurable.get(CONFIG_KEY_THREAD_ID)
        self.run_id = config.get("run_id")
        if parent is not None:
            prun = parent.run
            if sink is NULL_SINK:
                # a subgraph: its events join the parent's stream under its namespace
                self.sink = prun.sink
                self.stream_ns = (*prun.stream_ns, f"{parent.spec.name}:{parent.spec.id}")
            else:
                # stream()/astream() called inside a node: the caller consumes the events
                self.sink = sink
                self.stream_ns = ()
            self.checkpoint_ns = parent.ns
            self.context = context if context is not None else prun.context
            self.store = program.store if program.store is not None else prun.store
        else:
            self.sink = sink
            self.stream_ns = ()
            self.checkpoint_ns = ""
            self.context = context
            self.store = program.store
        self.recursion_limit: int = config.get("recursion_limit", DEFAULT_RECURSION_LIMIT)
        self.stop = self.recursion_limit
        self.dispatcher: Dispatcher = None  # type: ignore[assignment]
        self.barrier: BarrierActor = None  # type: ignore[assignment]
        self.actors: dict[str, NodeActor] = {}
        self.stopping = False
        self.cancelling = False
        self.error: BaseException | None = None
        self.outcome: RunOutcome | None = None
        self.previous: Any = None
        self.checkpoint_id = ""
        self.loop_token: Any = None
        self.loop_thread = 0
        self._seed = os.urandom(8).hex()
        self.messages: MessageStreamer | None = None
        if self.sink.wants("messages", self.stream_ns):
            shared = parent.run.messages if parent is not None and parent.run.sink is self.sink else None
            self.messages = MessageStreamer(self, shared.seen if shared is not None else None)
        self.log: Any = run_logger(
            graph=program.name, run_id=self.run_id, thread_id=self.thread_id, ns=self.checkpoint_ns
        )

    # -- used by the barrier -----------------------------------------------------------
    def task_seed(self, step: int) -> str:
        return f"{self._seed}:{step}"

    def actor(self, name: str) -> NodeActor:
        actor = self.actors.get(name)
        if actor is None:
            actor = self.actors[name] = NodeActor(self.program.nodes[name], self)
        return actor

    def post_result(self, result: TaskResult) -> None:
        self.barrier.post(TaskDone(step=result.task.step, results=[result]))

    def stop_with_error(self, exc: BaseException) -> None:
        """Stop the run: cancel tasks in flight, drop queued ones, report ``exc``."""
        if self.stopping:
            return
        self.stopping = True
        self.cancelling = True
        self.error = exc
        self.dispatcher.cancel_tasks()
        self._end()

    def finish_ok(self) -> None:
        barrier = self.barrier
        self.stopping = True
        self.outcome = RunOutcome(barrier.output_values() if barrier.output_written else None)
        self._end()

    def finish_interrupted(self, interrupts: list[Any]) -> None:
        self.stopping = True
        self.outcome = RunOutcome(self.barrier.output_values(), list(interrupts))
        self._end()

    def _end(self) -> None:
        self.barrier.halt_all()
        self.dispatcher.finish()

    # -- used by tasks (interrupt / resume; filled in by persistence) -------------------
    def resume_for(self, task_id: str) -> list[Any]:
        return []

    def take_resume(self, tctx: TaskContext, index: int) -> Any:
        return _NO_ANSWER

    def record_resume(self, tctx: TaskContext) -> None:
        return None


async def execute(
    program: Program,
    writes: list[tuple[str, Any]],
    sends: list[SendMsg],
    config: dict[str, Any],
    *,
    context: Any = None,
    sink: StreamSink = NULL_SINK,
    parent: TaskContext | None = None,
    sync_call: bool = False,
) -> RunOutcome:
    """Run ``program`` from fresh channels with the input ``writes``/``sends``."""
    run = RunState(program, config, sink=sink, parent=parent, sync_call=sync_call, context=context)
    run.barrier = BarrierActor(run, program.new_channels())
    run.loop_token = anyio.lowlevel.current_token()
    run.loop_thread = threading.get_ident()
    log = run.log
    if log is not None:
        log.debug("run.start", inputs=len(writes), sends=len(sends))
    async with WorkerGroup() as group:
        run.dispatcher = Dispatcher(group, config.get("max_concurrency"))
        run.barrier.start(writes, sends)
        try:
            await run.dispatcher.run_root()
        except BaseException:
            run.stopping = run.cancelling = True
            run.dispatcher.cancel_tasks()
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
    if failure is not None:
        raise failure
    if run.error is not None:
        raise run.error
    assert run.outcome is not None
    return run.outcome


def output_with_interrupts(outcome: RunOutcome) -> Any:
    """The ``invoke`` result: the output values, plus ``__interrupt__`` when paused."""
    if outcome.interrupts:
        values = dict(outcome.values or {})
        values[INTERRUPT] = list(outcome.interrupts)
        return values
    return outcome.values

