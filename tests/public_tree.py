"""Walk a package's public module tree: every module whose dotted path has no part that
starts with ``_``, and each module's public names.

The same walk runs on LangGraph (``python tests/public_tree.py`` in an environment with the
pinned LangGraph, writing ``tests/data/langgraph_public_tree.json``) and on actorgraph
(``tests/test_public_tree.py``), so the two lists are made by one rule.

A module's public names are its ``__all__``; without one, the functions and classes not
starting with ``_`` that the module defines itself or re-exports from a private module of
the package - not what it imports from elsewhere (``Any``, LangChain's classes, another
public module's names).
"""

from __future__ import annotations

import importlib
import os
import types
from typing import Any

def module_names(package: str) -> list[str]:
    """Every public module under ``package`` (namespace packages included), sorted."""
    root = importlib.import_module(package)
    found: set[str] = {package}
    for base in list(root.__path__):
        for folder, dirs, files in os.walk(base):
            rel = os.path.relpath(folder, base)
            parts = [] if rel == "." else rel.split(os.sep)
            dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")) and d != "tests")
            if any(p.startswith("_") for p in parts):
                continue
            if parts:
                found.add(".".join([package, *parts]))
            for name in files:
                if name.endswith(".py") and not name.startswith("_"):
                    found.add(".".join([package, *parts, name[:-3]]))
    return sorted(found)


def _is_private_path(dotted: str) -> bool:
    return any(part.startswith("_") for part in dotted.split("."))


def public_names(module: types.ModuleType, package: str) -> list[str]:
    declared = getattr(module, "__all__", None)
    if declared is not None:
        return sorted(set(declared))
    names = []
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        origin = getattr(value, "__module__", None) if callable(value) else None
        # defined here, or in a private module of the package (reachable only through
        # this re-export); a constant's origin can't be told, an import from another
        # public module is that module's name
        if isinstance(origin, str) and origin.split(".")[0] == package and (
            origin == module.__name__ or _is_private_path(origin)
        ):
            names.append(name)
    return sorted(names)


def tree(package: str) -> dict[str, Any]:
    """``{"modules": {dotted name (under "langgraph"): [public names]}, "unimportable": {...}}``."""
    modules: dict[str, list[str]] = {}
    unimportable: dict[str, str] = {}
    for dotted in module_names(package):
        try:
            module = importlib.import_module(dotted)
        except Exception as exc:  # an optional dependency missing: recorded, not hidden
            unimportable["langgraph" + dotted[len(package):]] = f"{type(exc).__name__}: {exc}"[:200]
            continue
        modules["langgraph" + dotted[len(package):]] = public_names(module, package)
    return {"modules": modules, "unimportable": unimportable}


if __name__ == "__main__":  # the LangGraph side, in an environment with the pinned release
    import json
    import sys
    from importlib.metadata import version

    data = tree("langgraph")
    dists = ("langgraph", "langgraph-checkpoint", "langgraph-checkpoint-sqlite", "langgraph-prebuilt")
    data = {"versions": {d: version(d) for d in dists}, **data}
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "data", "langgraph_public_tree.json")
    with open(out, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{len(data['modules'])} modules, {sum(map(len, data['modules'].values()))} names -> {out}")
