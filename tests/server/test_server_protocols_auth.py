"""Custom auth on ``/mcp`` and ``/a2a/{assistant_id}``, driven by the MCP and A2A
projects' own clients as alice and bob (and nobody): each user's MCP tools are the
assistants they may see, a tool call runs as them, and an A2A task on another user's
thread is not found, as LangGraph's server answers through its HTTP API."""

from __future__ import annotations

import ast
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from a2a.client import A2ACardResolver, Client, ClientConfig, create_client
from a2a.types.a2a_pb2 import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    Message,
    Part,
    Role,
    SendMessageRequest,
    StreamResponse,
    TaskState,
)
from a2a.utils.errors import TaskNotFoundError
from langgraph_sdk import get_client
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

from tests.server.conftest import Server
from tests.server.test_server_auth import AUTH_MODULE, HEADERS, auth_app_folder

pytestmark = pytest.mark.anyio

# besides AUTH_MODULE's owner-only rules: an assistant marked shared may be read by all
# (so bob may talk to it over A2A, and its tasks' threads still keep him out)
SHARED_READ = '''

@auth.on.assistants.read
async def own_or_shared(ctx: Auth.types.AuthContext, value: dict):
    return {"$or": [{"owner": ctx.user.identity}, {"shared": True}]}
'''


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = auth_app_folder(tmp_path_factory.mktemp("protocols-auth"), {"echo": "./agent_graphs.py:echo"})
    (folder / "auth.py").write_text(AUTH_MODULE + SHARED_READ)
    srv = Server(folder).start()
    try:
        yield srv
    finally:
        srv.stop()


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def _assistant(server: Server, user: str, graph_id: str, name: str, **metadata: Any) -> str:
    client = get_client(url=server.url, headers=HEADERS[user])
    made = await client.assistants.create(graph_id, name=name, metadata=metadata or None)
    return str(made["assistant_id"])


# -- MCP ----------------------------------------------------------------------------------------


@asynccontextmanager
async def mcp_session(server: Server, user: str) -> AsyncIterator[ClientSession]:
    async with (
        create_mcp_http_client(headers=HEADERS[user]) as http,
        streamable_http_client(server.url + "/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as s,
    ):
        await s.initialize()
        yield s


async def test_mcp_lists_and_calls_only_the_assistants_the_user_may_see(server: Server) -> None:
    alices = _unique("alices")
    await _assistant(server, "alice", "simple", alices)
    async with mcp_session(server, "alice") as alice:
        assert alices in {t.name for t in (await alice.list_tools()).tools}
        called = await alice.call_tool(alices, {"x": 1})
    assert called.is_error is False
    async with mcp_session(server, "bob") as bob:
        listed = {t.name for t in (await bob.list_tools()).tools}
        with pytest.raises(MCPError, match=f"Unknown tool: {alices}"):
            await bob.call_tool(alices, {"x": 1})
    assert alices not in listed
    # the graphs' own assistants are filtered as the assistants search filters them
    search = await get_client(url=server.url, headers=HEADERS["bob"]).assistants.search(limit=1000)
    assert listed == {a["name"] for a in search}


async def test_an_mcp_tool_call_runs_as_the_user(server: Server) -> None:
    name = _unique("alices-whoami")
    await _assistant(server, "alice", "whoami", name)
    async with mcp_session(server, "alice") as alice:
        result = await alice.call_tool(name, {})
    assert result.is_error is False
    output = ast.literal_eval(result.content[0].text)  # type: ignore[union-attr]
    assert output["who"] == "alice"
    assert output["runtime_user"] == ["alice", "alice", "whoami"]


def test_nobody_gets_401_from_mcp_and_a2a(server: Server) -> None:
    """(The middleware already covers both: this guards that it stays so.)"""
    aid = str(uuid.uuid4())
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    accept = {"Accept": "application/json, text/event-stream"}
    assert httpx.post(server.url + "/mcp", json=initialize, headers=accept).status_code == 401
    get_task = {"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": f"{aid}:{aid}"}}
    assert httpx.post(f"{server.url}/a2a/{aid}", json=get_task, headers={"Accept": "application/json"}).status_code == 401
    assert httpx.get(f"{server.url}/a2a/{aid}/.well-known/agent-card.json").status_code == 401


# -- A2A ----------------------------------------------------------------------------------------


@asynccontextmanager
async def agent(server: Server, user: str, assistant_id: str, *, streaming: bool = False) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(timeout=30, headers=HEADERS[user]) as http:
        card = await A2ACardResolver(http, f"{server.url}/a2a/{assistant_id}").get_agent_card()
        yield await create_client(card, ClientConfig(streaming=streaming, httpx_client=http))


def message(text: str | None = None, *, data: dict[str, Any] | None = None, **ids: str) -> SendMessageRequest:
    part = Part(text=text) if text is not None else Part()
    if data is not None:
        part.data.struct_value.update(data)
    return SendMessageRequest(message=Message(role=Role.ROLE_USER, parts=[part], message_id=str(uuid.uuid4()), **ids))


async def events(client: Client, request: SendMessageRequest) -> list[StreamResponse]:
    return [e async for e in client.send_message(request)]


