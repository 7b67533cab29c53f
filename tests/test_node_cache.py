"""Node caching: CachePolicy on add_node, InMemoryCache and SqliteCache, TTL, key
functions, clear_cache/aclear_cache, cached routing and policy validation."""

from __future__ import annotations

import operator
import threading
import time
import uuid
from pathlib import Path
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypedDict

import pytest
from conftest import require_service

from actorgraph.cache.memory import InMemoryCache
from actorgraph.cache.redis import RedisCache
from actorgraph.cache.sqlite import SqliteCache
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import CachePolicy, Send


class State(TypedDict):
    x: int
    result: int


class Counted:
    """``{"result": x * factor}``, counting calls."""

    def __init__(self, factor: int = 2) -> None:
        self.factor = factor
        self.calls = 0

    def __call__(self, state: State) -> dict[str, Any]:
        self.calls += 1
        return {"result": state["x"] * self.factor}


def _graph(node: Any, cache: Any, policy: CachePolicy | None = None, name: str = "expensive_node") -> Any:
    g = StateGraph(State)
    g.add_node(name, node, cache_policy=policy or CachePolicy())
    g.set_entry_point(name).set_finish_point(name)
    return g.compile(cache=cache)


def _redis_client() -> Any:
    redis = pytest.importorskip("redis")
    client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=0.5)
    try:
        reachable = bool(client.ping())
    except redis.RedisError:
        reachable = False
    require_service("redis-server on 127.0.0.1:6379", reachable)
    return client


@pytest.fixture(params=["memory", "sqlite", "redis"])
def make_cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """A factory of caches of one kind; SQLite caches share one file per test, Redis
    caches one key prefix per test."""
    if request.param == "memory":
        yield InMemoryCache
        return
    if request.param == "redis":
        client = _redis_client()
        prefix = f"actorgraph-test:{uuid.uuid4().hex}:"
        yield lambda: RedisCache(client, prefix=prefix)
        RedisCache(client, prefix=prefix).clear()
        return
    opened: list[SqliteCache] = []

    def make() -> SqliteCache:
        cache = SqliteCache(tmp_path / "cache.db")
        opened.append(cache)
        return cache

    yield make
    for cache in opened:
        cache.close()


HIT = {"__metadata__": {"cached": True}}


# -- hits and misses --------------------------------------------------------------------


def test_reference_docs_example_second_invoke_is_served_from_the_cache(make_cache: Any) -> None:
    node = Counted()
    graph = _graph(node, make_cache(), CachePolicy(ttl=3))
    assert graph.invoke({"x": 5}, stream_mode="updates") == [{"expensive_node": {"result": 10}}]
    assert graph.invoke({"x": 5}, stream_mode="updates") == [
        {"expensive_node": {"result": 10}, "__metadata__": {"cached": True}}
    ]
    assert node.calls == 1


@pytest.mark.anyio
async def test_async_invoke_hits_the_cache_and_gives_the_same_state(make_cache: Any) -> None:
    node = Counted()
    graph = _graph(node, make_cache())
    assert await graph.ainvoke({"x": 4}) == {"x": 4, "result": 8}
    assert await graph.ainvoke({"x": 4}) == {"x": 4, "result": 8}
    assert [u async for u in graph.astream({"x": 4}, stream_mode="updates")] == [
        {"expensive_node": {"result": 8}, **HIT}
    ]
    assert node.calls == 1


def test_different_inputs_are_different_entries(make_cache: Any) -> None:
    node = Counted()
    graph = _graph(node, make_cache())
    assert graph.invoke({"x": 1})["result"] == 2
    assert graph.invoke({"x": 2})["result"] == 4
    assert node.calls == 2
    assert graph.invoke({"x": 1}, stream_mode="updates") == [{"expensive_node": {"result": 2}, **HIT}]
    assert graph.invoke({"x": 2}, stream_mode="updates") == [{"expensive_node": {"result": 4}, **HIT}]
    assert node.calls == 2


