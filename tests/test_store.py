"""Stores: put/get/delete, items and timestamps, search (namespace prefixes, filters,
paging), list_namespaces, batches applied in order, TTL, namespace and value errors, the
store inside graph nodes, and SQLite persistence. Shared tests run on InMemoryStore,
SqliteStore and PostgresStore (each test in a schema of its own); async tests run on
asyncio and trio."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypedDict

import pytest

from actorgraph.config import get_store
from actorgraph.errors import ActorGraphError
from actorgraph.graph import END, START, StateGraph
from actorgraph.persistence import _store_exec
from actorgraph.runtime import Runtime
from actorgraph.store.base import (
    BaseStore,
    GetOp,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    MatchCondition,
    PutOp,
    SearchItem,
    SearchOp,
)
from actorgraph.store.memory import InMemoryStore
from actorgraph.store.postgres import PostgresStore
from actorgraph.store.sqlite import SqliteStore
from pg_helpers import pg_schema

MakeStore = Callable[..., BaseStore]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_store(kind: str, tmp_path: Path) -> Iterator[MakeStore]:
    """A factory of stores of one kind (keyword arguments go to the constructor); SQLite
    stores of one test share a file, Postgres stores a schema."""
    with contextlib.ExitStack() as stack:
        if kind == "postgres":
            import psycopg

            url = stack.enter_context(pg_schema())

        def make(**kwargs: Any) -> BaseStore:
            if kind == "memory":
                return InMemoryStore(**kwargs)
            if kind == "postgres":
                conn = stack.enter_context(psycopg.connect(url, autocommit=True))
                return PostgresStore(conn, **kwargs)
            return stack.enter_context(SqliteStore(tmp_path / "store.db", **kwargs))

        yield make


@pytest.fixture
def store(make_store: MakeStore) -> BaseStore:
    return make_store()


class Clock:
    """The stores' clock, moved by hand (µs since the epoch)."""

    def __init__(self) -> None:
        self.now = 1_700_000_000_000_000

    def __call__(self) -> int:
        return self.now

    def advance(self, *, minutes: float = 0, seconds: float = 0) -> None:
        self.now += int(minutes * 60_000_000 + seconds * 1_000_000)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(_store_exec, "now_us", c)
    return c


def _fill(store: BaseStore) -> None:
    store.put(("users", "u1"), "k1", {"name": "Ann", "age": 30})
    store.put(("users", "u1"), "k2", {"name": "Cy"})
    store.put(("users", "u2"), "k1", {"name": "Bob", "age": 25, "tags": ["x"]})
    store.put(("users", "u2", "docs"), "d1", {"name": "Doc", "age": 99, "meta": {"lang": "en", "v": 2}})
    store.put(("teams", "t1"), "k1", {"name": "Team"})


def _keys(items: list[SearchItem]) -> set[tuple[tuple[str, ...], str]]:
    return {(i.namespace, i.key) for i in items}


# -- put / get / delete -----------------------------------------------------------------


def test_put_then_get_returns_the_item_and_delete_removes_it(store: BaseStore) -> None:
    store.put(("users", "u1"), "prefs", {"theme": "dark"})
    item = store.get(("users", "u1"), "prefs")
    assert item is not None and item.value == {"theme": "dark"}
    store.delete(("users", "u1"), "prefs")
    assert store.get(("users", "u1"), "prefs") is None
    store.delete(("users", "u1"), "prefs")  # deleting a missing item is fine
    assert store.get(("nobody",), "nothing") is None


def test_item_fields_dict_and_repr(store: BaseStore) -> None:
    before = dt.datetime.now(dt.timezone.utc)
    store.put(("users", "u1"), "k1", {"name": "Ann", "age": 30})
    item = store.get(("users", "u1"), "k1")
    assert isinstance(item, Item)
    assert item.namespace == ("users", "u1") and isinstance(item.namespace, tuple)
    assert item.key == "k1"
    assert item.value == {"name": "Ann", "age": 30}
    assert item.created_at.tzinfo is not None and item.created_at.utcoffset() == dt.timedelta(0)
    assert before - dt.timedelta(seconds=1) <= item.created_at <= dt.datetime.now(dt.timezone.utc)
    assert item.updated_at == item.created_at
    assert item.dict() == {
        "namespace": ["users", "u1"],
        "key": "k1",
        "value": {"name": "Ann", "age": 30},
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat(),
    }
    assert repr(item) == (
        "Item(namespace=['users', 'u1'], key='k1', value={'name': 'Ann', 'age': 30}, "
        f"created_at='{item.created_at.isoformat()}', updated_at='{item.updated_at.isoformat()}')"
    )
    assert item == store.get(("users", "u1"), "k1")
    assert Item(**{**item.dict(), "namespace": ("users", "u1")}) == item  # ISO strings are parsed


