"""Import-compatible path (``langgraph.utils.config``): the run config helpers."""

from actorgraph.actors._context import get_config, get_store
from actorgraph.pregel._runnable import ensure_config, patch_configurable

__all__ = ("ensure_config", "get_config", "get_store", "patch_configurable")
