"""Import-compatible path: ``Runtime``, ``get_runtime`` and what a runtime carries."""

# DEFAULT_RUNTIME is importable from here, as in LangGraph, without being exported by name
from actorgraph._runtime import DEFAULT_RUNTIME, BaseUser, ExecutionInfo, RunControl, Runtime, ServerInfo  # noqa: F401
from actorgraph.actors._context import get_runtime

__all__ = ("BaseUser", "ExecutionInfo", "RunControl", "Runtime", "ServerInfo", "get_runtime")