def test_overwriting_keeps_created_at_and_moves_updated_at(store: BaseStore, clock: Clock) -> None:
    """Deliberate difference: LangGraph's InMemoryStore resets created_at on overwrite."""
    store.put(("users",), "k", {"v": 1})
    first = store.get(("users",), "k")
    clock.advance(seconds=5)
    store.put(("users",), "k", {"v": 2})
    second = store.get(("users",), "k")
    assert first is not None and second is not None
    assert second.value == {"v": 2}
    assert second.created_at == first.created_at
    assert second.updated_at - first.updated_at == dt.timedelta(seconds=5)


def test_deleted_then_recreated_item_gets_a_new_created_at(store: BaseStore, clock: Clock) -> None:
    store.put(("a",), "k", {"v": 1})
    clock.advance(seconds=1)
    store.batch([PutOp(("a",), "k", None), PutOp(("a",), "k", {"v": 2})])
    item = store.get(("a",), "k")
    assert item is not None and item.value == {"v": 2}
    assert item.created_at == item.updated_at


def test_a_non_string_key_is_converted_with_str(store: BaseStore) -> None:
    store.put(("users",), 5, {"n": 5})  # type: ignore[arg-type]
    item = store.get(("users",), "5")
    assert item is not None and item.key == "5"


def test_values_are_copies(store: BaseStore) -> None:
    value: dict[str, Any] = {"tags": ["a"], "n": 1}
    store.put(("a",), "k", value)
    value["tags"].append("changed")
    got = store.get(("a",), "k")
    assert got is not None and got.value == {"tags": ["a"], "n": 1}
    got.value["tags"].append("mutated")
    again = store.get(("a",), "k")
    assert again is not None and again.value == {"tags": ["a"], "n": 1}


def test_values_keep_their_types(store: BaseStore) -> None:
    when = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    value = {"when": when, "pair": (1, 2), "nested": {"x": [1.5, None, True]}, "blob": b"\x00\x01"}
    store.put(("a",), "k", value)
    got = store.get(("a",), "k")
    assert got is not None and got.value == value


# -- search -----------------------------------------------------------------------------


def test_search_matches_whole_labels_of_the_namespace_prefix(store: BaseStore) -> None:
    _fill(store)
    assert _keys(store.search(("users",))) == {
        (("users", "u1"), "k1"),
        (("users", "u1"), "k2"),
        (("users", "u2"), "k1"),
        (("users", "u2", "docs"), "d1"),
    }
    assert _keys(store.search(("users", "u2"))) == {(("users", "u2"), "k1"), (("users", "u2", "docs"), "d1")}
    assert store.search(("use",)) == []
    assert store.search(("users", "u")) == []
    assert len(store.search(())) == 5


def test_prefixes_do_not_match_labels_that_merely_start_alike(store: BaseStore) -> None:
    """Labels sharing a start (or sorting between 'a' and 'a.'/'a/' in text) stay apart."""
    for ns in [("a",), ("a-b",), ("a", "b"), ("ab",), ("a/",), ("a", "é")]:
        store.put(ns, "k", {"ns": list(ns)})
    assert {i.namespace for i in store.search(("a",))} == {("a",), ("a", "b"), ("a", "é")}
    assert store.list_namespaces(prefix=("a",)) == [("a",), ("a", "b"), ("a", "é")]
    assert {i.namespace for i in store.search(("a", "b"))} == {("a", "b")}


def test_search_returns_search_items_without_a_score(store: BaseStore) -> None:
    _fill(store)
    found = store.search(("teams",))
    assert len(found) == 1 and isinstance(found[0], SearchItem)
    assert found[0].score is None
    assert found[0].dict()["score"] is None
    assert repr(found[0]).startswith("SearchItem(namespace=['teams', 't1'], key='k1'")


