"""``RedisCache``: node-cache entries in Redis, one key per entry
(``<prefix><ns labels joined by ':'>:<key>``), its value ``b"<type>:" + bytes`` from the
cache's serializer, its TTL Redis's own. A Redis that can't be reached is a miss on
``get`` and a no-op on ``set``/``clear``: a cache never fails a run.

The ``redis`` client is the user's (sync ``redis.Redis``, or ``redis.asyncio.Redis`` for
the async methods); actorgraph doesn't import ``redis`` itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from actorgraph.persistence._cache import BaseCache, FullKey, Namespace, ValueT, _damaged
from actorgraph.persistence._serde_protocols import SerializerProtocol

__all__ = ("RedisCache",)


class RedisCache(BaseCache[ValueT]):
    """A node cache in Redis; entries expire by Redis TTL (``setex``)."""

    def __init__(self, redis: Any, *, serde: SerializerProtocol | None = None, prefix: str = "langgraph:cache:") -> None:
        super().__init__(serde=serde)
        self.redis = redis
        self.prefix = prefix
        self._async_client = inspect.iscoroutinefunction(getattr(redis, "mget", None))

    def _make_key(self, ns: Namespace, key: str) -> str:
        labels = ":".join(ns)
        return f"{self.prefix}{labels}:{key}" if labels else f"{self.prefix}{key}"

    def _parse_key(self, redis_key: str) -> tuple[Namespace, str]:
        if not redis_key.startswith(self.prefix):
            raise ValueError(f"Key {redis_key} does not start with prefix {self.prefix}")
        *labels, key = redis_key[len(self.prefix) :].split(":")
        return tuple(labels), key

    def _patterns(self, namespaces: Sequence[Namespace] | None) -> list[str]:
        if namespaces is None:
            return [f"{self.prefix}*"]
        return [f"{self.prefix}{':'.join(ns)}:*" if ns else f"{self.prefix}*" for ns in namespaces]

    def _decode(self, keys: Sequence[FullKey], raw_values: Sequence[Any]) -> dict[FullKey, ValueT]:
        out: dict[FullKey, ValueT] = {}
        for full_key, raw in zip(keys, raw_values, strict=False):
            if raw is None:
                continue
            try:
                kind, data = bytes(raw).split(b":", 1)
                out[full_key] = self.serde.loads_typed((kind.decode(), data))
            except Exception as exc:
                _damaged(full_key[0], full_key[1], exc)  # a miss: the node runs and overwrites it
        return out

    def _entries(self, mapping: Mapping[FullKey, tuple[ValueT, int | None]]) -> list[tuple[str, bytes, int | None]]:
        out = []
        for (ns, key), (value, ttl) in mapping.items():
            kind, data = self.serde.dumps_typed(value)
            out.append((self._make_key(ns, key), kind.encode() + b":" + bytes(data), ttl))
        return out

    # -- sync ----------------------------------------------------------------------------
    def _require_sync(self) -> None:
        if self._async_client:
            raise TypeError("RedisCache was given an async Redis client: use aget/aset/aclear")

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        if not keys:
            return {}
        self._require_sync()
        try:
            raw = self.redis.mget([self._make_key(ns, key) for ns, key in keys])
        except Exception:
            return {}
        return self._decode(keys, raw)

    def set(self, mapping: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        if not mapping:
            return
        self._require_sync()
        entries = self._entries(mapping)
        try:
            pipe = self.redis.pipeline()
            _queue(pipe, entries)
            pipe.execute()
        except Exception:
            pass

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        self._require_sync()
        try:
            found = [k for pattern in self._patterns(namespaces) for k in self.redis.scan_iter(match=pattern)]
            if found:
                self.redis.delete(*found)
        except Exception:
            pass

    # -- async -----------------------------------------------------------------------------
    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        if not self._async_client:
            return self.get(keys)
        if not keys:
            return {}
        try:
            raw = await self.redis.mget([self._make_key(ns, key) for ns, key in keys])
        except Exception:
            return {}
        return self._decode(keys, raw)

    async def aset(self, mapping: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        if not self._async_client:
            self.set(mapping)
            return
        if not mapping:
            return
        entries = self._entries(mapping)
        try:
            pipe = self.redis.pipeline()
            _queue(pipe, entries)
            await pipe.execute()
        except Exception:
            pass

    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        if not self._async_client:
            self.clear(namespaces)
            return
        try:
            found = [k for pattern in self._patterns(namespaces) async for k in self.redis.scan_iter(match=pattern)]
            if found:
                await self.redis.delete(*found)
        except Exception:
            pass


def _queue(pipe: Any, entries: list[tuple[str, bytes, int | None]]) -> None:
    for redis_key, data, ttl in entries:
        if ttl is None:
            pipe.set(redis_key, data)
        elif float(ttl).is_integer():
            pipe.setex(redis_key, int(ttl), data)
        else:
            pipe.set(redis_key, data, px=max(1, round(ttl * 1000)))  # sub-second TTLs too
