"""Import-compatible path (``langgraph.managed.base``): the managed-value marker base."""

from actorgraph.graph._managed import ManagedValueMapping, ManagedValueSpec

__all__ = ("ManagedValueSpec", "ManagedValueMapping")
