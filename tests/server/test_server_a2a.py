"""``/a2a/{assistant_id}``: each assistant as an Agent2Agent agent, driven by the A2A
project's own Python client (``a2a-sdk``) against a real server: the agent card, a
message and its reply, streaming, tasks (get, list, cancel, input-required and resume),
and the JSON-RPC error shapes for bad requests (never a 5xx)."""

from __future__ import annotations

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
from a2a.utils.errors import InvalidParamsError, TaskNotFoundError

from tests.server.conftest import Server, make_app_folder

pytestmark = pytest.mark.anyio

GRAPHS = {"echo": "./agent_graphs.py:echo", "doubler": "./agent_graphs.py:doubler"}
ECHO = "046b5dc7-2108-582c-9c6c-31d556d138f0"  # the system assistant of graph "echo"
DOUBLER = "0840878c-063b-5b7a-ad2d-51b2fe9829e5"
MISSING = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(make_app_folder(tmp_path_factory.mktemp("a2a"), GRAPHS)).start()
    try:
        yield srv
    finally:
        srv.stop()


@asynccontextmanager
async def agent(server: Server, assistant_id: str = ECHO, *, streaming: bool = False) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(timeout=30) as http:
        card = await A2ACardResolver(http, f"{server.url}/a2a/{assistant_id}").get_agent_card()
        client = await create_client(card, ClientConfig(streaming=streaming, httpx_client=http))
        yield client


def message(text: str | None = None, *, data: dict[str, Any] | None = None, **ids: str) -> SendMessageRequest:
    part = Part(text=text) if text is not None else Part()
    if data is not None:
        part.data.struct_value.update(data)
    return SendMessageRequest(message=Message(role=Role.ROLE_USER, parts=[part], message_id=str(uuid.uuid4()), **ids))


async def events(client: Client, request: SendMessageRequest) -> list[StreamResponse]:
    return [e async for e in client.send_message(request)]


def texts(parts: Any) -> list[str]:
    return [p.text for p in parts if p.text]


