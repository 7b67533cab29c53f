"""The graph API: build a ``StateGraph``, compile it, run it."""

from actorgraph._constants import END, START
from actorgraph.graph._state import StateGraph
from actorgraph.graph.message import MessageGraph, MessagesState, add_messages

__all__ = ("END", "START", "StateGraph", "add_messages", "MessagesState", "MessageGraph")
