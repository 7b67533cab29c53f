"""LangGraph's prebuilt agents and tool nodes (``langgraph.prebuilt``): the ReAct agent,
``ToolNode`` and its edge, ``ValidationNode``, and the tool argument injections.

Needs ``langchain-core`` (the tools and chat models these run), as LangGraph's does.
"""

from typing import Any

try:
    import langchain_core  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "actorgraph.prebuilt runs LangChain tools and chat models: install langchain-core "
        "(pip install 'actorgraph[prebuilt]' or pip install langchain-core)"
    ) from exc

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
    "ToolCallTransformer",
)


def __getattr__(name: str) -> Any:
    # ToolCallTransformer builds on the event streaming of actorgraph.stream: imported
    # when asked for, so importing prebuilt doesn't load it
    if name == "ToolCallTransformer":
        from actorgraph.prebuilt._tool_call_transformer import ToolCallTransformer

        return ToolCallTransformer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
