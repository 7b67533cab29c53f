"""Custom auth (``langgraph.json`` ``"auth": {"path": "./auth.py:auth"}``) on a real server,
driven by ``langgraph-sdk`` clients for two users, one with a dict user, and none: who is
let in, what each sees and touches (threads, runs, assistants, store), and who the graph
is told it runs for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.schema import Command

from tests.server.conftest import GRAPHS, ROOT, Server, free_port, make_app_folder

pytestmark = pytest.mark.anyio

AUTH_MODULE = '''
from langgraph_sdk import Auth

auth = Auth()
TOKENS = {"alice-token": "alice", "bob-token": "bob"}


@auth.authenticate
async def authenticate(request, authorization: str | None, path: str, method: str, headers: dict):
    # reading the body here must leave it whole for the endpoint
    if method in ("POST", "PUT", "PATCH") and not isinstance(await request.body(), bytes):
        raise ValueError("no body")
    scheme, _, token = (authorization or "").partition(" ")
    if token == "carol-token":  # a dict user, with permissions and fields of its own
        return {"identity": "carol", "permissions": ["threads:read"], "team": "blue"}
    if token == "broken":
        raise RuntimeError("the user database is down")
    if token == "banned":
        raise Auth.exceptions.HTTPException(status_code=403, detail="this account is banned")
    if scheme.lower() != "bearer" or token not in TOKENS:
        raise Auth.exceptions.HTTPException(status_code=401, detail="Invalid or missing token")
    assert isinstance(headers, dict) and isinstance(path, str) and method
    return TOKENS[token]


@auth.on
async def owner_only(ctx: Auth.types.AuthContext, value: dict):
    """Everything a user makes is stamped as theirs; they see only what is theirs."""
    metadata = value.get("metadata") if isinstance(value, dict) else None
    if ctx.action in ("create", "create_run") and isinstance(metadata, dict):
        metadata["owner"] = ctx.user.identity
    return {"owner": ctx.user.identity}


@auth.on.threads.read
async def owner_or_reader(ctx: Auth.types.AuthContext, value: dict):
    """Reading is wider than the rest: a thread's readers may read it too."""
    return {"$or": [{"owner": {"$eq": ctx.user.identity}}, {"readers": {"$contains": ctx.user.identity}}]}


@auth.on.threads.create_run
async def runs_of_own_threads(ctx: Auth.types.AuthContext, value: dict):
    if value["metadata"].get("forbidden"):
        raise Auth.exceptions.HTTPException(status_code=403, detail="runs marked forbidden are refused")
    value["metadata"]["owner"] = ctx.user.identity
    return {"owner": ctx.user.identity}


@auth.on.assistants.delete
async def assistants_are_never_deleted(ctx: Auth.types.AuthContext, value: dict):
    return False


@auth.on.store
async def own_namespace(ctx: Auth.types.AuthContext, value: dict):
    """Each user's items live under their identity."""
    if value.get("namespace") is not None:
        value["namespace"] = (ctx.user.identity, *value["namespace"])
'''

WHOAMI_MODULE = '''
from typing import Any, TypedDict

from actorgraph.graph import START, StateGraph
from actorgraph.runtime import Runtime


class W(TypedDict, total=False):
    who: Any
    user: Any
    runtime_user: Any
    permissions: Any


def whoami(state: W, config: dict, runtime: Runtime) -> W:
    configurable = config["configurable"]
    user = configurable.get("langgraph_auth_user")
    info = runtime.server_info
    return {
        "who": configurable.get("langgraph_auth_user_id"),
        "user": dict(user) if user is not None else None,
        "runtime_user": None if info is None or info.user is None else [info.user.identity, info.user["identity"], info.graph_id],
        "permissions": configurable.get("langgraph_auth_permissions"),
    }