def test_a_query_without_an_index_is_ignored(store: BaseStore) -> None:
    """As LangGraph's store without an index: query doesn't filter or rank."""
    _fill(store)
    assert _keys(store.search(("users",), query="anything")) == _keys(store.search(("users",)))


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"age": 25}, {"u2/k1"}),
        ({"name": "Ann", "age": 30}, {"u1/k1"}),
        ({"name": "Ann", "age": 31}, set()),
        ({"tags": ["x"]}, {"u2/k1"}),
        ({"meta": {"lang": "en"}}, {"u2/docs/d1"}),
        ({"age": {"$eq": 30}}, {"u1/k1"}),
        ({"age": {"$ne": 25}}, {"u1/k1", "u1/k2", "u2/docs/d1"}),  # $ne matches a missing field
        ({"age": {"$gt": 26}}, {"u1/k1", "u2/docs/d1"}),
        ({"age": {"$gte": 30}}, {"u1/k1", "u2/docs/d1"}),
        ({"age": {"$lt": 30}}, {"u2/k1"}),
        ({"age": {"$lte": 30}}, {"u1/k1", "u2/k1"}),
        ({"age": {"$gt": 20, "$lt": 50}}, {"u1/k1", "u2/k1"}),
        ({"name": {"$gte": "B", "$lt": "D"}}, {"u2/k1", "u1/k2"}),
        ({"meta": {"v": {"$gt": 1}}}, {"u2/docs/d1"}),
        ({"age": {"$gt": "26"}}, {"u1/k1", "u2/docs/d1"}),  # numeric strings compare as numbers
    ],
)
def test_search_filters(store: BaseStore, filter: dict[str, Any], expected: set[str]) -> None:
    _fill(store)
    found = store.search(("users",), filter=filter)
    assert {"/".join((*i.namespace[1:], i.key)) for i in found} == expected


def test_a_comparison_never_matches_an_item_missing_the_field(store: BaseStore) -> None:
    """Deliberate difference: LangGraph's InMemoryStore raises TypeError here."""
    store.put(("m",), "has", {"age": 40})
    store.put(("m",), "lacks", {"name": "x"})
    store.put(("m",), "null", {"age": None})
    store.put(("m",), "text", {"age": "old"})
    for op in ("$gt", "$gte", "$lt", "$lte"):
        found = store.search(("m",), filter={"age": {op: 40}})
        assert {i.key for i in found} == ({"has"} if op in ("$gte", "$lte") else set()), op


def test_equality_with_none_matches_a_missing_field_as_in_langgraph(store: BaseStore) -> None:
    store.put(("m",), "lacks", {"name": "x"})
    store.put(("m",), "null", {"age": None})
    store.put(("m",), "set", {"age": 1})
    assert {i.key for i in store.search(("m",), filter={"age": None})} == {"lacks", "null"}


@pytest.mark.parametrize(
    "filter",
    [{"age": {"$in": [1, 2]}}, {"age": {"$gt": 1, "lt": 3}}, {"$gt": 3}, {"meta": {"v": {"$regex": "x"}}}],
)
def test_a_bad_filter_is_a_value_error_naming_it(store: BaseStore, filter: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"\$|lt"):
        store.search(("users",), filter=filter)


def test_limit_and_offset_page_through_results(store: BaseStore) -> None:
    for i in range(12):
        store.put(("many",), f"k{i:02}", {"i": i})
    everything = store.search(("many",), limit=100)
    assert len(everything) == 12
    assert len(store.search(("many",))) == 10  # default limit
    pages = [store.search(("many",), limit=5, offset=o) for o in (0, 5, 10)]
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [i.key for p in pages for i in p] == [i.key for i in everything]
    assert store.search(("many",), limit=0) == []
    assert store.search(("many",), offset=20) == []
    filtered = store.search(("many",), filter={"i": {"$gte": 4}}, limit=3, offset=2)
    assert [i.key for i in filtered] == [i.key for i in everything if i.value["i"] >= 4][2:5]


@pytest.mark.parametrize(("limit", "offset"), [(-1, 0), (5, -2)])
def test_negative_limit_or_offset_is_an_error(store: BaseStore, limit: int, offset: int) -> None:
    with pytest.raises(ValueError, match="limit|offset"):
        store.search(("a",), limit=limit, offset=offset)


def test_search_order_is_the_order_of_the_matching_langgraph_store(store: BaseStore, kind: str, clock: Clock) -> None:
    """InMemoryStore: namespaces in first-write order, then keys in first-write order;
    SqliteStore: most recently updated first."""
    for ns, key in [(("b",), "k1"), (("a",), "k1"), (("b",), "k2"), (("a",), "k0")]:
        clock.advance(seconds=1)
        store.put(ns, key, {"v": 1})
    clock.advance(seconds=1)
    store.put(("b",), "k1", {"v": 2})  # an overwrite
    order = [(i.namespace[0], i.key) for i in store.search(())]
    if kind == "memory":
        assert order == [("b", "k1"), ("b", "k2"), ("a", "k1"), ("a", "k0")]
    else:
        assert order == [("b", "k1"), ("a", "k0"), ("b", "k2"), ("a", "k1")]


# -- list_namespaces --------------------------------------------------------------------


