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


def _tracing_switched_on() -> bool:
    """LangSmith tracing on through its environment variables or ``tracing_context``."""
    environ = os.environ
    for name in _TRACING_ENV:
        value = environ.get(name)
        if value is not None and value.lower() == "true":
            return True
    helpers = sys.modules.get("langsmith.run_helpers")
    if helpers is not None:
        try:
            context = helpers.get_tracing_context()
        except Exception:  # a langsmith without it: no context to honour
            return False
        return bool(context.get("enabled") or context.get("parent"))
    return False


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
        if parent.run.trace is not None:
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
