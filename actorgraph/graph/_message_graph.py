"""``MessageGraph`` (deprecated since LangGraph 1.0): a graph whose whole state is one
list of messages."""

from __future__ import annotations

import warnings
from typing import Annotated

from actorgraph._message_types import AnyMessage
from actorgraph.graph._messages import add_messages
from actorgraph.graph._state import StateGraph
from actorgraph.warnings import LangGraphDeprecatedSinceV10

__all__ = ("MessageGraph",)


class MessageGraph(StateGraph):  # type: ignore[type-arg]
    """A ``StateGraph`` whose state is one list of messages merged with ``add_messages``:
    nodes take the list and return messages. Deprecated: use
    ``StateGraph(MessagesState)``, whose ``messages`` key works the same way."""

    def __init__(self) -> None:
        warnings.warn(
            "MessageGraph is deprecated in LangGraph v1.0.0, to be removed in v2.0.0. Please use "
            "StateGraph with a `messages` key instead.",
            category=LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        super().__init__(Annotated[list[AnyMessage], add_messages])  # type: ignore[arg-type]
