"""A thread's graph state over HTTP: snapshots as LangGraph's server shapes them
(``checkpoint`` dicts instead of configs, tasks with nested states), state updates and
history, all through the compiled graph's public state API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from actorgraph.server._context import ServerContext, now
from actorgraph.server._errors import ApiError
from actorgraph.server._json import to_jsonable
from actorgraph.server.schemas import CheckpointRef, Thread, ThreadState, ThreadTask

__all__ = ("checkpoint_of", "empty_state", "graph_for_thread", "snapshot_to_state", "thread_config", "thread_values")


def thread_config(thread_id: str, checkpoint: CheckpointRef | None = None, checkpoint_id: str | None = None) -> dict[str, Any]:
    configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
    if checkpoint is not None:
        if checkpoint.checkpoint_id:
            configurable["checkpoint_id"] = checkpoint.checkpoint_id
        configurable["checkpoint_ns"] = checkpoint.checkpoint_ns or ""
        if checkpoint.checkpoint_map:
            configurable["checkpoint_map"] = checkpoint.checkpoint_map
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def checkpoint_of(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    conf = config.get("configurable") or {}
    out = {
        "checkpoint_id": conf.get("checkpoint_id"),
        "thread_id": conf.get("thread_id"),
        "checkpoint_ns": conf.get("checkpoint_ns", ""),
    }
    if conf.get("checkpoint_map"):
        out["checkpoint_map"] = conf["checkpoint_map"]
    return out


def _interrupts(items: Any) -> list[Any]:
    return [to_jsonable(i) for i in items or ()]


def snapshot_to_state(snapshot: Any) -> ThreadState:
    tasks = []
    for t in snapshot.tasks:
        sub = t.state
        sub_state = None
        sub_checkpoint = None
        if sub is not None:
            if hasattr(sub, "values") and hasattr(sub, "next"):
                sub_state = snapshot_to_state(sub)
                sub_checkpoint = sub_state.checkpoint
            elif isinstance(sub, Mapping):
                sub_checkpoint = checkpoint_of(sub)
        error = t.error
        tasks.append(
            ThreadTask(
                id=t.id,
                name=t.name,
                path=list(to_jsonable(getattr(t, "path", ()) or ())),
                error=None if error is None else (error if isinstance(error, str) else f"{type(error).__name__}({error})"),
                interrupts=_interrupts(t.interrupts),
                checkpoint=sub_checkpoint,
                state=sub_state,
                result=to_jsonable(getattr(t, "result", None)),
            )
        )
    checkpoint = checkpoint_of(snapshot.config)
    parent = checkpoint_of(snapshot.parent_config)
    return ThreadState(
        values=to_jsonable(snapshot.values),
        next=list(snapshot.next),
        tasks=tasks,
        checkpoint=checkpoint,
        metadata=to_jsonable(snapshot.metadata),
        created_at=snapshot.created_at,
        parent_checkpoint=parent,
        interrupts=_interrupts(getattr(snapshot, "interrupts", ())),
        checkpoint_id=checkpoint["checkpoint_id"] if checkpoint else None,
        parent_checkpoint_id=parent["checkpoint_id"] if parent else None,
    )


def empty_state() -> ThreadState:
    return ThreadState(
        values={}, next=[], tasks=[], checkpoint=None, metadata=None, created_at=None, parent_checkpoint=None, interrupts=[]
    )


async def get_thread(c: ServerContext, thread_id: str) -> Thread:
    thread = await c.storage.thread_get(thread_id)
    if thread is None:
        raise ApiError(404, f"Thread with ID {thread_id} not found")
    return thread


def graph_for_thread(c: ServerContext, thread: Thread) -> str | None:
    graph_id = thread.metadata.get("graph_id")
    if isinstance(graph_id, str) and graph_id in c.graphs:
        return graph_id
    return None


async def refresh_thread_values(c: ServerContext, thread_id: str, graph: Any) -> ThreadState | None:
    """Copy the thread's latest values and interrupts onto its record (what thread
    search by ``values`` and ``Thread.values`` read)."""
    thread = await c.storage.thread_get(thread_id)
    if thread is None:
        return None
    snapshot = await graph.aget_state(thread_config(thread_id))
    state = snapshot_to_state(snapshot)
    changes = thread_values(state)
    status = thread.status
    if status != "busy":
        status = "interrupted" if changes["interrupts"] else ("error" if status == "error" else "idle")
    await c.storage.thread_put(msgspec.structs.replace(thread, **changes, status=status, updated_at=now()))
    return state


def thread_values(state: ThreadState) -> dict[str, Any]:
    """The fields of a thread's record that follow its graph state."""
    interrupts = {task.id: task.interrupts for task in state.tasks if task.interrupts}
    return {"values": state.values, "interrupts": interrupts, "state_updated_at": now()}