def test_entry_expires_after_its_ttl(make_cache: Any) -> None:
    node = Counted()
    graph = _graph(node, make_cache(), CachePolicy(ttl=0.1))  # type: ignore[arg-type]
    graph.invoke({"x": 3})
    assert graph.invoke({"x": 3}, stream_mode="updates") == [{"expensive_node": {"result": 6}, **HIT}]
    time.sleep(0.15)
    assert graph.invoke({"x": 3}, stream_mode="updates") == [{"expensive_node": {"result": 6}}]
    assert node.calls == 2


def test_cached_value_is_a_copy_the_caller_cannot_mutate() -> None:
    class LS(TypedDict):
        x: int
        items: list[int]

    calls: list[int] = []

    def node(state: LS) -> dict[str, Any]:
        calls.append(1)
        return {"items": [state["x"], state["x"]]}

    g = StateGraph(LS)
    g.add_node("n", node, cache_policy=CachePolicy())
    g.add_edge(START, "n")
    graph = g.compile(cache=InMemoryCache())
    first = graph.invoke({"x": 1})
    first["items"].append(99)
    assert graph.invoke({"x": 1}) == {"x": 1, "items": [1, 1]}
    assert calls == [1]


def test_graph_without_a_cache_ignores_cache_policy() -> None:
    node = Counted()
    graph = _graph(node, None)
    graph.invoke({"x": 1})
    assert graph.invoke({"x": 1}, stream_mode="updates") == [{"expensive_node": {"result": 2}}]
    assert node.calls == 2
    graph.clear_cache()  # no cache: nothing to clear, no error


def test_set_node_defaults_cache_policy_caches_every_node() -> None:
    node = Counted()
    g = StateGraph(State).set_node_defaults(cache_policy=CachePolicy())
    g.add_node("n", node)
    g.add_edge(START, "n")
    graph = g.compile(cache=InMemoryCache())
    graph.invoke({"x": 1})
    assert graph.invoke({"x": 1}, stream_mode="updates") == [{"n": {"result": 2}, **HIT}]
    assert node.calls == 1


# -- key functions ----------------------------------------------------------------------


def test_custom_key_func_decides_what_counts_as_the_same_input(make_cache: Any) -> None:
    node = Counted()
    seen: list[dict[str, Any]] = []

    def parity(state: dict[str, Any]) -> str:
        seen.append(dict(state))
        return str(state["x"] % 2)

    graph = _graph(node, make_cache(), CachePolicy(key_func=parity))
    assert graph.invoke({"x": 1}) == {"x": 1, "result": 2}
    assert graph.invoke({"x": 3}) == {"x": 3, "result": 2}  # same key: the cached writes
    assert graph.invoke({"x": 2}) == {"x": 2, "result": 4}
    assert node.calls == 2
    assert seen == [{"x": 1}, {"x": 3}, {"x": 2}]


def test_key_func_may_return_bytes() -> None:
    node = Counted()
    graph = _graph(node, InMemoryCache(), CachePolicy(key_func=lambda s: b"same"))
    graph.invoke({"x": 1})
    assert graph.invoke({"x": 7}) == {"x": 7, "result": 2}
    assert node.calls == 1


def test_key_func_that_raises_propagates_with_a_note_naming_the_node() -> None:
    def broken(state: Any) -> str:
        raise RuntimeError("no key")

    node = Counted()
    graph = _graph(node, InMemoryCache(), CachePolicy(key_func=broken))
    with pytest.raises(RuntimeError) as info:
        graph.invoke({"x": 1})
    assert str(info.value) == "no key"
    assert any("expensive_node" in n and "key_func" in n for n in info.value.__notes__)
    assert node.calls == 0


def test_key_func_returning_a_non_string_is_a_type_error_naming_the_node() -> None:
    node = Counted()
    graph = _graph(node, InMemoryCache(), CachePolicy(key_func=lambda s: 42))  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError) as info:
        graph.invoke({"x": 1})
    assert "node 'expensive_node'" in str(info.value)
    assert "got int: 42" in str(info.value)
    assert node.calls == 0


