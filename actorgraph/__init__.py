"""actorgraph: a fast actor-model runtime for stateful agent workflows, compatible with
LangGraph's public API (change ``langgraph`` to ``actorgraph`` in the imports, or call
``actorgraph.install_as_langgraph()`` before anything imports ``langgraph``)."""

from actorgraph._alias import install_as_langgraph

__version__ = "0.1.0"

__all__ = ("__version__", "install_as_langgraph")