def test_list_namespaces_with_prefix_suffix_wildcards_depth_and_paging(store: BaseStore) -> None:
    _fill(store)
    store.put(("a", "b", "c"), "k", {})
    store.put(("a", "b", "d", "e"), "k", {})
    store.put(("a", "b", "d", "i"), "k", {})
    store.put(("a", "b", "f"), "k", {})
    store.put(("a", "c", "f"), "k", {})
    assert store.list_namespaces() == [
        ("a", "b", "c"),
        ("a", "b", "d", "e"),
        ("a", "b", "d", "i"),
        ("a", "b", "f"),
        ("a", "c", "f"),
        ("teams", "t1"),
        ("users", "u1"),
        ("users", "u2"),
        ("users", "u2", "docs"),
    ]
    assert store.list_namespaces(prefix=("users",)) == [("users", "u1"), ("users", "u2"), ("users", "u2", "docs")]
    assert store.list_namespaces(prefix=("a", "b"), max_depth=3) == [("a", "b", "c"), ("a", "b", "d"), ("a", "b", "f")]
    assert store.list_namespaces(suffix=("f",)) == [("a", "b", "f"), ("a", "c", "f")]
    assert store.list_namespaces(suffix=("docs",)) == [("users", "u2", "docs")]
    assert store.list_namespaces(prefix=("a", "*", "f")) == [("a", "b", "f"), ("a", "c", "f")]
    assert store.list_namespaces(suffix=("*", "f")) == [("a", "b", "f"), ("a", "c", "f")]
    assert store.list_namespaces(prefix=("a",), suffix=("d", "*")) == [("a", "b", "d", "e"), ("a", "b", "d", "i")]
    assert store.list_namespaces(max_depth=1) == [("a",), ("teams",), ("users",)]
    assert store.list_namespaces(prefix=("users",), max_depth=2) == [("users", "u1"), ("users", "u2")]
    assert store.list_namespaces(limit=2, offset=1) == [("a", "b", "d", "e"), ("a", "b", "d", "i")]
    assert store.list_namespaces(prefix=("nope",)) == []
    assert store.list_namespaces(prefix=("use",)) == []


def test_a_namespace_disappears_with_its_last_item_and_a_get_does_not_create_one(store: BaseStore) -> None:
    """Deliberate difference: LangGraph keeps listing emptied (and merely read) namespaces."""
    assert store.get(("ghost",), "k") is None
    store.put(("real",), "k", {"v": 1})
    store.put(("real", "sub"), "k", {"v": 1})
    store.delete(("real",), "k")
    assert store.list_namespaces() == [("real", "sub")]
    store.delete(("real", "sub"), "k")
    assert store.list_namespaces() == []
    assert store.search(()) == []


def test_list_namespaces_rejects_a_bad_max_depth(store: BaseStore) -> None:
    with pytest.raises(ValueError, match="max_depth"):
        store.list_namespaces(max_depth=0)


# -- batches ----------------------------------------------------------------------------


def test_batch_applies_ops_in_order(store: BaseStore) -> None:
    """Deliberate difference: LangGraph applies a batch's puts after all its reads."""
    ns = ("b",)
    results = store.batch(
        [
            GetOp(ns, "k"),
            PutOp(ns, "k", {"v": 1}),
            GetOp(ns, "k"),
            SearchOp(ns),
            ListNamespacesOp(),
            PutOp(ns, "k", {"v": 2}),
            PutOp(ns, "k", {"v": 3}),
            GetOp(ns, "k"),
            PutOp(ns, "k", None),
            GetOp(ns, "k"),
            ListNamespacesOp(match_conditions=(MatchCondition("prefix", ns),)),
        ]
    )
    assert results[0] is None
    assert results[1] is None
    assert isinstance(results[2], Item) and results[2].value == {"v": 1}
    assert isinstance(results[3], list) and [i.value for i in results[3]] == [{"v": 1}]  # type: ignore[union-attr]
    assert results[4] == [ns]
    assert isinstance(results[7], Item) and results[7].value == {"v": 3}
    assert results[9] is None
    assert results[10] == []
    assert store.get(ns, "k") is None


def test_one_batch_can_read_many_keys(store: BaseStore) -> None:
    store.batch([PutOp(("n", str(i % 3)), f"k{i}", {"i": i}) for i in range(30)])
    gets = [GetOp(("n", str(i % 3)), f"k{i}") for i in range(31)] + [GetOp(("n", "0"), "k0")]
    results = store.batch(gets)
    assert [r.value["i"] if isinstance(r, Item) else None for r in results] == [*range(30), None, 0]
    assert results[0] is not results[-1] and results[0].value is not results[-1].value  # type: ignore[union-attr]


