"""Import-compatible path: ``Runtime`` and ``get_runtime``."""

from actorgraph._runtime import ExecutionInfo, RunControl, Runtime, ServerInfo
from actorgraph.actors._context import get_runtime

__all__ = ("ExecutionInfo", "RunControl", "Runtime", "ServerInfo", "get_runtime")
