"""How the runtime talks to a checkpointer: ``engine_saver(checkpointer)``.

The runtime reads and writes rows (``aload``, ``asave``, ``alatest_id``,
``alist_loaded``) and encodes values with ``serde.dumps``/``serde.loads``. For our own
savers that is their row storage (``RowEngine``). Any other saver - one written for
LangGraph, or a subclass of ours that overrides ``put``/``get_tuple``/... - is spoken to
in LangGraph's protocol (``LangGraphEngine``): each step becomes ``put(config,
checkpoint, metadata, new_versions)``, each task's writes ``put_writes(config, writes,
task_id, task_path)``, and reads go through ``get_tuple`` and ``list``.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import anyio.to_thread
import msgspec

from actorgraph._constants import TASKS
from actorgraph.persistence._base import (
    LoadedCheckpoint,
    RowCheckpointSaver,
    StoredWrite,
    _int_version,
    config_for,
    from_foreign,
)
from actorgraph.persistence._codec import Codec, make_codec
from actorgraph.persistence._model import CheckpointRecord, CheckpointRow, ForeignRow, WriteRow, decode_metadata
from actorgraph.persistence._saver_api import BaseCheckpointSaver
from actorgraph.persistence._serde import JsonPlusSerializer

__all__ = ("LangGraphEngine", "RowEngine", "engine_saver")

_PROTOCOL = ("get_tuple", "list", "put", "put_writes")
_record_decoder = msgspec.msgpack.Decoder(CheckpointRecord)


def engine_saver(checkpointer: Any) -> Any:
    """The object the runtime uses for ``checkpointer`` (made once per saver)."""
    if isinstance(checkpointer, (RowEngine, LangGraphEngine)):
        return checkpointer
    cache = getattr(checkpointer, "__dict__", None)
    engine = cache.get("_actorgraph_engine") if cache is not None else None
    if engine is None:
        engine = RowEngine(checkpointer) if _row_native(checkpointer) else LangGraphEngine(checkpointer)
        if cache is not None:
            cache["_actorgraph_engine"] = engine
    return engine


def saver_next_version(saver: Any) -> Callable[[int], int] | None:
    """The saver's own ``get_next_version`` (a user's subclass, or a LangGraph saver), as
    the engine's version counter; ``None`` when it is ours (the engine counts by one).

    It is called once per step with the current version (``None`` before the first, as
    LangGraph calls it); what it raises fails the run. The engine keeps versions as
    integers: a string version (``"000...7.0.123"``) counts as its leading number, and a
    result that doesn't move forward counts as the next integer, so nodes still see the
    change."""
    method = getattr(type(saver), "get_next_version", None)
    if method is None or getattr(method, "__module__", "").startswith("actorgraph."):
        return None
    bound = saver.get_next_version

    def next_version(current: int) -> int:
        new = _int_version(bound(current or None, None))
        return new if new > current else current + 1

    return next_version


def _row_native(saver: Any) -> bool:
    """One of our savers, with LangGraph's protocol methods as we wrote them."""
    if not isinstance(saver, RowCheckpointSaver):
        return False
    cls = type(saver)
    own = next(c for c in cls.__mro__ if c.__module__.startswith("actorgraph."))
    names = [*_PROTOCOL, *("a" + n for n in _PROTOCOL)]
    return all(getattr(cls, n) is getattr(own, n) for n in names) and not any(n in vars(saver) for n in names)


class RowEngine:
    """Our savers' row storage, as the runtime uses it."""

    deltas = True

    def __init__(self, saver: RowCheckpointSaver) -> None:
        self.saver = saver
        self.aload = saver.aload
        self.asave = saver.asave
        self.alatest_id = saver.alatest_id
        self.alist_loaded = saver.alist_loaded
        self.alist = saver.alist
        self.next_version = saver_next_version(saver)
        self.stores_without_suspending = saver.stores_without_suspending
        self.save = saver.save
        # a sync ``save`` that works from any thread with no event loop (a SQLite file
        # through sqlite3): the run's writer keeps storing from its worker thread
        self.save_in_thread = saver.save if saver.saves_from_any_thread else None

    @property
    def serde(self) -> Codec:
        return self.saver._codec