def test_a_bad_op_fails_the_whole_batch_and_applies_nothing(store: BaseStore) -> None:
    with pytest.raises(InvalidNamespaceError):
        store.batch([PutOp(("ok",), "k", {"v": 1}), PutOp(("bad.label",), "k", {"v": 1})])
    with pytest.raises(TypeError):
        store.batch([PutOp(("ok",), "k", {"v": 1}), PutOp(("ok",), "k2", ["not", "a", "dict"])])  # type: ignore[arg-type]
    assert store.get(("ok",), "k") is None
    with pytest.raises(TypeError, match="Unknown store operation"):
        store.batch(["not an op"])  # type: ignore[list-item]


def test_concurrent_puts_from_threads_all_land(store: BaseStore) -> None:
    def work(t: int) -> None:
        for i in range(25):
            store.put(("t", str(t)), f"k{i}", {"i": i})

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(store.search(("t",), limit=1000)) == 100
    assert store.list_namespaces(prefix=("t",)) == [("t", str(t)) for t in range(4)]


# -- namespaces and values that can't be stored ----------------------------------------


@pytest.mark.parametrize(
    ("namespace", "fragment"),
    [
        ((), "empty"),
        (("a.b",), "period"),
        (("a", ""), "empty label"),
        (("a", 1), "not a string"),
        (("langgraph", "x"), "reserved"),
        (("a\x00",), "NUL"),
        ("users", "tuple"),
    ],
)
def test_invalid_namespaces_raise_invalid_namespace_error_naming_them(
    store: BaseStore, namespace: Any, fragment: str
) -> None:
    with pytest.raises(InvalidNamespaceError, match=fragment) as info:
        store.put(namespace, "k", {"v": 1})
    assert repr(tuple(namespace) if isinstance(namespace, tuple) else namespace) in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, ActorGraphError)


def test_reads_check_labels_too(store: BaseStore) -> None:
    with pytest.raises(InvalidNamespaceError, match="'a.b'"):
        store.get(("a.b",), "k")
    with pytest.raises(InvalidNamespaceError, match="empty"):
        store.get((), "k")
    with pytest.raises(InvalidNamespaceError, match="'x.y'"):
        store.search(("x.y",))
    with pytest.raises(InvalidNamespaceError, match="'x.y'"):
        store.list_namespaces(prefix=("x.y",))
    with pytest.raises(InvalidNamespaceError, match="'a.b'"):
        store.batch([GetOp(("a.b",), "k")])
    assert store.get(("langgraph",), "k") is None  # reading the reserved root is allowed


def test_a_namespace_given_as_a_list_is_accepted(store: BaseStore) -> None:
    store.put(["users", "u1"], "k", {"v": 1})  # type: ignore[arg-type]
    item = store.get(("users", "u1"), "k")
    assert item is not None and item.namespace == ("users", "u1")


@pytest.mark.parametrize("value", [["a"], "text", 3, {1: "int key"}])
def test_a_value_that_is_not_a_dict_of_str_keys_is_a_type_error_naming_the_key(store: BaseStore, value: Any) -> None:
    with pytest.raises(TypeError, match="'the_key'"):
        store.put(("ns",), "the_key", value)


def test_a_value_that_cannot_be_serialized_is_a_type_error(store: BaseStore) -> None:
    class Opaque:
        pass

    with pytest.raises(TypeError, match="Opaque") as info:
        store.put(("ns",), "k", {"obj": Opaque()})
    assert any("'k'" in note for note in getattr(info.value, "__notes__", []))
    assert store.get(("ns",), "k") is None


def test_a_none_key_is_a_type_error(store: BaseStore) -> None:
    with pytest.raises(TypeError, match="key"):
        store.put(("ns",), None, {"v": 1})  # type: ignore[arg-type]


# -- TTL --------------------------------------------------------------------------------


def test_an_item_with_a_tiny_ttl_expires(store: BaseStore) -> None:
    store.put(("t",), "short", {"v": 1}, ttl=0.005)  # 0.3 s
    store.put(("t",), "long", {"v": 1})
    assert store.get(("t",), "short", refresh_ttl=False) is not None
    time.sleep(0.5)
    assert store.get(("t",), "short") is None
    assert [i.key for i in store.search(("t",))] == ["long"]


def test_expired_items_are_invisible_and_purged(store: BaseStore, clock: Clock) -> None:
    store.put(("t", "a"), "k", {"v": 1}, ttl=1)
    store.put(("t", "b"), "k", {"v": 1}, ttl=10)
    clock.advance(minutes=0.5)
    assert [ns for ns in store.list_namespaces()] == [("t", "a"), ("t", "b")]
    clock.advance(minutes=1)
    assert store.get(("t", "a"), "k") is None
    assert _keys(store.search(("t",))) == {(("t", "b"), "k")}
    assert store.list_namespaces() == [("t", "b")]
    clock.advance(minutes=20)
    assert store.search(()) == [] and store.list_namespaces() == []
    assert store.sweep_ttl() == 0  # type: ignore[attr-defined]  # already purged by the reads above