async def rpc(server: Server, user: str, assistant_id: str, method: str, params: dict[str, Any], *, stream: bool = False) -> Any:
    """The JSON-RPC answer (a stream's first event)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    accept = "text/event-stream" if stream else "application/json"
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(f"{server.url}/a2a/{assistant_id}", json=body, headers={**HEADERS[user], "Accept": accept})
    assert answer.status_code == 200, answer.text
    if not stream:
        return answer.json()
    data = next(line for line in answer.text.splitlines() if line.startswith("data: "))
    return httpx.Response(200, content=data.removeprefix("data: ")).json()


def _send(text: str, **ids: str) -> dict[str, Any]:
    return {"message": {"role": "ROLE_USER", "parts": [{"text": text}], "messageId": str(uuid.uuid4()), **ids}}


async def test_a2a_answers_not_found_for_an_assistant_the_user_may_not_read(server: Server) -> None:
    private = await _assistant(server, "alice", "echo", _unique("alices-echo"))
    async with agent(server, "alice", private) as alice:
        [event] = await events(alice, message("hi"))
    assert event.task.status.state == TaskState.TASK_STATE_COMPLETED
    not_found = {"code": -32602, "message": f"Assistant '{private}' not found"}
    card = httpx.get(f"{server.url}/a2a/{private}/.well-known/agent-card.json", headers=HEADERS["bob"])
    assert (card.status_code, card.json()) == (400, {"error": not_found})
    for method, params in (("SendMessage", _send("hi")), ("ListTasks", {}), ("GetTask", {"id": event.task.id})):
        assert (await rpc(server, "bob", private, method, params))["error"] == not_found, method


async def test_a2a_tasks_on_anothers_thread_are_not_found_nor_listed_nor_continued(server: Server) -> None:
    shared = await _assistant(server, "alice", "echo", _unique("shared-echo"), shared=True)
    async with agent(server, "alice", shared) as alice:
        [asked] = await events(alice, message("ask me"))  # waits for input: a task one could continue
    task = asked.task
    assert task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    async with agent(server, "bob", shared) as bob:
        with pytest.raises(TaskNotFoundError):
            await bob.get_task(GetTaskRequest(id=task.id))
        with pytest.raises(TaskNotFoundError):
            await bob.cancel_task(CancelTaskRequest(id=task.id))
        assert list((await bob.list_tasks(ListTasksRequest(context_id=task.context_id))).tasks) == []
        with pytest.raises(TaskNotFoundError):
            await events(bob, message("hello", context_id=task.context_id, task_id=task.id))
        # bob's own task on the same assistant is his to read and list
        [own] = await events(bob, message("mine"))
        assert (await bob.get_task(GetTaskRequest(id=own.task.id))).status.state == TaskState.TASK_STATE_COMPLETED
        everywhere = await bob.list_tasks(ListTasksRequest(page_size=100))
    assert [t.id for t in everywhere.tasks] == [own.task.id]
    thread_not_found = {
        "code": -32602,
        "message": f"Thread '{task.context_id}' not found. Please create the thread first before sending messages to it.",
        "data": {"thread_id": task.context_id, "error_type": "thread_not_found"},
    }
    into = _send("hijack", contextId=task.context_id)
    assert (await rpc(server, "bob", shared, "SendMessage", into))["error"] == thread_not_found
    assert (await rpc(server, "bob", shared, "SendStreamingMessage", into, stream=True))["error"] == thread_not_found
    # alice's thread holds only her own run, and her task goes on
    runs = await get_client(url=server.url, headers=HEADERS["alice"]).runs.list(task.context_id)
    assert len(runs) == 1
    async with agent(server, "alice", shared) as alice:
        assert task.id in {t.id for t in (await alice.list_tasks(ListTasksRequest(context_id=task.context_id))).tasks}
        [answered] = await events(alice, message("hello", context_id=task.context_id, task_id=task.id))
    assert answered.task.status.state == TaskState.TASK_STATE_COMPLETED


async def test_a2a_a_user_cannot_cancel_anothers_running_task(server: Server) -> None:
    shared = await _assistant(server, "alice", "echo", _unique("shared-sleeper"), shared=True)
    async with agent(server, "alice", shared, streaming=True) as alice:
        stream = alice.send_message(message("sleep 30"))
        first = await anext(stream)
        async with agent(server, "bob", shared) as bob:
            with pytest.raises(TaskNotFoundError):
                await bob.cancel_task(CancelTaskRequest(id=first.task.id))
        cancelled = await alice.cancel_task(CancelTaskRequest(id=first.task.id))
        rest = [e async for e in stream]
    assert cancelled.status.state == TaskState.TASK_STATE_CANCELED
    assert rest[-1].status_update.status.state == TaskState.TASK_STATE_CANCELED


async def test_an_a2a_run_carries_the_user_to_the_graph(server: Server) -> None:
    mine = await _assistant(server, "alice", "whoami", _unique("alices-whoami"))
    async with agent(server, "alice", mine) as alice:
        [event] = await events(alice, message(data={"who": "someone else"}))
    assert event.task.status.state == TaskState.TASK_STATE_COMPLETED
    output = ast.literal_eval(event.task.artifacts[0].parts[0].text)
    assert output["who"] == "alice"
