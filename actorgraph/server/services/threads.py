"""Threads: records (create, update, copy, prune, delete) and their graph state (get, at a
checkpoint, update, history) through the graph named in the thread's metadata."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from actorgraph.errors import CheckpointNotFoundError, InvalidUpdateError
from actorgraph.server._context import ServerContext, now
from actorgraph.server._errors import ApiError
from actorgraph.server.retention import thread_ttl_of
from actorgraph.server.schemas import (
    CheckpointRef,
    Thread,
    ThreadCreate,
    ThreadHistory,
    ThreadState,
    ThreadStateUpdate,
    ThreadUpdateStateResponse,
)
from actorgraph.server.services.state import (
    checkpoint_of,
    empty_state,
    get_thread,
    graph_for_thread,
    refresh_thread_values,
    snapshot_to_state,
    thread_config,
)
from actorgraph.server.storage import Conflict
from actorgraph.types import StateUpdate

__all__ = ("copy", "create", "delete", "get_state", "history", "prune", "update_state")


def _thread_id(raw: str | None) -> str:
    if raw is None:
        return str(uuid.uuid4())
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise ApiError(422, f"Invalid thread ID: must be a UUID (thread_id={raw!r})") from None


async def create(c: ServerContext, body: ThreadCreate) -> Thread:
    ttl = thread_ttl_of(body.ttl)
    stamp = now()
    thread = Thread(
        thread_id=_thread_id(body.thread_id),
        created_at=stamp,
        updated_at=stamp,
        metadata=dict(body.metadata or {}),
        status="idle",
        values=None,
        interrupts={},
    )
    try:
        created = await c.storage.thread_insert(thread, if_exists=body.if_exists)
    except Conflict:
        raise ApiError(409, f"Thread {thread.thread_id} already exists (if_exists='raise')") from None
    if created is thread and c.retention is not None:
        await c.retention.thread_created(created.thread_id, ttl)
    if body.supersteps and created is thread:
        graph_id = graph_for_thread(c, created)
        if graph_id is None:
            raise ApiError(422, "Invalid request body: supersteps need metadata.graph_id naming a served graph")
        async with c.graphs.graph(graph_id) as graph:
            steps = [
                [StateUpdate(values=u.values, as_node=u.as_node) for u in step.updates] for step in body.supersteps
            ]
            await graph.abulk_update_state(thread_config(created.thread_id), steps)
            await refresh_thread_values(c, created.thread_id, graph)
        fresh = await c.storage.thread_get(created.thread_id)
        assert fresh is not None
        return fresh
    return created


async def patch(c: ServerContext, thread_id: str, metadata: dict[str, Any] | None, ttl: Any = None) -> Thread:
    new_ttl = thread_ttl_of(ttl)
    thread = await get_thread(c, thread_id)
    if new_ttl is not None and c.retention is not None:
        await c.retention.set_thread_ttl(thread_id, new_ttl)
    updated = msgspec.structs.replace(thread, metadata={**thread.metadata, **(metadata or {})}, updated_at=now())
    await c.storage.thread_put(updated)
    return updated


async def delete(c: ServerContext, thread_id: str) -> None:
    await get_thread(c, thread_id)
    if c.runs is not None:
        await c.runs.cancel_thread(thread_id)
    await c.storage.thread_delete(thread_id)
    await c.checkpointer.adelete_thread(thread_id)


async def copy(c: ServerContext, thread_id: str) -> Thread:
    source = await c.storage.thread_get(thread_id)
    if source is None:  # LangGraph's server answers 409 here
        raise ApiError(409, f"Thread with ID {thread_id} not found: nothing to copy")
    stamp = now()
    new = msgspec.structs.replace(source, thread_id=str(uuid.uuid4()), created_at=stamp, updated_at=stamp)
    await c.checkpointer.acopy_thread(thread_id, new.thread_id)
    await c.storage.thread_insert(new, if_exists=None)
    if c.retention is not None:
        await c.retention.thread_created(new.thread_id, None)
    return new


async def prune(c: ServerContext, thread_ids: list[str], strategy: str) -> int:
    pruned = 0
    for thread_id in thread_ids:
        thread = await c.storage.thread_get(thread_id)
        if thread is None:
            continue
        if strategy == "delete":
            await delete(c, thread_id)
        else:
            async with c.run_manager.pruning(thread_id) as free:
                if not free:
                    continue  # a run of it is in flight: it is pruned by a call after the run
                await c.checkpointer.aprune([thread_id], strategy="keep_latest")
        pruned += 1
    return pruned


async def get_state(
    c: ServerContext, thread_id: str, *, checkpoint: CheckpointRef | None = None, checkpoint_id: str | None = None,
    subgraphs: bool = False,
) -> ThreadState:
    thread = await get_thread(c, thread_id)
    graph_id = graph_for_thread(c, thread)
    if graph_id is None:
        return empty_state()
    async with c.graphs.graph(graph_id) as graph:
        try:
            snapshot = await graph.aget_state(thread_config(thread_id, checkpoint, checkpoint_id), subgraphs=subgraphs)
        except CheckpointNotFoundError as exc:
            raise ApiError(404, f"Checkpoint not found on thread {thread_id}: {exc}") from None
    return snapshot_to_state(snapshot)


async def update_state(c: ServerContext, thread_id: str, body: ThreadStateUpdate) -> ThreadUpdateStateResponse:
    thread = await get_thread(c, thread_id)
    graph_id = graph_for_thread(c, thread)
    if graph_id is None:
        raise ApiError(
            400,
            f"Thread {thread_id} has no graph: run it once, or create it with metadata.graph_id naming a served graph",
        )
    if c.runs is not None and await c.storage.run_active(thread_id):
        raise ApiError(409, f"Thread {thread_id} is busy with a run; update its state when the run ends")
    async with c.graphs.graph(graph_id) as graph:
        try:
            config = await graph.aupdate_state(
                thread_config(thread_id, body.checkpoint, body.checkpoint_id), body.values, as_node=body.as_node
            )
        except CheckpointNotFoundError as exc:
            raise ApiError(404, f"Checkpoint not found on thread {thread_id}: {exc}") from None
        except (InvalidUpdateError, ValueError) as exc:
            raise ApiError(400, f"{type(exc).__name__}: {exc}") from None
        await refresh_thread_values(c, thread_id, graph)
    checkpoint = checkpoint_of(config) or {}
    return ThreadUpdateStateResponse(
        checkpoint=checkpoint, configurable=dict(config.get("configurable") or {}), checkpoint_id=checkpoint.get("checkpoint_id")
    )


async def history(c: ServerContext, thread_id: str, body: ThreadHistory) -> list[ThreadState]:
    thread = await get_thread(c, thread_id)
    graph_id = graph_for_thread(c, thread)
    if graph_id is None:
        return []
    before = body.before
    before_config = None
    if isinstance(before, str):
        before_config = thread_config(thread_id, checkpoint_id=before)
    elif isinstance(before, dict):
        # a config ({"configurable": {...}}, as LangGraph's server takes it) or a checkpoint
        ref = before.get("configurable", before)
        checkpoint_id = ref.get("checkpoint_id") if isinstance(ref, dict) else None
        if not isinstance(checkpoint_id, str):
            raise ApiError(422, "Invalid request body: before must be a checkpoint id or name one in checkpoint_id")
        before_config = thread_config(thread_id, checkpoint_id=checkpoint_id)
    async with c.graphs.graph(graph_id) as graph:
        states = []
        async for snapshot in graph.aget_state_history(
            thread_config(thread_id, body.checkpoint), limit=body.limit, before=before_config, filter=body.metadata
        ):
            states.append(snapshot_to_state(snapshot))
    return states
