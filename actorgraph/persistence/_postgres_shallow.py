"""``ShallowPostgresSaver`` and ``AsyncShallowPostgresSaver``: LangGraph's shallow savers
(deprecated there), which keep only the newest checkpoint of each thread namespace.

After each stored checkpoint the older ones of its namespace are deleted; values the
newest one still reads from them are copied into it first, so it always reads back
whole. Runs, interrupts and resumes work as usual; the history is one checkpoint long.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actorgraph.persistence._base import ANY_HEAD, StoredWrite
from actorgraph.persistence._model import CheckpointRow
from actorgraph.persistence._postgres import AsyncPostgresSaver, PostgresSaver
from actorgraph.persistence._prune import _candidate, _materialize
from actorgraph.persistence._saver_api import Checkpoint

__all__ = ("AsyncShallowPostgresSaver", "ShallowPostgresSaver")


def _older(rows: Sequence[Any]) -> set[str]:
    return {r.checkpoint_id for r in rows[1:]}


class ShallowPostgresSaver(PostgresSaver):
    """A PostgresSaver that keeps only each thread namespace's newest checkpoint."""

    def _write(
        self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite], *, replace: bool = True, expect_head: Any = ANY_HEAD
    ) -> None:
        super()._write(rows, writes, replace=replace, expect_head=expect_head)
        for thread, ns in sorted({(r.thread_id, r.ns) for r in rows}):
            self._trim(thread, ns)

    def _put_foreign(
        self, thread: str, ns: str, parent: str | None, checkpoint: Checkpoint, metadata: dict[str, Any], new_versions: dict[str, Any]
    ) -> None:
        super()._put_foreign(thread, ns, parent, checkpoint, metadata, new_versions)
        self._trim(thread, ns)

    def _trim(self, thread: str, ns: str) -> None:
        rows = self._list_rows(thread, ns, None, None)
        dropped = _older(rows)
        if not dropped:
            return
        head = rows[0]
        if isinstance(head, CheckpointRow) and _candidate(self, head, dropped):
            loaded = self.load(thread, ns, head.checkpoint_id)
            assert loaded is not None
            PostgresSaver._write(self, [_materialize(self, head, loaded, dropped)], [])
        self._delete(thread, ns, sorted(dropped))


class AsyncShallowPostgresSaver(AsyncPostgresSaver):
    """An AsyncPostgresSaver that keeps only each thread namespace's newest checkpoint."""

    async def _awrite(
        self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite], *, replace: bool = True, expect_head: Any = ANY_HEAD
    ) -> None:
        await super()._awrite(rows, writes, replace=replace, expect_head=expect_head)
        for thread, ns in sorted({(r.thread_id, r.ns) for r in rows}):
            await self._atrim(thread, ns)

    async def _aput_foreign(
        self, thread: str, ns: str, parent: str | None, checkpoint: Checkpoint, metadata: dict[str, Any], new_versions: dict[str, Any]
    ) -> None:
        await super()._aput_foreign(thread, ns, parent, checkpoint, metadata, new_versions)
        await self._atrim(thread, ns)

    async def _atrim(self, thread: str, ns: str) -> None:
        rows = await self._alist_rows(thread, ns, None, None)
        dropped = _older(rows)
        if not dropped:
            return
        head = rows[0]
        if isinstance(head, CheckpointRow) and _candidate(self, head, dropped):
            loaded = await self.aload(thread, ns, head.checkpoint_id)
            assert loaded is not None
            await AsyncPostgresSaver._awrite(self, [_materialize(self, head, loaded, dropped)], [])
        await self._adelete(thread, ns, sorted(dropped))
