"""Removing and copying checkpoints without breaking the ones that stay.

A checkpoint reads the values it didn't change from the checkpoints that last wrote them
(and reducer lists from a chain of deltas), so before checkpoints are deleted
(``prune``, ``delete_for_runs``) every kept checkpoint that reads from one of them gets a
full copy of those values first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from actorgraph.persistence._model import FULL, Blob, CheckpointRow, ForeignRow

if TYPE_CHECKING:
    from actorgraph.persistence._base import LoadedCheckpoint, RowCheckpointSaver

__all__ = ("acopy_thread", "adelete_for_runs", "aprune", "copy_thread", "delete_for_runs", "prune")


def _candidate(saver: RowCheckpointSaver, row: Any, dropped: set[str]) -> bool:
    """Whether ``row`` may read a value from a dropped checkpoint (cheap, from its record)."""
    if isinstance(row, ForeignRow):
        return False
    record = saver._record(row)
    roots = record.blob_roots
    for chan, writer in record.blob_writers.items():
        if writer in dropped:
            return True
        root = roots.get(chan)
        if root is not None and any(root <= d <= writer for d in dropped):
            return True
    return False


def _materialize(saver: RowCheckpointSaver, row: CheckpointRow, loaded: LoadedCheckpoint, dropped: set[str]) -> CheckpointRow:
    """``row`` with full copies of the values it reads from ``dropped`` checkpoints."""
    from actorgraph.persistence._base import encode_record

    record = loaded.record
    blobs = dict(row.blobs)
    writers = dict(record.blob_writers)
    roots = dict(record.blob_roots)
    dumps = saver._codec.dumps
    for chan, deps in loaded.deps.items():
        if deps & dropped:
            data = dumps(loaded.values[chan])
            blobs[chan] = Blob(FULL, data, size=len(data))
            writers[chan] = row.checkpoint_id
            roots.pop(chan, None)
    new_record = msgspec.structs.replace(record, blob_writers=writers, blob_roots=roots)
    return msgspec.structs.replace(row, blobs=blobs, record=encode_record(new_record))


def _drop(saver: RowCheckpointSaver, thread: str, ns: str, dropped: set[str]) -> None:
    if not dropped:
        return
    rewritten = []
    for row in saver._list_rows(thread, ns, None, None):
        if row.checkpoint_id in dropped or not _candidate(saver, row, dropped):
            continue
        loaded = saver.load(thread, ns, row.checkpoint_id)
        assert loaded is not None and isinstance(row, CheckpointRow)
        rewritten.append(_materialize(saver, row, loaded, dropped))
    saver._write(rewritten, [])
    saver._delete(thread, ns, sorted(dropped))


async def _adrop(saver: RowCheckpointSaver, thread: str, ns: str, dropped: set[str]) -> None:
    if not dropped:
        return
    rewritten = []
    for row in await saver._alist_rows(thread, ns, None, None):
        if row.checkpoint_id in dropped or not _candidate(saver, row, dropped):
            continue
        loaded = await saver.aload(thread, ns, row.checkpoint_id)
        assert loaded is not None and isinstance(row, CheckpointRow)
        rewritten.append(_materialize(saver, row, loaded, dropped))
    await saver._awrite(rewritten, [])
    await saver._adelete(thread, ns, sorted(dropped))


def _prune_threads(thread_ids: Sequence[str] | str, strategy: str, keep_last: int) -> list[str]:
    if strategy not in ("keep_latest", "delete"):
        raise ValueError(f"prune(strategy={strategy!r}): expected 'keep_latest' or 'delete'")
    if keep_last < 1:
        raise ValueError(f"prune(keep_last={keep_last}): keep at least one checkpoint")
    return [str(thread_ids)] if isinstance(thread_ids, str) else [str(t) for t in thread_ids]


def prune(saver: RowCheckpointSaver, thread_ids: Sequence[str] | str, strategy: str, keep_last: int) -> None:
    for thread in _prune_threads(thread_ids, strategy, keep_last):
        if strategy == "delete":
            saver.delete_thread(thread)
            continue
        for ns in saver._namespaces(thread):
            rows = saver._list_rows(thread, ns, None, None)
            _drop(saver, thread, ns, {r.checkpoint_id for r in rows[keep_last:]})


async def aprune(saver: RowCheckpointSaver, thread_ids: Sequence[str] | str, strategy: str, keep_last: int) -> None:
    for thread in _prune_threads(thread_ids, strategy, keep_last):
        if strategy == "delete":
            await saver.adelete_thread(thread)
            continue
        for ns in await saver._anamespaces(thread):
            rows = await saver._alist_rows(thread, ns, None, None)
            await _adrop(saver, thread, ns, {r.checkpoint_id for r in rows[keep_last:]})


def _by_run(saver: RowCheckpointSaver, rows: list[Any], run_ids: set[str]) -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        if saver._metadata(row).get("run_id") in run_ids:
            found[(row.thread_id, row.ns)].add(row.checkpoint_id)
    return found


def delete_for_runs(saver: RowCheckpointSaver, run_ids: Sequence[str]) -> None:
    wanted = {str(r) for r in run_ids}
    if not wanted:
        return
    for (thread, ns), ids in _by_run(saver, saver._list_rows(None, None, None, None), wanted).items():
        _drop(saver, thread, ns, ids)


async def adelete_for_runs(saver: RowCheckpointSaver, run_ids: Sequence[str]) -> None:
    wanted = {str(r) for r in run_ids}
    if not wanted:
        return
    rows = await saver._alist_rows(None, None, None, None)
    for (thread, ns), ids in _by_run(saver, rows, wanted).items():
        await _adrop(saver, thread, ns, ids)


def copy_thread(saver: RowCheckpointSaver, src: str, dst: str) -> None:
    saver._copy_thread(src, dst)


async def acopy_thread(saver: RowCheckpointSaver, src: str, dst: str) -> None:
    await saver._acopy_thread(src, dst)
