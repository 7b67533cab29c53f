"""Semantic search with a real embedding model: WordLlama's small English model, whose
weights ship inside its PyPI wheel (no download, no network). Every store ranks a small
corpus as that model's meaning says (pets first for a question about animals, money first
for one about the economy), all stores alike, and as LangGraph's own InMemoryStore ranks
the same vectors (live, where a LangGraph virtualenv is at hand; else as cosine similarity,
the rule LangGraph ranks by)."""

from __future__ import annotations

import contextlib
import json
import math
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from actorgraph.store.base import BaseStore
from actorgraph.store.memory import InMemoryStore
from actorgraph.store.sqlite import SqliteStore
from pg_helpers import pg_schema
from test_store_semantic import LANGGRAPH_PYTHON

DOCS = {
    "dog": "I have a dog who sleeps on the sofa",
    "cats": "Cats are lovely pets and they purr",
    "puppy": "My puppy loves to play fetch in the park",
    "stocks": "The stock market fell sharply today",
    "rates": "The central bank raised interest rates again",
    "soup": "A recipe for tomato soup with basil",
}
QUERIES = {
    "animals": ("pets and animals", {"dog", "cats", "puppy"}),
    "economy": ("finance and the economy", {"stocks", "rates"}),
}
NS = ("memories", "user-1")


@pytest.fixture(scope="module")
def embed() -> Callable[[list[str]], list[list[float]]]:
    import wordllama
    from wordllama import WordLlama

    # its tokenizer ships in the wheel too, where the package's own lookup misses it
    model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)

    def embed(texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in model.embed(list(texts))]

    return embed


@pytest.fixture
def make_store(tmp_path: Path, embed: Callable[[list[str]], list[list[float]]]) -> Iterator[Callable[[str], BaseStore]]:
    index = {"dims": 256, "embed": embed, "fields": ["text"]}
    with contextlib.ExitStack() as stack:

        def make(kind: str) -> BaseStore:
            if kind == "memory":
                return InMemoryStore(index=index)  # type: ignore[arg-type]
            if kind == "sqlite":
                return stack.enter_context(SqliteStore.from_conn_string(str(tmp_path / "s.db"), index=index))  # type: ignore[arg-type]
            import psycopg

            from actorgraph.store.postgres import PostgresStore

            url = stack.enter_context(pg_schema())
            store = PostgresStore(stack.enter_context(psycopg.connect(url, autocommit=True)), index=index)  # type: ignore[arg-type]
            store.setup()
            return store

        yield make


def _ranking(store: BaseStore, query: str) -> list[tuple[str, float]]:
    for key, text in DOCS.items():
        store.put(NS, key, {"text": text})
    return [(item.key, float(item.score or 0.0)) for item in store.search(NS, query=query, limit=len(DOCS))]


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def _reference(embed: Callable[[list[str]], list[list[float]]], tmp_path: Path) -> dict[str, list[tuple[str, float]]]:
    """What LangGraph ranks for the queries over the same vectors: its InMemoryStore, live,
    given the model's vectors by a lookup table; else cosine similarity, as it ranks."""
    texts = [*DOCS.values(), *(q for q, _ in QUERIES.values())]
    vectors = dict(zip(texts, embed(texts)))
    if LANGGRAPH_PYTHON.exists():
        (tmp_path / "vectors.json").write_text(json.dumps(vectors))
        script = f"""
import json
from langgraph.store.memory import InMemoryStore
vectors = json.load(open("vectors.json"))
store = InMemoryStore(index={{"dims": 256, "embed": lambda texts: [vectors[t] for t in texts], "fields": ["text"]}})
for key, text in {DOCS!r}.items():
    store.put({NS!r}, key, {{"text": text}})
print(json.dumps({{name: [(i.key, i.score) for i in store.search({NS!r}, query=q, limit={len(DOCS)})]
                  for name, (q, _) in {dict((n, (q, [])) for n, (q, _) in QUERIES.items())!r}.items()}}))
"""
        proc = subprocess.run([str(LANGGRAPH_PYTHON), "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=100)
        assert proc.returncode == 0, proc.stderr
        return {name: [(k, s) for k, s in rows] for name, rows in json.loads(proc.stdout).items()}
    out = {}
    for name, (query, _) in QUERIES.items():
        scored = [(key, _cosine(vectors[text], vectors[query])) for key, text in DOCS.items()]
        out[name] = sorted(scored, key=lambda ks: -ks[1])
    return out


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_a_real_model_ranks_by_meaning_as_langgraph_does(
    kind: str, make_store: Callable[[str], BaseStore], embed: Any, tmp_path: Path
) -> None:
    reference = _reference(embed, tmp_path)
    for name, (query, relevant) in QUERIES.items():
        ranking = _ranking(make_store(kind), query)
        # the model's meaning: the relevant documents first
        assert {key for key, _ in ranking[: len(relevant)]} == relevant, (name, ranking)
        # LangGraph's order and scores for the same vectors (float32 in the databases)
        assert [key for key, _ in ranking] == [key for key, _ in reference[name]], (name, ranking, reference[name])
        for (_, ours), (_, theirs) in zip(ranking, reference[name]):
            assert ours == pytest.approx(theirs, abs=1e-5)
