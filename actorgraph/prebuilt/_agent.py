"""``create_react_agent``: a graph that calls a chat model, runs the tools it asks for,
and loops until the model answers without tool calls.

::

    START -> [pre_model_hook] -> agent -> [post_model_hook] -> tools -> (back to the start)
                                   |                 |
                                   +-----------------+-> [generate_structured_response] -> END

With ``version="v2"`` each tool call goes to the tools node as its own ``Send`` (with
the state it was made in); with ``"v1"`` one tools task runs all the calls of a message.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast, get_type_hints

from langchain_core.language_models import BaseChatModel, LanguageModelInput, LanguageModelLike
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, SystemMessage, ToolMessage
from langchain_core.runnables import Runnable, RunnableBinding, RunnableConfig, RunnableSequence
from langchain_core.tools import BaseTool
from pydantic import BaseModel
from typing_extensions import deprecated

if TYPE_CHECKING:
    from actorgraph.graph._compiled import CompiledStateGraph

from actorgraph._constants import END
from actorgraph._types import Send
from actorgraph.errors import ErrorCode, create_error_message
from actorgraph.graph import StateGraph
from actorgraph.prebuilt._agent_state import (
    PROMPT_RUNNABLE_NAME,
    AgentState,
    AgentStateWithStructuredResponse,
    Prompt,
    StateSchemaType,
    StructuredResponseSchema,
    state_value,
)
from actorgraph.prebuilt._runnable import NodeRunnable
from actorgraph.prebuilt._tool_node import ToolCallWithContext, ToolNode
from actorgraph.warnings import LangGraphDeprecatedSinceV10

__all__ = (
    "create_react_agent",
    "create_tool_calling_executor",
    "get_model",
    "get_prompt_runnable",
    "should_bind_tools",
    "validate_chat_history",
)

_NOT_ENOUGH_STEPS = "Sorry, need more steps to process this request."
_ASYNC_MODEL_IN_SYNC_RUN = (
    "Async model callable provided but agent invoked synchronously. "
    "Use agent.ainvoke() or agent.astream(), or provide a sync model callable."
)


def get_prompt_runnable(prompt: Prompt | None) -> Runnable[Any, Any]:
    """The runnable that turns the state into the model's input."""
    if prompt is None:
        return NodeRunnable(lambda state: state_value(state, "messages"), name=PROMPT_RUNNABLE_NAME)
    if isinstance(prompt, str):
        system = SystemMessage(content=prompt)
        return NodeRunnable(lambda state: [system, *state_value(state, "messages")], name=PROMPT_RUNNABLE_NAME)
    if isinstance(prompt, SystemMessage):
        return NodeRunnable(lambda state: [prompt, *state_value(state, "messages")], name=PROMPT_RUNNABLE_NAME)
    if inspect.iscoroutinefunction(prompt):
        return NodeRunnable(None, prompt, name=PROMPT_RUNNABLE_NAME)
    if callable(prompt) and not isinstance(prompt, Runnable):
        return NodeRunnable(prompt, name=PROMPT_RUNNABLE_NAME)
    if isinstance(prompt, Runnable):
        return prompt
    raise ValueError(f"Got unexpected type for `prompt`: {type(prompt)}")


def _chat_step(model: Any) -> Any:
    """The model step of a ``model | parser``-like sequence (the sequence itself if none)."""
    if isinstance(model, RunnableSequence):
        return next((s for s in model.steps if isinstance(s, (RunnableBinding, BaseChatModel))), model)
    return model


def _bound_tool_name(spec: dict[str, Any]) -> str | None:
    if spec.get("type") == "function":  # OpenAI's shape
        return spec["function"]["name"]  # type: ignore[no-any-return]
    name = spec.get("name")  # Anthropic's shape
    return name if name else None


