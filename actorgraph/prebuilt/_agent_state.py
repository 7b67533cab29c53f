"""The state schemas of ``create_react_agent``'s graph: the messages and the steps left
before the recursion limit, plus the structured response when one is asked for.

These, like the agent itself, are deprecated in LangGraph 1.0 in favour of LangChain's
``create_agent``; they warn as LangGraph's do when used.
"""

import warnings
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar, Union

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import BaseMessage, SystemMessage
from langchain_core.runnables import Runnable
from pydantic import BaseModel
from typing_extensions import NotRequired, TypedDict, deprecated

from actorgraph.graph.message import add_messages
from actorgraph.graph._managed import RemainingSteps
from actorgraph.warnings import LangGraphDeprecatedSinceV10

__all__ = (
    "AgentState",
    "AgentStatePydantic",
    "AgentStateWithStructuredResponse",
    "AgentStateWithStructuredResponsePydantic",
    "PROMPT_RUNNABLE_NAME",
    "Prompt",
    "StateSchema",
    "StateSchemaType",
    "StructuredResponse",
    "StructuredResponseSchema",
)

StructuredResponse = Union[dict, BaseModel]
"""The agent's structured answer: a dict or an instance of the pydantic model asked for."""
StructuredResponseSchema = Union[dict, type[BaseModel]]
"""What ``response_format`` names: a JSON schema / tool schema dict or a pydantic class."""


@deprecated(
    "AgentState has been moved to `langchain.agents`. Please update your import to "
    "`from langchain.agents import AgentState`.",
    category=LangGraphDeprecatedSinceV10,
)
class AgentState(TypedDict):
    """The state of the agent."""

    messages: Annotated[Sequence[BaseMessage], add_messages]

    remaining_steps: NotRequired[RemainingSteps]


@deprecated(
    "AgentStatePydantic has been deprecated in favor of AgentState in `langchain.agents`.",
    category=LangGraphDeprecatedSinceV10,
)
class AgentStatePydantic(BaseModel):
    """The state of the agent."""

    messages: Annotated[Sequence[BaseMessage], add_messages]

    remaining_steps: RemainingSteps = 25


# subclassing a deprecated class warns: the subclasses below are deprecated themselves
with warnings.catch_warnings():
    warnings.simplefilter("ignore", LangGraphDeprecatedSinceV10)

    @deprecated(
        "AgentStateWithStructuredResponse has been deprecated in favor of AgentState in `langchain.agents`.",
        category=LangGraphDeprecatedSinceV10,
    )
    class AgentStateWithStructuredResponse(AgentState):  # type: ignore[misc]
        """The state of the agent with a structured response."""

        structured_response: StructuredResponse

    @deprecated(
        "AgentStateWithStructuredResponsePydantic has been deprecated in favor of AgentState in `langchain.agents`.",
        category=LangGraphDeprecatedSinceV10,
    )
    class AgentStateWithStructuredResponsePydantic(AgentStatePydantic):  # type: ignore[misc]
        """The state of the agent with a structured response."""

        structured_response: StructuredResponse

    StateSchema = TypeVar("StateSchema", bound=Union[AgentState, AgentStatePydantic])
    StateSchemaType = type[StateSchema]  # type: ignore[misc]

PROMPT_RUNNABLE_NAME = "Prompt"

Prompt = Union[
    SystemMessage,
    str,
    Callable[[StateSchema], LanguageModelInput],
    Runnable[StateSchema, LanguageModelInput],
]
"""An agent's prompt: a system message (or its text) put before the messages, or a
function / runnable that turns the state into the model's input."""


def state_value(state: Any, key: str, default: Any = None) -> Any:
    """``state[key]`` for dict states, ``state.key`` for objects."""
    return state.get(key, default) if isinstance(state, dict) else getattr(state, key, default)
