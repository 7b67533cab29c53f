"""One run, start to end: build its config from the assistant and the request, drive the
graph's ``astream``, publish each chunk as an event (live and into the event log), and
return its outcome: what the run manager records on the run and its thread in one write
(with the events not yet in the log and the result ``wait``/``join`` return)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import anyio
import msgspec
import structlog

from actorgraph.errors import CheckpointConflictError
from actorgraph.server._context import ServerContext, now
from actorgraph.server._json import dumps
from actorgraph.server._tracing import current_run_trace
from actorgraph.server.auth import user_from_config
from actorgraph.server.broker import RESULT_EVENT, LiveRun
from actorgraph.server.runs._messages import MessageFrames
from actorgraph.server.schemas import Assistant, Run, ThreadState
from actorgraph.server.services.state import snapshot_to_state, thread_config, thread_values
from actorgraph.server.storage import is_unavailable
from actorgraph.types import Command

__all__ = ("RESULT_EVENT", "TIMEOUT_ERROR", "Outcome", "execute", "run_config")

log = structlog.get_logger("actorgraph.server.runs")

# a run past its time limit: its thread's error, and what a join after its end answers
# (LangGraph's server records asyncio's bare ``TimeoutError()``)
TIMEOUT_ERROR = {"error": "TimeoutError", "message": ""}

# engine stream mode -> SSE event name
_MODES = {
    "values": "values",
    "updates": "updates",
    "custom": "custom",
    "debug": "debug",
    "tasks": "tasks",
    "checkpoints": "checkpoints",
    "messages-tuple": "messages",
    "messages": "messages",
}


class Outcome(msgspec.Struct, kw_only=True):
    status: str  # success, error, interrupted (cancelled), timeout
    result: Any = None
    error: dict[str, str] | None = None
    paused: bool = False  # stopped at an interrupt (or interrupt_before/after): next steps wait
    events: list[tuple[int, str, bytes]] = []  # published, not yet in the event log
    thread_values: dict[str, Any] | None = None  # the thread record's values and interrupts
    values: Any = None  # the state's values at the end (what a webhook sends)
    unavailable: bool = False  # the database went away under the run: it goes back to the queue
    conflict: bool = False  # (so did a step refused because the thread's head moved)


def run_config(assistant: Assistant, run: Run) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The config and context a run's graph gets: the assistant's, then the request's,
    then the server's own keys (ids the checkpoints and nodes can read)."""
    kwargs = run.kwargs
    asked: Mapping[str, Any] = kwargs.get("config") or {}
    ids = {
        "run_id": run.run_id,
        "thread_id": run.thread_id,
        "graph_id": assistant.graph_id,
        "assistant_id": assistant.assistant_id,
    }
    configurable = {**(assistant.config.get("configurable") or {}), **(asked.get("configurable") or {}), **ids}
    user = user_from_config(configurable.get("langgraph_auth_user"))
    if user is not None:  # the graph reads it as LangGraph's server gives it: user.identity, user["identity"]
        configurable["langgraph_auth_user"] = user
    checkpoint = kwargs.get("checkpoint") or {}
    if checkpoint.get("checkpoint_id"):
        configurable["checkpoint_id"] = checkpoint["checkpoint_id"]
        configurable["checkpoint_ns"] = checkpoint.get("checkpoint_ns") or ""
    if kwargs.get("checkpoint_id"):
        configurable["checkpoint_id"] = kwargs["checkpoint_id"]
    metadata = {
        **(assistant.config.get("metadata") or {}),
        **(asked.get("metadata") or {}),
        **run.metadata,
        **ids,
    }
    config = {**assistant.config, **asked, "configurable": configurable, "metadata": metadata}
    context = {**assistant.context, **(kwargs.get("context") or {})}
    return config, (context or None)


def _input(kwargs: Mapping[str, Any]) -> Any:
    command = kwargs.get("command")
    if command:
        return Command(update=command.get("update"), resume=command.get("resume"), goto=command.get("goto") or ())
    return kwargs.get("input")


def _result(state: ThreadState) -> Any:
    """What wait/join answer: the values, with the pending interrupts under ``__interrupt__``."""
    interrupts = state.interrupts or [i for task in state.tasks for i in task.interrupts]
    if interrupts and isinstance(state.values, dict):
        return {**state.values, "__interrupt__": interrupts}
    return state.values


async def _already_started(graph: Any, run: Run) -> bool:
    """A run whose own checkpoint is the thread's head was started before (its worker
    died or lost its lease): it resumes from there instead of starting over with its
    input - and if that checkpoint is its last, nothing runs again."""
    snapshot = await graph.aget_state(thread_config(run.thread_id))
    return bool(snapshot.metadata and snapshot.metadata.get("run_id") == run.run_id)


class _Events:
    """Publishes a run's events live (to its readers and its thread's) and keeps them in
    the event log (written in batches)."""

    def __init__(self, c: ServerContext, live: LiveRun, run: Run) -> None:
        self.c = c
        self.live = live
        self.run_id = run.run_id
        self.feed = c.run_manager.broker.feed(run.thread_id)
        self.pending: list[tuple[int, str, bytes]] = []

    async def emit(self, event: str, data: Any) -> None:
        item = self.live.publish(event, dumps(data))
        self.feed.publish(event, item[2])
        self.pending.append(item)
        if len(self.pending) >= 64:
            await self.flush()

    async def flush(self) -> None:
        if self.pending:
            batch, self.pending = self.pending, []
            await self.c.storage.events_append(self.run_id, batch)