def should_bind_tools(model: LanguageModelLike, tools: Sequence[BaseTool], num_builtin: int = 0) -> bool:
    """Whether the agent must call ``model.bind_tools(tools)``: not if the model already
    has tools bound, which must then be these tools (plus ``num_builtin`` provider ones)."""
    model = _chat_step(model)
    if not isinstance(model, RunnableBinding) or "tools" not in model.kwargs:
        return True
    bound = model.kwargs["tools"]
    if len(tools) != len(bound) - num_builtin:
        raise ValueError(
            "Number of tools in the model.bind_tools() and tools passed to create_react_agent must match"
            f" Got {len(tools)} tools, expected {len(bound) - num_builtin}"
        )
    bound_names = {n for n in (_bound_tool_name(spec) for spec in bound) if n is not None}
    missing = {t.name for t in tools} - bound_names
    if missing:
        raise ValueError(f"Missing tools '{missing}' in the model.bind_tools()")
    return False


def get_model(model: LanguageModelLike) -> BaseChatModel:
    """The chat model inside a binding (``model.bind_tools(...)``) or a sequence."""
    model = _chat_step(model)
    if isinstance(model, RunnableBinding):
        model = model.bound
    if not isinstance(model, BaseChatModel):
        raise TypeError(
            "Expected `model` to be a ChatModel or RunnableBinding (e.g. model.bind_tools(...)), "
            f"got {type(model)}"
        )
    return model


def validate_chat_history(messages: Sequence[BaseMessage]) -> None:
    """Raise ``ValueError`` if an AI message's tool call has no ``ToolMessage`` answer:
    chat model providers refuse such a history."""
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    unanswered = [
        call
        for m in messages
        if isinstance(m, AIMessage)
        for call in m.tool_calls
        if call["id"] not in answered
    ]
    if not unanswered:
        return
    raise ValueError(
        create_error_message(
            message="Found AIMessages with tool_calls that do not have a corresponding ToolMessage. "
            f"Here are the first few of those tool calls: {unanswered[:3]}.\n\n"
            "Every tool call (LLM requesting to call a tool) in the message history MUST have a "
            "corresponding ToolMessage (result of a tool invocation to return to the LLM) - this is "
            "required by most LLM providers.",
            error_code=ErrorCode.INVALID_CHAT_HISTORY,
        )
    )


def _is_pydantic_schema(schema: Any) -> bool:
    return isinstance(schema, type) and issubclass(schema, BaseModel)


