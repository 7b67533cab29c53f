"""Semantic search for ``InMemoryStore``: the texts of each stored value at the index's
fields are embedded when it is put, and ``search(query=...)`` ranks the matching items
by their best cosine similarity to the query (items stored without embeddings come
last, without a score), as LangGraph's ``InMemoryStore``."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from actorgraph.persistence._store import IndexConfig, Op, PutOp, SearchItem, SearchOp
from actorgraph.persistence._store_embed import ensure_embeddings, get_text_at_path

__all__ = ("VectorIndex",)

Key = tuple[tuple[str, ...], str]
_ALL = 2**62  # "no limit" for the candidate search a ranked one starts from


class VectorIndex:
    """The embeddings of one store's items, kept beside the items."""

    def __init__(self, config: IndexConfig) -> None:
        self.embeddings = ensure_embeddings(config.get("embed"))
        self.fields: list[str] = list(config.get("fields") or ["$"])
        self.vectors: dict[Key, list[list[float]]] = {}

    # -- before a batch: what to embed -------------------------------------------------------
    def _texts(self, ops: Sequence[Op]) -> tuple[list[tuple[Key, int]], list[str], set[Key]]:
        """(key and text count per put to embed, the texts, keys whose vectors go away)."""
        plan: list[tuple[Key, int]] = []
        texts: list[str] = []
        dropped: set[Key] = set()
        for op in ops:
            if not isinstance(op, PutOp):
                continue
            key = (tuple(op.namespace), str(op.key))
            if op.value is None or op.index is False:
                dropped.add(key)
                continue
            found = [t for path in (op.index or self.fields) for t in get_text_at_path(op.value, path)]
            plan.append((key, len(found)))
            texts.extend(found)
        return plan, texts, dropped

    def _apply(self, plan: list[tuple[Key, int]], vectors: list[list[float]], dropped: set[Key]) -> None:
        for key in dropped:
            self.vectors.pop(key, None)
        i = 0
        for key, n in plan:
            self.vectors[key] = [list(v) for v in vectors[i : i + n]]
            i += n

    def index_puts(self, ops: Sequence[Op]) -> None:
        plan, texts, dropped = self._texts(ops)
        self._apply(plan, self.embeddings.embed_documents(texts) if texts else [], dropped)

    async def aindex_puts(self, ops: Sequence[Op]) -> None:
        plan, texts, dropped = self._texts(ops)
        self._apply(plan, await self.embeddings.aembed_documents(texts) if texts else [], dropped)

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
        queries = sorted({op.query for op in ranked.values() if op.query})
        return dict(zip(queries, self.embeddings.embed_documents(queries), strict=True)) if queries else {}

    async def aquery_vectors(self, ranked: dict[int, SearchOp]) -> dict[str, list[float]]:
        queries = sorted({op.query for op in ranked.values() if op.query})
        if not queries:
            return {}
        return dict(zip(queries, [await self.embeddings.aembed_query(q) for q in queries], strict=True))

    def rank(self, results: list[Any], ranked: dict[int, SearchOp], queries: dict[str, list[float]]) -> None:
        """Replace each query search's candidates with its ranked page."""
        for i, op in ranked.items():
            query = queries[op.query]  # type: ignore[index]
            scored: list[tuple[float, SearchItem]] = []
            unscored: list[SearchItem] = []
            for item in results[i]:
                vectors = self.vectors.get((item.namespace, item.key))
                if vectors:
                    scored.append((max(_cosine(query, v) for v in vectors), item))
                else:
                    unscored.append(item)
            scored.sort(key=lambda s: s[0], reverse=True)
            page = [(s, it) for s, it in scored][op.offset : op.offset + op.limit]
            for score, item in page:
                item.score = float(score)
            out = [item for _, item in page]
            if len(out) < op.limit:
                skip = max(0, op.offset - len(scored))
                out.extend(unscored[skip : skip + op.limit - len(out)])
            results[i] = out


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0
