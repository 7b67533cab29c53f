"""The typed mailbox messages actors exchange. Frozen msgspec Structs: cheap to build,
impossible to mutate in flight.

    Activate   barrier -> node actor   the node's tasks for one super-step, and where
                                       they run (a ``Placement``)
    RunCall    caller -> task actor    one call of a ``@task`` (its future, its context)
    TaskDone   node actor -> barrier   results of finished tasks (batched)
    SendMsg    a Send, on its way from a task to the barrier, which routes it next step
    CommandMsg a Command for an enclosing graph (``graph=Command.PARENT``)

A node actor hands each task to whoever runs it as a ``TaskStart`` (the argument of a
dispatcher ``Job``, or of a worker thread's call).

How a Send travels: the node returns ``Send(...)``; its ``finish`` (graph/_compile.py)
records a ``SendMsg`` on the task; the task's ``TaskResult`` carries it to the barrier in a
``TaskDone``; the barrier's ``StepState.apply_results`` (actors/_step.py) queues it as a
pending send and ``prepare`` turns it into the next step's push ``TaskSpec``, which the
barrier sends to the target node's actor in an ``Activate``.
"""

from __future__ import annotations

from typing import Any

# Messages other than TaskResult are never part of a reference cycle (they hold inputs and
# specs, never frames or exceptions), so they opt out of the cycle collector: a fan-out
# of 10,000 tasks would otherwise trigger collections just for them.

import msgspec

from actorgraph._constants import INPUT, NULL_TASK_ID, PULL
from actorgraph.actors._placement import Placement

__all__ = (
    "Activate",
    "CommandMsg",
    "RunCall",
    "SendMsg",
    "TaskDone",
    "TaskResult",
    "TaskSpec",
    "TaskStart",
    "null_result",
)


class TaskSpec(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One execution of a node in a super-step."""

    id: str
    name: str
    path: tuple[Any, ...]
    """``("__pregel_pull", node)`` for edge-triggered tasks, ``("__pregel_push", i)`` for Sends."""
    order: tuple[Any, ...]
    """Sort key: the barrier applies writes in this order (pull tasks by node name, then
    push tasks by send index), never in completion order."""
    step: int
    input: Any
    triggers: tuple[str, ...]
    timeout: Any = None
    """A ``Send``'s own timeout policy; overrides the node's."""
    failure: Any = None
    """For an error handler's task: the ``NodeError`` it handles."""


class SendMsg(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A ``Send`` produced by a task; becomes a push task in the next step."""

    node: str
    arg: Any
    timeout: Any = None


class CommandMsg(msgspec.Struct, frozen=True, kw_only=True):
    """A ``Command`` addressed to the parent graph."""

    command: Any


class TaskResult(msgspec.Struct, frozen=True, kw_only=True):
    """What one task produced. Exactly one of: writes (success), ``error``, or
    ``interrupts`` / ``parent_command`` (control flow)."""

    task: TaskSpec
    writes: list[tuple[str, Any]]
    sends: list[SendMsg]
    update: Any = None
    """The node's update as the ``updates`` stream shows it (precomputed by the task)."""
    error: BaseException | None = None
    interrupts: tuple[Any, ...] = ()
    parent_command: CommandMsg | None = None
    cached: bool = False
    """The writes came from the node cache (or a saved step); the node did not run."""
    paused: bool = False
    """The task stopped at an interrupt (or a subgraph's breakpoint)."""
    call: bool = False
    """A task call (``@task``): its result went to its caller, not to the channels."""
    cancelled: bool = False
    """A task call its caller cancelled (``future.cancel()``): nothing to save or stream."""


class Activate(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    step: int
    tasks: list[TaskSpec]
    placement: Placement
    """Where the tasks run (``_placement.decide``)."""
    alone: bool = False
    """The task is the only work of its sync call (graphs it runs as subgraphs are too)."""


class RunCall(msgspec.Struct, frozen=True, kw_only=True):
    """Run one call of a ``@task``: ``task`` is the call's ``TaskContext`` (its future
    set), ``context`` the contextvars it runs in."""

    task: Any
    context: Any


class TaskStart(msgspec.Struct, frozen=True):
    """A task handed to whoever runs it (a dispatcher job or a worker thread)."""

    task: Any
    """Its ``TaskContext``."""
    inline: bool = False
    """Sync code may run on the event loop's thread (placement NOW or LOOP)."""
    first: Any = None
    """The awaitable the node already returned (a sync callable that returned a
    coroutine): the job finishes it."""


class TaskDone(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    step: int
    results: list[TaskResult]



def null_result(step: int, writes: list[tuple[str, Any]], sends: list[SendMsg]) -> TaskResult:
    """Writes that belong to no task: a Command's update/goto applied to a saved step."""
    spec = TaskSpec(id=NULL_TASK_ID, name=INPUT, path=(PULL, INPUT), order=(-1,), step=step, input=None, triggers=())
    return TaskResult(task=spec, writes=writes, sends=sends)
