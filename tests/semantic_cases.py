"""Semantic-search cases shared by tests/test_store_semantic.py and the LangGraph side of
its comparison (this module is run there too, so it imports nothing but the stdlib).

``embed`` is a deterministic fake embedding: each character of a text adds a fixed
pseudo-random vector (from sha256), weighted by its frequency, normalized. Texts sharing
characters land near each other, so rankings are stable and non-trivial."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from typing import Any

DIMS = 16


def _char_vector(char: str) -> list[float]:
    digest = hashlib.sha256(char.encode()).digest()
    return [b / 127.5 - 1.0 for b in digest[:DIMS]]


def embed_one(text: str) -> list[float]:
    counts = Counter(text.lower())
    vector = [0.0] * DIMS
    for char, n in counts.items():
        for i, x in enumerate(_char_vector(char)):
            vector[i] += n * x
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else vector


def embed(texts: list[str]) -> list[list[float]]:
    return [embed_one(t) for t in texts]


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


DOCS: list[tuple[tuple[str, ...], str, dict[str, Any], Any]] = [
    # namespace, key, value, index= (None: the store's fields)
    (("mem", "alice"), "pets", {"text": "Alice has two cats and a dog", "kind": "fact", "n": 3}, None),
    (("mem", "alice"), "food", {"text": "Alice likes spicy noodles", "kind": "pref", "n": 5}, None),
    (("mem", "alice"), "work", {"text": "Alice writes compilers in Rust", "kind": "fact", "n": 1}, None),
    (("mem", "bob"), "pets", {"text": "Bob is allergic to cats", "kind": "fact", "n": 2}, None),
    (("mem", "bob"), "food", {"text": "Bob eats pizza on fridays", "kind": "pref", "n": 8}, None),
    (
        ("mem", "bob"),
        "notes",
        {
            "text": "meeting notes",
            "kind": "note",
            "n": 4,
            "items": [{"body": "ship the release"}, {"body": "cats in the office"}, {"body": "zebra"}],
        },
        None,
    ),
    (("mem", "carol"), "bio", {"text": "Carol teaches piano", "title": "Teacher of music", "kind": "fact", "n": 7}, ["title"]),
    (("mem", "carol"), "secret", {"text": "Carol's cats are secret", "kind": "fact", "n": 6}, False),
    (("other",), "x", {"text": "cats cats cats", "kind": "fact", "n": 9}, None),
]

FIELDS = ["text", "items[*].body"]

# (name, namespace prefix, query, filter, limit, offset)
SEARCHES: list[tuple[str, tuple[str, ...], str, dict[str, Any] | None, int, int]] = [
    ("cats", ("mem",), "cats", None, 10, 0),
    ("cats-page2", ("mem",), "cats", None, 3, 3),
    ("food", (), "what food do they like", None, 5, 0),
    ("music", ("mem", "carol"), "music teacher", None, 10, 0),
    ("facts", ("mem",), "pets at home", {"kind": "fact"}, 10, 0),
    ("n-range", ("mem",), "notes about the office", {"n": {"$gte": 2, "$lt": 8}}, 10, 0),
    ("ne", ("mem",), "cats", {"kind": {"$ne": "fact"}}, 10, 0),
]


def fill(store: Any) -> None:
    for ns, key, value, index in DOCS:
        if index is None:
            store.put(ns, key, value)
        else:
            store.put(ns, key, value, index=index)


def run(store: Any) -> dict[str, list[list[Any]]]:
    """Each search's results: [namespace as a list, key, score rounded to 6 places]."""
    out: dict[str, list[list[Any]]] = {}
    for name, prefix, query, flt, limit, offset in SEARCHES:
        found = store.search(prefix, query=query, filter=flt, limit=limit, offset=offset)
        out[name] = [[list(i.namespace), i.key, None if i.score is None else round(i.score, 6)] for i in found]
    return out


if __name__ == "__main__":  # the LangGraph side: python semantic_cases.py -> JSON on stdout
    import json

    from langgraph.store.memory import InMemoryStore

    store = InMemoryStore(index={"dims": DIMS, "embed": embed, "fields": FIELDS})
    fill(store)
    print(json.dumps(run(store)))
