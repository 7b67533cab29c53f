"""``langgraph.json``'s ``http`` section on a real server: the user's own FastAPI or
Starlette app beside ours (their routes first, their lifespan and middleware run), CORS,
``mount_prefix`` through ``langgraph-sdk``, each ``disable_*`` flag (404, gone from
``/openapi.json``), and the request body limit (413); bad values fail naming the key."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import NotFoundError

from actorgraph.errors import ConfigError
from actorgraph.server._http_options import DEFAULT_MAX_BODY_BYTES, parse_http_options
from actorgraph.server.config import parse_config

from tests.server.conftest import Server, make_app_folder

FASTAPI_APP = '''
import contextlib
from fastapi import FastAPI, Request

started = []

@contextlib.asynccontextmanager
async def lifespan(app):
    started.append("up")
    app.state.greeting = "hello from the lifespan"
    yield

app = FastAPI(lifespan=lifespan)

@app.middleware("http")
async def tag(request: Request, call_next):
    response = await call_next(request)
    response.headers["x-user-middleware"] = "yes"
    return response

@app.get("/custom/hello")
async def hello(request: Request):
    return {"hello": request.app.state.greeting, "started": started}

@app.get("/info")
async def info():
    return {"mine": True}

@app.get("/ok")
async def ok():
    return {"shadowed": True}

@app.post("/custom/echo")
async def echo(request: Request):
    return {"size": len(await request.body())}
'''

STARLETTE_APP = '''
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def ping(request):
    return JSONResponse({"pong": True, "path": request.url.path})

app = Starlette(routes=[Route("/ping", ping)])
'''


def _folder(tmp: Path, http: dict, files: dict[str, str] | None = None) -> Path:
    folder = make_app_folder(tmp, http=http)
    for name, text in (files or {}).items():
        (folder / name).write_text(textwrap.dedent(text))
    return folder


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    http = {
        "app": "./my_app.py:app",
        "cors": {
            "allow_origins": ["https://studio.example"],
            "allow_methods": ["GET", "POST"],
            "allow_headers": ["x-api-key", "content-type"],
            "allow_credentials": True,
            "expose_headers": ["x-pagination-total"],
            "max_age": 123,
        },
        "max_request_body_bytes": 4096,
    }
    srv = Server(_folder(tmp_path_factory.mktemp("custom"), http, {"my_app.py": FASTAPI_APP})).start()
    try:
        yield srv
    finally:
        srv.stop()


def test_custom_app_route_answers_beside_ours_and_its_lifespan_ran(custom: Server) -> None:
    r = httpx.get(custom.url + "/custom/hello")
    assert r.status_code == 200
    assert r.json() == {"hello": "hello from the lifespan", "started": ["up"]}
    client = get_sync_client(url=custom.url)
    assert {a["graph_id"] for a in client.assistants.search(limit=100)} >= {"simple"}
    thread = client.threads.create()
    out = client.runs.wait(thread["thread_id"], "simple", input={"x": 1})
    assert out["x"] == 20


def test_custom_app_wins_on_a_shared_path_but_not_on_health_or_docs(custom: Server) -> None:
    assert httpx.get(custom.url + "/info").json() == {"mine": True}
    assert httpx.get(custom.url + "/ok").json()["ok"] is True  # ours: probes can't be shadowed
    doc = httpx.get(custom.url + "/openapi.json").json()
    assert "/custom/hello" in doc["paths"] and "/threads" in doc["paths"]
    # a path only theirs, asked with another method: ours, a 404 (as LangGraph's server)
    assert httpx.delete(custom.url + "/custom/hello").status_code == 404
    missing = httpx.get(custom.url + "/no/such/path")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found"}


def test_custom_app_middleware_wraps_our_routes_too(custom: Server) -> None:
    assert httpx.get(custom.url + "/custom/hello").headers.get("x-user-middleware") == "yes"
    r = httpx.post(custom.url + "/threads/search", json={})
    assert r.status_code == 200 and r.headers.get("x-user-middleware") == "yes"


def test_cors_preflight_and_simple_request_carry_the_configured_headers(custom: Server) -> None:
    asked = {
        "origin": "https://studio.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "x-api-key",
    }
    r = httpx.options(custom.url + "/threads/search", headers=asked)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://studio.example"
    assert set(r.headers["access-control-allow-methods"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert "x-api-key" in r.headers["access-control-allow-headers"].lower()
    assert r.headers["access-control-allow-credentials"] == "true"
    assert r.headers["access-control-max-age"] == "123"
    simple = httpx.post(custom.url + "/threads/search", json={}, headers={"origin": "https://studio.example"})
    assert simple.headers["access-control-allow-origin"] == "https://studio.example"
    assert simple.headers["access-control-expose-headers"] == "x-pagination-total"
    # an origin not listed is refused, and a method not listed
    other = httpx.options(custom.url + "/threads/search", headers={**asked, "origin": "https://evil.example"})
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
    put = httpx.options(custom.url + "/threads/search", headers={**asked, "access-control-request-method": "PUT"})
    assert put.status_code == 400


def test_an_over_large_body_is_refused_with_413_naming_the_limit(custom: Server) -> None:
    big = {"metadata": {"blob": "x" * 5000}}
    r = httpx.post(custom.url + "/threads", json=big)
    assert r.status_code == 413
    assert "4096 bytes" in r.json()["detail"] and "max_request_body_bytes" in r.json()["detail"]
    # without a content-length (chunked): refused once the read passes the limit
    chunks = (b"x" * 1024 for _ in range(8))
    r = httpx.post(custom.url + "/threads", content=chunks, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "4096 bytes" in r.json()["detail"]
    # the user's routes too
    assert httpx.post(custom.url + "/custom/echo", content=b"y" * 5000).status_code == 413
    # under the limit: fine
    assert httpx.post(custom.url + "/custom/echo", content=b"y" * 100).json() == {"size": 100}
    assert httpx.post(custom.url + "/threads", json={"metadata": {"blob": "x" * 100}}).status_code == 200


def test_default_cors_allows_any_origin_as_langgraph(server: Server) -> None:
    r = httpx.options(
        server.url + "/threads/search",
        headers={"origin": "https://smith.langchain.com", "access-control-request-method": "POST"},
    )
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"


def test_mount_prefix_serves_the_api_under_it_through_the_sdk(tmp_path: Path) -> None:
    http = {"mount_prefix": "/my-deployment/api/", "app": "./ping_app.py:app"}
    srv = Server(_folder(tmp_path, http, {"ping_app.py": STARLETTE_APP})).start()
    try:
        client = get_sync_client(url=srv.url + "/my-deployment/api")
        thread = client.threads.create()
        assert client.runs.wait(thread["thread_id"], "simple", input={"x": 2})["x"] == 30
        assert client.threads.get(thread["thread_id"])["status"] == "idle"
        # a plain Starlette app is mounted under the prefix too
        ping = httpx.get(srv.url + "/my-deployment/api/ping").json()
        assert ping["pong"] is True
        # outside the prefix: only the probes
        assert httpx.post(srv.url + "/threads", json={}).status_code == 404
        assert httpx.get(srv.url + "/ok").status_code == 200
        assert httpx.get(srv.url + "/metrics").status_code == 200
        doc = httpx.get(srv.url + "/my-deployment/api/openapi.json").json()
        assert doc["servers"] == [{"url": "/my-deployment/api"}]
        assert httpx.get(srv.url + "/my-deployment/api/docs").status_code == 200
    finally:
        srv.stop()


def test_disable_assistants_threads_store_leaves_runs(tmp_path: Path) -> None:
    http = {"disable_assistants": True, "disable_threads": True, "disable_store": True}
    srv = Server(_folder(tmp_path, http)).start()
    try:
        client = get_sync_client(url=srv.url)
        with pytest.raises(NotFoundError):
            client.assistants.search()
        with pytest.raises(NotFoundError):
            client.threads.create()
        with pytest.raises(NotFoundError):
            client.store.put_item(("a",), "k", {"v": 1})
        assert client.runs.wait(None, "simple", input={"x": 0})["x"] == 10
        paths = httpx.get(srv.url + "/openapi.json").json()["paths"]
        assert not [p for p in paths if p.startswith(("/assistants", "/store"))]
        assert "/threads" not in paths and "/threads/search" not in paths
        assert "/runs/wait" in paths and "/threads/{thread_id}/runs" in paths and "/info" in paths
    finally:
        srv.stop()


def test_disable_runs_and_meta_and_webhooks(tmp_path: Path) -> None:
    http = {"disable_runs": True, "disable_meta": True, "disable_webhooks": True, "disable_mcp": True, "disable_a2a": True}
    srv = Server(_folder(tmp_path, http)).start()
    try:
        client = get_sync_client(url=srv.url)
        thread = client.threads.create()
        with pytest.raises(NotFoundError):
            client.runs.create(thread["thread_id"], "simple", input={"x": 1})
        wait = httpx.post(srv.url + "/runs/wait", json={"assistant_id": "simple", "input": {"x": 1}})
        assert wait.status_code == 404
        assert client.assistants.search(limit=1)
        for path in ("/info", "/metrics", "/docs", "/openapi.json"):
            assert httpx.get(srv.url + path).status_code == 404, path
        assert httpx.get(srv.url + "/ok").json()["ok"] is True  # as LangGraph: the probe stays
        # the agent protocols are left out
        aid = client.assistants.search(limit=1)[0]["assistant_id"]
        assert httpx.post(srv.url + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).status_code == 404
        assert httpx.get(f"{srv.url}/a2a/{aid}/.well-known/agent-card.json").status_code == 404
    finally:
        srv.stop()


def test_the_agent_protocols_are_served_unless_disabled(tmp_path: Path) -> None:
    srv = Server(_folder(tmp_path, {})).start()
    try:
        aid = get_sync_client(url=srv.url).assistants.search(limit=1)[0]["assistant_id"]
        assert httpx.get(f"{srv.url}/a2a/{aid}/.well-known/agent-card.json").status_code == 200
        assert httpx.get(srv.url + "/mcp").status_code == 405  # the transport takes POSTs
    finally:
        srv.stop()


def test_disable_webhooks_drops_the_field_from_the_document(tmp_path: Path) -> None:
    from actorgraph.server._http_options import finish_openapi

    doc = {"paths": {}, "components": {"schemas": {"RunCreate": {"properties": {"webhook": {}, "input": {}}}}}}
    finish_openapi(doc, parse_http_options({"disable_webhooks": True}, {}))
    assert doc["components"]["schemas"]["RunCreate"]["properties"] == {"input": {}}


def test_http_options_parse_with_defaults_and_env() -> None:
    options = parse_http_options(None, {})
    assert options.max_request_body_bytes == DEFAULT_MAX_BODY_BYTES and options.mount_prefix is None
    assert options.mcp_enabled and options.a2a_enabled and options.webhooks_enabled and options.serves("threads")
    off = parse_http_options({"disable_mcp": True, "disable_a2a": True, "disable_ui": True, "disable_webhooks": True}, {})
    assert not off.mcp_enabled and not off.a2a_enabled and not off.ui_enabled and not off.webhooks_enabled
    env = {"MOUNT_PREFIX": "/from-env", "HTTP_MAX_REQUEST_BODY_BYTES": "77"}
    options = parse_http_options({"mount_prefix": "/file", "max_request_body_bytes": 10}, env)
    assert options.mount_prefix == "/from-env" and options.max_request_body_bytes == 77


@pytest.mark.parametrize(
    ("http", "key"),
    [
        ({"app": "no_colon"}, "http.app"),
        ({"app": 3}, "http.app"),
        ({"cors": []}, "http.cors"),
        ({"cors": {"allow_origins": "*"}}, "http.cors.allow_origins"),
        ({"cors": {"allow_credentials": "yes"}}, "http.cors.allow_credentials"),
        ({"cors": {"max_age": -1}}, "http.cors.max_age"),
        ({"cors": {"allow_origin_regex": "("}}, "http.cors.allow_origin_regex"),
        ({"cors": {"allow_everything": True}}, "http.cors.allow_everything"),
        ({"mount_prefix": "api"}, "http.mount_prefix"),
        ({"mount_prefix": "/"}, "http.mount_prefix"),
        ({"disable_threads": "true"}, "http.disable_threads"),
        ({"disable_webhooks": 1}, "http.disable_webhooks"),
        ({"max_request_body_bytes": 0}, "http.max_request_body_bytes"),
        ({"max_request_body_bytes": "lots"}, "http.max_request_body_bytes"),
    ],
)
def test_bad_http_values_fail_naming_the_key(http: dict, key: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"graphs": {"g": "./a.py:g"}, "http": http}, tmp_path)
    assert info.value.key == key and key in str(info.value)


def test_bad_body_limit_env_fails_naming_it() -> None:
    with pytest.raises(ConfigError) as info:
        parse_http_options({}, {"HTTP_MAX_REQUEST_BODY_BYTES": "-5"})
    assert info.value.key == "HTTP_MAX_REQUEST_BODY_BYTES"


def test_a_custom_app_that_is_not_an_app_fails_at_start(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"app": "./not_app.py:app"}, {"not_app.py": "app = 3\n"})
    with pytest.raises(RuntimeError, match=r"http\.app.*not a Starlette or FastAPI application"):
        Server(folder).start()


def test_the_configs_env_sets_the_body_limit_unless_the_process_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HTTP_MAX_REQUEST_BODY_BYTES", raising=False)
    data = {"graphs": {"g": "./a.py:g"}, "env": {"HTTP_MAX_REQUEST_BODY_BYTES": "1234"}}
    assert parse_config(data, tmp_path).http_options.max_request_body_bytes == 1234
    monkeypatch.setenv("HTTP_MAX_REQUEST_BODY_BYTES", "99")
    assert parse_config(data, tmp_path).http_options.max_request_body_bytes == 99