class _Agent:
    """The agent's node functions, sharing what ``create_react_agent`` worked out."""

    def __init__(
        self,
        *,
        model: Any,
        prompt: Prompt | None,
        tools: list[BaseTool],
        builtin_tools: list[dict[str, Any]],
        response_format: Any,
        pre_model_hook: Any,
        state_schema: Any,
        name: str | None,
    ) -> None:
        self.prompt = prompt
        self.response_format = response_format
        self.pre_model_hook = pre_model_hook
        self.state_schema = state_schema
        self.name = name
        self.dynamic = not isinstance(model, (str, Runnable)) and callable(model)
        self.async_dynamic = self.dynamic and inspect.iscoroutinefunction(model)
        self.model = model
        self.static: Runnable[Any, Any] | None = None
        if not self.dynamic:
            if isinstance(model, str):
                try:
                    from langchain.chat_models import init_chat_model  # type: ignore[import-not-found]
                except ImportError:
                    raise ImportError(
                        "Please install langchain (`pip install langchain`) to use "
                        "'<provider>:<model>' string syntax for `model` parameter."
                    ) from None
                model = init_chat_model(model)
            every_tool: list[Any] = [*tools, *builtin_tools]
            if should_bind_tools(model, tools, num_builtin=len(builtin_tools)) and every_tool:
                model = cast(BaseChatModel, model).bind_tools(every_tool)
            self.static = get_prompt_runnable(prompt) | model
        self.return_direct = {t.name for t in tools if t.return_direct}

    # -- the model ---------------------------------------------------------------------
    def resolve(self, state: Any, runtime: Any) -> Runnable[Any, Any]:
        if self.dynamic:
            return get_prompt_runnable(self.prompt) | self.model(state, runtime)
        assert self.static is not None
        return self.static

    async def aresolve(self, state: Any, runtime: Any) -> Runnable[Any, Any]:
        if self.async_dynamic:
            return get_prompt_runnable(self.prompt) | await self.model(state, runtime)
        return self.resolve(state, runtime)

    def model_input(self, state: Any) -> Any:
        """The state with the messages the model gets (a pre-model hook's
        ``llm_input_messages`` if it gave some), after checking every tool call in them
        is answered."""
        if self.pre_model_hook is not None:
            messages = state_value(state, "llm_input_messages") or state_value(state, "messages")
            expected = "'llm_input_messages' or 'messages' key"
        else:
            messages = state_value(state, "messages")
            expected = "'messages' key"
        if messages is None:
            raise ValueError(f"Expected input to call_model to have {expected}, but got {state}")
        validate_chat_history(messages)
        if _is_pydantic_schema(self.state_schema):
            state.messages = messages
        else:
            state["messages"] = messages
        return state

    def answer(self, state: Any, response: AIMessage) -> dict[str, Any]:
        response.name = self.name
        if self._out_of_steps(state, response):
            return {"messages": [AIMessage(id=response.id, content=_NOT_ENOUGH_STEPS)]}
        return {"messages": [response]}

    def _out_of_steps(self, state: Any, response: BaseMessage) -> bool:
        """Whether the steps left can't run the tools the model asked for and come back."""
        remaining = state_value(state, "remaining_steps", None)
        if remaining is None or not isinstance(response, AIMessage):
            return False
        calls = response.tool_calls
        if remaining < 1 and all(c["name"] in self.return_direct for c in calls):
            return True
        return remaining < 2 and bool(calls)

    def call_model(self, state: Any, runtime: Any, config: RunnableConfig) -> dict[str, Any]:
        if self.async_dynamic:
            raise RuntimeError(_ASYNC_MODEL_IN_SYNC_RUN)
        model_input = self.model_input(state)
        response = self.resolve(state, runtime).invoke(model_input, config)
        return self.answer(state, cast(AIMessage, response))

    async def acall_model(self, state: Any, runtime: Any, config: RunnableConfig) -> dict[str, Any]:
        model_input = self.model_input(state)
        response = await (await self.aresolve(state, runtime)).ainvoke(model_input, config)
        return self.answer(state, cast(AIMessage, response))

    # -- the structured response -------------------------------------------------------
    def _structured_input(self, state: Any) -> tuple[Any, Any]:
        messages = state_value(state, "messages")
        schema = self.response_format
        if isinstance(schema, tuple):
            system, schema = schema
            messages = [SystemMessage(content=system), *messages]
        return messages, schema

    def structured(self, state: Any, runtime: Any, config: RunnableConfig) -> dict[str, Any]:
        if self.async_dynamic:
            raise RuntimeError(_ASYNC_MODEL_IN_SYNC_RUN)
        messages, schema = self._structured_input(state)
        model = get_model(self.resolve(state, runtime)).with_structured_output(schema)
        return {"structured_response": model.invoke(messages, config)}

    async def astructured(self, state: Any, runtime: Any, config: RunnableConfig) -> dict[str, Any]:
        messages, schema = self._structured_input(state)
        model = get_model(await self.aresolve(state, runtime)).with_structured_output(schema)
        return {"structured_response": await model.ainvoke(messages, config)}


def _input_schema(state_schema: Any, with_llm_input: bool) -> Any:
    """The agent node's input: the state plus, with a pre-model hook, the messages the
    hook gives the model without storing them (``llm_input_messages``)."""
    if not with_llm_input:
        return state_schema
    if _is_pydantic_schema(state_schema):
        from pydantic import create_model

        return create_model("CallModelInputSchema", llm_input_messages=(list[AnyMessage], ...), __base__=state_schema)

    class CallModelInputSchema(state_schema):  # type: ignore[misc,valid-type]
        llm_input_messages: list[AnyMessage]

    return CallModelInputSchema


