"""Import-compatible path (``langgraph.prebuilt.tool_validator``): ``ValidationNode``."""

from actorgraph.prebuilt._runnable import NodeRunnable as RunnableCallable
from actorgraph.prebuilt._validation import ValidationNode

__all__ = ("RunnableCallable", "ValidationNode")
