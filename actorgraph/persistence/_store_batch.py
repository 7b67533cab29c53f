"""``AsyncBatchedBaseStore``: a store whose async calls are gathered by one background
task into ``abatch`` calls (the ops queued in one event-loop tick run as one batch, with
repeated reads and puts of a key merged), as LangGraph's base of its Postgres store.

It is asyncio-bound by design (it is built on the running loop); its sync methods hop
onto that loop from other threads and refuse to run on it.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeVar

from actorgraph.persistence._store import (
    NOT_PROVIDED,
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    NamespacePath,
    NotProvided,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    check_labels,
    check_namespace,
    ensure_refresh,
    ensure_ttl,
)

__all__ = ("AsyncBatchedBaseStore", "_dedupe_ops")

F = TypeVar("F", bound=Callable[..., Any])


def _check_loop(func: F) -> F:
    """Refuse a sync call made on the store's own event loop (it would deadlock)."""

    @functools.wraps(func)
    def wrapper(store: AsyncBatchedBaseStore, *args: Any, **kwargs: Any) -> Any:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and running is store._loop:
            name = func.__name__
            raise asyncio.InvalidStateError(
                f"Synchronous calls to {type(store).__name__} detected in the main event loop. "
                "This can lead to deadlocks or performance issues. Please use the asynchronous "
                f"interface for main thread operations: replace `store.{name}(...)` with "
                f"`await store.a{name}(...)`"
            )
        return func(store, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _dedupe_ops(values: list[Op]) -> tuple[list[int] | None, list[Op]]:
    """(for each op, the index of the op that answers it; the ops to run): equal reads
    run once, a later put of a key replaces an earlier one."""
    if len(values) <= 1:
        return None, list(values)
    unique: list[Op] = []
    listen: list[int] = []
    puts: dict[tuple[tuple[str, ...], str], int] = {}
    reads: dict[Any, int] = {}
    for op in values:
        if isinstance(op, (GetOp, SearchOp, ListNamespacesOp)):
            try:
                ix = reads.setdefault(op, len(unique))
            except TypeError:  # an op holding a dict or a list can't be hashed
                ix = unique.index(op) if op in unique else len(unique)
            if ix == len(unique):
                unique.append(op)
            listen.append(ix)
        elif isinstance(op, PutOp):
            key = (op.namespace, op.key)
            if key in puts:
                unique[puts[key]] = op
                listen.append(puts[key])
            else:
                puts[key] = len(unique)
                listen.append(len(unique))
                unique.append(op)
        else:
            listen.append(len(unique))
            unique.append(op)
    return listen, unique


async def _run(queue: asyncio.Queue[tuple[asyncio.Future[Any], Op]], store_ref: weakref.ReferenceType[Any]) -> None:
    while item := await queue.get():
        if item[0].done():
            continue
        store = store_ref()
        if store is None:
            break
        try:
            items = [item]
            while not queue.empty():
                nxt = queue.get_nowait()
                if not nxt[0].done():
                    items.append(nxt)
            futures = [f for f, _ in items]
            try:
                listen, unique = _dedupe_ops([op for _, op in items])
                results = await store.abatch(unique)
                if listen is not None:
                    results = [results[i] for i in listen]
                for fut, result in zip(futures, results, strict=False):
                    if not fut.done():
                        fut.set_result(result)
            except Exception as exc:
                for fut in futures:
                    if not fut.done():
                        fut.set_exception(exc)
        finally:
            del store


class AsyncBatchedBaseStore(BaseStore):
    """Gathers async calls into batches on a background task of the running loop.
    Subclasses implement ``abatch`` (and ``batch``)."""

    def __init__(self) -> None:
        super().__init__()
        self._loop = asyncio.get_running_loop()
        self._aqueue: asyncio.Queue[tuple[asyncio.Future[Any], Op]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._ensure_task()

    def __del__(self) -> None:
        try:
            if self._task is not None:
                self._task.cancel()
        except RuntimeError:
            pass

    def _ensure_task(self) -> None:
        """(Re)start the background task if it isn't running (it may have been cancelled)."""
        if self._task is None or self._task.done():
            self._task = self._loop.create_task(_run(self._aqueue, weakref.ref(self)))

    async def _submit(self, op: Op) -> Any:
        self._ensure_task()
        fut = self._loop.create_future()
        self._aqueue.put_nowait((fut, op))
        return await fut

    async def aget(self, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None) -> Item | None:
        check_labels(namespace)
        return await self._submit(GetOp(namespace, key, ensure_refresh(self.ttl_config, refresh_ttl)))  # type: ignore[no-any-return]

    async def asearch(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
    ) -> list[SearchItem]:
        check_labels(namespace_prefix, "Namespace prefix")
        op = SearchOp(namespace_prefix, filter, limit, offset, query, ensure_refresh(self.ttl_config, refresh_ttl))
        return await self._submit(op)  # type: ignore[no-any-return]

    async def aput(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | None | NotProvided = NOT_PROVIDED,
    ) -> None:
        check_namespace(namespace, writing=True)
        await self._submit(PutOp(namespace, key, value, index, ensure_ttl(self.ttl_config, ttl)))

    async def adelete(self, namespace: tuple[str, ...], key: str) -> None:
        check_labels(namespace)
        await self._submit(PutOp(namespace, key, None))

    async def alist_namespaces(
        self,
        *,
        prefix: NamespacePath | None = None,
        suffix: NamespacePath | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        conditions = []
        if prefix:
            conditions.append(MatchCondition("prefix", check_labels(prefix, "Prefix")))
        if suffix:
            conditions.append(MatchCondition("suffix", check_labels(suffix, "Suffix")))
        return await self._submit(ListNamespacesOp(tuple(conditions), max_depth, limit, offset))  # type: ignore[no-any-return]

    def _on_loop(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    @_check_loop
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return self._on_loop(self.abatch(ops))  # type: ignore[no-any-return]

    @_check_loop
    def get(self, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None) -> Item | None:
        return self._on_loop(self.aget(namespace, key, refresh_ttl=refresh_ttl))  # type: ignore[no-any-return]

    @_check_loop
    def search(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
    ) -> list[SearchItem]:
        coro = self.asearch(
            namespace_prefix, query=query, filter=filter, limit=limit, offset=offset, refresh_ttl=refresh_ttl
        )
        return self._on_loop(coro)  # type: ignore[no-any-return]

    @_check_loop
    def put(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | None | NotProvided = NOT_PROVIDED,
    ) -> None:
        check_namespace(namespace, writing=True)
        self._on_loop(self.aput(namespace, key, value, index, ttl=ensure_ttl(self.ttl_config, ttl)))

    @_check_loop
    def delete(self, namespace: tuple[str, ...], key: str) -> None:
        self._on_loop(self.adelete(namespace, key))

    @_check_loop
    def list_namespaces(
        self,
        *,
        prefix: NamespacePath | None = None,
        suffix: NamespacePath | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        coro = self.alist_namespaces(prefix=prefix, suffix=suffix, max_depth=max_depth, limit=limit, offset=offset)
        return self._on_loop(coro)  # type: ignore[no-any-return]