def test_sweep_ttl_deletes_expired_items_and_counts_them(store: BaseStore, clock: Clock) -> None:
    for i in range(3):
        store.put(("t",), f"k{i}", {"v": i}, ttl=1)
    store.put(("t",), "forever", {"v": 0})
    clock.advance(minutes=2)
    assert store.sweep_ttl() == 3  # type: ignore[attr-defined]
    assert [i.key for i in store.search(("t",))] == ["forever"]


def test_reads_refresh_the_ttl_with_refresh_on_read(make_store: MakeStore, clock: Clock) -> None:
    store = make_store(ttl={"refresh_on_read": True})
    store.put(("t",), "k", {"v": 1}, ttl=1)
    for _ in range(3):
        clock.advance(minutes=0.8)
        assert store.get(("t",), "k") is not None  # each read restarts the minute
    clock.advance(minutes=0.8)
    assert store.search(("t",)) != []
    clock.advance(minutes=0.8)
    assert store.get(("t",), "k", refresh_ttl=False) is not None
    clock.advance(minutes=0.5)
    assert store.get(("t",), "k") is None


def test_sqlite_reads_refresh_nothing_without_a_ttl_config(tmp_path: Any, clock: Clock) -> None:
    """As LangGraph's SqliteStore: a read restarts an item's time to live only when the
    store's ttl config sets refresh_on_read."""
    with SqliteStore.from_conn_string(str(tmp_path / "s.db")) as store:
        store.put(("t",), "k", {"v": 1}, ttl=1)
        clock.advance(minutes=0.8)
        assert store.get(("t",), "k") is not None
        clock.advance(minutes=0.4)
        assert store.get(("t",), "k") is None


def test_refresh_on_read_false_in_the_config_keeps_the_deadline(make_store: MakeStore, clock: Clock) -> None:
    store = make_store(ttl={"default_ttl": 1, "refresh_on_read": False})
    store.put(("t",), "k", {"v": 1})
    clock.advance(minutes=0.8)
    assert store.get(("t",), "k") is not None
    assert store.search(("t",)) != []
    clock.advance(minutes=0.4)
    assert store.get(("t",), "k") is None
    if not isinstance(store, InMemoryStore):
        return  # LangGraph's SqliteStore refreshes only when the config says refresh_on_read
    store.put(("t",), "k2", {"v": 1})
    clock.advance(minutes=0.8)
    assert store.get(("t",), "k2", refresh_ttl=True) is not None  # a read can still ask
    clock.advance(minutes=0.8)
    assert store.get(("t",), "k2") is not None


def test_default_ttl_applies_unless_put_passes_ttl(make_store: MakeStore, clock: Clock) -> None:
    store = make_store(ttl={"default_ttl": 1})
    assert store.supports_ttl and store.ttl_config == {"default_ttl": 1}
    store.put(("t",), "default", {"v": 1})
    store.put(("t",), "forever", {"v": 1}, ttl=None)
    store.put(("t",), "longer", {"v": 1}, ttl=5)
    clock.advance(minutes=2)
    assert {i.key for i in store.search(("t",))} == {"forever", "longer"}
    clock.advance(minutes=10)
    assert {i.key for i in store.search(("t",))} == {"forever"}


def test_a_put_restarts_the_ttl_and_an_expired_key_can_be_written_again(store: BaseStore, clock: Clock) -> None:
    store.put(("t",), "k", {"v": 1}, ttl=1)
    clock.advance(minutes=0.9)
    store.put(("t",), "k", {"v": 2}, ttl=1)
    clock.advance(minutes=0.9)
    item = store.get(("t",), "k", refresh_ttl=False)
    assert item is not None and item.value == {"v": 2}
    clock.advance(minutes=0.2)
    store.put(("t",), "k", {"v": 3})  # the old item expired: this is a new one
    item = store.get(("t",), "k")
    assert item is not None and item.value == {"v": 3} and item.created_at == item.updated_at


def test_a_batch_may_read_then_delete_an_item_with_a_ttl(store: BaseStore) -> None:
    store.put(("t",), "k", {"v": 1}, ttl=5)
    results = store.batch([GetOp(("t",), "k"), SearchOp(("t",)), PutOp(("t",), "k", None)])
    assert isinstance(results[0], Item) and len(results[1]) == 1  # type: ignore[arg-type]
    assert store.get(("t",), "k") is None and store.list_namespaces() == []


