"""actorgraph: a fast actor-model runtime for stateful agent workflows, compatible with
LangGraph's public API (change ``langgraph`` to ``actorgraph`` in the imports)."""

__version__ = "0.1.0"

__all__ = ("__version__",)
