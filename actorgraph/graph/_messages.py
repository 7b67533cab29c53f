"""Placeholder, replaced by the messages module."""
from typing import Annotated, Any, TypedDict

REMOVE_ALL_MESSAGES = "__remove_all__"


def add_messages(left: Any, right: Any) -> Any:
    left = list(left) if isinstance(left, list) else [left]
    right = list(right) if isinstance(right, list) else [right]
    return left + right


class MessagesState(TypedDict):
    messages: Annotated[list, add_messages]


class MessageGraph:
    pass