def test_a_huge_ttl_is_kept_as_practically_forever(make_store: MakeStore, clock: Clock) -> None:
    """A ttl of 1e300 minutes is stored (its expiry stamp is capped to fit SQLite's 64-bit
    integers), refreshes on read, and the item is there centuries later."""
    store = make_store(ttl={"refresh_on_read": True})
    store.put(("t",), "k", {"v": 1}, ttl=1e300)
    assert store.get(("t",), "k") is not None
    clock.advance(minutes=60 * 24 * 365 * 1000)
    assert [i.key for i in store.search(("t",))] == ["k"]


@pytest.mark.parametrize("ttl", [0, -1, float("nan"), "5", True])
def test_a_bad_ttl_is_a_value_error(store: BaseStore, ttl: Any) -> None:
    with pytest.raises(ValueError, match="ttl"):
        store.put(("t",), "k", {"v": 1}, ttl=ttl)


def test_a_bad_ttl_config_is_an_error(make_store: MakeStore) -> None:
    with pytest.raises(ValueError, match="default_ttl_minutes"):
        make_store(ttl={"default_ttl_minutes": 5})
    with pytest.raises(ValueError, match="default_ttl"):
        make_store(ttl={"default_ttl": -5})


# -- async ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_twins(store: BaseStore) -> None:
    await store.aput(("users", "u1"), "k1", {"name": "Ann", "age": 30})
    await store.aput(("users", "u2"), "k1", {"name": "Bob", "age": 25})
    item = await store.aget(("users", "u1"), "k1")
    assert item is not None and item.value["name"] == "Ann"
    found = await store.asearch(("users",), filter={"age": {"$lt": 28}})
    assert [i.value["name"] for i in found] == ["Bob"]
    assert await store.alist_namespaces(prefix=("users",)) == [("users", "u1"), ("users", "u2")]
    await store.adelete(("users", "u1"), "k1")
    assert await store.aget(("users", "u1"), "k1") is None
    results = await store.abatch([PutOp(("b",), "k", {"v": 1}), GetOp(("b",), "k")])
    assert isinstance(results[1], Item) and results[1].value == {"v": 1}
    with pytest.raises(InvalidNamespaceError):
        await store.aput(("a.b",), "k", {})


@pytest.mark.anyio
async def test_async_ttl(make_store: MakeStore, clock: Clock) -> None:
    store = make_store(ttl={"default_ttl": 1})
    await store.aput(("t",), "k", {"v": 1})
    clock.advance(minutes=2)
    assert await store.aget(("t",), "k") is None
    assert await store.asearch(("t",)) == []


# -- in a graph -------------------------------------------------------------------------


class Memo(TypedDict, total=False):
    user: str
    seen: list[Any]


def _remembering_graph(store: BaseStore | None, *, nested: bool = False) -> Any:
    def remember(state: Memo, runtime: Runtime) -> dict[str, Any]:
        assert runtime.store is get_store()
        ns = ("memories", state["user"])
        count = len(runtime.store.search(ns))
        runtime.store.put(ns, f"m{count}", {"n": count})
        return {"seen": [type(runtime.store).__name__, count]}

    def recall(state: Memo) -> dict[str, Any]:
        found = get_store().search(("memories", state["user"]), limit=100)
        return {"seen": [*state["seen"], sorted(i.key for i in found)]}

    inner = StateGraph(Memo).add_node("remember", remember).add_node("recall", recall)
    inner.add_edge(START, "remember").add_edge("remember", "recall").add_edge("recall", END)
    if not nested:
        return inner.compile(store=store)
    outer = StateGraph(Memo).add_node("sub", inner.compile())
    outer.add_edge(START, "sub").add_edge("sub", END)
    return outer.compile(store=store)


@pytest.mark.parametrize("nested", [False, True])
def test_nodes_reach_the_compiled_store(store: BaseStore, nested: bool) -> None:
    graph = _remembering_graph(store, nested=nested)
    assert graph.store is store
    name = type(store).__name__
    assert graph.invoke({"user": "ann"})["seen"] == [name, 0, ["m0"]]
    assert graph.invoke({"user": "ann"})["seen"] == [name, 1, ["m0", "m1"]]
    assert store.list_namespaces() == [("memories", "ann")]


@pytest.mark.anyio
@pytest.mark.parametrize("nested", [False, True])
async def test_nodes_reach_the_store_under_ainvoke(store: BaseStore, nested: bool) -> None:
    graph = _remembering_graph(store, nested=nested)
    await graph.ainvoke({"user": "bo"})
    out = await graph.ainvoke({"user": "bo"})
    assert out["seen"] == [type(store).__name__, 1, ["m0", "m1"]]


