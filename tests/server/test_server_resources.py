"""Assistants, threads and the store over HTTP, driven by the official ``langgraph-sdk``
client against a real ``actorgraph dev`` server: LangGraph's bodies and statuses."""

from __future__ import annotations

import uuid

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.errors import BadRequestError, ConflictError, NotFoundError, UnprocessableEntityError

from tests.server.conftest import GRAPHS, Server

pytestmark = pytest.mark.anyio

NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


def system_id(graph_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, graph_id))


# -- assistants -------------------------------------------------------------------------


async def test_each_graph_has_a_system_assistant_with_langgraphs_deterministic_id(server: Server) -> None:
    client = get_client(url=server.url)
    found = await client.assistants.search(metadata={"created_by": "system"}, limit=100)
    assert {a["graph_id"]: a["assistant_id"] for a in found} == {g: system_id(g) for g in GRAPHS}
    # LangGraph's server gives the graph "agent" this id; ours follows the same rule
    assert str(uuid.uuid5(NAMESPACE, "agent")) == "fe096781-5601-53d2-b2f6-0d3403f7e9ca"
    one = await client.assistants.get(system_id("simple"))
    assert one["name"] == "simple" and one["version"] == 1 and one["config"] == {}


async def test_assistant_create_update_versions_latest_delete(server: Server) -> None:
    client = get_client(url=server.url)
    created = await client.assistants.create(
        "simple", config={"configurable": {"k": 1}}, metadata={"owner": "t1"}, name="mine", description="d"
    )
    aid = created["assistant_id"]
    assert created["version"] == 1 and created["context"] == {"k": 1} and created["name"] == "mine"
    patched = await client.assistants.update(aid, metadata={"extra": 2}, name="renamed")
    assert patched["version"] == 2 and patched["metadata"] == {"owner": "t1", "extra": 2}
    patched = await client.assistants.update(aid, config={"configurable": {"k": 2}})
    assert patched["version"] == 3 and patched["context"] == {"k": 2} and patched["name"] == "renamed"
    versions = await client.assistants.get_versions(aid)
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert [v["version"] for v in await client.assistants.get_versions(aid, metadata={"extra": 2}, limit=1)] == [3]
    latest = await client.assistants.set_latest(aid, 1)
    assert latest["version"] == 1 and latest["name"] == "mine"
    assert (await client.assistants.get(aid))["config"] == {"configurable": {"k": 1}}
    with pytest.raises(NotFoundError, match="Version 99"):
        await client.assistants.set_latest(aid, 99)
    await client.assistants.delete(aid)
    with pytest.raises(NotFoundError):
        await client.assistants.get(aid)
    with pytest.raises(NotFoundError):
        await client.assistants.delete(aid)


async def test_assistant_if_exists(server: Server) -> None:
    client = get_client(url=server.url)
    aid = str(uuid.uuid4())
    await client.assistants.create("simple", assistant_id=aid)
    with pytest.raises(ConflictError, match=aid):
        await client.assistants.create("simple", assistant_id=aid)
    with pytest.raises(ConflictError):
        await client.assistants.create("simple", assistant_id=aid, if_exists="raise")
    same = await client.assistants.create("hitl", assistant_id=aid, if_exists="do_nothing", name="other")
    assert same["graph_id"] == "simple" and same["name"] == "Untitled"


async def test_assistant_search_count_pagination_select(server: Server) -> None:
    client = get_client(url=server.url)
    for i in range(3):
        await client.assistants.create("parent", metadata={"batch": "s1", "i": i}, name=f"batch-{i}")
    assert await client.assistants.count(metadata={"batch": "s1"}) == 3
    assert await client.assistants.count(graph_id="parent") == 4  # with the system one
    page = await client.assistants.search(metadata={"batch": "s1"}, limit=2, response_format="object")
    assert len(page["assistants"]) == 2 and page["next"] == "2"
    rest = await client.assistants.search(metadata={"batch": "s1"}, limit=2, offset=2, response_format="object")
    assert len(rest["assistants"]) == 1 and rest["next"] is None
    asc = await client.assistants.search(
        metadata={"batch": "s1"}, sort_by="created_at", sort_order="asc", select=["assistant_id", "name"]
    )
    assert [a["name"] for a in asc] == ["batch-0", "batch-1", "batch-2"]
    assert all(set(a) == {"assistant_id", "name"} for a in asc)
    assert [a["name"] for a in await client.assistants.search(name="batch-1")] == ["batch-1"]


