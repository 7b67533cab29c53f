"""``SendStreamingMessage`` (``message/stream``): the task as server-sent events, as
LangGraph's server sends them: the submitted task, a ``working`` status update carrying
each message the agent writes, the reply as an artifact, then the final status. Under
the 1.0 name each event is a ``StreamResponse`` (``{"task"|"statusUpdate"|"artifactUpdate":
...}``), which the A2A SDK's 1.x client reads; under the 0.x name, the flat 0.x event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import StreamingResponse

from actorgraph.server._context import ServerContext
from actorgraph.server._json import dumps

from . import _a2a_parts as parts_
from ._a2a_tasks import INTERNAL_ERROR, RpcError, prepare_send, start
from ._runs import follow_run

__all__ = ("message_stream",)

log = structlog.get_logger("actorgraph.server.a2a")

_WRAP = {"status-update": "statusUpdate", "artifact-update": "artifactUpdate"}


def _frame(payload: dict[str, Any]) -> bytes:
    # U+2028/2029 and NEL are line ends to some SSE readers: escape them inside the JSON
    data = dumps(payload).replace(b"\xc2\x85", b"\\u0085").replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
    return b"event: message\r\ndata: " + data + b"\r\n\r\n"


def _text_of(message: Any) -> str:
    """The text an agent's message says so far ("" for tool output, system prompts)."""
    if not isinstance(message, dict) or parts_.role_of(message) is None:
        return ""
    return "".join(p["text"] for p in parts_.content_parts(message.get("content")) if p.get("kind") == "text")


def _status(task_id: str, context_id: str, state: str, *, final: bool, message: dict[str, Any] | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"state": state}
    if message is not None:
        status["message"] = message
    status["timestamp"] = parts_.now_iso()
    return {"taskId": task_id, "contextId": context_id, "kind": "status-update", "status": status, "final": final}


def _artifact(task_id: str, context_id: str, artifact: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"taskId": task_id, "contextId": context_id, "kind": "artifact-update", "artifact": artifact, **extra}


async def _events(c: ServerContext, request: Request, params: dict[str, Any], assistant_id: str) -> AsyncIterator[dict[str, Any]]:
    """The stream's results: a task first, then status and artifact updates."""
    p = await prepare_send(c, request, params, assistant_id)
    run, task_id = await start(c, request, p, ["messages", "values"])
    context_id = run.thread_id
    first = {**p.message, "kind": "message", "taskId": task_id, "contextId": context_id}
    yield {"task": {
        "kind": "task", "id": task_id, "contextId": context_id, "history": [first],
        "status": {"state": "TASK_STATE_SUBMITTED", "timestamp": parts_.now_iso()},
    }}
    result: Any = None
    error: Any = None
    async for event, data in follow_run(c, run.run_id):
        if event == "values":
            result, error = data, None
        elif event == "error":
            error = data
        elif event.startswith("messages") and isinstance(data, list) and data:
            text = "".join(_text_of(m) for m in data)
            if text:
                message = parts_.agent_message([{"kind": "text", "text": text}], task_id, context_id)
                yield _status(task_id, context_id, "TASK_STATE_WORKING", final=False, message=message)
    ended = await c.storage.run_get(run.run_id)
    if ended is not None and ended.status == "interrupted":  # cancelled (CancelTask) while it streamed
        message = parts_.agent_message([{"kind": "text", "text": "Task was canceled"}], task_id, context_id)
        yield _status(task_id, context_id, "TASK_STATE_CANCELED", final=True, message=message)
        return
    if error is not None:
        name = error.get("message") or error.get("error") if isinstance(error, dict) else error
        message = parts_.agent_message([{"kind": "text", "text": str(name or "")}], task_id, context_id)
        yield _status(task_id, context_id, "TASK_STATE_FAILED", final=True, message=message)
        return
    interrupts = result.get("__interrupt__") if isinstance(result, dict) else None
    if not interrupts:
        # the thread's values carry pending interrupts on the thread, not in "values"
        thread = await c.storage.thread_get(context_id)
        if thread is not None and thread.status == "interrupted":
            interrupts = [i for items in thread.interrupts.values() for i in items]
    reply = parts_.response_parts(result) if isinstance(result, dict) else [{"kind": "text", "text": str(result)}]
    if interrupts:
        yield _artifact(task_id, context_id, parts_.interrupt_artifact(interrupts))
        message = parts_.agent_message(reply, task_id, context_id)
        yield _status(task_id, context_id, "TASK_STATE_INPUT_REQUIRED", final=True, message=message)
        return
    artifact = parts_.response_artifact(reply, p.assistant.assistant_id)
    yield _artifact(task_id, context_id, artifact, append=False, lastChunk=True)
    yield _status(task_id, context_id, "TASK_STATE_COMPLETED", final=True)


async def _body(
    c: ServerContext, request: Request, params: dict[str, Any], assistant_id: str, rpc_id: Any, legacy: bool
) -> AsyncIterator[bytes]:
    try:
        async for result in _events(c, request, params, assistant_id):
            if legacy:
                payload = parts_.legacy({"jsonrpc": "2.0", "id": rpc_id, "result": result})
            else:
                kind = result.get("kind")
                payload = {"jsonrpc": "2.0", "id": rpc_id, "result": {_WRAP[kind]: result} if kind in _WRAP else result}
            yield _frame(payload)
    except RpcError as exc:
        yield _frame({"jsonrpc": "2.0", "id": rpc_id, "error": exc.body()})
    except Exception:
        log.exception("A2A stream failed", assistant_id=assistant_id)
        yield _frame({"jsonrpc": "2.0", "id": rpc_id, "error": {"code": INTERNAL_ERROR, "message": "Internal server error"}})


def message_stream(
    c: ServerContext, request: Request, params: dict[str, Any], assistant_id: str, rpc_id: Any, *, legacy: bool
) -> StreamingResponse:
    return StreamingResponse(
        _body(c, request, params, assistant_id, rpc_id, legacy),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
