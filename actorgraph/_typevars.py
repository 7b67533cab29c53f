"""The type variables of graph signatures (``StateGraph[StateT, ContextT, InputT, OutputT]``),
public as ``actorgraph.typing`` (LangGraph's ``langgraph.typing``)."""

from __future__ import annotations

from typing import Any

from typing_extensions import TypeVar

__all__ = (
    "ContextT",
    "ContextT_contra",
    "InputT",
    "NodeInputT",
    "NodeInputT_contra",
    "OutputT",
    "StateT",
    "StateT_co",
    "StateT_contra",
)

# a state is a TypedDict, a dataclass, a pydantic model or a plain mapping: no bound
# narrower than Any describes all of them
StateT = TypeVar("StateT", bound=Any)
"""A graph's state type."""
StateT_co = TypeVar("StateT_co", bound=Any, covariant=True)
StateT_contra = TypeVar("StateT_contra", bound=Any, contravariant=True)
ContextT = TypeVar("ContextT", bound=Any, default=None)
"""A run's context type (``context_schema``); ``None`` when the graph has none."""
ContextT_contra = TypeVar("ContextT_contra", bound=Any, contravariant=True, default=None)
InputT = TypeVar("InputT", bound=Any, default=StateT)
"""A graph's input type; its state type unless ``input_schema`` says otherwise."""
OutputT = TypeVar("OutputT", bound=Any, default=StateT)
"""A graph's output type; its state type unless ``output_schema`` says otherwise."""
NodeInputT = TypeVar("NodeInputT", bound=Any)
"""What one node reads (its own input schema)."""
NodeInputT_contra = TypeVar("NodeInputT_contra", bound=Any, contravariant=True)