@deprecated(
    "create_react_agent has been moved to `langchain.agents`. Please update your import to "
    "`from langchain.agents import create_agent`.",
    category=LangGraphDeprecatedSinceV10,
)
def create_react_agent(
    model: str
    | LanguageModelLike
    | Callable[[Any, Any], BaseChatModel]
    | Callable[[Any, Any], Awaitable[BaseChatModel]]
    | Callable[[Any, Any], Runnable[LanguageModelInput, BaseMessage]]
    | Callable[[Any, Any], Awaitable[Runnable[LanguageModelInput, BaseMessage]]],
    tools: Sequence[BaseTool | Callable[..., Any] | dict[str, Any]] | ToolNode,
    *,
    prompt: Prompt | None = None,
    response_format: StructuredResponseSchema | tuple[str, StructuredResponseSchema] | None = None,
    pre_model_hook: Any = None,
    post_model_hook: Any = None,
    state_schema: StateSchemaType | None = None,
    context_schema: type[Any] | None = None,
    checkpointer: Any = None,
    store: Any = None,
    interrupt_before: list[str] | None = None,
    interrupt_after: list[str] | None = None,
    debug: bool = False,
    version: Literal["v1", "v2"] = "v2",
    name: str | None = None,
    **deprecated_kwargs: Any,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Build an agent graph that calls ``model`` and the tools it asks for in a loop,
    until it answers without tool calls.

    - ``model``: a chat model (or ``"provider:model"``, with LangChain installed), or a
      function ``(state, runtime) -> model`` (sync or async) that picks one per call.
    - ``tools``: tools, functions, provider tool dicts, or a ``ToolNode``. None: the
      graph is the model node alone.
    - ``prompt``: a system message or its text, or a function/runnable from the state
      to the model's input.
    - ``response_format``: a schema (or ``(system prompt, schema)``): after the loop,
      one more model call fills ``structured_response``.
    - ``pre_model_hook`` / ``post_model_hook``: nodes run before / after each model call
      (the pre hook may give ``llm_input_messages`` the model sees instead of the state's).
    - ``state_schema``: needs ``messages`` and ``remaining_steps`` (and
      ``structured_response`` with a ``response_format``).
    - ``version``: ``"v2"`` runs each tool call as its own task; ``"v1"`` runs all calls
      of a message in one.

    The rest (``checkpointer``, ``store``, ``interrupt_before``/``_after``, ``debug``,
    ``name``, ``context_schema``) go to the graph. Returns the compiled graph.
    """
    config_schema = deprecated_kwargs.pop("config_schema", None)
    if config_schema is not None:
        warnings.warn(
            "`config_schema` is deprecated and will be removed. Please use `context_schema` instead.",
            category=LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        if context_schema is None:
            context_schema = config_schema
    if deprecated_kwargs:
        raise TypeError(f"create_react_agent() got unexpected keyword arguments: {deprecated_kwargs}")
    if version not in ("v1", "v2"):
        raise ValueError(f"Invalid version {version}. Supported versions are 'v1' and 'v2'.")
    if state_schema is not None:
        required = {"messages", "remaining_steps"}
        if response_format is not None:
            required.add("structured_response")
        missing = required - set(get_type_hints(state_schema))
        if missing:
            raise ValueError(f"Missing required key(s) {missing} in state_schema")
    else:
        state_schema = AgentStateWithStructuredResponse if response_format is not None else AgentState

    builtin_tools: list[dict[str, Any]] = []
    if isinstance(tools, ToolNode):
        tool_node = tools
    else:
        builtin_tools = [t for t in tools if isinstance(t, dict)]
        tool_node = ToolNode([t for t in tools if not isinstance(t, dict)])
    tool_list = list(tool_node.tools_by_name.values())

    agent = _Agent(
        model=model,
        prompt=prompt,
        tools=tool_list,
        builtin_tools=builtin_tools,
        response_format=response_format,
        pre_model_hook=pre_model_hook,
        state_schema=state_schema,
        name=name,
    )
    workflow = StateGraph(state_schema=state_schema, context_schema=context_schema)
    # nodes in LangGraph's order: drawings list them in the order they were added
    workflow.add_node(
        "agent",
        NodeRunnable(agent.call_model, agent.acall_model, name="call_model"),
        input_schema=_input_schema(state_schema, pre_model_hook is not None),
    )
    if tool_list:
        workflow.add_node("tools", tool_node)
    entry = "agent"
    if pre_model_hook is not None:
        workflow.add_node("pre_model_hook", pre_model_hook)
        workflow.add_edge("pre_model_hook", "agent")
        entry = "pre_model_hook"
    workflow.set_entry_point(entry)
    if post_model_hook is not None:
        workflow.add_node("post_model_hook", post_model_hook)
        workflow.add_edge("agent", "post_model_hook")
    if response_format is not None:
        workflow.add_node(
            "generate_structured_response",
            NodeRunnable(agent.structured, agent.astructured, name="generate_structured_response"),
        )
    if tool_list:
        _add_tool_loop(workflow, agent, entry, version, post_model_hook is not None)
    elif response_format is not None:
        workflow.add_edge("post_model_hook" if post_model_hook is not None else "agent", "generate_structured_response")

    return workflow.compile(
        checkpointer=checkpointer,
        store=store,
        interrupt_before=interrupt_before,
        interrupt_after=interrupt_after,
        debug=debug,
        name=name,
    )


def _tool_sends(state: Any, calls: Sequence[Any]) -> list[Send]:
    return [
        Send("tools", ToolCallWithContext(__type="tool_call_with_context", tool_call=call, state=state))  # type: ignore[typeddict-unknown-key]
        for call in calls
    ]


def _add_tool_loop(
    workflow: StateGraph[Any, Any, Any, Any],
    agent: _Agent,
    entry: str,
    version: str,
    has_post_hook: bool,
) -> None:
    """The edges that loop between the model and the tools."""
    structured = agent.response_format is not None
    finish = "generate_structured_response" if structured else END

    def should_continue(state: Any) -> str | list[Send]:
        last = state_value(state, "messages")[-1]
        if not isinstance(last, AIMessage) or not last.tool_calls:
            return "post_model_hook" if has_post_hook else finish
        if version == "v1":
            return "tools"
        if has_post_hook:
            return "post_model_hook"
        return _tool_sends(state, last.tool_calls)

    workflow.add_conditional_edges(
        "agent", should_continue, path_map=["post_model_hook" if has_post_hook else "tools", *([] if has_post_hook else [finish])]
    )

    if has_post_hook:

        def post_model_hook_router(state: Any) -> str | list[Send]:
            """To the tools for calls not answered yet, back to the start after tool
            results, else to the structured response or the end."""
            messages = state_value(state, "messages")
            answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
            last_ai = next(m for m in reversed(messages) if isinstance(m, AIMessage))
            pending = [c for c in last_ai.tool_calls if c["id"] not in answered]
            if pending:
                return _tool_sends(state, pending)
            if isinstance(messages[-1], ToolMessage):
                return entry
            return finish

        workflow.add_conditional_edges("post_model_hook", post_model_hook_router, path_map=[entry, "tools", finish])

    return_direct = agent.return_direct
    if not return_direct:
        workflow.add_edge("tools", entry)
        return

    def route_tool_responses(state: Any) -> str:
        """To the end when a tool that returns directly ran (here or in a sibling
        ``Send``), else back to the start."""
        message: Any = None
        for message in reversed(state_value(state, "messages")):
            if not isinstance(message, ToolMessage):
                break
            if message.name in return_direct:
                return END
        if isinstance(message, AIMessage) and any(c["name"] in return_direct for c in message.tool_calls):
            return END
        return entry

    workflow.add_conditional_edges("tools", route_tool_responses, path_map=[entry, END])


create_tool_calling_executor = create_react_agent
"""The agent's former name."""
