"""``InMemoryStore``: a store in this process's memory, safe to share between threads.

Items are kept serialized (so callers can't change what is stored through a value they
put or got) in insertion order: namespaces in the order they were first written, keys
in the order they were first written within a namespace, which is the order ``search``
returns them in, as LangGraph's ``InMemoryStore`` does. Differences from LangGraph are
listed in ``actorgraph.persistence._store``; in short: ops apply in order within a batch,
overwrites keep ``created_at``, empty namespaces disappear, values are copies, and
per-item TTL works (expired items are purged at the start of the next batch).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, cast

from actorgraph.persistence import _store_exec as ex
from actorgraph.persistence._serde import Serializer
from actorgraph.persistence._store import BaseStore, IndexConfig, Op, Result, TTLConfig
from actorgraph.persistence._store_exec import PPut, Record, SerializedValues
from actorgraph.persistence._store_vectors import MemoryVectors, VectorIndex, VectorWrites

__all__ = ("InMemoryStore",)

Namespace = tuple[str, ...]
_NEVER = sys.maxsize


class _Memory(SerializedValues):
    """The storage behind ``InMemoryStore`` (the interpreter's backend); every method
    runs under the store's lock."""

    __slots__ = ("data", "expiring", "next_expiry", "serde")

    def __init__(self, serde: Serializer) -> None:
        self.data: dict[Namespace, dict[str, Record]] = {}
        # (namespace, key) -> expiry (µs) of every item with a time to live
        self.expiring: dict[tuple[Namespace, str], int] = {}
        # a lower bound of the earliest expiry: until then no item can have expired
        self.next_expiry = _NEVER
        self.serde = serde

    # -- Backend ----------------------------------------------------------------------
    def get_many(self, keys: Sequence[tuple[Namespace, str]], now: int) -> list[Record | None]:
        data = self.data
        out: list[Record | None] = []
        for ns, key in keys:
            items = data.get(ns)
            out.append(items.get(key) if items else None)
        return out

    def write_many(self, writes: Sequence[PPut], now: int) -> None:
        data, expiring = self.data, self.expiring
        for w in writes:
            ns, key = w.namespace, w.key
            items = data.get(ns)
            if w.raw is None:
                if items is not None and items.pop(key, None) is not None:
                    expiring.pop((ns, key), None)
                    if not items:
                        del data[ns]
                continue
            old = items.get(key) if items is not None else None
            expires = None if w.ttl is None else now + ex.ttl_us(w.ttl)
            rec = Record(ns, key, None, w.raw, old.created_us if old is not None else now, now, w.ttl, expires)
            if items is None:
                items = data[ns] = {}
            items[key] = rec
            if expires is None:
                expiring.pop((ns, key), None)
            else:
                expiring[(ns, key)] = expires
                if expires < self.next_expiry:
                    self.next_expiry = expires

    def scan(self, prefix: Namespace, now: int, offset: int, limit: int | None) -> Iterator[Record]:
        n = len(prefix)
        found = (
            rec for ns, items in self.data.items() if ns[:n] == prefix for rec in items.values()
        )
        return islice(found, offset, None if limit is None else offset + limit)

    # (``peek``: decoded once, on the first filtered search, and kept with the record)

    def user_value(self, record: Record) -> dict[str, Any]:
        # records live on between reads: the value kept for filtering is never handed out
        value: dict[str, Any] = self.serde.loads(record.raw)
        return value

    def namespaces(self, prefix: Namespace, now: int) -> Iterable[Namespace]:
        return list(self.data)

    # -- time to live -----------------------------------------------------------------
    def refresh(self, keys: Iterable[tuple[Namespace, str]], now: int) -> None:
        for ns, key in keys:
            items = self.data.get(ns)
            rec = items.get(key) if items else None  # a later op of the batch may have deleted it
            if rec is not None and rec.ttl is not None:
                rec.expires_us = self.expiring[(ns, key)] = now + ex.ttl_us(rec.ttl)

    def purge(self, now: int) -> int:
        if not self.expiring or now < self.next_expiry:
            return 0
        expired = [k for k, expires in self.expiring.items() if expires <= now]
        for ns, key in expired:
            del self.expiring[(ns, key)]
            items = self.data[ns]
            del items[key]
            if not items:
                del self.data[ns]
        self.next_expiry = min(self.expiring.values(), default=_NEVER)
        return len(expired)


class InMemoryStore(BaseStore):
    """A store in memory: for tests, notebooks and single-process services.

    ``InMemoryStore(ttl={"default_ttl": 60, "refresh_on_read": True})`` gives every item
    a time to live (minutes) unless ``put(..., ttl=...)`` says otherwise.
    ``InMemoryStore(index={"dims": 1536, "embed": embeddings, "fields": ["text"]})``
    embeds each put value's fields, and ``search(query=...)`` ranks items by similarity.
    ``serde`` is the serializer values are stored with (a shared default otherwise).
    """

    supports_ttl = True

    def __init__(
        self,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        serde: Serializer | None = None,
    ) -> None:
        self.index_config: IndexConfig | None = ex.copy_index(index)
        self._index = VectorIndex(self.index_config) if self.index_config else None
        self._vectors = MemoryVectors()
        self.embeddings: Any = self._index.embeddings if self._index is not None else None
        self.ttl_config = ex.check_ttl_config(ttl)
        self.serde = serde or Serializer()
        self._mem = _Memory(self.serde)
        self._lock = threading.Lock()

    def _run(
        self, ops: list[Op], writes: VectorWrites | None, ranked: dict[int, Any], queries: dict[str, list[float]]
    ) -> list[Result]:
        prepared = ex.prepare(ops, self.serde, None)
        mem = self._mem
        with self._lock:
            now = ex.now_us()
            mem.purge(now)
            results, refresh = ex.run(mem, prepared, now)
            if refresh:
                mem.refresh(refresh, now)
            if writes is not None:
                self._vectors.apply(writes)
            if ranked:
                scores = {i: self._vectors.scores(cast(list, results[i]), queries[op.query]) for i, op in ranked.items()}
        if ranked:
            VectorIndex.rank(results, ranked, scores, unscored=True)
        return results

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        index = self._index
        if index is None:
            return self._run(ops, None, {}, {})
        plain, ranked = index.split(ops)
        ex.prepare(ops, self.serde, None)  # a bad op fails the batch before anything is embedded
        writes = index.embed_puts(ops)
        return self._run(plain, writes, ranked, index.query_vectors(ranked))

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        index = self._index
        if index is None:
            # nothing here blocks on I/O: the lock is held for microseconds
            return self._run(ops, None, {}, {})
        plain, ranked = index.split(ops)
        ex.prepare(ops, self.serde, None)
        writes = await index.aembed_puts(ops)
        return self._run(plain, writes, ranked, await index.aquery_vectors(ranked))

    def sweep_ttl(self) -> int:
        """Delete the expired items now; returns how many. (Stores also purge lazily.)"""
        with self._lock:
            return self._mem.purge(ex.now_us())

    async def asweep_ttl(self) -> int:
        """Async ``sweep_ttl``."""
        return self.sweep_ttl()
