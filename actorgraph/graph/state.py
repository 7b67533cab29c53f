"""Import-compatible path: ``from actorgraph.graph.state import StateGraph`` (``START`` and
``END`` import from here too, as from LangGraph's module)."""

from actorgraph._constants import END, START
from actorgraph.graph._compiled import CompiledStateGraph
from actorgraph.actors._callable import callable_name as _get_node_name  # noqa: F401
from actorgraph.graph._schema import (  # noqa: F401 - LangGraph's private names, importable here too
    field_channel as _is_field_channel,
    get_channel as _get_channel,
    warn_invalid_state_schema as _warn_invalid_state_schema,
)
from actorgraph.graph._state import StateGraph

__all__ = ("StateGraph", "CompiledStateGraph", "START", "END")
