"""Chat message classes that need no LangChain: what ``add_messages`` builds from dicts,
tuples and strings when ``langchain_core`` is not installed (with it, LangChain's own
classes are used, as in LangGraph). Import them from here.
"""

from actorgraph._message_types import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    MessageContent,
    RemoveMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
    coerce_message,
)

__all__ = (
    "AIMessage",
    "AnyMessage",
    "BaseMessage",
    "HumanMessage",
    "MessageContent",
    "RemoveMessage",
    "SystemMessage",
    "ToolCall",
    "ToolMessage",
    "coerce_message",
)
