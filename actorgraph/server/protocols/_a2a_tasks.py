"""A2A tasks on LangGraph threads and runs, as LangGraph's server maps them: a context
is a thread, a task is a run (its id ``"{thread_id}:{run_id}"``; a run that continues an
interrupted task keeps the task's id in its metadata). ``SendMessage`` starts or
continues a task and waits for it; ``GetTask``, ``CancelTask`` and ``ListTasks`` read and
stop them. Failures are ``RpcError`` (a JSON-RPC error object), never an HTTP error.
With custom auth each call acts as the request's user, as LangGraph's server does through
its HTTP API: the assistant must be one they may read, a task is found only on a thread
they may read (and cancelled only on one they may update), and a run passes the checks of
``POST /threads/{thread_id}/runs``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from actorgraph.server._context import ServerContext
from actorgraph.server._errors import ApiError
from actorgraph.server.auth import check_assistant, check_thread, thread_keep
from actorgraph.server.schemas import Assistant, CommandBody, Run, RunCreate, Thread
from actorgraph.server.services.assistants import graph_schemas

from . import _a2a_parts as parts_
from ._runs import start_run, wait_output

__all__ = (
    "INTERNAL_ERROR", "INVALID_PARAMS", "INVALID_REQUEST", "METHOD_NOT_FOUND", "PARSE_ERROR", "TASK_NOT_FOUND",
    "Prepared", "RpcError", "get_assistant", "list_tasks", "message_send", "prepare_send", "run_state", "start",
    "task_id_for", "tasks_cancel", "tasks_get",
)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
TASK_NOT_FOUND = -32001
TASK_NOT_CANCELABLE = -32002
UNSUPPORTED_OPERATION = -32004
CONTENT_TYPE_NOT_SUPPORTED = -32005

MAX_HISTORY_LENGTH = 10  # as LangGraph's server
_RUN_SCAN = 1000  # how many of a context's runs are looked through for a task's latest
_STATES = {
    "pending": "TASK_STATE_SUBMITTED",
    "running": "TASK_STATE_WORKING",
    "success": "TASK_STATE_COMPLETED",
    "interrupted": "TASK_STATE_CANCELED",  # a run cancelled from outside; an interrupt() ends in success
    "error": "TASK_STATE_FAILED",
    "timeout": "TASK_STATE_FAILED",
}
TERMINAL = frozenset({"TASK_STATE_COMPLETED", "TASK_STATE_FAILED", "TASK_STATE_CANCELED", "TASK_STATE_REJECTED"})


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def body(self) -> dict[str, Any]:
        error = {"code": self.code, "message": self.message}
        return error if self.data is None else {**error, "data": self.data}


def task_id_for(context_id: str, run_id: str) -> str:
    return f"{context_id}:{run_id}"


def run_state(run: Run, thread: Thread | None) -> str:
    """The task state of a run (a finished run whose thread waits at an interrupt is
    waiting for input)."""
    if run.status == "success" and thread is not None and thread.status == "interrupted":
        return "TASK_STATE_INPUT_REQUIRED"
    return _STATES.get(run.status, "TASK_STATE_SUBMITTED")


def _task_of(run: Run) -> str | None:
    a2a = run.metadata.get("a2a") if isinstance(run.metadata, dict) else None
    task = a2a.get("task_id") if isinstance(a2a, dict) else None
    return task if isinstance(task, str) and task else None


@dataclass(frozen=True)
class Task:
    task_id: str
    context_id: str
    run: Run  # the task's latest run
    state: str


async def resolve_task(
    c: ServerContext, request: Request, task_id: str, context_id: str | None, assistant_id: str
) -> Task | None:
    """The task, if it is one of the assistant's on a thread the user may read."""
    parsed, _, run_id = task_id.rpartition(":")
    if parsed and context_id and parsed != context_id:
        return None
    context_id = context_id or parsed
    if not context_id:
        return None
    try:
        context_id, run_id = str(uuid.UUID(context_id)), str(uuid.UUID(run_id))
    except ValueError:
        return None
    if not await _readable(request, context_id):
        return None  # another user's task: as if there were none
    anchor = await c.storage.run_get(run_id)
    thread = await c.storage.thread_get(context_id)
    if anchor is None or thread is None or anchor.thread_id != context_id or anchor.assistant_id != assistant_id:
        return None
    if (_task_of(anchor) or task_id) != task_id:
        return None
    runs = await c.storage.run_list(context_id, limit=_RUN_SCAN, offset=0)  # newest first
    latest = next((r for r in runs if r.assistant_id == assistant_id and (r.run_id == run_id or _task_of(r) == task_id)), anchor)
    newest_of_thread = bool(runs) and runs[0].run_id == latest.run_id
    return Task(task_id, context_id, latest, run_state(latest, thread if newest_of_thread else None))