# -- clearing ---------------------------------------------------------------------------


class Two(TypedDict):
    x: int
    a: int
    b: int


def _two_nodes(cache: Any) -> tuple[Any, list[str]]:
    calls: list[str] = []

    def a(state: Two) -> dict[str, Any]:
        calls.append("a")
        return {"a": state["x"] + 1}

    def b(state: Two) -> dict[str, Any]:
        calls.append("b")
        return {"b": state["a"] * 10}

    g = StateGraph(Two)
    g.add_node("a", a, cache_policy=CachePolicy())
    g.add_node("b", b, cache_policy=CachePolicy())
    g.add_edge(START, "a").add_edge("a", "b").add_edge("b", END)
    return g.compile(cache=cache), calls


def test_clear_cache_drops_every_nodes_entries(make_cache: Any) -> None:
    graph, calls = _two_nodes(make_cache())
    graph.invoke({"x": 1})
    graph.invoke({"x": 1})
    assert calls == ["a", "b"]
    graph.clear_cache()
    assert graph.invoke({"x": 1}, stream_mode="updates") == [{"a": {"a": 2}}, {"b": {"b": 20}}]
    assert calls == ["a", "b", "a", "b"]


def test_clear_cache_of_some_nodes_keeps_the_others(make_cache: Any) -> None:
    graph, calls = _two_nodes(make_cache())
    graph.invoke({"x": 1})
    graph.clear_cache(nodes=["a"])
    assert graph.invoke({"x": 1}, stream_mode="updates") == [{"a": {"a": 2}}, {"b": {"b": 20}, **HIT}]
    assert calls == ["a", "b", "a"]


@pytest.mark.anyio
async def test_aclear_cache_drops_entries(make_cache: Any) -> None:
    graph, calls = _two_nodes(make_cache())
    await graph.ainvoke({"x": 1})
    await graph.aclear_cache(nodes=["b"])
    assert await graph.ainvoke({"x": 1}) == {"x": 1, "a": 2, "b": 20}
    assert calls == ["a", "b", "b"]
    await graph.aclear_cache()
    await graph.ainvoke({"x": 1})
    assert calls == ["a", "b", "b", "a", "b"]


def test_clear_cache_of_an_unknown_node_is_a_value_error() -> None:
    graph, _ = _two_nodes(InMemoryCache())
    with pytest.raises(ValueError, match=r"unknown node\(s\) \['nope'\]"):
        graph.clear_cache(nodes=["nope"])


# -- SQLite -----------------------------------------------------------------------------


def _builder(node: Any) -> StateGraph:
    g = StateGraph(State)
    g.add_node("n", node, cache_policy=CachePolicy())
    g.add_edge(START, "n")
    return g


def test_sqlite_cache_persists_across_instances_on_the_same_file(tmp_path: Path) -> None:
    node = Counted()
    first = SqliteCache(tmp_path / "c.db")
    assert _builder(node).compile(cache=first).invoke({"x": 2}) == {"x": 2, "result": 4}
    first.close()
    second = SqliteCache(str(tmp_path / "c.db"))
    try:
        out = _builder(node).compile(cache=second).invoke({"x": 2}, stream_mode="updates")
    finally:
        second.close()
    assert out == [{"n": {"result": 4}, **HIT}]
    assert node.calls == 1


def test_two_sqlite_caches_in_two_threads_share_entries(tmp_path: Path) -> None:
    node = Counted()
    caches = [SqliteCache(tmp_path / "shared.db"), SqliteCache(tmp_path / "shared.db")]
    graphs = [_builder(node).compile(cache=c) for c in caches]
    outs: dict[int, Any] = {}

    def run(i: int, x: int) -> None:
        outs[i] = graphs[i % 2].invoke({"x": x}, stream_mode="updates")

    try:
        for i, x in enumerate([1, 2, 1, 2]):  # writers then readers, on alternating caches
            t = threading.Thread(target=run, args=(i, x))
            t.start()
            t.join(5)
    finally:
        for c in caches:
            c.close()
    assert outs == {
        0: [{"n": {"result": 2}}],
        1: [{"n": {"result": 4}}],
        2: [{"n": {"result": 2}, **HIT}],
        3: [{"n": {"result": 4}, **HIT}],
    }
    assert node.calls == 2