async def test_assistant_graph_schemas_subgraphs(server: Server) -> None:
    client = get_client(url=server.url)
    drawing = await client.assistants.get_graph(system_id("simple"))
    assert [n["id"] for n in drawing["nodes"]] == ["__start__", "a", "b", "c", "__end__"]
    assert {"source": "a", "target": "b"} in drawing["edges"]
    # a graph id stands for its system assistant here, as in LangGraph's server
    assert await client.assistants.get_graph("simple") == drawing
    flat = await client.assistants.get_graph("parent")
    deep = await client.assistants.get_graph("parent", xray=True)
    assert "sub:inner_step" in {n["id"] for n in deep["nodes"]} - {n["id"] for n in flat["nodes"]}
    schemas = await client.assistants.get_schemas("simple")
    assert schemas["graph_id"] == "simple"
    assert set(schemas["input_schema"]["properties"]) == {"x", "sleep", "log"}
    assert set(schemas["state_schema"]["properties"]) == {"x", "sleep", "log"}
    subs = await client.assistants.get_subgraphs("parent")
    assert list(subs) == ["sub"] and "properties" in subs["sub"]["input_schema"]
    assert list(await client.assistants.get_subgraphs("parent", namespace="sub")) == ["sub"]
    assert await client.assistants.get_subgraphs("parent", namespace="nope") == {}
    assert await client.assistants.get_subgraphs("simple") == {}
    # the factory and the builder entries are served too
    assert [n["id"] for n in (await client.assistants.get_graph("factory"))["nodes"]] == ["__start__", "add", "__end__"]
    assert (await client.assistants.get_graph("builder"))["nodes"] == drawing["nodes"]


async def test_assistant_bad_input(server: Server) -> None:
    client = get_client(url=server.url)
    with pytest.raises(NotFoundError, match="Graph 'nope' not found"):
        await client.assistants.create("nope")
    with pytest.raises(UnprocessableEntityError, match="must be a UUID"):
        await client.assistants.get("not-a-uuid")
    with pytest.raises(UnprocessableEntityError, match="must be a UUID"):
        await client.assistants.create("simple", assistant_id="not-a-uuid")
    with pytest.raises(NotFoundError):
        await client.assistants.get(str(uuid.uuid4()))
    with pytest.raises(NotFoundError):
        await client.assistants.update(str(uuid.uuid4()), name="x")
    with pytest.raises(NotFoundError):
        await client.assistants.get_graph(str(uuid.uuid4()))
    with pytest.raises(UnprocessableEntityError, match="xray"):
        await client.assistants.get_graph("simple", xray="maybe")  # type: ignore[arg-type]
    async with httpx.AsyncClient(base_url=server.url) as http:
        cases = [
            ("POST", "/assistants", b"[1,2]", "Expected `object`"),
            ("POST", "/assistants", b'{"name": "x"}', "graph_id"),
            ("POST", "/assistants", b'{"graph_id": "simple", "config": "str"}', "$.config"),
            ("POST", "/assistants", b'{"graph_id": "simple", "if_exists": "overwrite"}', "$.if_exists"),
            ("POST", "/assistants", b'{"graph_id": "simple",', "Invalid JSON"),
            ("POST", "/assistants", b"", "Invalid JSON"),
            ("POST", "/assistants/search", b'{"limit": "ten"}', "$.limit"),
            ("POST", "/assistants/search", b'{"limit": 100000}', "$.limit"),
            ("POST", "/assistants/search", b'{"sort_by": "bogus"}', "$.sort_by"),
        ]
        for method, path, body, field in cases:
            r = await http.request(method, path, content=body, headers={"content-type": "application/json"})
            assert r.status_code == 422, (path, body, r.text)
            assert field in r.json()["detail"], (body, r.json())
        extra = await http.post("/assistants", json={"graph_id": "simple", "bogus_field": 1})
        assert extra.status_code == 200  # unknown fields are ignored, as LangGraph's server does


