"""LangGraph's prebuilt agents and tool nodes (``langgraph.prebuilt``): the ReAct agent,
``ToolNode`` and its edge, ``ValidationNode``, and the tool argument injections.

Needs ``langchain-core`` (the tools and chat models these run), as LangGraph's does.
"""

from actorgraph.prebuilt.chat_agent_executor import create_react_agent
from actorgraph.prebuilt.tool_node import InjectedState, InjectedStore, ToolNode, ToolRuntime, tools_condition
from actorgraph.prebuilt.tool_validator import ValidationNode

__all__ = (
    "InjectedState",
    "InjectedStore",
    "ToolNode",
    "ToolRuntime",
    "ValidationNode",
    "create_react_agent",
    "tools_condition",
)
