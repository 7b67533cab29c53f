"""The other half of a saver's storage primitives, made from the half it implements.

A saver doing blocking I/O (sqlite3, psycopg's ``Connection``) implements the sync
primitives; ``ThreadedAsync`` runs them in a worker thread for the async calls, so they
never block an event loop. A saver bound to one asyncio loop (aiosqlite, psycopg's
``AsyncConnection``) implements the async ones; ``LoopSync`` runs them on that loop for
calls made from other threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import anyio.to_thread

from actorgraph.persistence._base import ANY_HEAD, StoredWrite
from actorgraph.persistence._model import CheckpointRow, WriteRow
from actorgraph.persistence._threads import in_thread

__all__ = ("LoopSync", "ThreadedAsync")


class ThreadedAsync:
    """Async primitives: the sync ones in a worker thread."""

    _write: Any
    _put_foreign: Any
    _read_row: Any
    _read_rows: Any
    _read_range: Any
    _read_writes: Any
    _list_rows: Any
    _delete: Any
    _namespaces: Any
    _copy_thread: Any

    async def _awrite(
        self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite], *, replace: bool = True, expect_head: Any = ANY_HEAD
    ) -> None:
        await in_thread(lambda: self._write(rows, writes, replace=replace, expect_head=expect_head))

    async def _aput_foreign(self, *args: Any) -> None:
        await anyio.to_thread.run_sync(self._put_foreign, *args)

    async def _aread_row(self, thread: str, ns: str, checkpoint_id: str | None) -> Any:
        return await anyio.to_thread.run_sync(self._read_row, thread, ns, checkpoint_id)

    async def _aread_rows(self, thread: str, ns: str, ids: Sequence[str]) -> dict[str, Any]:
        return await anyio.to_thread.run_sync(self._read_rows, thread, ns, ids)  # type: ignore[no-any-return]

    async def _aread_range(self, thread: str, ns: str, lo: str, hi: str) -> dict[str, Any]:
        return await anyio.to_thread.run_sync(self._read_range, thread, ns, lo, hi)  # type: ignore[no-any-return]

    async def _aread_writes(self, thread: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        return await anyio.to_thread.run_sync(self._read_writes, thread, ns, checkpoint_id)  # type: ignore[no-any-return]

    async def _alist_rows(self, *args: Any) -> list[Any]:
        return await anyio.to_thread.run_sync(self._list_rows, *args)  # type: ignore[no-any-return]

    async def _adelete(self, thread: str, ns: str | None, ids: Sequence[str] | None) -> None:
        await anyio.to_thread.run_sync(self._delete, thread, ns, ids)

    async def _anamespaces(self, thread: str) -> list[str]:
        return await anyio.to_thread.run_sync(self._namespaces, thread)  # type: ignore[no-any-return]

    async def _acopy_thread(self, source: str, target: str) -> None:
        await anyio.to_thread.run_sync(self._copy_thread, source, target)


class LoopSync:
    """Sync primitives: the async ones run on the saver's event loop (``self.loop``), from
    another thread (on the loop's own thread they would deadlock: refused)."""

    loop: asyncio.AbstractEventLoop | None
    _awrite: Any
    _aput_foreign: Any
    _aread_row: Any
    _aread_rows: Any
    _aread_range: Any
    _aread_writes: Any
    _alist_rows: Any
    _adelete: Any
    _anamespaces: Any
    _acopy_thread: Any

    def _bind_loop(self) -> None:
        """Remember the running event loop (the one the saver's connection lives on)."""
        try:
            self.loop = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None

    def _sync(self, coro: Any) -> Any:
        loop = self.loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop:
            coro.close()
            name = type(self).__name__
            raise RuntimeError(
                f"{name}'s sync methods can't run on its own event loop thread: use the "
                "async ones (aget_tuple, alist, ...), or a sync saver for sync code"
            )
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    def _write(
        self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite], *, replace: bool = True, expect_head: Any = ANY_HEAD
    ) -> None:
        self._sync(self._awrite(rows, writes, replace=replace, expect_head=expect_head))

    def _put_foreign(self, *args: Any) -> None:
        self._sync(self._aput_foreign(*args))

    def _read_row(self, thread: str, ns: str, checkpoint_id: str | None) -> Any:
        return self._sync(self._aread_row(thread, ns, checkpoint_id))

    def _read_rows(self, thread: str, ns: str, ids: Sequence[str]) -> dict[str, Any]:
        return self._sync(self._aread_rows(thread, ns, ids))  # type: ignore[no-any-return]

    def _read_range(self, thread: str, ns: str, lo: str, hi: str) -> dict[str, Any]:
        return self._sync(self._aread_range(thread, ns, lo, hi))  # type: ignore[no-any-return]

    def _read_writes(self, thread: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        return self._sync(self._aread_writes(thread, ns, checkpoint_id))  # type: ignore[no-any-return]

    def _list_rows(self, *args: Any) -> list[Any]:
        return self._sync(self._alist_rows(*args))  # type: ignore[no-any-return]

    def _delete(self, thread: str, ns: str | None, ids: Sequence[str] | None) -> None:
        self._sync(self._adelete(thread, ns, ids))

    def _namespaces(self, thread: str) -> list[str]:
        return self._sync(self._anamespaces(thread))  # type: ignore[no-any-return]

    def _copy_thread(self, source: str, target: str) -> None:
        self._sync(self._acopy_thread(source, target))
