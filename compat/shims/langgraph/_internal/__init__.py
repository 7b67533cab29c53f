"""Stand-in for LangGraph's private ``langgraph._internal`` package (compat run only)."""
