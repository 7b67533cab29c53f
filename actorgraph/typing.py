"""Type variables of graph signatures (LangGraph's ``langgraph.typing``)."""

from actorgraph._typevars import (
    ContextT,
    ContextT_contra,
    InputT,
    NodeInputT,
    NodeInputT_contra,
    OutputT,
    StateT,
    StateT_co,
    StateT_contra,
)

__all__ = (
    "StateT",
    "StateT_co",
    "StateT_contra",
    "InputT",
    "OutputT",
    "ContextT",
    "ContextT_contra",
    "NodeInputT",
    "NodeInputT_contra",
)
