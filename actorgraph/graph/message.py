"""Import-compatible path: message reducers and the messages state."""

from actorgraph.graph._message_graph import MessageGraph
from actorgraph.graph._messages import (
    REMOVE_ALL_MESSAGES,
    MessagesState,
    add_messages,
    push_message,
)
from actorgraph.graph._messages_delta import _messages_delta_reducer  # noqa: F401 - beta, LangGraph's name

__all__ = ("add_messages", "MessagesState", "MessageGraph", "REMOVE_ALL_MESSAGES", "push_message")