# -- threads ----------------------------------------------------------------------------


async def test_thread_create_get_update_delete(server: Server) -> None:
    client = get_client(url=server.url)
    tid = str(uuid.uuid4())
    thread = await client.threads.create(thread_id=tid, metadata={"m": 1, "n": "x"})
    assert thread["thread_id"] == tid and thread["status"] == "idle" and thread["metadata"] == {"m": 1, "n": "x"}
    with pytest.raises(ConflictError, match=tid):
        await client.threads.create(thread_id=tid)
    same = await client.threads.create(thread_id=tid, if_exists="do_nothing", metadata={"other": 1})
    assert same["metadata"] == {"m": 1, "n": "x"}
    updated = await client.threads.update(tid, metadata={"n": "y", "new": True})
    assert updated["metadata"] == {"m": 1, "n": "y", "new": True}
    assert (await client.threads.get(tid))["metadata"] == {"m": 1, "n": "y", "new": True}
    await client.threads.delete(tid)
    with pytest.raises(NotFoundError, match=tid):
        await client.threads.get(tid)
    with pytest.raises(NotFoundError):
        await client.threads.delete(tid)
    with pytest.raises(UnprocessableEntityError, match="must be a UUID"):
        await client.threads.get("not-a-uuid")
    with pytest.raises(UnprocessableEntityError, match="must be a UUID"):
        await client.threads.create(thread_id="not-a-uuid")
    with pytest.raises(NotFoundError):
        await client.threads.update(str(uuid.uuid4()), metadata={})


async def test_thread_state_update_history_and_time_travel(server: Server) -> None:
    client = get_client(url=server.url)
    thread = await client.threads.create(graph_id="simple")
    tid = thread["thread_id"]
    empty = await client.threads.get_state(tid)
    assert empty["values"] == {} and empty["checkpoint_id"] is None and empty["next"] == []
    first = await client.threads.update_state(tid, {"x": 1})
    assert first["checkpoint"]["thread_id"] == tid and first["checkpoint_id"] == first["checkpoint"]["checkpoint_id"]
    second = await client.threads.update_state(tid, {"x": 5, "log": ["manual"]}, as_node="a")
    state = await client.threads.get_state(tid)
    assert state["values"] == {"x": 5, "log": ["manual"]}
    assert state["next"] == ["b"] and state["tasks"][0]["name"] == "b"
    assert state["checkpoint"]["checkpoint_id"] == second["checkpoint"]["checkpoint_id"]
    assert state["parent_checkpoint"]["checkpoint_id"] == first["checkpoint"]["checkpoint_id"]
    # the thread record follows its state
    assert (await client.threads.get(tid))["values"] == {"x": 5, "log": ["manual"]}
    assert await client.threads.search(values={"x": 5}) == [await client.threads.get(tid)]
    # time travel: the state at the first checkpoint, by id and by checkpoint object
    old = await client.threads.get_state(tid, checkpoint_id=first["checkpoint"]["checkpoint_id"])
    assert old["values"] == {"x": 1, "log": []}
    also = await client.threads.get_state(tid, checkpoint={"checkpoint_id": first["checkpoint"]["checkpoint_id"]})
    assert also["values"] == {"x": 1, "log": []}
    # a checkpoint the thread doesn't have reads as an empty state (LangGraph's answer)
    unknown = await client.threads.get_state(tid, checkpoint_id=str(uuid.uuid4()))
    assert unknown["values"] == {} and unknown["next"] == []
    forked = await client.threads.update_state(tid, {"x": 7}, checkpoint_id=first["checkpoint"]["checkpoint_id"])
    assert (await client.threads.get_state(tid))["values"] == {"x": 7, "log": []}
    assert forked["checkpoint"]["checkpoint_id"] != second["checkpoint"]["checkpoint_id"]
    history = await client.threads.get_history(tid)
    assert [h["values"].get("x") for h in history] == [7, 5, 1]
    assert len(await client.threads.get_history(tid, limit=1)) == 1
    before = await client.threads.get_history(tid, before=second["checkpoint"]["checkpoint_id"])
    assert before[0]["checkpoint"]["checkpoint_id"] == first["checkpoint"]["checkpoint_id"]
    by_meta = await client.threads.get_history(tid, metadata={"source": "update"})
    assert len(by_meta) == len(history)
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert len((await http.get(f"/threads/{tid}/history")).json()) == 1  # LangGraph's default limit
        got = (await http.get(f"/threads/{tid}/history", params={"limit": 2})).json()
        assert [h["checkpoint_id"] for h in got] == [h["checkpoint_id"] for h in history[:2]]
        bad = await http.post(f"/threads/{tid}/state", json={"values": {"x": 1}, "as_node": "zzz"})
        assert bad.status_code == 400 and "zzz" in bad.json()["detail"]
        bad_limit = await http.post(f"/threads/{tid}/history", json={"limit": "x"})
        assert bad_limit.status_code == 422 and "$.limit" in bad_limit.json()["detail"]


