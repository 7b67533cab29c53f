"""Import-compatible path: ``from actorgraph.graph.state import StateGraph``."""

from actorgraph.graph._compiled import CompiledStateGraph
from actorgraph.graph._schema import get_channel as _get_channel  # noqa: F401 - LangGraph's private name
from actorgraph.graph._state import StateGraph

__all__ = ("StateGraph", "CompiledStateGraph")
