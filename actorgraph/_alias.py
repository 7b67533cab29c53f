"""``install_as_langgraph()``: make ``import langgraph...`` resolve to actorgraph's modules.

The ``pymysql.install_as_MySQLdb()`` pattern: a meta-path finder placed first on
``sys.meta_path`` answers every ``langgraph`` / ``langgraph.*`` import with the actorgraph
module of the same dotted path - the same module object, so ``langgraph.types.Send is
actorgraph.types.Send`` - and libraries written against LangGraph run unmodified.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType

__all__ = ("install_as_langgraph",)

_SOURCE = "langgraph"
_TARGET = "actorgraph"


class _AliasLoader(importlib.abc.Loader):
    """Hands back the already-imported actorgraph module and keeps its own spec on it."""

    def __init__(self, module: ModuleType) -> None:
        self._module = module
        self._spec = module.__spec__

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self._module

    def exec_module(self, module: ModuleType) -> None:
        # importlib stamped the alias spec on the module; the module stays actorgraph's
        module.__spec__ = self._spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    def __init__(self, passthrough: Mapping[str, str]) -> None:
        # dotted prefix -> the folder that holds its real package (e.g. a test tool that
        # lives in the langgraph namespace, such as langgraph.checkpoint.conformance)
        self.passthrough = dict(passthrough)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _SOURCE and not fullname.startswith(_SOURCE + "."):
            return None
        for prefix, folder in self.passthrough.items():
            if fullname == prefix or fullname.startswith(prefix + "."):
                parent = fullname.rpartition(".")[0]
                parent_path = sys.modules[parent].__path__ if fullname != prefix else None
                search = list(parent_path) if parent_path is not None else [folder]
                return importlib.machinery.PathFinder.find_spec(fullname, search)
        target_name = _TARGET + fullname[len(_SOURCE) :]
        try:
            module = importlib.import_module(target_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (exc.name == target_name or target_name.startswith(exc.name + ".")):
                raise ModuleNotFoundError(
                    f"No module named {fullname!r} (actorgraph has no {target_name!r}; "
                    "imports of langgraph go to actorgraph after install_as_langgraph())",
                    name=fullname,
                ) from None
            raise
        spec = importlib.machinery.ModuleSpec(fullname, _AliasLoader(module), is_package=hasattr(module, "__path__"))
        if hasattr(module, "__path__"):
            spec.submodule_search_locations = list(module.__path__)
        return spec


def install_as_langgraph(*, passthrough: Mapping[str, str] | None = None) -> None:
    """Make ``langgraph`` and every ``langgraph.*`` module resolve to actorgraph's.

    Call it before anything imports ``langgraph``. Raises ``RuntimeError`` if real
    LangGraph modules are already imported (two runtimes in one process would mix their
    objects). Calling it again is a no-op. ``passthrough`` maps a dotted ``langgraph``
    prefix to a folder whose real package should be loaded as it is instead (tools that
    live in LangGraph's namespace without being part of its runtime).
    """
    for finder in sys.meta_path:
        if isinstance(finder, _AliasFinder):
            if passthrough:
                finder.passthrough.update(passthrough)
            return
    loaded = sorted(
        name
        for name, mod in sys.modules.items()
        if (name == _SOURCE or name.startswith(_SOURCE + "."))
        and mod is not None
        and not getattr(mod, "__name__", "").startswith(_TARGET)
    )
    if loaded:
        raise RuntimeError(
            "install_as_langgraph() must run before langgraph is imported; these real LangGraph "
            f"modules are already loaded: {', '.join(loaded[:5])}{' ...' if len(loaded) > 5 else ''}"
        )
    sys.meta_path.insert(0, _AliasFinder(passthrough or {}))
