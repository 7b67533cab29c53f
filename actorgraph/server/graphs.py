"""The graphs a server serves: imported once at start from ``langgraph.json``, handed to a
run (or a state read) with the server's checkpointer and store attached.

A graph entry may name a compiled graph (or an ``@entrypoint``), a builder (compiled here),
or a factory: a function of the run's config (or of nothing), sync or async, that returns
either of those, or a context manager that yields one.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import re
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from actorgraph.errors import ConfigError
from actorgraph.server.config import GraphRef, ServerConfig

__all__ = ("ENGINE_LIVE", "ENGINE_TOTALS", "GraphRegistry", "assistant_id_for_graph", "import_ref", "GRAPH_NAMESPACE")

# ``graph.statistics()`` fields the server sums over its graphs: counters since start, and
# numbers read live
ENGINE_TOTALS = ("runs", "runs_failed", "runs_interrupted", "steps", "tasks", "tasks_failed")
ENGINE_LIVE = ("runs_active", "tasks_running", "jobs_queued")


def _stats(graph: Any) -> Any:
    read = getattr(graph, "statistics", None)
    return read() if callable(read) else None

# LangGraph's server derives each graph's system assistant id as uuid5(this, graph_id): the
# same ids here, so clients that hard-code them keep working
GRAPH_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


def assistant_id_for_graph(graph_id: str) -> str:
    return str(uuid.uuid5(GRAPH_NAMESPACE, graph_id))


def _is_compiled(obj: Any) -> bool:
    return callable(getattr(obj, "astream", None)) and callable(getattr(obj, "aget_state", None))


def import_ref(ref: GraphRef, root: Path, *, key: str | None = None, prefix: str = "_actorgraph_graph_") -> Any:
    """The object ``ref`` names (a file path is taken from ``root``); a missing file, module
    or attribute is a ``ConfigError`` naming ``key`` (default ``graphs.<id>``)."""
    key = key or f"graphs.{ref.graph_id}"
    if ref.file:
        path = (root / ref.module).resolve()
        if not path.is_file():
            raise ConfigError(f"{key}: no file {ref.module!r} (looked in {root})", key=key, value=ref.module)
        name = prefix + re.sub(r"\W", "_", f"{ref.graph_id}_{path.stem}")
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ConfigError(f"{key}: cannot import {path}", key=key, value=ref.module)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
    else:
        try:
            module = importlib.import_module(ref.module)
        except ModuleNotFoundError as exc:
            raise ConfigError(f"{key}: cannot import module {ref.module!r}: {exc}", key=key, value=ref.module) from exc
    try:
        return getattr(module, ref.attr)
    except AttributeError:
        raise ConfigError(
            f"{key}: {ref.module!r} has no attribute {ref.attr!r}", key=key, value=f"{ref.module}:{ref.attr}"
        ) from None


class _Entry:
    __slots__ = ("ref", "graph", "factory", "factory_takes_config")

    def __init__(self, ref: GraphRef, target: Any) -> None:
        self.ref = ref
        self.graph: Any = None
        self.factory: Any = None
        self.factory_takes_config = False
        if _is_compiled(target):
            self.graph = target
        elif callable(getattr(target, "compile", None)) and not inspect.isfunction(target):
            self.graph = target.compile()
        elif callable(target) and not inspect.isclass(target):
            self.factory = target
            try:
                self.factory_takes_config = bool(inspect.signature(target).parameters)
            except (TypeError, ValueError):
                self.factory_takes_config = True
        else:
            key = f"graphs.{ref.graph_id}"
            raise ConfigError(
                f"{key}: {ref.attr!r} is a {type(target).__name__}, not a compiled graph, a builder, "
                "an @entrypoint or a factory function",
                key=key,
                value=f"{ref.module}:{ref.attr}",
            )


class GraphRegistry:
    """The served graphs by id. ``checkpointer`` and ``store`` are attached to every graph
    handed out (a graph compiled with its own is given the server's instead)."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.checkpointer: Any = None
        self.store: Any = None
        self._entries: dict[str, _Entry] = {}
        self._attached: dict[str, Any] = {}
        # factory-made graphs handed out now, by identity of what the factory returned:
        # [graph, times lent, its counters when first lent]; at the last return their
        # growth since then joins ``_retired`` (a factory that returns one module-level
        # graph, or a new graph per run, is counted once either way)
        self._lent: dict[int, list[Any]] = {}
        self._retired: dict[str, int] = dict.fromkeys(ENGINE_TOTALS, 0)

    def load(self) -> None:
        root = Path(self.config.root)
        for graph_id, ref in self.config.graphs.items():
            self._entries[graph_id] = _Entry(ref, import_ref(ref, root))

    def attach(self, checkpointer: Any, store: Any) -> None:
        self.checkpointer = checkpointer
        self.store = store
        self._attached.clear()

    def ids(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, graph_id: object) -> bool:
        return graph_id in self._entries

    def description(self, graph_id: str) -> str | None:
        return self._entries[graph_id].ref.description

    def _with_persistence(self, graph: Any) -> Any:
        update: dict[str, Any] = {"checkpointer": self.checkpointer}
        if self.store is not None:
            update["store"] = self.store
        return graph.copy(update=update)

    @contextlib.asynccontextmanager
    async def graph(self, graph_id: str, config: Mapping[str, Any] | None = None) -> AsyncIterator[Any]:
        """The compiled graph ``graph_id`` with persistence attached (a factory is called
        with ``config``; a context manager it returns stays open while the caller uses it)."""
        entry = self._entries[graph_id]
        if entry.graph is not None:
            attached = self._attached.get(graph_id)
            if attached is None:
                attached = self._attached[graph_id] = self._with_persistence(entry.graph)
            yield attached
            return
        made = entry.factory(dict(config or {})) if entry.factory_takes_config else entry.factory()
        if inspect.isawaitable(made):
            made = await made
        if hasattr(made, "__aenter__"):
            async with made as graph:
                with self._lending(self._compiled(graph, graph_id)) as lent:
                    yield lent
        elif hasattr(made, "__enter__") and not _is_compiled(made):
            with made as graph, self._lending(self._compiled(graph, graph_id)) as lent:
                yield lent
        else:
            with self._lending(self._compiled(made, graph_id)) as lent:
                yield lent

    @contextlib.contextmanager
    def _lending(self, graph: Any) -> Any:
        key = id(graph)
        slot = self._lent.get(key)
        if slot is None:
            slot = self._lent[key] = [graph, 0, _stats(graph)]
        slot[1] += 1
        try:
            yield self._with_persistence(graph)
        finally:
            slot[1] -= 1
            if slot[1] == 0:
                del self._lent[key]
                now, base = _stats(graph), slot[2]
                if now is not None:
                    for name in ENGINE_TOTALS:
                        self._retired[name] += getattr(now, name) - (getattr(base, name) if base is not None else 0)

    def statistics(self) -> dict[str, int]:
        """The engine's counters summed over the served graphs (``ENGINE_TOTALS``: since the
        server started, factory-made graphs included; ``ENGINE_LIVE``: now). A subgraph's
        runs count in its own graph, not here."""
        totals = dict(self._retired)
        totals.update(dict.fromkeys(ENGINE_LIVE, 0))
        static = [(e.graph, None) for e in self._entries.values() if e.graph is not None]
        lent = [(graph, base) for graph, _, base in list(self._lent.values())]
        for graph, base in (*static, *lent):
            stats = _stats(graph)
            if stats is None:
                continue
            for name in ENGINE_TOTALS:
                totals[name] += getattr(stats, name) - (getattr(base, name) if base is not None else 0)
            for name in ENGINE_LIVE:
                totals[name] += getattr(stats, name, 0)
        return totals

    @staticmethod
    def _compiled(obj: Any, graph_id: str) -> Any:
        if _is_compiled(obj):
            return obj
        if callable(getattr(obj, "compile", None)):
            return obj.compile()
        raise TypeError(f"the factory of graph {graph_id!r} returned a {type(obj).__name__}, not a graph")
