"""Import-compatible path: ``from actorgraph.graph.state import StateGraph`` (``START`` and
``END`` import from here too, as from LangGraph's module)."""

from actorgraph._constants import END, START
from actorgraph.graph._compiled import CompiledStateGraph
from actorgraph.graph._schema import get_channel as _get_channel  # noqa: F401 - LangGraph's private name
from actorgraph.graph._state import StateGraph

__all__ = ("StateGraph", "CompiledStateGraph", "START", "END")
