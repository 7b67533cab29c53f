"""Whether a run reports to LangChain callbacks (tracers, ``astream_events``, graph
lifecycle handlers), decided once per run without importing LangChain.

A run is traced when its config has callbacks, when the task that runs it is traced (a
subgraph, or a graph invoked inside a node), when it runs inside a LangChain runnable
that has callbacks, or when LangSmith tracing is switched on. Everything else pays one
dictionary lookup; the tracing itself lives in ``_langchain_trace``.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from actorgraph._message_types import langchain_installed

if TYPE_CHECKING:
    from actorgraph.actors._context import TaskContext

__all__ = ("NOT_TRACED", "trace_callbacks")

NOT_TRACED: Any = object()
"""``trace_callbacks``' answer for a run nothing listens to."""

_TRACING_ENV = ("LANGSMITH_TRACING_V2", "LANGCHAIN_TRACING_V2", "LANGSMITH_TRACING", "LANGCHAIN_TRACING")

# os.environ.get costs ~1 us a call here (it encodes and decodes): every run looks, so
# look in the environment's raw mapping when CPython has one
_RAW_ENV: Any = getattr(os.environ, "_data", None)
_RAW_KEYS: tuple[Any, ...] = (
    tuple(os.environ.encodekey(n) for n in _TRACING_ENV) if _RAW_ENV is not None and hasattr(os.environ, "encodekey") else ()  # type: ignore[attr-defined]
)


def _env_says_trace() -> bool:
    if _RAW_KEYS:
        get = _RAW_ENV.get
        for key in _RAW_KEYS:
            value = get(key)
            if value is not None and os.environ.decodevalue(value).lower() == "true":  # type: ignore[attr-defined]
                return True
        return False
    for name in _TRACING_ENV:
        value = os.environ.get(name)
        if value is not None and value.lower() == "true":
            return True
    return False


def _tracing_switched_on() -> bool:
    """LangSmith tracing on through its environment variables or ``tracing_context``."""
    if _env_says_trace():
        return True
    helpers = sys.modules.get("langsmith.run_helpers")
    if helpers is None:
        return False
    enabled = getattr(helpers, "_TRACING_ENABLED", None)
    current = getattr(helpers, "get_current_run_tree", None)
    if enabled is not None and current is not None:  # read cheaply (the whole context costs ~2 us)
        try:
            return bool(enabled.get() or current())
        except Exception:
            return False
    try:
        context = helpers.get_tracing_context()
    except Exception:  # a langsmith without it: no context to honour
        return False
    return bool(context.get("enabled") or context.get("parent"))


def _langchain_context_callbacks() -> Any:
    """The callbacks of the LangChain runnable this run is called from, if any."""
    module = sys.modules.get("langchain_core.runnables.config")
    if module is None:
        return None
    outer = module.var_child_runnable_config.get()
    return outer.get("callbacks") if outer else None


def trace_callbacks(config: dict[str, Any], given: Any, parent: TaskContext | None) -> Any:
    """The callbacks a run reports to (``None``: only what LangChain configures by itself,
    such as a LangSmith tracer), or ``NOT_TRACED``.

    ``config`` is the run's full config, ``given`` the one its caller passed (for a
    subgraph it inherits the parent run's config, but its callbacks are its parent
    task's, so its trace nests under that task's)."""
    if parent is not None:
        if parent.run.cfg.trace is not None:
            own = given.get("callbacks") if isinstance(given, dict) else None
            return own if own is not None else parent.config.get("callbacks")
        callbacks = given.get("callbacks") if isinstance(given, dict) else None
        return callbacks if callbacks and langchain_installed() else NOT_TRACED
    callbacks = config.get("callbacks")
    if callbacks:
        return callbacks if langchain_installed() else NOT_TRACED
    outer = _langchain_context_callbacks()
    if outer:
        return outer
    if _tracing_switched_on() and langchain_installed():
        return None
    return NOT_TRACED
