"""The import shim: the one place that knows which library a benchmark runs on.

Scenario code reads ``api.StateGraph``, ``api.Send``, ``api.InMemorySaver``, ... and never
imports either library itself, so the same graph code runs on actorgraph and on LangGraph.
Names are grouped into *features*; a scenario lists the features it needs in ``requires``,
and a side that cannot import one of them skips the scenario instead of failing it.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ("LIBS", "FEATURES", "Api", "MissingFeature")

#: short name -> top-level package
LIBS: dict[str, str] = {"ag": "actorgraph", "lg": "langgraph"}

#: feature tag -> [(module path under the package, names to import from it)]
#: Both libraries expose the same paths; that is the drop-in promise being benchmarked.
FEATURES: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "graph": [("graph", ("StateGraph", "START", "END")), ("types", ("Send", "Command"))],
    "checkpointer": [("checkpoint.memory", ("InMemorySaver",))],
    "sqlite": [("checkpoint.sqlite", ("SqliteSaver",))],
    "postgres": [("checkpoint.postgres", ("PostgresSaver",))],
    "func": [("func", ("entrypoint", "task"))],
}

#: distribution names whose versions the report prints, per library
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "ag": ("actorgraph", "anyio", "msgspec"),
    "lg": ("langgraph", "langgraph-checkpoint", "langgraph-checkpoint-sqlite", "langgraph-checkpoint-postgres", "langchain-core"),
}


class MissingFeature(Exception):
    """A feature's module or name cannot be imported from the chosen library."""


class Api:
    """Names from one library, loaded feature by feature.

    ``Api("ag").load(["graph"])`` then ``api.StateGraph`` is ``actorgraph.graph.StateGraph``.
    """

    # Set by load(), one group per feature in FEATURES; declared here for readers and mypy.
    StateGraph: Any
    START: str
    END: str
    Send: Any
    Command: Any
    InMemorySaver: Any
    SqliteSaver: Any
    PostgresSaver: Any
    entrypoint: Any
    task: Any

    def __init__(self, lib: str) -> None:
        if lib not in LIBS:
            raise ValueError(f"unknown library {lib!r}; expected one of {sorted(LIBS)}")
        self.lib = lib
        self.package = LIBS[lib]

    def load(self, features: list[str] | tuple[str, ...]) -> Api:
        """Import every name of ``features``; raise ``MissingFeature`` naming what is absent."""
        for feature in features:
            for module, names in FEATURES[feature]:
                for name, value in self._import(feature, module, names).items():
                    setattr(self, name, value)
        return self

    def probe(self) -> dict[str, str | None]:
        """Feature tag -> ``None`` when importable, else why not (used to skip scenarios)."""
        found: dict[str, str | None] = {}
        for feature, parts in FEATURES.items():
            try:
                for module, names in parts:
                    self._import(feature, module, names)
            except MissingFeature as exc:
                found[feature] = str(exc)
            else:
                found[feature] = None
        return found

    def _import(self, feature: str, module: str, names: tuple[str, ...]) -> dict[str, Any]:
        path = f"{self.package}.{module}"
        try:
            mod = importlib.import_module(path)
        except ImportError as exc:
            raise MissingFeature(f"{feature}: cannot import {path} ({exc})") from None
        missing = [n for n in names if not hasattr(mod, n)]
        if missing:
            raise MissingFeature(f"{feature}: {path} has no {', '.join(missing)}")
        return {n: getattr(mod, n) for n in names}
