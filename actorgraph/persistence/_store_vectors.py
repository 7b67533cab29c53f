"""Semantic search, shared by the stores: the texts of each stored value at the index's
fields are embedded when it is put, and ``search(query=...)`` ranks the matching items by
their best similarity to the query (LangGraph's rules, below). Where the vectors live is
the store's business: ``InMemoryStore`` keeps them in ``MemoryVectors``, the SQLite stores
in a table (``_store_sqlite_vec``); both hand ``rank`` a score per item.

LangGraph's rules, kept here:

- ``fields`` (``text_fields`` on SQLite) are paths as ``get_text_at_path`` reads them;
  default ``["$"]``, the whole value as JSON. A path that yields several texts
  (``"items[*].text"``) gives one vector each; an item scores by its best one.
- ``put(..., index=False)`` stores no vectors for the item; ``index=[paths]`` embeds
  those paths instead of the store's fields. Each distinct text of a batch is embedded
  once (``embed_documents``); queries go through ``embed_query``.
- Scores: cosine similarity (``distance_type`` ``"cosine"``, the default), or on SQLite
  minus the L2 distance (``"l2"``) or the dot product (``"inner_product"``): higher is
  closer. Ties keep the store's search order.
- ``InMemoryStore`` fills a page that runs out of scored items with the items that have
  no vectors (unscored, ``score=None``); the SQLite stores return scored items only.

Differences from LangGraph: putting an item again replaces its vectors (LangGraph's
``InMemoryStore`` keeps the old value's vectors for paths the new one lacks, and all of
them under ``index=False``); unscored items that fill pages are paginated like the rest
(LangGraph's repeat the first ones on every page past the scored items).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from actorgraph.persistence._store import IndexConfig, Op, PutOp, SearchItem, SearchOp

__all__ = ("DISTANCE_TYPES", "Key", "MemoryVectors", "VectorIndex", "VectorWrites", "cosine")

Key = tuple[tuple[str, ...], str]
DISTANCE_TYPES = ("cosine", "l2", "inner_product")
_ALL = 2**62  # "no limit" for the candidate search a ranked one starts from


class VectorWrites:
    """What a batch's puts do to the vectors: ``replaced`` keys lose theirs, then
    ``rows`` (key, field name, vector) are added."""

    __slots__ = ("replaced", "rows")

    def __init__(self, replaced: list[Key], rows: list[tuple[Key, str, list[float]]]) -> None:
        self.replaced = replaced
        self.rows = rows


class _Plan:
    __slots__ = ("replaced", "slots", "texts")

    def __init__(self) -> None:
        self.replaced: list[Key] = []
        self.slots: list[tuple[Key, str, int]] = []  # key, field name, index into texts
        self.texts: dict[str, int] = {}


def _fields(config: IndexConfig, tokenize_path: Any) -> list[tuple[str, list[str] | str]]:
    fields = config.get("fields") or config.get("text_fields") or ["$"]  # type: ignore[typeddict-item]
    if isinstance(fields, str):
        fields = [fields]
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise ValueError(f"index 'fields' must be a list of paths such as ['text', 'items[*].body'], got {fields!r}")
    return [(f, "$" if f == "$" else tokenize_path(f)) for f in fields]


class VectorIndex:
    """A store's ``index=`` settings: what to embed and how to rank."""

    def __init__(self, config: IndexConfig) -> None:
        # (only a store with an index loads this: it imports LangChain's Embeddings when
        # installed, which a store without one, e.g. the server's, shouldn't pay for)
        from actorgraph.persistence._store_embed import ensure_embeddings, get_text_at_path, tokenize_path

        self.text_at = get_text_at_path
        self.tokenize_path = tokenize_path
        self.embeddings = ensure_embeddings(config.get("embed"))
        self.fields = _fields(config, tokenize_path)
        self.dims = config.get("dims")
        distance = config.get("distance_type", "cosine")  # type: ignore[typeddict-item]
        # as LangGraph's: an unknown distance type ranks by cosine similarity
        self.distance_type: str = distance if distance in DISTANCE_TYPES else "cosine"

    # -- before a batch: what to embed -------------------------------------------------------
    def _plan(self, ops: Sequence[Op]) -> _Plan:
        last: dict[Key, PutOp] = {}
        for op in ops:
            if isinstance(op, PutOp):
                last[(tuple(op.namespace), str(op.key))] = op
        plan = _Plan()
        for key, op in last.items():
            plan.replaced.append(key)
            if op.value is None or op.index is False:
                continue
            paths = self.fields if op.index is None else [(p, self.tokenize_path(p)) for p in op.index]
            for name, path in paths:
                texts = self.text_at(op.value, path)
                for i, text in enumerate(texts):
                    at = plan.texts.setdefault(text, len(plan.texts))
                    plan.slots.append((key, f"{name}.{i}" if len(texts) > 1 else name, at))
        return plan

    def _writes(self, plan: _Plan, vectors: list[list[float]]) -> VectorWrites:
        if len(vectors) != len(plan.texts):
            raise ValueError(
                f"The embeddings returned {len(vectors)} vectors for {len(plan.texts)} texts: "
                "embed_documents must return one vector per text"
            )
        floats = [[float(x) for x in v] for v in vectors]
        return VectorWrites(plan.replaced, [(key, field, floats[at]) for key, field, at in plan.slots])

    def embed_puts(self, ops: Sequence[Op]) -> VectorWrites:
        plan = self._plan(ops)
        return self._writes(plan, self.embeddings.embed_documents(list(plan.texts)) if plan.texts else [])

    async def aembed_puts(self, ops: Sequence[Op]) -> VectorWrites:
        plan = self._plan(ops)
        return self._writes(plan, await self.embeddings.aembed_documents(list(plan.texts)) if plan.texts else [])

    # -- searches ------------------------------------------------------------------------------
    @staticmethod
    def split(ops: Iterable[Op]) -> tuple[list[Op], dict[int, SearchOp]]:
        """The batch with each query search widened to all its candidates, and the
        original query searches by position."""
        plain: list[Op] = []
        ranked: dict[int, SearchOp] = {}
        for i, op in enumerate(ops):
            if isinstance(op, SearchOp) and op.query:
                ranked[i] = op
                op = op._replace(query=None, limit=_ALL, offset=0)
            plain.append(op)
        return plain, ranked

    def query_vectors(self, ranked: dict[int, SearchOp]) -> dict[str, list[float]]:
        queries = list(dict.fromkeys(op.query for op in ranked.values() if op.query))
        return {q: [float(x) for x in self.embeddings.embed_query(q)] for q in queries}

    async def aquery_vectors(self, ranked: dict[int, SearchOp]) -> dict[str, list[float]]:
        queries = list(dict.fromkeys(op.query for op in ranked.values() if op.query))
        # one at a time: asyncio.gather would tie the stores to asyncio (they run under Trio too)
        return {q: [float(x) for x in await self.embeddings.aembed_query(q)] for q in queries}

    @staticmethod
    def rank(
        results: list[Any], ranked: dict[int, SearchOp], scores: dict[int, dict[Key, float]], *, unscored: bool
    ) -> None:
        """Replace each query search's candidates (``results[i]``, in the store's search
        order) with its page, best score first; ``unscored``: items without vectors fill
        a page the scored ones leave short."""
        for i, op in ranked.items():
            by_key = scores[i]
            scored: list[tuple[float, SearchItem]] = []
            rest: list[SearchItem] = []
            for item in results[i]:
                score = by_key.get((item.namespace, item.key))
                if score is None:
                    rest.append(item)
                else:
                    scored.append((score, item))
            scored.sort(key=lambda s: s[0], reverse=True)
            out: list[SearchItem] = []
            for score, item in scored[op.offset : op.offset + op.limit]:
                item.score = float(score)
                out.append(item)
            if unscored and len(out) < op.limit:
                skip = max(0, op.offset - len(scored))
                out.extend(rest[skip : skip + op.limit - len(out)])
            results[i] = out


class MemoryVectors:
    """``InMemoryStore``'s vectors: a dict beside its items."""

    def __init__(self) -> None:
        self.vectors: dict[Key, list[list[float]]] = {}

    def apply(self, writes: VectorWrites) -> None:
        for key in writes.replaced:
            self.vectors.pop(key, None)
        for key, _, vector in writes.rows:
            self.vectors.setdefault(key, []).append(vector)

    def scores(self, candidates: list[Any], query: list[float]) -> dict[Key, float]:
        out: dict[Key, float] = {}
        for item in candidates:
            key = (item.namespace, item.key)
            found = self.vectors.get(key)
            if found:
                out[key] = max(cosine(query, v) for v in found)
        return out


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity; 0.0 when either vector is all zeros (as LangGraph's)."""
    dot = math.fsum(x * y for x, y in zip(a, b, strict=False))
    na = math.sqrt(math.fsum(x * x for x in a))
    nb = math.sqrt(math.fsum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0