async def rpc(server: Server, body: Any, assistant_id: str = ECHO, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        content = body if isinstance(body, bytes) else None
        return await http.post(
            f"{server.url}/a2a/{assistant_id}",
            content=content,
            json=None if content is not None else body,
            headers={"Accept": "application/json", "Content-Type": "application/json", **headers},
        )


async def test_the_agent_card_describes_the_assistant(server: Server) -> None:
    async with httpx.AsyncClient() as http:
        card = await A2ACardResolver(http, f"{server.url}/a2a/{ECHO}").get_agent_card()
    assert card.name == "echo"
    assert card.description == "echo assistant"
    [interface] = card.supported_interfaces
    assert (interface.url, interface.protocol_binding, interface.protocol_version) == (
        f"{server.url}/a2a/{ECHO}", "JSONRPC", "1.0",
    )
    assert card.capabilities.streaming is True
    [skill] = card.skills
    assert skill.id == f"{ECHO}-main"
    assert skill.name == "echo Capabilities"
    async with httpx.AsyncClient() as http:
        raw = (await http.get(f"{server.url}/a2a/{ECHO}/.well-known/agent-card.json")).json()
    # what the graph takes (the 1.x client's skill has no metadata field: read the JSON)
    assert raw["skills"][0]["metadata"] == {"inputSchema": {"required": ["messages"], "properties": ["messages"], "supportsA2A": True}}


async def test_the_card_is_also_at_the_agent_url_and_the_domain_root(server: Server) -> None:
    async with httpx.AsyncClient() as http:
        at_url = (await http.get(f"{server.url}/a2a/{ECHO}")).json()
        legacy_path = (await http.get(f"{server.url}/a2a/{ECHO}/.well-known/agent.json")).json()
        root = (await http.get(f"{server.url}/.well-known/agent-card.json", params={"assistant_id": ECHO})).json()
        unknown = await http.get(f"{server.url}/a2a/{MISSING}/.well-known/agent-card.json")
        not_uuid = await http.get(f"{server.url}/a2a/echo/.well-known/agent-card.json")
        no_id = await http.get(f"{server.url}/.well-known/agent-card.json")
    assert at_url["name"] == legacy_path["name"] == root["name"] == "echo"
    assert unknown.status_code == 400
    assert unknown.json() == {"error": {"code": -32602, "message": f"Assistant '{MISSING}' not found"}}
    assert not_uuid.status_code == 400 and not_uuid.json()["error"]["message"] == "Invalid assistant ID: must be a UUID"
    assert no_id.status_code == 400 and "assistant_id" in no_id.json()["error"]["message"]


async def test_a_message_runs_the_assistant_and_the_task_holds_its_reply(server: Server) -> None:
    async with agent(server) as client:
        [event] = await events(client, message("hello"))
    task = event.task
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    context_id, _, run_id = task.id.partition(":")
    assert task.context_id == context_id and uuid.UUID(run_id)
    [artifact] = task.artifacts
    assert artifact.name == "Assistant Response"
    assert texts(artifact.parts) == ["echo: hello"]
    assert [(m.role, texts(m.parts)) for m in task.history] == [
        (Role.ROLE_USER, ["hello"]), (Role.ROLE_AGENT, ["echo: hello"]),
    ]


async def test_a_context_keeps_the_conversation(server: Server) -> None:
    async with agent(server) as client:
        [first] = await events(client, message("one"))
        [second] = await events(client, message("two", context_id=first.task.context_id))
    assert second.task.context_id == first.task.context_id
    assert second.task.id != first.task.id
    assert [texts(m.parts) for m in second.task.history] == [["one"], ["echo: one"], ["two"], ["echo: two"]]


async def test_streaming_sends_the_task_then_updates_then_the_reply(server: Server) -> None:
    async with agent(server, streaming=True) as client:
        stream = await events(client, message("hi there"))
    kinds = [e.WhichOneof("payload") for e in stream]
    assert kinds[0] == "task" and kinds[-2:] == ["artifact_update", "status_update"]
    assert stream[0].task.status.state == TaskState.TASK_STATE_SUBMITTED
    task_id = stream[0].task.id
    working = [e.status_update for e in stream[1:-2]]
    assert working and all(u.status.state == TaskState.TASK_STATE_WORKING and u.task_id == task_id for u in working)
    # the fake model streams its reply token by token: each update carries the text so far
    assert texts(working[-1].status.message.parts) == ["echo: hi there"]
    assert texts(stream[-2].artifact_update.artifact.parts) == ["echo: hi there"]
    assert stream[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED


async def test_a_failing_graph_fails_the_task(server: Server) -> None:
    async with agent(server) as client:
        [event] = await events(client, message("fail"))
        assert event.task.status.state == TaskState.TASK_STATE_FAILED
        assert texts(event.task.status.message.parts) == ["Error executing assistant: RuntimeError"]
        got = await client.get_task(GetTaskRequest(id=event.task.id))
    assert got.status.state == TaskState.TASK_STATE_FAILED
    assert texts(got.status.message.parts) == ["Task failed with status: error"]


async def test_a_failing_graph_fails_the_streamed_task(server: Server) -> None:
    async with agent(server, streaming=True) as client:
        stream = await events(client, message("fail"))
    last = stream[-1].status_update
    assert last.status.state == TaskState.TASK_STATE_FAILED
    assert texts(last.status.message.parts) == ["the agent failed on purpose"]


async def test_get_and_list_tasks(server: Server) -> None:
    async with agent(server) as client:
        [event] = await events(client, message("remember me"))
        got = await client.get_task(GetTaskRequest(id=event.task.id, history_length=1))
        listed = await client.list_tasks(ListTasksRequest(context_id=event.task.context_id))
        everywhere = await client.list_tasks(ListTasksRequest(page_size=100))
        with pytest.raises(TaskNotFoundError):
            await client.get_task(GetTaskRequest(id=f"{event.task.context_id}:{uuid.uuid4()}"))
    assert got.id == event.task.id
    assert got.status.state == TaskState.TASK_STATE_COMPLETED
    assert [texts(m.parts) for m in got.history] == [["echo: remember me"]]
    assert [t.id for t in listed.tasks] == [event.task.id]
    assert event.task.id in [t.id for t in everywhere.tasks]
    assert all(t.id.partition(":")[0] == t.context_id for t in everywhere.tasks)


async def test_an_interrupt_asks_for_input_and_a_reply_resumes_the_task(server: Server) -> None:
    async with agent(server) as client:
        [asked] = await events(client, message("ask me"))
        task = asked.task
        assert task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
        [interrupt] = task.artifacts
        assert interrupt.name == "Interrupt"
        assert interrupt.parts[0].data.struct_value["value"] == "what should I say?"
        [answered] = await events(client, message("hello", context_id=task.context_id, task_id=task.id))
    # the same task goes on and completes with the answer
    assert answered.task.id == task.id
    assert answered.task.status.state == TaskState.TASK_STATE_COMPLETED
    assert texts(answered.task.artifacts[0].parts) == ["echo: you said hello"]


async def test_a_finished_task_takes_no_more_messages(server: Server) -> None:
    async with agent(server) as client:
        [done] = await events(client, message("once"))
        body = await rpc(server, {
            "jsonrpc": "2.0", "id": 3, "method": "SendMessage",
            "params": {"message": {"role": "ROLE_USER", "parts": [{"text": "again"}], "messageId": "m",
                                   "taskId": done.task.id, "contextId": done.task.context_id}},
        })
        with pytest.raises(Exception, match="not cancelable"):
            await client.cancel_task(CancelTaskRequest(id=done.task.id))
    assert body.json()["error"] == {"code": -32004, "message": "A terminal task cannot accept another message"}


async def test_cancel_a_running_task(server: Server) -> None:
    async with agent(server, streaming=True) as client:
        stream = client.send_message(message("sleep 30"))
        first = await anext(stream)
        task_id = first.task.id
        cancelled = await client.cancel_task(CancelTaskRequest(id=task_id))
        rest = [e async for e in stream]
    assert cancelled.status.state == TaskState.TASK_STATE_CANCELED
    assert rest[-1].status_update.status.state == TaskState.TASK_STATE_CANCELED


async def test_a_data_part_is_graph_input(server: Server) -> None:
    async with agent(server, DOUBLER) as client:
        [event] = await events(client, message(data={"x": 5}))
        with pytest.raises(InvalidParamsError, match="messages"):
            await events(client, message("text for a graph without messages"))
    assert event.task.status.state == TaskState.TASK_STATE_COMPLETED
    # the output without messages, as text (the client's protobuf Struct sends numbers as floats)
    assert texts(event.task.artifacts[0].parts) == ["{'x': 5.0, 'y': 10.0}"]


async def test_the_0x_method_names_answer_in_the_0x_spelling(server: Server) -> None:
    msg = {"kind": "message", "role": "user", "parts": [{"kind": "text", "text": "old"}], "messageId": "m1"}
    sent = (await rpc(server, {"jsonrpc": "2.0", "id": "a", "method": "message/send", "params": {"message": msg}})).json()
    result = sent["result"]
    assert result["kind"] == "task" and result["status"]["state"] == "completed"
    assert [m["role"] for m in result["history"]] == ["user", "agent"]
    got = (await rpc(server, {"jsonrpc": "2.0", "id": "b", "method": "tasks/get", "params": {"id": result["id"]}})).json()
    assert got["result"]["status"]["state"] == "completed"


async def test_bad_requests_get_json_rpc_errors_never_a_5xx(server: Server) -> None:
    def error(response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        return response.json()["error"]  # type: ignore[no-any-return]

    send = {"message": {"role": "ROLE_USER", "parts": [{"text": "x"}], "messageId": "m"}}
    assert error(await rpc(server, b"{not json")) == {"code": -32700, "message": "Invalid JSON payload"}
    assert error(await rpc(server, [1, 2]))["code"] == -32600
    assert error(await rpc(server, {"id": 1, "method": "GetTask"}))["code"] == -32600
    assert error(await rpc(server, {"jsonrpc": "2.0", "id": {"x": 1}, "method": "GetTask"}))["code"] == -32600
    assert error(await rpc(server, {"jsonrpc": "2.0", "id": 1, "method": "Nope"})) == {
        "code": -32601, "message": "Method not found: Nope",
    }
    assert error(await rpc(server, {"jsonrpc": "2.0", "id": 1, "method": 5}))["code"] == -32601
    assert error(await rpc(server, {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {}})) == {
        "code": -32602, "message": "Missing or invalid 'message' in params",
    }
    assert error(await rpc(server, {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": send}, MISSING)) == {
        "code": -32602, "message": f"Assistant '{MISSING}' not found",
    }
    assert error(await rpc(server, {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": send}, "echo")) == {
        "code": -32602, "message": "Invalid assistant ID: must be a UUID",
    }
    no_parts = {"message": {"role": "ROLE_USER", "parts": [], "messageId": "m"}}
    assert error(await rpc(server, {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": no_parts}))["code"] == -32602
    bad_part = {"message": {"role": "ROLE_USER", "parts": [{"text": "a", "data": {}}], "messageId": "m"}}
    assert error(await rpc(server, {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": bad_part}))["code"] == -32005
    bad_history = {**send, "configuration": {"historyLength": -1}}
    assert error(await rpc(server, {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": bad_history}))["code"] == -32602
    assert error(await rpc(server, {"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {}}))["code"] == -32602
    assert error(await rpc(server, {"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "junk"}}))["code"] == -32001
    assert error(await rpc(server, {"jsonrpc": "2.0", "id": 1, "method": "CancelTask", "params": {"id": "a:b"}}))["code"] == -32001
    wrong_accept = await rpc(server, {"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {}}, Accept="text/html")
    assert wrong_accept.status_code == 400 and "Accept" in wrong_accept.json()["error"]
    # a streamed request's errors come as an event of the stream
    async with httpx.AsyncClient(timeout=30) as http:
        streamed = await http.post(
            f"{server.url}/a2a/{MISSING}", headers={"Accept": "text/event-stream"},
            json={"jsonrpc": "2.0", "id": 9, "method": "SendStreamingMessage", "params": send},
        )
    assert streamed.status_code == 200
    assert f"Assistant '{MISSING}' not found" in streamed.text and '"id":9' in streamed.text