async def get_assistant(c: ServerContext, request: Request, assistant_id: str) -> Assistant:
    """The assistant of an ``/a2a/{assistant_id}`` URL (a UUID, as LangGraph's server),
    if the user may read it."""
    try:
        assistant_id = str(uuid.UUID(assistant_id))
    except ValueError:
        raise RpcError(INVALID_PARAMS, "Invalid assistant ID: must be a UUID") from None
    assistant = await c.storage.assistant_get(assistant_id)
    if assistant is None:
        raise RpcError(INVALID_PARAMS, f"Assistant '{assistant_id}' not found")
    try:
        await check_assistant(request, "read", assistant_id)
    except ApiError as exc:
        if exc.status == 404:
            raise RpcError(INVALID_PARAMS, f"Assistant '{assistant_id}' not found") from None
        raise RpcError(INVALID_PARAMS, f"Failed to get assistant '{assistant_id}': {exc.detail}") from None
    return assistant


async def input_fields(c: ServerContext, assistant: Assistant) -> dict[str, Any]:
    """The graph's input schema (its state schema when it has none), ``{}`` if neither."""
    schemas = await graph_schemas(c, assistant.assistant_id)
    return schemas.input_schema or schemas.state_schema or {}


async def _check_takes_messages(c: ServerContext, assistant: Assistant, parts: list[Any]) -> None:
    if not any(isinstance(p, dict) and ("text" in p or "file" in p) for p in parts):
        return  # data parts are input keys: any graph takes them
    schema = await input_fields(c, assistant)
    if not schema:
        raise RpcError(
            INVALID_PARAMS,
            f"Assistant '{assistant.assistant_id}' has no input schema defined. A2A conversational agents using "
            "text or file parts must have an input schema with a 'messages' field.",
        )
    properties = schema.get("properties") or {}
    if "messages" not in properties:
        raise RpcError(
            INVALID_PARAMS,
            f"Assistant '{assistant.assistant_id}' (graph '{assistant.graph_id}') does not support A2A "
            "conversational messages. Graph input schema must include a 'messages' field to accept text or file "
            f"parts. Available input fields: {list(properties)}",
        )


def _history_length(raw: Any) -> int | None:
    if raw is None:
        return None
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise RpcError(INVALID_PARAMS, "historyLength must be a non-negative integer")
    if raw > MAX_HISTORY_LENGTH:
        raise RpcError(INVALID_PARAMS, f"historyLength cannot exceed {MAX_HISTORY_LENGTH}")
    return raw


@dataclass(frozen=True)
class Prepared:
    """A checked ``SendMessage``: what to run, on which context, for which task."""

    assistant: Assistant
    message: dict[str, Any]
    context_id: str
    task_id: str | None  # None: a new task, named after its run
    input: dict[str, Any] | None
    command: dict[str, Any] | None
    history_length: int | None
    context: Any


async def _interrupted(c: ServerContext, context_id: str) -> bool:
    thread = await c.storage.thread_get(context_id)
    return thread is not None and thread.status == "interrupted"


