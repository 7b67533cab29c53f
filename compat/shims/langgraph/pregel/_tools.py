"""Stand-in for ``langgraph.pregel._tools`` (compat run only): the ``tools`` stream
handler and the current tool call's delta writer are actorgraph's own."""

from actorgraph.actors._langchain_stream import StreamToolCallHandler  # noqa: F401
from actorgraph.actors._langchain_stream import tool_call_writer as _tool_call_writer  # noqa: F401