async def execute(
    c: ServerContext,
    run: Run,
    live: LiveRun,
    scope: anyio.CancelScope,
    *,
    resumed: bool = False,
    timeout: float = math.inf,
    retry_conflict: bool = False,
) -> Outcome:
    """Run ``run`` on its graph; ``scope`` is cancelled by a cancel request. ``resumed``: it
    was claimed before, so it may have checkpoints to go on from. Past ``timeout`` seconds
    the graph is stopped as a cancel would stop it (its finished steps stay) and the run
    ends ``timeout``. ``retry_conflict``: a step refused because the thread's head moved
    (a worker that lost the run's lease wrote a step of it meanwhile) sends the run back to
    the queue, to go on from the thread's head, instead of ending it in error."""
    events = _Events(c, live, run)
    await events.emit("metadata", {"run_id": run.run_id, "attempt": 1})
    assistant = await c.storage.assistant_get(run.assistant_id)
    if assistant is None or assistant.graph_id not in c.graphs:
        outcome = Outcome(status="error", error={"error": "NotFound", "message": f"Assistant {run.assistant_id} not found"})
        await events.emit("error", outcome.error)
        outcome.events = events.pending
        return outcome
    kwargs = run.kwargs
    config, context = run_config(assistant, run)
    requested = kwargs.get("stream_mode") or ["values"]
    modes = list(dict.fromkeys(m if m != "messages-tuple" else "messages" for m in requested if m in _MODES))
    subgraphs = bool(kwargs.get("subgraphs"))
    # "messages" alone is framed as LangGraph's server frames it; with "messages-tuple" the
    # tuples win, as there
    framed = MessageFrames() if "messages" in requested and "messages-tuple" not in requested else None
    engine_modes = modes or ["values"]
    trace = current_run_trace()
    if trace is not None:
        trace.graph(assistant.assistant_id, assistant.graph_id)
        if "debug" not in engine_modes:
            # the run's step and node spans are built from the engine's debug events
            engine_modes = [*engine_modes, "debug"]
    options: dict[str, Any] = {"stream_mode": engine_modes, "subgraphs": subgraphs}
    for key in ("interrupt_before", "interrupt_after", "durability"):
        if kwargs.get(key) is not None:
            options[key] = kwargs[key]
    if context is not None:
        options["context"] = context
    error: BaseException | None = None
    async with c.graphs.graph(assistant.graph_id, config) as graph:
        graph_input = _input(kwargs)
        if resumed and not kwargs.get("command") and await _already_started(graph, run):
            graph_input = None
        async def chunk_event(chunk: Any) -> bool:
            """Publish a chunk; False: it was only asked for the run's trace."""
            if subgraphs:
                ns, mode, data = chunk
            else:
                (mode, data), ns = chunk, ()
            if mode == "debug" and trace is not None:
                if not ns:
                    trace.on_debug(data)
                if "debug" not in modes:
                    return False
            if framed is not None and mode == "messages":
                # no "|ns" on these: LangGraph's server doesn't add one either
                for name, payload in framed.frames(data):
                    await events.emit(name, payload)
            elif modes:
                name = _MODES.get(mode, mode)
                await events.emit(f"{name}|{'|'.join(ns)}" if ns else name, data)
            return True

        with scope, anyio.move_on_after(timeout) as limit:
            try:
                if "events" in requested:
                    # LangChain's event stream; the graph's own stream parts ride in it as
                    # the root run's on_chain_stream events
                    async for ev in graph.astream_events(graph_input, config, version="v2", **options):
                        if ev.get("event") == "on_chain_stream" and not ev.get("parent_ids"):
                            if not await chunk_event(ev["data"]["chunk"]):
                                continue
                        await events.emit("events", ev)
                else:
                    async for chunk in graph.astream(graph_input, config, **options):
                        await chunk_event(chunk)
            except Exception as exc:
                error = exc
        cancelled = scope.cancelled_caught
        timed_out = limit.cancelled_caught
        keep_thread = not kwargs.get("temporary") or kwargs.get("on_completion") == "keep"
        # one snapshot serves the result and the thread's record
        conflict = retry_conflict and isinstance(error, CheckpointConflictError)
        lost = error is not None and (is_unavailable(error) or conflict)
        wanted = (error is None or keep_thread) and not lost
        state = snapshot_to_state(await graph.aget_state(thread_config(run.thread_id))) if wanted else None
    if lost:
        return Outcome(status="error", unavailable=True, conflict=conflict, events=events.pending)
    if error is not None:
        payload = {"error": type(error).__name__, "message": str(error)}
        log.info("run failed", run_id=run.run_id, thread_id=run.thread_id, error=payload["error"])
        await events.emit("error", payload)
        outcome = Outcome(status="error", error=payload, result={"__error__": payload})
    else:
        assert state is not None
        # a run past its limit answers wait/join with the values it got to, as a stopped one
        status = "interrupted" if cancelled else "timeout" if timed_out else "success"
        outcome = Outcome(status=status, result=_result(state), paused=bool(state.next))
        if timed_out:
            log.info("run timed out", run_id=run.run_id, thread_id=run.thread_id, limit_s=timeout)
    if state is not None:
        outcome.values = state.values
    if keep_thread and state is not None:
        outcome.thread_values = thread_values(state)
    outcome.events = events.pending
    return outcome