_b = StateGraph(W)
_b.add_node("whoami", whoami)
_b.add_edge(START, "whoami")
whoami_graph = _b.compile()
'''

HEADERS = {
    "alice": {"Authorization": "Bearer alice-token"},
    "bob": {"Authorization": "Bearer bob-token"},
    "carol": {"Authorization": "Bearer carol-token"},
}


def auth_app_folder(tmp: Path, graphs: dict[str, str] | None = None) -> Path:
    folder = make_app_folder(
        tmp, {**GRAPHS, "whoami": "./whoami.py:whoami_graph", **(graphs or {})}, auth={"path": "./auth.py:auth"}
    )
    (folder / "auth.py").write_text(AUTH_MODULE)
    (folder / "whoami.py").write_text(WHOAMI_MODULE)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(auth_app_folder(tmp_path_factory.mktemp("auth"))).start()
    try:
        yield srv
    finally:
        srv.stop()


class Clients:
    def __init__(self, url: str) -> None:
        self.alice = get_client(url=url, headers=HEADERS["alice"])
        self.bob = get_client(url=url, headers=HEADERS["bob"])
        self.carol = get_client(url=url, headers=HEADERS["carol"])
        self.anonymous = get_client(url=url, headers={})


@pytest.fixture
async def clients(server: Server) -> AsyncIterator[Clients]:
    yield Clients(server.url)


def status_of(exc: pytest.ExceptionInfo[httpx.HTTPStatusError]) -> int:
    return exc.value.response.status_code


async def _alices_thread(c: Clients, **metadata: Any) -> str:
    thread = await c.alice.threads.create(metadata=metadata or None)
    return str(thread["thread_id"])


# -- authentication -----------------------------------------------------------------------


async def test_requests_without_credentials_are_rejected_with_401(server: Server, clients: Clients) -> None:
    with pytest.raises(httpx.HTTPStatusError) as none:
        await clients.anonymous.threads.search()
    assert status_of(none) == 401
    assert none.value.response.json() == {"detail": "Invalid or missing token"}
    stranger = get_client(url=server.url, headers={"Authorization": "Bearer who-knows"})
    with pytest.raises(httpx.HTTPStatusError) as wrong:
        await stranger.assistants.search()
    assert status_of(wrong) == 401
    for path in ("/threads/00000000-0000-0000-0000-000000000000", "/store/items?namespace=a&key=b", "/no/such/route"):
        assert httpx.get(server.url + path).status_code == 401, path


def test_the_meta_endpoints_langgraph_leaves_open_answer_without_credentials(server: Server) -> None:
    for path in ("/ok", "/info", "/openapi.json", "/docs", "/metrics"):
        assert httpx.get(server.url + path).status_code == 200, path


def test_the_authenticate_handlers_own_status_and_a_crash_are_answered(server: Server) -> None:
    banned = httpx.post(server.url + "/threads/search", json={}, headers={"Authorization": "Bearer banned"})
    assert banned.status_code == 403
    assert banned.json() == {"detail": "this account is banned"}
    broken = httpx.post(server.url + "/threads/search", json={}, headers={"Authorization": "Bearer broken"})
    assert broken.status_code == 401
    assert "RuntimeError" in broken.json()["detail"]


# -- threads --------------------------------------------------------------------------------


async def test_a_created_thread_is_stamped_with_its_owner(clients: Clients) -> None:
    thread = await clients.alice.threads.create(metadata={"topic": "x"})
    assert thread["metadata"] == {"topic": "x", "owner": "alice"}


async def test_thread_search_and_count_show_only_the_users_own_threads(clients: Clients) -> None:
    mine = {await _alices_thread(clients, tag="search") for _ in range(2)}
    theirs = str((await clients.bob.threads.create(metadata={"tag": "search"}))["thread_id"])
    alice_sees = {str(t["thread_id"]) for t in await clients.alice.threads.search(metadata={"tag": "search"}, limit=100)}
    bob_sees = {str(t["thread_id"]) for t in await clients.bob.threads.search(metadata={"tag": "search"}, limit=100)}
    assert alice_sees == mine
    assert bob_sees == {theirs}
    assert await clients.bob.threads.count(metadata={"tag": "search"}) == 1
    # paging counts only what the user may see
    assert len(await clients.alice.threads.search(metadata={"tag": "search"}, limit=1, offset=1)) == 1


async def test_a_user_cannot_read_anothers_thread_or_its_state(clients: Clients) -> None:
    await clients.alice.runs.wait(None, "simple", input={"x": 1})  # some state on some thread
    thread_id = await _alices_thread(clients)
    await clients.alice.runs.wait(thread_id, "simple", input={"x": 1})
    for read in (
        clients.bob.threads.get(thread_id),
        clients.bob.threads.get_state(thread_id),
        clients.bob.threads.get_history(thread_id),
    ):
        with pytest.raises(httpx.HTTPStatusError) as denied:
            await read
        assert status_of(denied) == 404
    assert (await clients.alice.threads.get_state(thread_id))["values"]["x"] == 20


async def test_a_read_filter_with_or_and_contains_lets_a_named_reader_read_but_not_write(clients: Clients) -> None:
    thread_id = await _alices_thread(clients, readers=["bob"])
    assert str((await clients.bob.threads.get(thread_id))["thread_id"]) == thread_id
    with pytest.raises(httpx.HTTPStatusError) as denied:
        await clients.bob.threads.update(thread_id, metadata={"owner": "bob"})
    assert status_of(denied) == 404
    with pytest.raises(httpx.HTTPStatusError) as not_carol:
        await clients.carol.threads.get(thread_id)
    assert status_of(not_carol) == 404


async def test_a_user_cannot_update_anothers_thread_or_its_state(clients: Clients) -> None:
    thread_id = await _alices_thread(clients)
    await clients.alice.runs.wait(thread_id, "simple", input={"x": 1})
    with pytest.raises(httpx.HTTPStatusError) as patch:
        await clients.bob.threads.update(thread_id, metadata={"owner": "bob"})
    assert status_of(patch) == 404
    with pytest.raises(httpx.HTTPStatusError) as state:
        await clients.bob.threads.update_state(thread_id, {"x": 99})
    assert status_of(state) == 404
    thread = await clients.alice.threads.get(thread_id)
    assert thread["metadata"]["owner"] == "alice"
    assert thread["values"]["x"] == 20


async def test_a_user_cannot_delete_or_prune_anothers_thread(clients: Clients) -> None:
    thread_id = await _alices_thread(clients)
    with pytest.raises(httpx.HTTPStatusError) as delete:
        await clients.bob.threads.delete(thread_id)
    assert status_of(delete) == 404
    with pytest.raises(httpx.HTTPStatusError) as prune:
        await clients.bob.threads.prune([thread_id])
    assert status_of(prune) == 404
    assert str((await clients.alice.threads.get(thread_id))["thread_id"]) == thread_id
    await clients.alice.threads.delete(thread_id)
    with pytest.raises(httpx.HTTPStatusError) as gone:
        await clients.alice.threads.get(thread_id)
    assert status_of(gone) == 404


async def test_a_user_cannot_copy_anothers_thread_nor_take_its_id(clients: Clients) -> None:
    thread_id = await _alices_thread(clients)
    with pytest.raises(httpx.HTTPStatusError) as copy:
        await clients.bob.threads.copy(thread_id)
    assert status_of(copy) == 409
    with pytest.raises(httpx.HTTPStatusError) as take:
        await clients.bob.threads.create(thread_id=thread_id, if_exists="do_nothing")
    assert status_of(take) == 409
    copied = await clients.alice.threads.copy(thread_id)
    assert copied["metadata"]["owner"] == "alice"


# -- runs -----------------------------------------------------------------------------------


async def test_runs_are_listed_and_read_only_by_their_threads_owner(clients: Clients) -> None:
    thread_id = await _alices_thread(clients)
    run = await clients.alice.runs.create(thread_id, "simple", input={"x": 1})
    await clients.alice.runs.join(thread_id, run["run_id"])
    assert [r["run_id"] for r in await clients.alice.runs.list(thread_id)] == [run["run_id"]]
    with pytest.raises(httpx.HTTPStatusError) as listing:
        await clients.bob.runs.list(thread_id)
    assert status_of(listing) == 404
    with pytest.raises(httpx.HTTPStatusError) as get:
        await clients.bob.runs.get(thread_id, run["run_id"])
    assert status_of(get) == 404


async def test_a_user_cannot_start_a_run_on_anothers_thread(clients: Clients) -> None:
    thread_id = await _alices_thread(clients)
    with pytest.raises(httpx.HTTPStatusError) as create:
        await clients.bob.runs.create(thread_id, "simple", input={"x": 1})
    assert status_of(create) == 404
    with pytest.raises(httpx.HTTPStatusError) as wait:
        await clients.bob.runs.wait(thread_id, "simple", input={"x": 1})
    assert status_of(wait) == 404
    assert await clients.alice.runs.list(thread_id) == []


async def test_a_user_cannot_resume_anothers_interrupted_run(clients: Clients) -> None:
    thread_id = await _alices_thread(clients)
    paused = await clients.alice.runs.wait(thread_id, "hitl", input={"x": 1})
    assert paused["__interrupt__"]
    with pytest.raises(httpx.HTTPStatusError) as resume:
        await clients.bob.runs.wait(thread_id, "hitl", command=Command(resume="7"))
    assert status_of(resume) == 404
    with pytest.raises(httpx.HTTPStatusError) as stream:
        async for _ in clients.bob.runs.stream(thread_id, "hitl", command=Command(resume="7")):
            pass
    assert status_of(stream) == 404
    assert (await clients.alice.threads.get_state(thread_id))["next"] == ["ask"]
    done = await clients.alice.runs.wait(thread_id, "hitl", command=Command(resume="7"))
    assert done["x"] == 7


async def test_a_user_cannot_cancel_anothers_run(clients: Clients) -> None:
    thread_id = await _alices_thread(clients)
    run = await clients.alice.runs.create(thread_id, "slow", input={"x": 2, "sleep": 0.2})
    with pytest.raises(httpx.HTTPStatusError) as cancel:
        await clients.bob.runs.cancel(thread_id, run["run_id"])
    assert status_of(cancel) == 404
    with pytest.raises(httpx.HTTPStatusError) as cancel_many:
        await clients.bob.runs.cancel_many(thread_id=thread_id, run_ids=[run["run_id"]])
    assert status_of(cancel_many) == 404
    with pytest.raises(httpx.HTTPStatusError) as cancel_all:  # bob has no runs of his own going
        await clients.bob.runs.cancel_many(status="all")
    assert status_of(cancel_all) == 404
    await clients.alice.runs.join(thread_id, run["run_id"])
    assert (await clients.alice.runs.get(thread_id, run["run_id"]))["status"] == "success"


async def test_a_user_cannot_join_anothers_run_or_follow_its_streams(clients: Clients) -> None:
    thread_id = await _alices_thread(clients)
    run = await clients.alice.runs.create(thread_id, "simple", input={"x": 1})
    with pytest.raises(httpx.HTTPStatusError) as join:
        await clients.bob.runs.join(thread_id, run["run_id"])
    assert status_of(join) == 404
    events = [part async for part in clients.bob.runs.join_stream(thread_id, run["run_id"])]
    assert [e.event for e in events] == ["error"]
    assert events[0].data == {"error": "HTTPException", "message": "404: Thread not found"}
    with pytest.raises(httpx.HTTPStatusError) as follow:  # the thread-wide stream
        async for _ in await clients.bob.threads.join_stream(thread_id):
            break
    assert status_of(follow) == 404
    assert (await clients.alice.runs.join(thread_id, run["run_id"]))["x"] == 20


async def test_a_user_cannot_delete_anothers_run(clients: Clients) -> None:
    thread_id = await _alices_thread(clients)
    run = await clients.alice.runs.create(thread_id, "simple", input={"x": 1})
    await clients.alice.runs.join(thread_id, run["run_id"])
    with pytest.raises(httpx.HTTPStatusError) as delete:
        await clients.bob.runs.delete(thread_id, run["run_id"])
    assert status_of(delete) == 404
    assert (await clients.alice.runs.get(thread_id, run["run_id"]))["run_id"] == run["run_id"]


async def test_a_thread_a_run_creates_belongs_to_the_user_who_ran_it(clients: Clients) -> None:
    thread_id = str(uuid.uuid4())
    await clients.bob.runs.wait(thread_id, "simple", input={"x": 1}, if_not_exists="create")
    assert (await clients.bob.threads.get(thread_id))["metadata"]["owner"] == "bob"
    with pytest.raises(httpx.HTTPStatusError) as denied:
        await clients.alice.threads.get(thread_id)
    assert status_of(denied) == 404


async def test_a_handler_raising_http_exception_refuses_with_its_status(clients: Clients) -> None:
    thread_id = await _alices_thread(clients)
    with pytest.raises(httpx.HTTPStatusError) as refused:
        await clients.alice.runs.create(thread_id, "simple", input={"x": 1}, metadata={"forbidden": True})
    assert status_of(refused) == 403
    assert refused.value.response.json() == {"detail": "runs marked forbidden are refused"}


# -- the user, as the graph sees it ---------------------------------------------------------


async def test_the_graph_sees_the_user_in_its_config_and_runtime(clients: Clients) -> None:
    result = await clients.alice.runs.wait(None, "whoami", input={})
    assert result["who"] == "alice"
    assert result["user"] == {"identity": "alice", "is_authenticated": True, "display_name": "alice"}
    assert result["runtime_user"] == ["alice", "alice", "whoami"]
    assert result["permissions"] == []
    carol = await clients.carol.runs.wait(None, "whoami", input={})
    assert carol["who"] == "carol"
    assert carol["user"]["team"] == "blue"
    assert carol["permissions"] == ["threads:read"]


async def test_a_request_cannot_pose_as_another_user_through_its_config(clients: Clients) -> None:
    spoof = {"configurable": {"langgraph_auth_user_id": "alice", "langgraph_auth_user": {"identity": "alice"}}}
    result = await clients.bob.runs.wait(None, "whoami", input={}, config=spoof)
    assert result["who"] == "bob"
    assert result["runtime_user"][0] == "bob"


# -- assistants -------------------------------------------------------------------------------


async def test_assistants_are_scoped_to_their_owner(clients: Clients) -> None:
    mine = await clients.alice.assistants.create("simple", name="alices", metadata={"kind": "scoped"})
    assert mine["metadata"]["owner"] == "alice"
    aid = mine["assistant_id"]
    for call in (
        clients.bob.assistants.get(aid),
        clients.bob.assistants.get_schemas(aid),
        clients.bob.assistants.get_graph(aid),
        clients.bob.assistants.update(aid, metadata={"kind": "taken"}),
        clients.bob.assistants.get_versions(aid),
        clients.bob.assistants.set_latest(aid, 1),
    ):
        with pytest.raises(httpx.HTTPStatusError) as denied:
            await call
        assert status_of(denied) == 404
    assert [a["assistant_id"] for a in await clients.alice.assistants.search(metadata={"kind": "scoped"})] == [aid]
    assert await clients.bob.assistants.search(metadata={"kind": "scoped"}) == []
    assert await clients.bob.assistants.count(metadata={"kind": "scoped"}) == 0
    with pytest.raises(httpx.HTTPStatusError) as run:
        await clients.bob.runs.wait(None, aid, input={"x": 1})
    assert status_of(run) == 404
    assert (await clients.alice.runs.wait(None, aid, input={"x": 1}))["x"] == 20


async def test_a_handler_returning_false_forbids_with_403(clients: Clients) -> None:
    mine = await clients.alice.assistants.create("simple")
    with pytest.raises(httpx.HTTPStatusError) as forbidden:
        await clients.alice.assistants.delete(mine["assistant_id"])
    assert status_of(forbidden) == 403
    assert forbidden.value.response.json() == {"detail": "Forbidden"}
    assert (await clients.alice.assistants.get(mine["assistant_id"]))["assistant_id"] == mine["assistant_id"]


# -- store ------------------------------------------------------------------------------------


async def test_store_items_live_in_each_users_own_namespace(clients: Clients) -> None:
    await clients.alice.store.put_item(["notes"], "plan", {"text": "alice's"})
    item = await clients.alice.store.get_item(["notes"], "plan")
    assert item is not None and item["value"] == {"text": "alice's"}
    assert item["namespace"] == ["alice", "notes"]
    assert await clients.bob.store.get_item(["notes"], "plan") is None
    assert (await clients.bob.store.search_items(["notes"]))["items"] == []


async def test_a_user_cannot_overwrite_or_delete_anothers_store_item(clients: Clients) -> None:
    await clients.alice.store.put_item(["docs"], "k", {"v": "alice"})
    await clients.bob.store.put_item(["docs"], "k", {"v": "bob"})
    await clients.bob.store.delete_item(["docs"], "k")
    alices = await clients.alice.store.get_item(["docs"], "k")
    assert alices is not None and alices["value"] == {"v": "alice"}
    assert await clients.bob.store.get_item(["docs"], "k") is None


async def test_store_search_and_namespaces_are_scoped_to_the_user(clients: Clients) -> None:
    await clients.alice.store.put_item(["shelf", "a"], "one", {"n": 1})
    await clients.bob.store.put_item(["shelf", "b"], "two", {"n": 2})
    found = (await clients.alice.store.search_items(["shelf"]))["items"]
    assert [(i["namespace"], i["key"]) for i in found] == [(["alice", "shelf", "a"], "one")]
    spaces = (await clients.bob.store.list_namespaces(prefix=["shelf"]))["namespaces"]
    assert spaces == [["bob", "shelf", "b"]]


# -- without auth -----------------------------------------------------------------------------


def test_without_auth_the_server_says_so_and_warns_off_loopback(tmp_path: Path) -> None:
    folder = make_app_folder(tmp_path, {"simple": "./graphs.py:simple"})
    srv = Server(folder, "--host", "0.0.0.0", "--log-level", "info", "--log-format", "json")
    srv.start()
    try:
        # nothing is asked of a request without auth configured
        assert httpx.post(srv.url + "/threads/search", json={}).status_code == 200
    finally:
        srv.stop()
    lines = [json.loads(line) for line in srv.log.read_text().splitlines() if line.startswith("{")]
    events = {(entry.get("level"), entry.get("event", "").split(":")[0]) for entry in lines}
    assert ("info", "no auth configured") in events
    assert ("warning", "listening on a non-loopback address without auth") in events


@pytest.mark.parametrize(
    ("auth_source", "path", "named"),
    [
        (None, "./missing.py:auth", "no file './missing.py'"),
        ("auth = object()\n", "./auth.py:auth", "must name a langgraph_sdk.Auth instance"),
        ("from langgraph_sdk import Auth\nauth = Auth()\n", "./auth.py:auth", "no @auth.authenticate handler"),
        (
            "from langgraph_sdk import Auth\nauth = Auth()\n@auth.authenticate\nasync def who(token):\n    return 'x'\n",
            "./auth.py:auth",
            "parameter 'token' is not one the server gives",
        ),
    ],
)
def test_a_bad_auth_setting_stops_the_server_naming_auth_path(
    tmp_path: Path, auth_source: str | None, path: str, named: str
) -> None:
    folder = make_app_folder(tmp_path, {"simple": "./graphs.py:simple"}, auth={"path": path})
    if auth_source is not None:
        (folder / "auth.py").write_text(auth_source)
    done = subprocess.run(
        [sys.executable, "-m", "actorgraph.server", "dev", "--no-reload", "--port", str(free_port())],
        cwd=folder, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode != 0
    assert "auth.path" in done.stderr and named in done.stderr, done.stderr[-2000:]


def test_handlers_for_some_actions_only_get_a_warning_naming_the_others(tmp_path: Path) -> None:
    folder = make_app_folder(tmp_path, {"simple": "./graphs.py:simple"}, auth={"path": "./auth.py:auth"})
    (folder / "auth.py").write_text(
        "from langgraph_sdk import Auth\nauth = Auth()\n"
        "@auth.authenticate\nasync def who(authorization):\n    return 'x'\n"
        "@auth.on.threads\nasync def threads(ctx, value):\n    return None\n"
    )
    srv = Server(folder, "--log-format", "json").start()
    srv.stop()
    lines = [json.loads(line) for line in srv.log.read_text().splitlines() if line.startswith("{")]
    warned = [entry for entry in lines if entry.get("event", "").startswith("custom auth has no handler")]
    assert len(warned) == 1
    assert "store.put" in warned[0]["uncovered"] and "assistants.read" in warned[0]["uncovered"]
    assert not any(name.startswith("threads.") for name in warned[0]["uncovered"])


def test_a_handlers_filter_reads_as_on_langgraphs_server() -> None:
    from actorgraph.server.auth import filter_matches

    metadata = {"owner": "alice", "tags": ["x", "y"], "n": 1}
    assert filter_matches(metadata, {"owner": "alice"})
    assert filter_matches(metadata, {"owner": {"$eq": "alice"}, "tags": {"$contains": "x"}})
    assert filter_matches(metadata, {"tags": {"$contains": ["x", "y"]}})
    assert not filter_matches(metadata, {"tags": {"$contains": ["x", "z"]}})
    assert not filter_matches(metadata, {"owner": {"$contains": "alice"}})  # not a list
    assert filter_matches(metadata, {"$or": [{"owner": "bob"}, {"n": 1}]})
    assert not filter_matches(metadata, {"$and": [{"owner": "alice"}, {"n": 2}]})
    assert not filter_matches({}, {"owner": "alice"})
    for bad, named in (({"$or": [{"owner": "alice"}]}, "$or"), ({"owner": {"$gt": 1}}, "$gt")):
        with pytest.raises(Exception) as refused:
            filter_matches(metadata, bad)
        assert getattr(refused.value, "status", None) == 500 and named in str(refused.value)


def test_auth_under_a_mount_prefix_keeps_open_paths_open_and_answers_preflights(tmp_path: Path) -> None:
    """With ``http.mount_prefix``, the open paths are open under the prefix too, the API
    asks for credentials there, and a CORS preflight is answered without them (auth sits
    inside CORS)."""
    folder = auth_app_folder(tmp_path)
    cfg = json.loads((folder / "langgraph.json").read_text())
    cfg["http"] = {"mount_prefix": "/pre", "cors": {"allow_origins": ["https://ui.example"], "allow_methods": ["*"], "allow_headers": ["*"]}}
    (folder / "langgraph.json").write_text(json.dumps(cfg))
    srv = Server(folder).start()
    try:
        with httpx.Client(base_url=srv.url) as h:
            assert h.get("/pre/ok").status_code == 200
            assert h.get("/pre/info").status_code == 200
            assert h.post("/pre/threads/search", json={}).status_code == 401
            assert h.post("/pre/threads/search", json={}, headers=HEADERS["alice"]).status_code == 200
            pre = h.options(
                "/pre/threads/search",
                headers={"Origin": "https://ui.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"},
            )
            assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "https://ui.example"
    finally:
        srv.stop()


# -- crons ----------------------------------------------------------------------------------


async def test_crons_are_stamped_scoped_and_fire_as_their_owner(server: Server, clients: Clients) -> None:
    tid = await _alices_thread(clients)
    whoami = await clients.alice.assistants.create("whoami")
    cron = await clients.alice.crons.create_for_thread(tid, whoami["assistant_id"], schedule="* * * * * */2", input={})
    cid = cron["cron_id"]
    assert cron["metadata"]["owner"] == "alice" and cron["user_id"] == "alice"
    # bob can't make a cron on alice's thread, nor see, change or delete hers
    with pytest.raises(httpx.HTTPStatusError) as made:
        await clients.bob.crons.create_for_thread(tid, "simple", schedule="0 0 1 1 *", input={"x": 1})
    assert status_of(made) == 404
    assert httpx.get(f"{server.url}/runs/crons/{cid}", headers=HEADERS["bob"]).status_code == 404
    assert httpx.get(f"{server.url}/runs/crons/{cid}", headers=HEADERS["alice"]).json()["cron_id"] == cid
    with pytest.raises(httpx.HTTPStatusError) as changed:
        await clients.bob.crons.update(cid, schedule="0 0 1 1 *")
    assert status_of(changed) == 404
    with pytest.raises(httpx.HTTPStatusError) as deleted:
        await clients.bob.crons.delete(cid)
    assert status_of(deleted) == 404
    assert cid not in [c["cron_id"] for c in await clients.bob.crons.search()]
    assert await clients.bob.crons.count() == 0
    assert cid in [c["cron_id"] for c in await clients.alice.crons.search(limit=1000)]
    assert await clients.alice.crons.count() >= 1
    with pytest.raises(httpx.HTTPStatusError) as anonymous:
        await clients.anonymous.crons.search()
    assert status_of(anonymous) == 401
    # its firing runs as alice: the graph sees her through its config
    deadline = anyio.current_time() + 20
    values: dict[str, Any] = {}
    while anyio.current_time() < deadline and values.get("who") != "alice":
        await anyio.sleep(0.3)
        values = (await clients.alice.threads.get_state(tid))["values"] or {}
    assert values.get("who") == "alice"
    await clients.alice.crons.delete(cid)
    assert httpx.get(f"{server.url}/runs/crons/{cid}", headers=HEADERS["alice"]).status_code == 404


CUSTOM_APP = '''
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(request):
    return JSONResponse({"hello": "world"})


app = Starlette(routes=[Route("/hello", hello)])
'''


@pytest.mark.parametrize("enabled", [False, True])
def test_the_user_apps_routes_skip_auth_unless_enable_custom_route_auth(tmp_path: Path, enabled: bool) -> None:
    """As on LangGraph's server: a custom app's routes answer without credentials unless
    ``http.enable_custom_route_auth``; the API asks for them either way."""
    folder = auth_app_folder(tmp_path)
    (folder / "my_app.py").write_text(CUSTOM_APP)
    cfg = json.loads((folder / "langgraph.json").read_text())
    cfg["http"] = {"app": "./my_app.py:app", "enable_custom_route_auth": enabled}
    (folder / "langgraph.json").write_text(json.dumps(cfg))
    srv = Server(folder).start()
    try:
        with httpx.Client(base_url=srv.url) as h:
            assert h.get("/hello").status_code == (401 if enabled else 200)
            assert h.get("/hello", headers=HEADERS["alice"]).json() == {"hello": "world"}
            assert h.post("/threads/search", json={}).status_code == 401
            assert h.post("/threads/search", json={}, headers=HEADERS["alice"]).status_code == 200
    finally:
        srv.stop()
