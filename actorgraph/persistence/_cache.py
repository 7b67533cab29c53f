"""Node caches: a node with a ``CachePolicy`` looks its writes up by a key of its input.

``BaseCache`` has LangGraph's shape: ``get(keys)``, ``set({key: (value, ttl)})``,
``clear(namespaces)`` and async twins, where a key is ``(namespace tuple, key string)``.
Values go through the cache's serializer (``serde``, LangGraph's protocol; the safe
``JsonPlusSerializer`` by default), so a cached entry is an independent copy (a node
can't mutate it after the fact) and nothing is ever unpickled. ``RedisCache`` is in
``_cache_redis``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

import anyio.to_thread
import structlog

from actorgraph.persistence._codec import Codec, make_codec
from actorgraph.persistence._serde import JsonPlusSerializer
from actorgraph.persistence._serde_protocols import SerializerProtocol, maybe_add_typed_methods

__all__ = ("BaseCache", "InMemoryCache", "SqliteCache", "Namespace", "FullKey", "ValueT")

ValueT = TypeVar("ValueT")
Namespace = tuple[str, ...]
FullKey = tuple[Namespace, str]


class BaseCache(ABC, Generic[ValueT]):
    """A key-value cache with optional per-entry time to live (seconds)."""

    _serde: SerializerProtocol = JsonPlusSerializer(pickle_fallback=False)
    _codec: Codec

    def __init__(self, *, serde: SerializerProtocol | None = None) -> None:
        self.serde = serde or self._serde

    @property
    def serde(self) -> SerializerProtocol:
        return self._serde

    @serde.setter
    def serde(self, value: Any) -> None:
        self._serde = maybe_add_typed_methods(value)
        self._codec = make_codec(self._serde)

    @abstractmethod
    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """The entries found (and not expired) for ``keys``."""

    @abstractmethod
    def set(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        """Store ``{key: (value, ttl_seconds_or_None)}``."""

    @abstractmethod
    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Drop the entries of ``namespaces`` (all entries when ``None``)."""

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        return self.get(keys)

    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        self.set(pairs)

    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        self.clear(namespaces)


def _damaged(ns: Namespace, key: str, exc: BaseException) -> None:
    structlog.get_logger("actorgraph").warning("cache.damaged_entry", namespace=ns, key=key, error=repr(exc))


def _expiry(ttl: int | float | None, now: float) -> float | None:
    return None if ttl is None else now + ttl


class InMemoryCache(BaseCache[ValueT]):
    """A cache in this process's memory; entries are serialized copies."""

    def __init__(self, *, serde: SerializerProtocol | None = None) -> None:
        super().__init__(serde=serde)
        self._data: dict[Namespace, dict[str, tuple[bytes, float | None]]] = {}
        self._lock = threading.RLock()

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        now = time.time()
        out: dict[FullKey, ValueT] = {}
        with self._lock:
            for ns, key in keys:
                entries = self._data.get(ns)
                if not entries or key not in entries:
                    continue
                raw, expires = entries[key]
                if expires is not None and expires <= now:
                    del entries[key]
                    continue
                try:
                    out[(ns, key)] = self._codec.loads(raw)
                except Exception as exc:
                    del entries[key]  # a damaged entry is a miss (and is dropped)
                    _damaged(ns, key, exc)
        return out

    def set(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        now = time.time()
        encoded = {k: (self._codec.dumps(v), _expiry(ttl, now)) for k, (v, ttl) in pairs.items()}
        with self._lock:
            for (ns, key), entry in encoded.items():
                self._data.setdefault(ns, {})[key] = entry

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        with self._lock:
            if namespaces is None:
                self._data.clear()
            else:
                for ns in namespaces:
                    self._data.pop(tuple(ns), None)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS actorgraph_cache (
    ns TEXT NOT NULL,
    key TEXT NOT NULL,
    expires REAL,
    value BLOB NOT NULL,
    PRIMARY KEY (ns, key)
)
"""
_NS_SEP = "\x1f"


class SqliteCache(BaseCache[ValueT]):
    """A cache in a SQLite file (WAL mode), shared by threads and processes.

    ``SqliteCache(path)`` or ``SqliteCache(conn=sqlite3.connect(..., check_same_thread=False))``.
    The async methods run the same statements in a worker thread.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        conn: sqlite3.Connection | None = None,
        serde: SerializerProtocol | None = None,
    ) -> None:
        super().__init__(serde=serde)
        if (path is None) == (conn is None):
            raise ValueError("SqliteCache needs exactly one of a path or a conn")
        if conn is None:
            conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
        self._conn = conn
        self._lock = threading.Lock()
        with self._lock:
            conn.execute(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        if not keys:
            return {}
        now = time.time()
        out: dict[FullKey, ValueT] = {}
        with self._lock:
            for ns, key in keys:
                row = self._conn.execute(
                    "SELECT value, expires FROM actorgraph_cache WHERE ns = ? AND key = ?",
                    (_NS_SEP.join(ns), key),
                ).fetchone()
                if row is None:
                    continue
                value, expires = row
                if expires is not None and expires <= now:
                    self._conn.execute(
                        "DELETE FROM actorgraph_cache WHERE ns = ? AND key = ?", (_NS_SEP.join(ns), key)
                    )
                    continue
                try:
                    out[(ns, key)] = self._codec.loads(value)
                except Exception as exc:
                    _damaged(ns, key, exc)  # a miss: the node runs and overwrites it
        return out

    def set(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        now = time.time()
        rows = [
            (_NS_SEP.join(ns), key, _expiry(ttl, now), self._codec.dumps(value))
            for (ns, key), (value, ttl) in pairs.items()
        ]
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO actorgraph_cache (ns, key, expires, value) VALUES (?, ?, ?, ?)",
                    rows,
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        with self._lock:
            if namespaces is None:
                self._conn.execute("DELETE FROM actorgraph_cache")
            else:
                self._conn.executemany(
                    "DELETE FROM actorgraph_cache WHERE ns = ?", [(_NS_SEP.join(ns),) for ns in namespaces]
                )

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        return await anyio.to_thread.run_sync(self.get, keys)

    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        await anyio.to_thread.run_sync(self.set, pairs)

    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        await anyio.to_thread.run_sync(self.clear, namespaces)