async def test_thread_state_needs_a_graph_and_a_thread(server: Server) -> None:
    client = get_client(url=server.url)
    bare = await client.threads.create()
    with pytest.raises(BadRequestError, match="has no graph"):
        await client.threads.update_state(bare["thread_id"], {"x": 1})
    assert await client.threads.get_history(bare["thread_id"]) == []
    missing = str(uuid.uuid4())
    with pytest.raises(NotFoundError, match=missing):
        await client.threads.get_state(missing)
    with pytest.raises(NotFoundError, match=missing):
        await client.threads.update_state(missing, {"x": 1})
    with pytest.raises(NotFoundError, match=missing):
        await client.threads.get_history(missing)
    ran = (await client.threads.create())["thread_id"]
    await client.runs.wait(ran, "simple", input={"x": 1})
    with pytest.raises(BadRequestError, match="zzz"):
        await client.threads.update_state(ran, {"x": 1}, as_node="zzz")
    async with httpx.AsyncClient(base_url=server.url) as http:
        for method, path in (("POST", f"/threads/{ran}/state"), ("PATCH", f"/threads/{ran}"), ("POST", "/threads")):
            r = await http.request(method, path, content=b"{x", headers={"content-type": "application/json"})
            assert r.status_code == 422 and "Invalid JSON" in r.json()["detail"], (path, r.text)


async def test_thread_supersteps_copy_prune_search_count(server: Server) -> None:
    client = get_client(url=server.url)
    made = await client.threads.create(
        graph_id="simple", metadata={"kind": "copytest"}, supersteps=[{"updates": [{"values": {"x": 3}, "as_node": "a"}]}]
    )
    tid = made["thread_id"]
    assert made["values"] == {"x": 3, "log": []}
    copy = await client.threads.copy(tid)
    assert copy["thread_id"] != tid and copy["metadata"] == made["metadata"]
    assert (await client.threads.get_state(copy["thread_id"]))["values"] == {"x": 3, "log": []}
    assert len(await client.threads.get_history(copy["thread_id"])) == len(await client.threads.get_history(tid))
    with pytest.raises(ConflictError):
        await client.threads.copy(str(uuid.uuid4()))
    assert await client.threads.count(metadata={"kind": "copytest"}) == 2
    found = await client.threads.search(metadata={"kind": "copytest"}, select=["thread_id", "status"])
    assert sorted(t["thread_id"] for t in found) == sorted([tid, copy["thread_id"]])
    assert all(set(t) == {"thread_id", "status"} for t in found)
    assert [t["thread_id"] for t in await client.threads.search(ids=[tid])] == [tid]
    assert await client.threads.count(status="interrupted", metadata={"kind": "copytest"}) == 0
    pruned = await client.threads.prune([copy["thread_id"], str(uuid.uuid4())])
    assert pruned == {"pruned_count": 1}
    with pytest.raises(NotFoundError):
        await client.threads.get(copy["thread_id"])


