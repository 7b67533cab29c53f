"""Stand-in for ``langgraph.pregel._tools`` (compat run only): the context variable that
holds the running tool call's ``tools``-stream writer is actorgraph's
``TOOL_CALL_WRITER``."""

from actorgraph._runtime import TOOL_CALL_WRITER as _tool_call_writer  # noqa: F401