async def prepare_send(c: ServerContext, request: Request, params: dict[str, Any], assistant_id: str) -> Prepared:
    configuration = params.get("configuration")
    if configuration is None:
        configuration = {}
    if not isinstance(configuration, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: 'configuration' must be an object")
    history_length = _history_length(configuration.get("historyLength"))
    message = params.get("message")
    if not isinstance(message, dict) or not message:
        raise RpcError(INVALID_PARAMS, "Missing 'message' in params")
    if not message.get("messageId"):
        raise RpcError(INVALID_PARAMS, "Missing required 'messageId' in message")
    if not message.get("role"):
        raise RpcError(INVALID_PARAMS, "Missing required 'role' in message")
    parts = message.get("parts", [])
    if not isinstance(parts, list):
        raise RpcError(INVALID_PARAMS, "Invalid params: 'parts' must be an array")
    if not parts:
        raise RpcError(INVALID_PARAMS, "Message must contain at least one part")
    assistant = await get_assistant(c, request, assistant_id)
    await _check_takes_messages(c, assistant, parts)
    context_id, task_id = message.get("contextId"), message.get("taskId")
    if context_id is not None and not isinstance(context_id, str):
        raise RpcError(INVALID_PARAMS, "contextId must be a string")
    if task_id is not None and not isinstance(task_id, str):
        raise RpcError(INVALID_PARAMS, "taskId must be a string")
    if task_id is not None:
        task = await resolve_task(c, request, task_id, context_id, assistant.assistant_id)
        if task is None:
            raise RpcError(TASK_NOT_FOUND, f"Task not found: {task_id}")
        if task.state in TERMINAL:
            raise RpcError(UNSUPPORTED_OPERATION, "A terminal task cannot accept another message")
        context_id = task.context_id
    try:
        graph_input: dict[str, Any] | None = parts_.message_input(parts, str(message["role"]), str(message["messageId"]))
        has_resume, resume = parts_.extract_resume(parts)
    except ValueError as exc:
        raise RpcError(CONTENT_TYPE_NOT_SUPPORTED, str(exc)) from None
    command = message.get("command")  # LangGraph's extension: a Command for the run
    if command is not None and not isinstance(command, dict):
        raise RpcError(INVALID_PARAMS, "command must be an object")
    if command and command.get("resume") is not None:
        if not message.get("contextId"):
            raise RpcError(INVALID_PARAMS, "contextId is required when resuming a task with command.resume")
        if task_id is None:
            raise RpcError(INVALID_PARAMS, "taskId is required when resuming a task")
    elif has_resume:
        if not context_id or task_id is None:
            raise RpcError(INVALID_PARAMS, "contextId and taskId are required when resuming a task")
        if not await _interrupted(c, context_id):
            raise RpcError(INVALID_PARAMS, "Task is not awaiting input")
        command = {"resume": resume}
        graph_input = {k: v for k, v in (graph_input or {}).items() if k != "resume"}
    elif task_id is not None and context_id and (text := parts_.joined_text(parts)) is not None:
        # a text answer to a task waiting at an interrupt resumes it
        if await _interrupted(c, context_id):
            command = {"resume": text}
            graph_input = {k: v for k, v in (graph_input or {}).items() if k != "messages"}
    if command:
        graph_input = graph_input or None
    return Prepared(
        assistant, message, context_id or str(uuid.uuid4()), task_id, graph_input, command or None,
        history_length, params.get("context"),
    )


async def start(c: ServerContext, request: Request, p: Prepared, stream_mode: list[str] | None = None) -> tuple[Run, str]:
    """The run for ``p`` and its task's id."""
    command = CommandBody(**{k: v for k, v in p.command.items() if k in ("update", "resume", "goto")}) if p.command else None
    body = RunCreate(
        assistant_id=p.assistant.assistant_id,
        input=p.input,
        command=command,
        context=p.context if isinstance(p.context, dict) else None,
        metadata={"a2a": {"task_id": p.task_id}} if p.task_id else {"a2a": {}},
        if_not_exists="create",
        stream_mode=stream_mode or "values",  # type: ignore[arg-type]
    )
    try:
        run = await start_run(c, request, p.context_id, body)
    except ApiError as exc:
        if exc.status == 404 and "thread" in exc.detail.lower():
            # another user's context, with LangGraph's words and data for it
            raise RpcError(
                INVALID_PARAMS,
                f"Thread '{p.context_id}' not found. Please create the thread first before sending messages to it.",
                {"thread_id": p.context_id, "error_type": "thread_not_found"},
            ) from None
        if exc.status == 404:
            raise RpcError(INVALID_PARAMS, f"Assistant '{p.assistant.assistant_id}' not found") from None
        if exc.status == 403:
            raise RpcError(INVALID_PARAMS, "Access denied to assistant or thread") from None
        raise RpcError(INVALID_PARAMS, f"Invalid request: {exc.detail}") from None
    return run, p.task_id or task_id_for(run.thread_id, run.run_id)


def task_body(task_id: str, context_id: str, result: Any, assistant_id: str, history_length: int | None) -> dict[str, Any]:
    """The task a finished ``SendMessage`` answers with."""
    result = result if isinstance(result, dict) else {"output": result}
    task: dict[str, Any] = {"kind": "task", "id": task_id, "contextId": context_id}
    if history_length != 0:
        task["history"] = parts_.history(result.get("messages"), task_id, context_id, history_length)
    if "__error__" in result:
        error = result["__error__"]
        name = error.get("error") if isinstance(error, dict) else error
        text = f"Error executing assistant: {name}"
        task["status"] = {"state": "TASK_STATE_FAILED", "message": parts_.agent_message([{"kind": "text", "text": text}], task_id, context_id)}
    elif "__interrupt__" in result:
        task["status"] = {"state": "TASK_STATE_INPUT_REQUIRED", "timestamp": parts_.now_iso()}
        task["artifacts"] = [parts_.interrupt_artifact(result["__interrupt__"])]
    else:
        task["status"] = {"state": "TASK_STATE_COMPLETED", "timestamp": parts_.now_iso()}
        task["artifacts"] = [parts_.response_artifact(parts_.response_parts(result), assistant_id)]
    return task


async def message_send(c: ServerContext, request: Request, params: dict[str, Any], assistant_id: str) -> dict[str, Any]:
    p = await prepare_send(c, request, params, assistant_id)
    run, task_id = await start(c, request, p)
    result = await wait_output(c, run.run_id)
    return {"task": task_body(task_id, run.thread_id, result, p.assistant.assistant_id, p.history_length)}


def _task_ref(params: dict[str, Any]) -> tuple[str, str | None]:
    task_id, context_id = params.get("id"), params.get("contextId")
    if not task_id:
        raise RpcError(INVALID_PARAMS, "Missing required parameter: id (task_id)")
    if not isinstance(task_id, str) or (context_id is not None and not isinstance(context_id, str)):
        raise RpcError(INVALID_PARAMS, "Task id and contextId must be strings")
    return task_id, context_id


def _status(task: Task) -> dict[str, Any]:
    status: dict[str, Any] = {"state": task.state, "timestamp": task.run.updated_at.isoformat()}
    if task.state == "TASK_STATE_COMPLETED":
        status["message"] = parts_.agent_message([{"kind": "text", "text": "Task completed successfully"}], task.task_id)
    elif task.state == "TASK_STATE_FAILED":
        text = f"Task failed with status: {task.run.status}"
        status["message"] = parts_.agent_message([{"kind": "text", "text": text}], task.task_id)
    return status


async def _messages(c: ServerContext, context_id: str) -> Any:
    thread = await c.storage.thread_get(context_id)
    values = thread.values if thread is not None else None
    return values.get("messages") if isinstance(values, dict) else None


async def tasks_get(c: ServerContext, request: Request, params: dict[str, Any], assistant_id: str) -> dict[str, Any]:
    task_id, context_id = _task_ref(params)
    assistant = await get_assistant(c, request, assistant_id)
    task = await resolve_task(c, request, task_id, context_id, assistant.assistant_id)
    if task is None:
        where = f" in context '{context_id}'" if context_id else ""
        raise RpcError(TASK_NOT_FOUND, f"Task not found: {task_id}{where}")
    history_length = _history_length(params.get("historyLength"))
    body: dict[str, Any] = {"kind": "task", "id": task.task_id, "contextId": task.context_id, "status": _status(task)}
    if history_length != 0:
        body["history"] = parts_.history(await _messages(c, task.context_id), task.task_id, task.context_id, history_length)
    return body


async def tasks_cancel(c: ServerContext, request: Request, params: dict[str, Any], assistant_id: str) -> dict[str, Any]:
    task_id, context_id = _task_ref(params)
    assistant = await get_assistant(c, request, assistant_id)
    task = await resolve_task(c, request, task_id, context_id, assistant.assistant_id)
    if task is not None:
        # cancelling is what POST /threads/{thread_id}/runs/{run_id}/cancel checks: updating the thread
        value = {"thread_id": task.context_id, "action": "interrupt", "metadata": {"run_ids": [task.run.run_id], "status": None}}
        try:
            await check_thread(request, "update", task.context_id, value)
        except ApiError:
            task = None
    if task is None:
        raise RpcError(TASK_NOT_FOUND, f"Task not found: {task_id}")
    if task.state in TERMINAL:
        raise RpcError(TASK_NOT_CANCELABLE, "Task is not cancelable in its current state")
    if task.run.status not in ("pending", "running"):
        raise RpcError(TASK_NOT_CANCELABLE, "Task has no active run to cancel")
    await c.run_manager.cancel(task.run.run_id, "interrupt")
    await c.run_manager.wait_done(task.run.run_id)
    status = {
        "state": "TASK_STATE_CANCELED",
        "timestamp": parts_.now_iso(),
        "message": parts_.agent_message([{"kind": "text", "text": "Task was canceled"}], task_id),
    }
    return {"kind": "task", "id": task_id, "contextId": task.context_id, "status": status}


async def list_tasks(c: ServerContext, request: Request, params: dict[str, Any], assistant_id: str) -> dict[str, Any]:
    """The assistant's tasks on the threads the user may see, newest first (``contextId``
    narrows them to one context, ``pageSize`` caps them)."""
    assistant = await get_assistant(c, request, assistant_id)
    context_id = params.get("contextId")
    page_size = params.get("pageSize", 50)
    if context_id is not None and not isinstance(context_id, str):
        raise RpcError(INVALID_PARAMS, "contextId must be a string")
    if not isinstance(page_size, int) or isinstance(page_size, bool) or not 1 <= page_size <= 100:
        raise RpcError(INVALID_PARAMS, "pageSize must be an integer from 1 to 100")
    if context_id is not None:
        thread = await c.storage.thread_get(context_id) if _is_uuid(context_id) else None
        if thread is not None and not await _readable(request, context_id):
            thread = None
        threads = [thread] if thread is not None else []
    else:
        metadata = {"assistant_id": assistant.assistant_id}
        try:
            keep = await thread_keep(request, {"metadata": dict(metadata), "values": {}, "status": None, "limit": page_size, "offset": 0})
        except ApiError as exc:  # the auth handler refused the search
            raise RpcError(INVALID_PARAMS, f"Failed to list tasks: {exc.detail}") from None
        threads = await c.storage.thread_search(metadata=metadata, limit=page_size, keep=keep)
    tasks: list[dict[str, Any]] = []
    for thread in threads:
        seen: set[str] = set()
        runs = await c.storage.run_list(thread.thread_id, limit=_RUN_SCAN, offset=0)
        for i, run in enumerate(runs):
            if run.assistant_id != assistant.assistant_id:
                continue
            task_id = _task_of(run) or task_id_for(thread.thread_id, run.run_id)
            if task_id in seen:
                continue  # a later run of the same task already stands for it
            seen.add(task_id)
            task = Task(task_id, thread.thread_id, run, run_state(run, thread if i == 0 else None))
            tasks.append({"kind": "task", "id": task_id, "contextId": thread.thread_id, "status": _status(task)})
    tasks.sort(key=lambda t: t["status"]["timestamp"], reverse=True)
    return {"tasks": tasks[:page_size], "nextPageToken": "", "pageSize": page_size, "totalSize": len(tasks)}


async def _readable(request: Request, thread_id: str) -> bool:
    try:
        await check_thread(request, "read", thread_id)
    except ApiError:
        return False
    return True


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True

