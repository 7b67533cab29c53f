"""The typed mailbox messages actors exchange. Frozen msgspec Structs: cheap to build,
impossible to mutate in flight.

    Activate   barrier -> node actor   the node's tasks for one super-step
    TaskDone   node actor -> barrier   results of finished tasks (batched)
    SendMsg    a Send, on its way from a task to the barrier, which routes it next step
    CommandMsg a Command for an enclosing graph (``graph=Command.PARENT``)
"""

from __future__ import annotations

from typing import Any

# Messages other than TaskResult are never part of a reference cycle (they hold inputs and
# specs, never frames or exceptions), so they opt out of the cycle collector: a fan-out
# of 10,000 tasks would otherwise trigger collections just for them.

import msgspec

from actorgraph._constants import INPUT, NULL_TASK_ID, PULL

__all__ = ("Activate", "CommandMsg", "SendMsg", "TaskDone", "TaskResult", "TaskSpec", "null_result")


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
    inline_sync: bool
    """Whether sync nodes may run on the event loop thread (a lone task of a sync run)."""


class TaskDone(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    step: int
    results: list[TaskResult]



def null_result(step: int, writes: list[tuple[str, Any]], sends: list[SendMsg]) -> TaskResult:
    """Writes that belong to no task: a Command's update/goto applied to a saved step."""
    spec = TaskSpec(id=NULL_TASK_ID, name=INPUT, path=(PULL, INPUT), order=(-1,), step=step, input=None, triggers=())
    return TaskResult(task=spec, writes=writes, sends=sends)