def test_the_sync_client_works_too(server: Server) -> None:
    client = get_sync_client(url=server.url)
    thread = client.threads.create(metadata={"sync": True})
    assert client.threads.get(thread["thread_id"])["metadata"] == {"sync": True}
    assert client.assistants.get(system_id("hitl"))["graph_id"] == "hitl"
    client.store.put_item(["sync"], "k", {"v": 1})
    item = client.store.get_item(["sync"], "k")
    assert item is not None and item["value"] == {"v": 1}


# -- store ------------------------------------------------------------------------------


async def test_store_put_get_search_namespaces_delete(server: Server) -> None:
    client = get_client(url=server.url)
    await client.store.put_item(["users", "u1"], "k1", {"a": 1})
    await client.store.put_item(["users", "u1"], "k2", {"b": 2}, ttl=5)
    await client.store.put_item(["users", "u2"], "k3", {"c": 3}, index=False)
    item = await client.store.get_item(["users", "u1"], "k1")
    assert item["namespace"] == ["users", "u1"] and item["key"] == "k1" and item["value"] == {"a": 1}
    assert item["created_at"] and item["updated_at"]
    assert (await client.store.get_item(["users", "u1"], "k2", refresh_ttl=True))["value"] == {"b": 2}
    assert await client.store.get_item(["users", "u1"], "nope") is None
    found = await client.store.search_items(["users"])
    assert sorted(i["key"] for i in found["items"]) == ["k1", "k2", "k3"]
    assert all("score" in i for i in found["items"])
    only = await client.store.search_items(["users"], filter={"a": 1})
    assert [i["key"] for i in only["items"]] == ["k1"]
    assert (await client.store.list_namespaces(prefix=["users"]))["namespaces"] == [["users", "u1"], ["users", "u2"]]
    assert (await client.store.list_namespaces(prefix=["users"], max_depth=1))["namespaces"] == [["users"]]
    assert (await client.store.list_namespaces(suffix=["u1"]))["namespaces"] == [["users", "u1"]]
    await client.store.delete_item(["users", "u1"], "k1")
    assert await client.store.get_item(["users", "u1"], "k1") is None
    await client.store.delete_item(["users", "u1"], "k1")  # deleting again is fine


async def test_store_bad_input(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.put("/store/items", json={"namespace": ["users"], "key": "k", "value": 5})
        assert r.status_code == 422 and "$.value" in r.json()["detail"]
        r = await http.put("/store/items", json={"namespace": ["users"], "value": {}})
        assert r.status_code == 422 and "key" in r.json()["detail"]
        r = await http.put("/store/items", json={"namespace": "users", "key": "k", "value": {}})
        assert r.status_code == 422 and "$.namespace" in r.json()["detail"]
        r = await http.put("/store/items", json={"namespace": ["a.b"], "key": "k", "value": {}})
        assert r.status_code == 422 and "a.b" in r.json()["detail"]
        r = await http.put("/store/items", json={"namespace": [], "key": "k", "value": {}})
        assert r.status_code == 400 and "Namespace" in r.json()["detail"]
        r = await http.get("/store/items", params={"namespace": "users.u1"})
        assert r.status_code == 400 and "Key" in r.json()["detail"]
        r = await http.request("DELETE", "/store/items", json={"namespace": ["users"]})
        assert r.status_code == 422 and "key" in r.json()["detail"]
        r = await http.request("DELETE", "/store/items", json={"key": "k"})
        assert r.status_code == 400 and "Namespace" in r.json()["detail"]
        r = await http.put("/store/items", json={"namespace": ["users"], "key": "k", "value": {}, "ttl": -1})
        assert r.status_code == 422 and "ttl" in r.json()["detail"]
        r = await http.put("/store/items", json={"namespace": ["users"], "key": "k", "value": {"n": 2**70}})
        assert r.status_code == 422 and "value" in r.json()["detail"]
        r = await http.post("/store/namespaces", json={"max_depth": 0})
        assert r.status_code == 422 and "$.max_depth" in r.json()["detail"]
        r = await http.put("/store/items", content=b"{x", headers={"content-type": "application/json"})
        assert r.status_code == 422 and "Invalid JSON" in r.json()["detail"]
