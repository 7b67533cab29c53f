"""LangGraph's own test suites, run against actorgraph (``python -m compat``)."""
