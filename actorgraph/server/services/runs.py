"""Accepting a run: check the request as LangGraph's server does, apply the thread's
double-texting strategy, and write the run's row (accepted = durable) before waking a
worker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

import msgspec

from actorgraph.server._context import ServerContext, now
from actorgraph.server._errors import ApiError
from actorgraph.server.graphs import assistant_id_for_graph
from actorgraph.server.schemas import Run, RunCreate, Thread
from actorgraph.server.storage import Gone
from actorgraph.server.webhooks import WebhookPolicy, check_webhook_url

__all__ = ("create_run", "resolve_assistant")

_NOT_FOUND = "Thread or assistant not found."


async def resolve_assistant(c: ServerContext, assistant_id: str) -> Any:
    if assistant_id in c.graphs:
        resolved = assistant_id_for_graph(assistant_id)
    else:
        try:
            resolved = str(uuid.UUID(assistant_id))
        except ValueError:
            raise ApiError(
                422,
                f"Invalid assistant: '{assistant_id}'. Must be either:\n- A valid assistant UUID, or\n"
                f"- One of the registered graphs: {', '.join(c.graphs.ids())}",
            ) from None
    assistant = await c.storage.assistant_get(resolved)
    if assistant is None:
        raise ApiError(404, _NOT_FOUND)
    return assistant


def _kwargs(body: RunCreate, *, temporary: bool) -> dict[str, Any]:
    modes = body.stream_mode if isinstance(body.stream_mode, list) else [body.stream_mode]
    command = msgspec.structs.asdict(body.command) if body.command is not None else None
    return {
        "input": body.input,
        "command": command,
        "config": body.config or {},
        "context": body.context or {},
        "stream_mode": list(modes),
        "interrupt_before": body.interrupt_before,
        "interrupt_after": body.interrupt_after,
        "webhook": body.webhook,
        "feedback_keys": body.feedback_keys,
        "temporary": temporary,
        "subgraphs": body.stream_subgraphs,
        "resumable": body.stream_resumable,
        "checkpoint_during": body.checkpoint_during if body.checkpoint_during is not None else True,
        "durability": body.durability or "async",
        "checkpoint_id": body.checkpoint_id,
        "checkpoint": msgspec.structs.asdict(body.checkpoint) if body.checkpoint is not None else None,
        "on_completion": body.on_completion or ("delete" if temporary else "keep"),
        "on_disconnect": body.on_disconnect or "continue",
    }


# who asked for a run: the server sets these (custom auth), a request can't
_AUTH_KEYS = ("langgraph_auth_user", "langgraph_auth_user_id", "langgraph_auth_permissions")


def _with_auth(kwargs: dict[str, Any], auth: Mapping[str, Any] | None) -> None:
    config = dict(kwargs["config"])
    configurable = {k: v for k, v in (config.get("configurable") or {}).items() if k not in _AUTH_KEYS}
    if auth or configurable or "configurable" in config:
        config["configurable"] = {**configurable, **(auth or {})}
    kwargs["config"] = config


async def create_run(
    c: ServerContext, thread_id: str | None, body: RunCreate, *, auth: Mapping[str, Any] | None = None
) -> Run:
    """The new run's row, ``pending``; raises ``ApiError`` (404/409/422/400) first if the
    request can't run. ``auth``: the configurable keys naming the user who asked."""
    if thread_id is None and body.command is not None and body.command.resume is not None:
        raise ApiError(400, "You must provide a thread_id when resuming.")
    config = body.config or {}
    if config.get("configurable") and body.context:
        raise ApiError(400, "Cannot specify both configurable and context. Prefer setting context alone.")
    if thread_id is not None:
        try:
            thread_id = str(uuid.UUID(thread_id))
        except ValueError:
            raise ApiError(422, f"Invalid thread ID: must be a UUID, got {thread_id!r}") from None
    assistant = await resolve_assistant(c, body.assistant_id)
    if body.webhook is not None:
        await check_webhook_url(body.webhook, c.webhooks.policy if c.webhooks is not None else WebhookPolicy())
    stamp = now()
    temporary = thread_id is None
    thread: Thread | None = None
    if thread_id is not None:
        thread = await c.storage.thread_get(thread_id)
        if thread is None and body.if_not_exists != "create":
            raise ApiError(404, _NOT_FOUND)
    else:
        thread_id = str(uuid.uuid4())
    if thread is None:
        # as LangGraph's server: a thread a run creates carries the run's metadata (an
        # auth handler's owner among it)
        config_metadata = config.get("metadata")
        seeded = {**(config_metadata if isinstance(config_metadata, dict) else {}), **(body.metadata or {})}
        thread = Thread(thread_id=thread_id, created_at=stamp, updated_at=stamp, metadata=seeded)
        created = await c.storage.thread_insert(thread, if_exists="do_nothing")
        if created is thread and c.retention is not None:
            await c.retention.thread_created(thread_id, None)
        thread = created

    strategy = body.multitask_strategy or "enqueue"
    active = await c.storage.run_active(thread_id)
    if active:
        if strategy == "reject":
            raise ApiError(
                409, "Thread is already running a task. Wait for it to finish or choose a different multitask strategy."
            )
        if strategy in ("interrupt", "rollback"):
            for other in active:
                await c.run_manager.cancel(other.run_id, "interrupt" if strategy == "interrupt" else "rollback")

    metadata = {
        **(body.metadata or {}),
        "graph_id": assistant.graph_id,
        "assistant_id": assistant.assistant_id,
    }
    kwargs = _kwargs(body, temporary=temporary)
    _with_auth(kwargs, auth)
    run = Run(
        run_id=str(uuid.uuid4()),
        thread_id=thread_id,
        assistant_id=assistant.assistant_id,
        created_at=stamp,
        updated_at=stamp,
        status="pending",
        metadata=metadata,
        kwargs=kwargs,
        multitask_strategy=strategy,
    )
    thread_metadata = {**thread.metadata, "graph_id": assistant.graph_id, "assistant_id": assistant.assistant_id}
    busy = msgspec.structs.replace(thread, metadata=thread_metadata, status="busy", updated_at=stamp)
    # the thread's clock starts again in the run's insert: a sweep is wholly before it (the
    # thread is gone: the insert fails) or after it (the thread is busy, its clock running)
    stamp_s = time.time()
    try:
        clocked = await c.storage.run_insert(
            run, available_at=stamp_s + (body.after_seconds or 0), thread=busy,
            ttl_from=stamp_s if c.retention is not None else None,
        )  # fmt: skip
    except Gone:  # expired and swept since it was read above
        raise ApiError(404, _NOT_FOUND) from None
    if c.retention is not None:
        await c.retention.run_created(thread_id, clocked)
    # a stream request reads the worker's events from the start
    c.run_manager.broker.expect(run.run_id)
    c.run_manager.wake()
    return run