def test_sqlite_cache_needs_exactly_one_of_path_or_conn(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        SqliteCache()
    import sqlite3

    conn = sqlite3.connect(tmp_path / "x.db", check_same_thread=False)
    with pytest.raises(ValueError):
        SqliteCache(tmp_path / "x.db", conn=conn)
    conn.close()


# -- routing and sends on a hit -----------------------------------------------------------


class Routed(TypedDict):
    x: int
    log: Annotated[list, operator.add]


@pytest.mark.anyio
async def test_cached_node_routes_the_same_way_on_a_hit(make_cache: Any) -> None:
    choice = ["b"]
    routed: list[str] = []

    def route(state: Routed) -> str:
        routed.append(choice[0])
        return choice[0]

    g = StateGraph(Routed)
    g.add_node("a", lambda s: {"log": ["a"]}, cache_policy=CachePolicy())
    g.add_node("b", lambda s: {"log": ["b"]})
    g.add_node("c", lambda s: {"log": ["c"]})
    g.add_edge(START, "a").add_conditional_edges("a", route, ["b", "c"])
    graph = g.compile(cache=make_cache())
    assert await graph.ainvoke({"x": 1, "log": []}) == {"x": 1, "log": ["a", "b"]}
    choice[0] = "c"  # the router would now choose c, but the hit replays the cached route
    assert await graph.ainvoke({"x": 1, "log": []}) == {"x": 1, "log": ["a", "b"]}
    assert routed == ["b"]


def test_cached_node_replays_its_sends_on_a_hit() -> None:
    class Fan(TypedDict):
        n: int
        got: Annotated[list, operator.add]

    fanned: list[int] = []

    def fan(state: Fan) -> list[Send]:
        fanned.append(state["n"])
        return [Send("w", i) for i in range(state["n"])]

    g = StateGraph(Fan)
    g.add_node("a", lambda s: {"got": ["a"]}, cache_policy=CachePolicy())
    g.add_node("w", lambda i: {"got": [i]})
    g.add_edge(START, "a").add_conditional_edges("a", fan, ["w"])
    graph = g.compile(cache=InMemoryCache())
    assert graph.invoke({"n": 3, "got": []}) == {"n": 3, "got": ["a", 0, 1, 2]}
    assert graph.invoke({"n": 3, "got": []}) == {"n": 3, "got": ["a", 0, 1, 2]}
    assert fanned == [3]


# -- validation -------------------------------------------------------------------------


@pytest.mark.parametrize("ttl", [0, -1, -0.5], ids=["zero", "negative", "negative-float"])
def test_cache_policy_with_a_non_positive_ttl_is_rejected_at_add_node(ttl: float) -> None:
    g = StateGraph(State)
    with pytest.raises(ValueError) as info:
        g.add_node("n", Counted(), cache_policy=CachePolicy(ttl=ttl))  # type: ignore[arg-type]
    assert "Node 'n'" in str(info.value)
    assert f"got {ttl!r}" in str(info.value)
    assert "n" not in g.nodes


def test_cache_policy_with_a_non_callable_key_func_or_wrong_type_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"Node 'n'.*key_func"):
        StateGraph(State).add_node("n", Counted(), cache_policy=CachePolicy(key_func="x"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Node 'n'.*CachePolicy"):
        StateGraph(State).add_node("n", Counted(), cache_policy={"ttl": 3})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"set_node_defaults.*ttl"):
        StateGraph(State).set_node_defaults(cache_policy=CachePolicy(ttl=0))
