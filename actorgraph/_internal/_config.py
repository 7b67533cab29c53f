"""``langgraph._internal._config`` for libraries built on LangGraph (see the package doc):
``patch_configurable`` is actorgraph's own (langgraph-supervisor)."""

from __future__ import annotations

from actorgraph.pregel._runnable import ensure_config, merge_configs, patch_configurable

__all__ = ("ensure_config", "merge_configs", "patch_configurable")