def _defined_at(cls: type, name: str) -> int:
    for i, klass in enumerate(cls.__mro__):
        if name in vars(klass):
            return i
    return len(cls.__mro__)


class LangGraphEngine:
    """A saver spoken to in LangGraph's protocol. Values travel to it as objects (it
    serializes them its own way); reducer lists are stored whole, not as deltas."""

    deltas = False
    save_in_thread = None

    def __init__(self, saver: Any) -> None:
        self.saver = saver
        self.serde = make_codec(JsonPlusSerializer())
        self.next_version = saver_next_version(saver)
        self._takes_path: bool | None = None
        # (thread, ns) -> (checkpoint id, its channel values): the base of the next put
        self._values: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}

    # -- calling the saver -----------------------------------------------------------------
    def _method(self, name: str) -> tuple[Any, bool]:
        """(method, is_async): ``a<name>`` when the saver implements it more specifically
        than ``<name>``, else ``<name>`` (run in a worker thread)."""
        cls = type(self.saver)
        async_name = "a" + name
        own_async = async_name in vars(self.saver) or getattr(cls, async_name) is not getattr(BaseCheckpointSaver, async_name)
        own_sync = getattr(cls, name) is not getattr(BaseCheckpointSaver, name)
        if own_async and not (own_sync and _defined_at(cls, name) < _defined_at(cls, async_name)):
            return getattr(self.saver, async_name), True
        if own_sync:
            return getattr(self.saver, name), False
        raise NotImplementedError(f"Checkpointer {cls.__name__} implements neither {name}() nor {async_name}()")

    async def _call(self, name: str, *args: Any) -> Any:
        method, is_async = self._method(name)
        if is_async:
            return await method(*args)
        return await anyio.to_thread.run_sync(lambda: method(*args))

    def _writes_take_path(self) -> bool:
        """Whether the saver's ``put_writes`` takes ``task_path``: savers written before
        LangGraph added it don't, and are called without it (as LangGraph does)."""
        if self._takes_path is None:
            method, _ = self._method("put_writes")
            try:
                self._takes_path = "task_path" in inspect.signature(method).parameters
            except (TypeError, ValueError):
                self._takes_path = True
        return self._takes_path

    async def _list(self, config: Any, **kwargs: Any) -> list[Any]:
        cls = type(self.saver)
        if "alist" in vars(self.saver) or cls.alist is not BaseCheckpointSaver.alist:
            if not (cls.list is not BaseCheckpointSaver.list and _defined_at(cls, "list") < _defined_at(cls, "alist")):
                return [t async for t in self.saver.alist(config, **kwargs)]
        return await anyio.to_thread.run_sync(lambda: list(self.saver.list(config, **kwargs)))

    # -- reading -----------------------------------------------------------------------------
    def _loaded(self, tup: Any) -> LoadedCheckpoint:
        conf = tup.config["configurable"]
        parent = (tup.parent_config or {}).get("configurable", {}).get("checkpoint_id")
        row = ForeignRow(
            str(conf["thread_id"]), conf.get("checkpoint_ns", "") or "", conf["checkpoint_id"], parent,
            tup.checkpoint, dict(tup.metadata or {}),
        )  # fmt: skip
        dumps = self.serde.dumps
        writes = [WriteRow(t, i, c, dumps(v), "") for i, (t, c, v) in enumerate(tup.pending_writes or ())]
        loaded = from_foreign(row, writes, self.serde)
        self._values[(row.thread_id, row.ns)] = (row.checkpoint_id, dict(loaded.values))
        return loaded

    async def aload(self, thread: str, ns: str, checkpoint_id: str | None) -> LoadedCheckpoint | None:
        conf: dict[str, Any] = {"thread_id": thread, "checkpoint_ns": ns}
        if checkpoint_id is not None:
            conf["checkpoint_id"] = checkpoint_id
        tup = await self._call("get_tuple", {"configurable": conf})
        return self._loaded(tup) if tup is not None else None

    async def alatest_id(self, thread: str, ns: str = "") -> str | None:
        tup = await self._call("get_tuple", {"configurable": {"thread_id": thread, "checkpoint_ns": ns}})
        return tup.config["configurable"]["checkpoint_id"] if tup is not None else None

    async def alist_loaded(
        self, config: Any, *, filter: dict[str, Any] | None = None, before: Any = None, limit: int | None = None
    ) -> AsyncIterator[LoadedCheckpoint]:
        for tup in await self._list(config, filter=filter, before=before, limit=limit):
            yield self._loaded(tup)

    async def alist(
        self, config: Any, *, filter: dict[str, Any] | None = None, before: Any = None, limit: int | None = None
    ) -> AsyncIterator[Any]:
        """The saver's checkpoint tuples (LangGraph's ``alist``)."""
        for tup in await self._list(config, filter=filter, before=before, limit=limit):
            yield tup

    # -- writing -----------------------------------------------------------------------------
    async def _base_values(self, thread: str, ns: str, parent: str | None) -> dict[str, Any]:
        if parent is None:
            return {}
        known = self._values.get((thread, ns))
        if known is not None and known[0] == parent:
            return dict(known[1])
        loaded = await self.aload(thread, ns, parent)
        return dict(loaded.values) if loaded is not None else {}

    async def asave(self, rows: Sequence[CheckpointRow], writes: Sequence[StoredWrite] = (), *, expect_head: Any = None) -> None:
        """Store through ``put``/``put_writes``. ``expect_head`` is not checked: LangGraph's
        protocol has no compare-and-set, so a saver that isn't ours gets no one-head
        guarantee."""
        from actorgraph._types import Send

        loads = self.serde.loads
        # a checkpoint is stored after the writes it reads (a delta channel replays them)
        groups: dict[tuple[str, str, str, str, str], list[tuple[str, Any]]] = {}
        for thread, ns, cid, w in writes:
            groups.setdefault((thread, ns, cid, w.task_id, w.task_path), []).append((w.channel, loads(w.value)))
        for (thread, ns, cid, task_id, path), task_writes in groups.items():
            extra = (path,) if self._writes_take_path() else ()
            await self._call("put_writes", config_for(thread, ns, cid), task_writes, task_id, *extra)
        for row in rows:
            record = _record_decoder.decode(row.record)
            values = await self._base_values(row.thread_id, row.ns, row.parent_id)
            for chan, blob in row.blobs.items():
                values[chan] = loads(blob.data)
            values = {c: v for c, v in values.items() if c in record.blob_writers}
            # a version names the checkpoint that wrote the value: branches forked from one
            # checkpoint count the same versions, and a saver that keys values by version
            # (LangGraph's InMemorySaver) must not let one branch overwrite another's
            writers = record.blob_writers
            versions: dict[str, Any] = {
                c: f"{v:032}.{writers[c]}" if c in writers else v for c, v in record.channel_versions.items()
            }
            new_versions = {c: versions[c] for c in row.blobs if c in versions}
            channel_values = dict(values)
            if record.pending_sends:
                channel_values[TASKS] = [Send(n, a) for n, a in loads(record.pending_sends)]
                versions[TASKS] = new_versions[TASKS] = row.checkpoint_id
            checkpoint = {
                "v": 4,
                "id": row.checkpoint_id,
                "ts": row.created_at,
                "channel_values": channel_values,
                "channel_versions": versions,
                "versions_seen": {k: dict(v) for k, v in record.versions_seen.items()},
                "updated_channels": list(record.updated_channels),
            }
            conf: dict[str, Any] = {"thread_id": row.thread_id, "checkpoint_ns": row.ns}
            if row.parent_id is not None:
                conf["checkpoint_id"] = row.parent_id
            await self._call("put", {"configurable": conf}, checkpoint, decode_metadata(row.metadata), new_versions)
            self._values[(row.thread_id, row.ns)] = (row.checkpoint_id, values)

