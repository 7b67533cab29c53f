"""``/mcp``: each assistant is an MCP tool over the streamable HTTP transport, driven by
the official MCP Python client (``mcp.client.streamable_http`` + ``ClientSession``)
against a real server; a call runs the assistant and answers with its output or error."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from langgraph_sdk import get_client
from mcp import ClientSession, types
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.server.conftest import Server, make_app_folder

pytestmark = pytest.mark.anyio

GRAPHS = {"echo": "./agent_graphs.py:echo", "doubler": "./agent_graphs.py:doubler"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(make_app_folder(tmp_path_factory.mktemp("mcp"), GRAPHS)).start()
    try:
        yield srv
    finally:
        srv.stop()


@asynccontextmanager
async def session(server: Server) -> AsyncIterator[ClientSession]:
    async with streamable_http_client(server.url + "/mcp") as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        yield s


async def test_initialize_names_the_server_and_offers_tools(server: Server) -> None:
    async with streamable_http_client(server.url + "/mcp") as (read, write), ClientSession(read, write) as s:
        init = await s.initialize()
    assert init.server_info.name == "actorgraph"
    assert init.capabilities.tools is not None


async def test_each_assistant_is_a_tool_with_its_graphs_input_schema(server: Server) -> None:
    async with session(server) as s:
        listed = await s.list_tools()
    tools = {t.name: t for t in listed.tools}
    assert set(tools) == {"echo", "doubler"}
    doubler = tools["doubler"]
    assert doubler.title == "doubler"
    assert doubler.description == "Tool based on the doubler assistant"
    assert doubler.input_schema["type"] == "object"
    assert doubler.input_schema["properties"]["x"] == {"title": "X", "type": "integer"}
    assert "x" in doubler.input_schema["required"]
    # a list of LangChain messages is offered to the model as one string
    assert tools["echo"].input_schema["properties"]["messages"]["type"] == "string"
    assert doubler.annotations is not None and doubler.annotations.open_world_hint is True


async def test_a_user_made_assistant_is_a_tool_named_after_it(server: Server) -> None:
    client = get_client(url=server.url)
    made = await client.assistants.create(graph_id="doubler", name="Twice As Much!", description="Doubles x.")
    try:
        async with session(server) as s:
            tools = {t.name: t for t in (await s.list_tools()).tools}
            assert tools["Twice_As_Much"].description == "Doubles x."
            assert tools["Twice_As_Much"].title == "Twice As Much!"
            result = await s.call_tool("Twice_As_Much", {"x": 21})
        assert result.is_error is False
        assert result.content[0].text == "{'x': 21, 'y': 42}"  # type: ignore[union-attr]
    finally:
        await client.assistants.delete(made["assistant_id"])


async def test_calling_a_tool_runs_the_assistant_and_returns_its_output(server: Server) -> None:
    async with session(server) as s:
        result = await s.call_tool("doubler", {"x": 4})
    assert result.is_error is False
    # the graph's output as LangGraph's server gives it: the Python repr of the values
    assert [(c.type, c.text) for c in result.content] == [("text", "{'x': 4, 'y': 8}")]  # type: ignore[union-attr]


async def test_a_chat_assistant_takes_the_message_as_a_string(server: Server) -> None:
    async with session(server) as s:
        result = await s.call_tool("echo", {"messages": "hello"})
    assert result.is_error is False
    assert "echo: hello" in result.content[0].text  # type: ignore[union-attr]


async def test_a_failing_graph_is_a_tool_error_result_not_a_crash(server: Server) -> None:
    async with session(server) as s:
        failed = await s.call_tool("doubler", {"x": 13})
        assert failed.is_error is True
        assert [c.text for c in failed.content] == ["ValueError"]  # type: ignore[union-attr]
        # the server goes on serving
        assert (await s.call_tool("doubler", {"x": 1})).is_error is False


async def test_an_unknown_tool_is_a_protocol_error(server: Server) -> None:
    async with session(server) as s:
        with pytest.raises(MCPError) as info:
            await s.call_tool("no_such_tool", {})
    assert info.value.code == -32602
    assert info.value.message == "Unknown tool: no_such_tool"


async def test_bad_requests_get_json_rpc_errors_never_a_5xx(server: Server) -> None:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    url = server.url + "/mcp"
    async with httpx.AsyncClient(timeout=10) as http:
        bad_json = await http.post(url, headers=headers, content=b"{not json")
        assert bad_json.status_code == 400
        assert bad_json.json()["error"]["code"] == -32700
        no_version = await http.post(url, headers=headers, json={"id": 1, "method": "tools/list"})
        assert no_version.status_code == 400
        assert "jsonrpc" in no_version.json()["error"]["message"]
        unknown = await http.post(url, headers=headers, json={"jsonrpc": "2.0", "id": 7, "method": "nope/nope"})
        assert unknown.status_code == 200
        assert unknown.json() == {"jsonrpc": "2.0", "id": 7, "error": {"code": -32601, "message": "Method not found", "data": "nope/nope"}}
        no_name = await http.post(url, headers=headers, json={"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {}})
        assert no_name.status_code < 500
        assert no_name.json()["error"]["code"] == -32602
        notification = await http.post(url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert notification.status_code == 202
        # no server-to-client stream without sessions
        assert (await http.get(url, headers={"Accept": "text/event-stream"})).status_code == 405


async def test_listing_pages_with_a_cursor(server: Server) -> None:
    async with session(server) as s:
        first = await s.list_tools()
        assert first.next_cursor is None  # fewer than a page of assistants
        later = await s.list_tools(params=types.PaginatedRequestParams(cursor="100"))
    assert later.tools == []


def test_without_the_mcp_package_the_server_serves_no_mcp(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mcp extra is optional: without it ``/mcp`` is left out, the rest is served."""
    from starlette.applications import Starlette

    from actorgraph.server.protocols import mount_mcp

    monkeypatch.setitem(sys.modules, "mcp", None)  # as if it weren't installed
    app = Starlette()
    assert mount_mcp(app) is False
    assert [getattr(r, "path", None) for r in app.router.routes] == []


def test_the_mcp_package_is_loaded_with_the_first_mcp_message_not_at_start() -> None:
    """A server nobody asks over MCP doesn't pay for the package (~55 MiB, ~0.3 s): the
    app mounts ``/mcp`` without importing it; the tests above show the first message
    then loads it and is answered."""
    code = (
        "import sys\n"
        "from starlette.applications import Starlette\n"
        "from actorgraph.server.protocols import mount_mcp\n"
        "app = Starlette()\n"
        "assert mount_mcp(app) is True\n"
        "print([getattr(r, 'path', None) for r in app.router.routes], 'mcp' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['/mcp'] False"
