"""Import-compatible path (``langgraph.utils``): the old homes of the config helpers and
``RunnableCallable``, kept for code that still imports from them."""

__all__ = ()
