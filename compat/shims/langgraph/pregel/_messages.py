"""Stand-in for ``langgraph.pregel._messages`` (compat run only): the ``messages`` stream
handlers are actorgraph's own, with LangGraph's interface."""

from actorgraph.actors._langchain_stream import (  # noqa: F401
    StreamMessagesHandler,
    StreamMessagesHandlerV2,
    graph_namespace,
)
