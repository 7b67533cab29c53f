"""What the SQL stores (SQLite, Postgres) share above their statements: turning a batch of
ops into checked ops plus the embeddings it needs (sync and async), and the TTL sweepers
(a daemon thread for the sync stores, an asyncio task for the asyncio-bound ones).

A store using these mixins sets ``_index``, ``index_config``, ``serde``, ``ttl_config``
and ``_init_sweepers()``, and defines ``sweep_ttl``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Iterable
from typing import Any, cast

from actorgraph.persistence import _store_exec as ex
from actorgraph.persistence._serde import Serializer
from actorgraph.persistence._store import IndexConfig, Op, PutOp, SearchOp, TTLConfig
from actorgraph.persistence._store_vectors import VectorIndex

__all__ = ("EmbeddingBatches", "TaskSweeper", "ThreadSweeper")


class EmbeddingBatches:
    """``_prepare_args(ops)``: the arguments of the store's ``_execute`` for a batch
    (checked ops, and for a batch that embeds: the vector writes, the query searches by
    position and the query vectors)."""

    _index: VectorIndex | None
    index_config: IndexConfig | None
    serde: Serializer

    def _semantic(self, ops: list[Op]) -> tuple[list[Op], dict[int, SearchOp]] | None:
        """For a batch that embeds (puts, or searches with a query, on a store with an
        index): the batch with its query searches widened, and those searches."""
        index = self._index
        if index is None or not any(isinstance(op, PutOp) or (isinstance(op, SearchOp) and op.query) for op in ops):
            return None
        ex.prepare(ops, self.serde, self.index_config, strict_filter_keys=True)  # fail before embedding
        return index.split(ops)

    def _prepare_args(self, ops: Iterable[Op]) -> tuple[Any, ...]:
        ops = list(ops)
        semantic = self._semantic(ops)
        if semantic is None:
            return (ex.prepare(ops, self.serde, self.index_config, strict_filter_keys=True),)
        plain, ranked = semantic
        index = cast(VectorIndex, self._index)
        writes, queries = index.embed_puts(ops), index.query_vectors(ranked)
        return ex.prepare(plain, self.serde, self.index_config, strict_filter_keys=True), writes, ranked, queries

    async def _aprepare(self, ops: Iterable[Op]) -> tuple[Any, ...]:
        """``_prepare_args``, embedding through the async embedding methods."""
        ops = list(ops)
        semantic = self._semantic(ops)
        if semantic is None:
            return (ex.prepare(ops, self.serde, self.index_config, strict_filter_keys=True),)
        plain, ranked = semantic
        index = cast(VectorIndex, self._index)
        writes, queries = await index.aembed_puts(ops), await index.aquery_vectors(ranked)
        return ex.prepare(plain, self.serde, self.index_config, strict_filter_keys=True), writes, ranked, queries


def _interval(ttl: TTLConfig, minutes: float | None) -> float:
    return float(minutes or ttl.get("sweep_interval_minutes") or 5)


class ThreadSweeper:
    """``start_ttl_sweeper`` / ``stop_ttl_sweeper`` on a daemon thread (LangGraph's sync stores')."""

    ttl_config: TTLConfig | None

    def sweep_ttl(self) -> int:
        raise NotImplementedError

    def _init_sweepers(self) -> None:
        self._sweeper: threading.Thread | None = None
        self._sweeper_stop = threading.Event()
        self._sweeper_task: asyncio.Task[None] | None = None

    def start_ttl_sweeper(self, sweep_interval_minutes: float | None = None) -> concurrent.futures.Future[None]:
        """Sweep expired items every ``sweep_interval_minutes`` (default: the ttl config's
        ``sweep_interval_minutes``, else 5) on a daemon thread until
        ``stop_ttl_sweeper()``; the returned future completes when it stops (cancel it
        to stop it too). A store without a ttl config has nothing to sweep."""
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        if not self.ttl_config:
            future.set_result(None)
            return future
        thread = self._sweeper
        if thread is not None and thread.is_alive():
            future.add_done_callback(lambda f: self._sweeper_stop.set() if f.cancelled() else None)
            return future
        minutes = _interval(self.ttl_config, sweep_interval_minutes)
        stop = self._sweeper_stop = threading.Event()

        def sweep() -> None:
            try:
                while not stop.wait(minutes * 60):
                    try:
                        self.sweep_ttl()
                    except Exception:  # a busy or closed database: try again next time
                        if stop.is_set():
                            break
                if not future.done():
                    future.set_result(None)
            except BaseException as exc:
                if not future.done():
                    future.set_exception(exc)

        future.add_done_callback(lambda f: stop.set() if f.cancelled() else None)
        self._sweeper = threading.Thread(target=sweep, name="actorgraph-store-ttl-sweeper", daemon=True)
        self._sweeper.start()
        return future

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper thread; True once it has stopped (within ``timeout`` s)."""
        thread = self._sweeper
        if thread is None or not thread.is_alive():
            return True
        self._sweeper_stop.set()
        thread.join(timeout)
        stopped = not thread.is_alive()
        if stopped:
            self._sweeper = None
        return stopped


class TaskSweeper:
    """Async ``start_ttl_sweeper`` / ``stop_ttl_sweeper`` on a task of the running loop
    (LangGraph's asyncio stores')."""

    ttl_config: TTLConfig | None
    _sweeper_task: asyncio.Task[None] | None

    async def sweep_ttl(self) -> int:
        raise NotImplementedError

    async def start_ttl_sweeper(self, sweep_interval_minutes: float | None = None) -> asyncio.Task[None]:
        """Sweep expired items periodically on a task of the store's loop until
        ``stop_ttl_sweeper()``."""
        if not self.ttl_config:
            return asyncio.create_task(asyncio.sleep(0))
        task = self._sweeper_task
        if task is not None and not task.done():
            return task
        minutes = _interval(self.ttl_config, sweep_interval_minutes)

        async def sweep() -> None:
            while True:
                await asyncio.sleep(minutes * 60)
                try:
                    await self.sweep_ttl()
                except Exception:  # a busy database: try again next time
                    continue

        # the store owns this task: stop_ttl_sweeper() (or closing the store) ends it
        self._sweeper_task = asyncio.create_task(sweep())
        return self._sweeper_task

    async def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper task; True once it has stopped (within ``timeout`` s)."""
        task = self._sweeper_task
        if task is None or task.done():
            return True
        task.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except asyncio.CancelledError:
            pass
        except asyncio.TimeoutError:
            return False
        self._sweeper_task = None
        return True
