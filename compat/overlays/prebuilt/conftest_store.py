"""The store factories LangGraph's test modules import (no Postgres in this run)."""

from compat.fixtures import store_memory as _store_memory

__all__ = ("_store_memory",)
