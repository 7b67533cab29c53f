"""Semantic search in stores (#50): ``index={"dims", "embed", "fields"}`` on InMemoryStore,
SqliteStore, AsyncSqliteStore and the Postgres stores (tests/test_store_postgres.py), ranked as LangGraph ranks (cosine similarity, an item
by its best field), per-item ``index=``, filters next to a query, the forms ``embed``
takes, and the SQLite vectors following their items (delete, expiry, overwrite).

The cases and the fake embedding are in ``tests/semantic_cases.py``. LANGGRAPH_RANKINGS
below is what LangGraph 1.2.24's own ``InMemoryStore`` returned for them, computed once by
running ``python tests/semantic_cases.py`` with LangGraph installed and pasted here (CI has
no LangGraph); ``test_rankings_match_langgraph_live`` repeats that comparison against
LangGraph itself where a LangGraph virtualenv is available."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest

import semantic_cases as cases
from actorgraph.store.base import BaseStore, Op, PutOp, Result, SearchOp
from actorgraph.store.base.batch import AsyncBatchedBaseStore
from actorgraph.store.memory import InMemoryStore
from actorgraph.store.sqlite import SqliteStore
from actorgraph.store.sqlite.aio import AsyncSqliteStore
from pg_helpers import pg_schema

HERE = Path(__file__).parent
LANGGRAPH_PYTHON = Path(os.environ.get("ACTORGRAPH_LANGGRAPH_PYTHON", "/root/venvs/lg/bin/python"))

# LangGraph's InMemoryStore on tests/semantic_cases.py (see the module docstring)
LANGGRAPH_RANKINGS: dict[str, list[tuple[tuple[str, ...], str, float | None]]] = {
    'cats': [
        (('mem', 'bob'), 'pets', 0.691456),
        (('mem', 'alice'), 'pets', 0.66227),
        (('mem', 'bob'), 'notes', 0.535952),
        (('mem', 'alice'), 'food', 0.492594),
        (('mem', 'carol'), 'bio', 0.42001),
        (('mem', 'bob'), 'food', 0.300325),
        (('mem', 'alice'), 'work', 0.22904),
        (('mem', 'carol'), 'secret', None),
    ],
    'cats-page2': [
        (('mem', 'alice'), 'food', 0.492594),
        (('mem', 'carol'), 'bio', 0.42001),
        (('mem', 'bob'), 'food', 0.300325),
    ],
    'food': [
        (('mem', 'bob'), 'notes', 0.811834),
        (('mem', 'carol'), 'bio', 0.803519),
        (('mem', 'alice'), 'food', 0.792246),
        (('mem', 'alice'), 'work', 0.779186),
        (('mem', 'bob'), 'pets', 0.692013),
    ],
    'music': [
        (('mem', 'carol'), 'bio', 0.969163),
        (('mem', 'carol'), 'secret', None),
    ],
    'facts': [
        (('mem', 'alice'), 'work', 0.764603),
        (('mem', 'carol'), 'bio', 0.749732),
        (('mem', 'bob'), 'pets', 0.623937),
        (('mem', 'alice'), 'pets', 0.575471),
        (('mem', 'carol'), 'secret', None),
    ],
    'n-range': [
        (('mem', 'bob'), 'notes', 0.921269),
        (('mem', 'carol'), 'bio', 0.916298),
        (('mem', 'alice'), 'food', 0.844626),
        (('mem', 'bob'), 'pets', 0.705298),
        (('mem', 'alice'), 'pets', 0.566352),
        (('mem', 'carol'), 'secret', None),
    ],
    'ne': [
        (('mem', 'bob'), 'notes', 0.535952),
        (('mem', 'alice'), 'food', 0.492594),
        (('mem', 'bob'), 'food', 0.300325),
    ],
}

INDEX: dict[str, Any] = {"dims": cases.DIMS, "embed": cases.embed, "fields": cases.FIELDS}


async def _aembed(texts: list[str]) -> list[list[float]]:
    await anyio.sleep(0)
    return cases.embed(texts)


def _expected(*, unscored: bool) -> dict[str, list[tuple[tuple[str, ...], str, float | None]]]:
    """LangGraph's rankings; the SQLite stores (as LangGraph's SqliteStore) return scored
    items only."""
    return {
        name: [row for row in rows if unscored or row[2] is not None] for name, rows in LANGGRAPH_RANKINGS.items()
    }


def _assert_rankings(found: dict[str, list[list[Any]]], expected: dict[str, Any], tol: float = 1e-6) -> None:
    for name, rows in expected.items():
        got = found[name]
        assert [(tuple(ns), key) for ns, key, _ in got] == [(ns, key) for ns, key, _ in rows], name
        for (_, key, score), (_, _, want) in zip(got, rows):
            if want is None:
                assert score is None, (name, key)
            else:
                assert score == pytest.approx(want, abs=tol), (name, key)


async def _arun(store: BaseStore) -> dict[str, list[list[Any]]]:
    out: dict[str, list[list[Any]]] = {}
    for name, prefix, query, flt, limit, offset in cases.SEARCHES:
        found = await store.asearch(prefix, query=query, filter=flt, limit=limit, offset=offset)
        out[name] = [[list(i.namespace), i.key, None if i.score is None else round(i.score, 6)] for i in found]
    return out


async def _afill(store: BaseStore) -> None:
    for ns, key, value, index in cases.DOCS:
        await store.aput(ns, key, value, **({} if index is None else {"index": index}))


MakeIndexed = Callable[[str, Any], BaseStore]


@pytest.fixture
def indexed(tmp_path: Path) -> Iterator[MakeIndexed]:
    """A factory of stores of a kind with an ``index`` config, closed after the test."""
    with contextlib.ExitStack() as stack:

        def make(kind: str, index: Any) -> BaseStore:
            if kind == "memory":
                return InMemoryStore(index=index)
            if kind == "sqlite":
                return stack.enter_context(SqliteStore(tmp_path / "s.db", index=index))
            import psycopg

            from actorgraph.store.postgres import PostgresStore

            url = stack.enter_context(pg_schema())
            return PostgresStore(stack.enter_context(psycopg.connect(url, autocommit=True)), index=index)

        yield make


# -- rankings as LangGraph's ------------------------------------------------------------------


def test_in_memory_ranking_matches_langgraph() -> None:
    store = InMemoryStore(index=INDEX)
    cases.fill(store)
    _assert_rankings(cases.run(store), _expected(unscored=True))


@pytest.mark.anyio
async def test_in_memory_ranking_matches_langgraph_async_with_an_async_embedding_function() -> None:
    store = InMemoryStore(index={**INDEX, "embed": _aembed})
    await _afill(store)
    _assert_rankings(await _arun(store), _expected(unscored=True))


def test_sqlite_ranking_matches_langgraph(tmp_path: Path) -> None:
    # fields under LangGraph's SQLite spelling, text_fields
    index = {"dims": cases.DIMS, "embed": cases.embed, "text_fields": cases.FIELDS}
    with SqliteStore.from_conn_string(str(tmp_path / "s.db"), index=index) as store:  # type: ignore[arg-type]
        cases.fill(store)
        assert store.vector_backend in ("sqlite-vec", "python")
        # vectors are float32 on SQLite (as LangGraph's): scores agree to ~1e-6
        _assert_rankings(cases.run(store), _expected(unscored=False), tol=1e-5)
    # a store opened again on the file ranks from the stored vectors
    with SqliteStore.from_conn_string(str(tmp_path / "s.db"), index=INDEX) as again:
        _assert_rankings(cases.run(again), _expected(unscored=False), tol=1e-5)


@pytest.mark.anyio
async def test_sqlite_ranking_matches_langgraph_async(tmp_path: Path) -> None:
    with SqliteStore.from_conn_string(str(tmp_path / "s.db"), index={**INDEX, "embed": _aembed}) as store:
        await _afill(store)
        _assert_rankings(await _arun(store), _expected(unscored=False), tol=1e-5)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # aiosqlite is asyncio-only
@pytest.mark.anyio
async def test_async_sqlite_store_ranking_matches_langgraph(tmp_path: Path, anyio_backend: str) -> None:
    async with AsyncSqliteStore.from_conn_string(str(tmp_path / "s.db"), index=INDEX) as store:
        await _afill(store)
        _assert_rankings(await _arun(store), _expected(unscored=False), tol=1e-5)


def test_rankings_match_langgraph_live(tmp_path: Path) -> None:
    """The same cases through LangGraph's own InMemoryStore, now (skipped without a
    LangGraph virtualenv: set ACTORGRAPH_LANGGRAPH_PYTHON to one's python)."""
    if not LANGGRAPH_PYTHON.exists():
        pytest.skip(f"no LangGraph python at {LANGGRAPH_PYTHON} (LANGGRAPH_RANKINGS holds its answers)")
    proc = subprocess.run(
        [str(LANGGRAPH_PYTHON), str(HERE / "semantic_cases.py")],
        capture_output=True,
        text=True,
        timeout=100,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    langgraph = json.loads(proc.stdout)
    store = InMemoryStore(index=INDEX)
    cases.fill(store)
    assert cases.run(store) == langgraph
    expected = {n: [[list(ns), k, s] for ns, k, s in rows] for n, rows in LANGGRAPH_RANKINGS.items()}
    assert langgraph == expected, "LangGraph's answers changed: refresh LANGGRAPH_RANKINGS"


# -- what gets embedded -----------------------------------------------------------------------


class _Recording:
    """An Embeddings whose queries and documents embed differently (as models with a
    query prefix do), recording every call."""

    def __init__(self) -> None:
        from langchain_core.embeddings import Embeddings

        outer = self
        self.documents: list[list[str]] = []
        self.queries: list[str] = []

        class Recording(Embeddings):
            def embed_documents(self, texts: list[str]) -> list[list[float]]:
                outer.documents.append(list(texts))
                return cases.embed(texts)

            def embed_query(self, text: str) -> list[float]:
                outer.queries.append(text)
                return cases.embed_one("query: " + text)

        self.embeddings = Recording()


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_an_embeddings_instance_embeds_documents_once_per_text_and_queries_with_embed_query(
    kind: str, indexed: MakeIndexed
) -> None:
    rec = _Recording()
    index = {"dims": cases.DIMS, "embed": rec.embeddings, "fields": ["text", "tags[*]"]}
    store: BaseStore = indexed(kind, index)
    store.batch(
        [
            PutOp(("d",), "a", {"text": "same words", "tags": ["x", "y"]}),
            PutOp(("d",), "b", {"text": "same words", "tags": ["y"]}),
            PutOp(("d",), "c", {"text": "other"}, index=False),
        ]
    )
    assert rec.documents == [["same words", "x", "y"]]  # each distinct text once, in order
    found = store.search(("d",), query="hello")
    assert rec.queries == ["hello"]
    want = cases.embed_one("query: hello")
    by_key = {i.key: i.score for i in found}
    best_a = max(cases.cosine(want, cases.embed_one(t)) for t in ("same words", "x", "y"))
    assert by_key["a"] == pytest.approx(best_a, abs=1e-5)
    assert ("c" in by_key) is (kind == "memory") and by_key.get("c") is None


def test_a_model_named_by_string_needs_langchain_and_says_so() -> None:
    code = (
        "import sys; sys.modules['langchain'] = None\n"
        "from actorgraph.store.memory import InMemoryStore\n"
        "try:\n"
        "    InMemoryStore(index={'dims': 3, 'embed': 'openai:text-embedding-3-small'})\n"
        "except ValueError as exc:\n"
        "    print('ValueError:', exc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "ValueError:" in proc.stdout and "'openai:text-embedding-3-small'" in proc.stdout
    assert "install langchain" in proc.stdout


def test_embed_must_be_given_and_usable() -> None:
    with pytest.raises(ValueError, match="embed must be provided"):
        InMemoryStore(index={"dims": 3})  # type: ignore[typeddict-item]
    with pytest.raises(ValueError, match="Invalid embeddings type: int"):
        InMemoryStore(index={"dims": 3, "embed": 42})


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_an_embedding_function_returning_too_few_vectors_fails_the_batch_storing_nothing(
    kind: str, indexed: MakeIndexed
) -> None:
    index = {"dims": 2, "embed": lambda texts: [[1.0, 0.0]]}
    store: BaseStore = indexed(kind, index)
    with pytest.raises(ValueError, match="returned 1 vectors for 2 texts"):
        store.batch([PutOp(("d",), "a", {"text": "one"}), PutOp(("d",), "b", {"text": "two"})])
    assert store.search(("d",)) == []


def test_a_sync_embedding_function_serves_the_async_methods_and_an_async_one_refuses_sync_calls() -> None:
    store = InMemoryStore(index={"dims": cases.DIMS, "embed": cases.embed, "fields": ["text"]})
    asyncio.run(store.aput(("d",), "a", {"text": "cats"}))
    assert [i.key for i in asyncio.run(store.asearch(("d",), query="cats"))] == ["a"]
    only_async = InMemoryStore(index={"dims": cases.DIMS, "embed": _aembed, "fields": ["text"]})
    with pytest.raises(ValueError, match="async"):
        only_async.put(("d",), "a", {"text": "cats"})


# -- per-item index, overwrite, delete, expiry ------------------------------------------------


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_putting_an_item_again_replaces_its_vectors(kind: str, indexed: MakeIndexed) -> None:
    index = {"dims": cases.DIMS, "embed": cases.embed, "fields": ["text"]}
    store: BaseStore = indexed(kind, index)
    store.put(("d",), "a", {"text": "cats and dogs"})
    store.put(("d",), "b", {"text": "zebra"})
    store.put(("d",), "a", {"text": "zebra stripes"})
    [a] = [i for i in store.search(("d",), query="cats and dogs") if i.key == "a"]
    assert a.score == pytest.approx(cases.cosine(cases.embed_one("cats and dogs"), cases.embed_one("zebra stripes")), abs=1e-5)
    store.put(("d",), "a", {"text": "cats and dogs"}, index=False)  # no vectors now
    assert [i.score for i in store.search(("d",), query="cats") if i.key == "a"] == ([None] if kind == "memory" else [])
    assert [i.key for i in store.search(("d",))] and store.get(("d",), "a") is not None


def _vector_rows(path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(path) as conn:
        return sorted(conn.execute("SELECT ns, key, field FROM actorgraph_store_vectors"))


def test_sqlite_vectors_follow_their_items_through_delete_overwrite_and_expiry(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    index = {"dims": cases.DIMS, "embed": cases.embed, "fields": ["text", "items[*].body"]}
    with SqliteStore(path, index=index, ttl={"default_ttl": None}) as store:
        store.put(("a", "b"), "k1", {"text": "one", "items": [{"body": "x"}, {"body": "y"}]})
        store.put(("a",), "k2", {"text": "two"}, ttl=0.0001)  # expires in 6 ms
        store.put(("a",), "k3", {"text": "three"})
        assert _vector_rows(path) == [
            ("a", "k2", "text"),
            ("a", "k3", "text"),
            ("a.b", "k1", "items[*].body.0"),
            ("a.b", "k1", "items[*].body.1"),
            ("a.b", "k1", "text"),
        ]
        store.put(("a", "b"), "k1", {"text": "one, no items"})
        store.delete(("a",), "k3")
        time.sleep(0.02)
        assert [i.key for i in store.search(("a",), query="two")] == ["k1"]  # k2 expired
        store.sweep_ttl()
        assert _vector_rows(path) == [("a.b", "k1", "text")]
        # a put and a delete of one key in one batch leave no vectors behind
        store.batch([PutOp(("a",), "k4", {"text": "four"}), PutOp(("a",), "k4", None)])
        assert _vector_rows(path) == [("a.b", "k1", "text")]


@pytest.mark.parametrize(("distance", "expected"), [("l2", ["near", "mid", "far"]), ("inner_product", ["far", "mid", "near"])])
def test_sqlite_distance_types_rank_the_best_first(distance: str, expected: list[str], tmp_path: Path) -> None:
    vectors = {"near": [1.0, 0.1], "mid": [2.0, 2.0], "far": [5.0, 9.0], "q": [1.0, 0.0]}
    index = {"dims": 2, "embed": lambda texts: [vectors[t] for t in texts], "fields": ["t"], "distance_type": distance}
    with SqliteStore(tmp_path / "s.db", index=index) as store:  # type: ignore[arg-type]
        for name in ("far", "near", "mid"):
            store.put(("d",), name, {"t": name})
        found = store.search(("d",), query="q")
    assert [i.key for i in found] == expected
    score = {i.key: i.score for i in found}
    if distance == "l2":
        assert score["mid"] == pytest.approx(-math.dist([2.0, 2.0], [1.0, 0.0]), abs=1e-5)
    else:
        assert score["far"] == pytest.approx(5.0, abs=1e-4)  # the dot product with the query


# -- filters next to a query --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_a_query_search_filters_on_nested_fields_with_operators(kind: str, indexed: MakeIndexed) -> None:
    index = {"dims": cases.DIMS, "embed": cases.embed, "fields": ["text"]}
    store: BaseStore = indexed(kind, index)
    for i, level in enumerate(["low", "high", "high", "mid"]):
        store.put(("d",), f"k{i}", {"text": f"note {i}", "user": {"level": level, "age": 20 + 10 * i}})
    found = store.search(("d",), query="note 2", filter={"user.level": "high", "user.age": {"$gt": 25, "$lte": 40}})
    assert [i.key for i in found] == ["k2", "k1"] and all(i.score is not None for i in found)
    assert [i.key for i in store.search(("d",), query="note", filter={"user.level": {"$ne": "high"}})] != []
    with pytest.raises(ValueError, match=r"Unsupported filter operator '\$regex' for field 'user.level'"):
        store.search(("d",), query="note", filter={"user.level": {"$regex": "h.*"}})


def test_a_sqlite_query_search_refuses_a_filter_key_that_is_not_a_field_name(tmp_path: Path) -> None:
    embed = {"dims": cases.DIMS, "embed": cases.embed, "fields": ["text"]}
    with SqliteStore(tmp_path / "s.db", index=embed) as store:
        store.put(("d",), "k", {"text": "x", "access": "private"})
        with pytest.raises(ValueError, match="Invalid filter key"):
            store.search(("d",), query="x", filter={"access') = 'public' OR 1=1 --": 1})


# -- the batched async base ---------------------------------------------------------------------


class _Batched(AsyncBatchedBaseStore):
    """A store written on LangGraph's AsyncBatchedBaseStore, backed by an InMemoryStore."""

    def __init__(self, inner: InMemoryStore) -> None:
        super().__init__()
        self.inner = inner
        self.batches: list[int] = []

    def batch(self, ops: Any) -> list[Result]:
        return self.inner.batch(ops)

    async def abatch(self, ops: Any) -> list[Result]:
        ops = list(ops)
        self.batches.append(len(ops))
        return await self.inner.abatch(ops)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # AsyncBatchedBaseStore runs on asyncio's loop
@pytest.mark.anyio
async def test_async_batched_store_gathers_concurrent_query_searches_into_one_batch(anyio_backend: str) -> None:
    inner = InMemoryStore(index=INDEX)
    cases.fill(inner)
    store = _Batched(inner)
    found = await asyncio.gather(*(store.asearch(("mem",), query=q, limit=2) for q in ("cats", "music", "cats")))
    assert store.batches == [2]  # the two identical searches asked once
    assert [i.key for i in found[0]] == ["pets", "pets"] and found[0] == found[2]
    ops: list[Op] = [SearchOp(("mem",), None, 1, 0, "cats")]
    [[top]] = await store.abatch(ops)
    assert (top.namespace, top.key) == (("mem", "bob"), "pets")


def test_a_store_without_an_index_does_not_load_langchain() -> None:
    """LangChain's Embeddings loads only for a store with an index: a plain SQLite store
    (the server's, for one) doesn't pay its import time and memory."""
    script = (
        "import sys\n"
        "from actorgraph.store.sqlite import SqliteStore\n"
        "from actorgraph.store.sqlite.aio import AsyncSqliteStore\n"
        "from actorgraph.store.memory import InMemoryStore\n"
        "with SqliteStore.from_conn_string(':memory:') as s:\n"
        "    s.setup(); s.put(('a',), 'k', {'v': 1}); assert s.get(('a',), 'k').value == {'v': 1}\n"
        "InMemoryStore().put(('a',), 'k', {'v': 1})\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('langchain_core', 'langchain')))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
