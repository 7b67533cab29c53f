"""Import-compatible path (``langgraph.prebuilt.chat_agent_executor``):
``create_react_agent`` and its state schemas."""

from actorgraph.prebuilt._agent import (
    create_react_agent,
    create_tool_calling_executor,
)
# LangGraph's private helpers, under their names, for code that imports them
from actorgraph.prebuilt._agent import get_model as _get_model  # noqa: F401
from actorgraph.prebuilt._agent import get_prompt_runnable as _get_prompt_runnable  # noqa: F401
from actorgraph.prebuilt._agent import should_bind_tools as _should_bind_tools  # noqa: F401
from actorgraph.prebuilt._agent import validate_chat_history as _validate_chat_history  # noqa: F401
from actorgraph.prebuilt._agent_state import (
    PROMPT_RUNNABLE_NAME,
    AgentState,
    AgentStatePydantic,
    AgentStateWithStructuredResponse,
    AgentStateWithStructuredResponsePydantic,
    Prompt,
    StateSchema,
    StateSchemaType,
    StructuredResponse,
    StructuredResponseSchema,
)
from actorgraph.prebuilt._agent_state import state_value as _get_state_value  # noqa: F401

__all__ = (
    "PROMPT_RUNNABLE_NAME",
    "AgentState",
    "AgentStatePydantic",
    "AgentStateWithStructuredResponse",
    "AgentStateWithStructuredResponsePydantic",
    "Prompt",
    "StateSchema",
    "StateSchemaType",
    "StructuredResponse",
    "StructuredResponseSchema",
    "create_react_agent",
    "create_tool_calling_executor",
)