@pytest.mark.anyio
async def test_async_nodes_use_the_async_store_api(store: BaseStore) -> None:
    async def node(state: Memo, runtime: Runtime) -> dict[str, Any]:
        await runtime.store.aput(("notes",), state["user"], {"hi": True})
        item = await get_store().aget(("notes",), state["user"])
        return {"seen": [item.value]}

    graph = StateGraph(Memo).add_node("n", node).add_edge(START, "n").compile(store=store)
    assert (await graph.ainvoke({"user": "cy"}))["seen"] == [{"hi": True}]


def test_without_a_store_nodes_see_none() -> None:
    def node(state: Memo, runtime: Runtime) -> dict[str, Any]:
        return {"seen": [runtime.store, get_store()]}

    graph = StateGraph(Memo).add_node("n", node).add_edge(START, "n").compile()
    assert graph.invoke({"user": "x"})["seen"] == [None, None]


# -- SQLite specifics -------------------------------------------------------------------


def test_sqlite_store_persists_across_instances_on_one_file(tmp_path: Path) -> None:
    path = tmp_path / "memories.db"
    with SqliteStore.from_conn_string(path) as first:
        first.put(("users", "u1"), "prefs", {"theme": "dark"})
        first.put(("users", "u2"), "prefs", {"theme": "light"}, ttl=60)
        written = first.get(("users", "u1"), "prefs")
    with SqliteStore(path) as second:
        assert second.get(("users", "u1"), "prefs") == written
        assert second.list_namespaces() == [("users", "u1"), ("users", "u2")]
        second.delete(("users", "u1"), "prefs")
    conn = sqlite3.connect(path, check_same_thread=False)
    try:
        third = SqliteStore(conn)
        assert third.list_namespaces() == [("users", "u2")]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        third.close()  # a connection we passed stays open
        assert conn.execute("SELECT count(*) FROM actorgraph_store").fetchone()[0] == 1
    finally:
        conn.close()


def test_two_sqlite_stores_on_one_file_see_each_others_writes(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as a, SqliteStore(tmp_path / "s.db") as b:
        a.put(("x",), "k", {"v": 1})
        got = b.get(("x",), "k")
        assert got is not None and got.value == {"v": 1}
        b.put(("x",), "k", {"v": 2})
        got = a.get(("x",), "k")
        assert got is not None and got.value == {"v": 2}


@pytest.mark.anyio
async def test_sqlite_async_calls_need_a_connection_usable_from_threads(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "s.db")  # check_same_thread=True
    try:
        store = SqliteStore(conn)
        store.put(("x",), "k", {"v": 1})
        with pytest.raises(sqlite3.ProgrammingError) as info:
            await store.aget(("x",), "k")
        assert any("check_same_thread=False" in note for note in info.value.__notes__)
    finally:
        conn.close()


def test_sqlite_store_rejects_something_that_is_not_a_connection_or_path() -> None:
    with pytest.raises(TypeError, match="sqlite3.Connection or a database path"):
        SqliteStore(42)  # type: ignore[arg-type]


def _letters(texts: Any) -> list[list[float]]:
    """A toy embedding: letter counts a-z."""
    return [[float(t.lower().count(c)) for c in "abcdefghijklmnopqrstuvwxyz"] for t in texts]


def test_in_memory_semantic_search_ranks_by_similarity_with_scores() -> None:
    """#50: InMemoryStore(index=...) embeds the indexed fields on put and ranks
    search(query=...) by cosine similarity; index=False items come last without a score."""
    store = InMemoryStore(index={"dims": 26, "embed": _letters, "fields": ["text"]})
    store.put(("docs",), "apple", {"text": "apple apple pie"})
    store.put(("docs",), "zebra", {"text": "zzz zebra"})
    store.put(("docs",), "plain", {"text": "apple"}, index=False)
    found = store.search(("docs",), query="apple pie")
    assert [r.key for r in found] == ["apple", "zebra", "plain"]
    assert found[0].score is not None and found[0].score > (found[1].score or 0) and found[2].score is None
    assert [r.key for r in store.search(("docs",), query="zebra", limit=1)] == ["zebra"]
    assert [r.key for r in store.search(("docs",), query="zebra", filter={"text": "apple apple pie"})] == ["apple"]
    store.put(("docs",), "zebra", {"text": "apple apple pie"})  # re-embedded on overwrite
    assert {r.key for r in store.search(("docs",), query="apple pie", limit=2)} == {"apple", "zebra"}
