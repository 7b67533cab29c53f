"""The LangGraph Server API on actorgraph: ``actorgraph dev`` / ``actorgraph serve`` read a
``langgraph.json`` and serve its graphs so the official ``langgraph-sdk`` client works
unchanged. It sits above the engine and uses only its public API."""

__all__ = ()
