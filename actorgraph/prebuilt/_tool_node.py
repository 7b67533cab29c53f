"""``ToolNode``: the graph node that runs the tool calls of the last AI message, and
``tools_condition``, the edge that sends a run to it.

Each call runs as its own job (a thread under ``invoke``, a coroutine under
``ainvoke``), through the optional ``wrap_tool_call`` interceptor, with its injected
arguments filled in; the results come back in call order as ``ToolMessage``s (or the
``Command``s tools returned).
"""

from __future__ import annotations

import asyncio
import functools
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from copy import copy
from dataclasses import dataclass, replace
from typing import Any, Literal, TypedDict, cast

from langchain_core.messages import AIMessage, AnyMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import get_config_list, get_executor_for_config
from langchain_core.tools import BaseTool
from langchain_core.tools import tool as create_tool
from pydantic import BaseModel, ValidationError
from typing_extensions import Unpack

from actorgraph._types import Command
from actorgraph.actors._context import current_state
from actorgraph.errors import GraphBubbleUp, is_invalid_resume
from actorgraph.prebuilt._injected import InjectedArgs, ToolRuntime, injected_args
from actorgraph.prebuilt._runnable import NodeRunnable
from actorgraph.prebuilt._tool_errors import (
    INVALID_TOOL_NAME_ERROR_TEMPLATE,
    ErrorHandling,
    ToolInvocationError,
    default_handle_tool_errors,
    error_content,
    filter_validation_errors,
    handled_types,
)
from actorgraph.prebuilt._tool_output import InputKind, combine_outputs, normalize_tool_response


__all__ = (
    "AsyncToolCallWrapper",
    "ToolCallRequest",
    "ToolCallWithContext",
    "ToolCallWrapper",
    "ToolNode",
    "tools_condition",
)

CONFIG_KEY_READ_STATE = "__pregel_read_state"
"""A callable in ``configurable`` that returns the graph state (LangGraph's name)."""

CONFIG_KEY_READ = "__pregel_read"
"""LangGraph's channel reader in ``configurable``: ``functools.partial(read, scratchpad,
channels, managed, task)``, called as ``read(select, fresh)``."""

ToolResult = ToolMessage | Command[Any]


class _Overrides(TypedDict, total=False):
    tool_call: ToolCall
    tool: BaseTool
    state: Any


@dataclass
class ToolCallRequest:
    """One tool call on its way to being run, as a ``wrap_tool_call`` interceptor sees
    it: the call, the tool that will run it (``None`` if no registered tool has its
    name), the graph state and the ``ToolRuntime``. Change it with ``override()``."""

    tool_call: ToolCall
    tool: BaseTool | None
    state: Any
    runtime: ToolRuntime

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, name):  # set after __init__: the deprecated way to change it
            warnings.warn(
                f"Setting attribute '{name}' on ToolCallRequest is deprecated. "
                "Use the override() method instead to create a new instance with modified values.",
                DeprecationWarning,
                stacklevel=2,
            )
        object.__setattr__(self, name, value)

    def override(self, **overrides: Unpack[_Overrides]) -> ToolCallRequest:
        """A copy with ``overrides`` applied; a new ``state`` reaches the runtime too."""
        request = replace(self, **overrides)
        if "state" in overrides and isinstance(request.runtime, ToolRuntime):
            request = replace(request, runtime=replace(request.runtime, state=request.state))
        return request


ToolCallWrapper = Callable[[ToolCallRequest, Callable[[ToolCallRequest], ToolResult]], ToolResult]
"""``wrap_tool_call(request, execute)``: runs around each tool call; call ``execute``
(any number of times, with the request or an ``override()`` of it) to run the tool, or
return a ``ToolMessage``/``Command`` without running it."""

AsyncToolCallWrapper = Callable[
    [ToolCallRequest, Callable[[ToolCallRequest], Awaitable[ToolResult]]], Awaitable[ToolResult]
]
"""The async ``awrap_tool_call(request, execute)``, used by ``ainvoke``."""


class ToolCallWithContext(TypedDict):
    """What the agent ``Send``s to the tools node: one tool call and the state it was
    made in."""

    tool_call: ToolCall
    __type: Literal["tool_call_with_context"]
    state: Any


def _is_call_with_context(value: Any) -> bool:
    return isinstance(value, dict) and value.get("__type") == "tool_call_with_context"


def _is_tool_call_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[-1], dict) and value[-1].get("type") == "tool_call"


def _reader_channels(read: Any) -> Mapping[str, Any] | None:
    """The channels a LangGraph-shaped ``CONFIG_KEY_READ`` reader reads, or None when
    ``read`` is not one."""
    if isinstance(read, functools.partial) and len(read.args) >= 2 and isinstance(read.args[1], Mapping):
        return read.args[1]
    return None


class ToolNode(NodeRunnable):
    """Runs the tool calls of the last ``AIMessage`` in its input and answers each with
    a ``ToolMessage``.

    Its input is a state with ``messages_key`` (dict or object), a list of messages, a
    list of tool calls, or one tool call sent with its state (``ToolCallWithContext``).
    It returns ``{messages_key: [...]}`` (a list for a list input), or, when tools
    return Commands, a list of updates and Commands.
    """

    name: str | None = "tools"

    def __init__(
        self,
        tools: Sequence[BaseTool | Callable[..., Any]],
        *,
        name: str = "tools",
        tags: list[str] | None = None,
        handle_tool_errors: ErrorHandling = default_handle_tool_errors,
        messages_key: str = "messages",
        wrap_tool_call: ToolCallWrapper | None = None,
        awrap_tool_call: AsyncToolCallWrapper | None = None,
    ) -> None:
        super().__init__(self._func, self._afunc, name=name, tags=tags, trace=False)
        self._tools_by_name: dict[str, BaseTool] = {}
        self._injected_args: dict[str, InjectedArgs] = {}
        self._handle_tool_errors = handle_tool_errors
        self._handled: tuple[type[Exception], ...] | None = None
        self._messages_key = messages_key
        self._wrap_tool_call = wrap_tool_call
        self._awrap_tool_call = awrap_tool_call
        for item in tools:
            tool_ = item if isinstance(item, BaseTool) else create_tool(cast("type[BaseTool]", item))
            self._tools_by_name[tool_.name] = tool_
            self._injected_args[tool_.name] = injected_args(tool_)

    @property
    def tools_by_name(self) -> dict[str, BaseTool]:
        """The tools this node runs, by name."""
        return self._tools_by_name

    # -- one run -----------------------------------------------------------------------
    def _prepare(
        self, input: Any, config: RunnableConfig, runtime: Any
    ) -> tuple[list[ToolCall], InputKind, list[ToolRuntime]]:
        calls, kind = self._parse_input(input)
        tools = list(self._tools_by_name.values())
        runtimes = [
            ToolRuntime(
                state=self._extract_state(input, cfg),
                tool_call_id=call["id"],
                config=cfg,
                context=runtime.context,
                store=runtime.store,
                stream_writer=runtime.stream_writer,
                tools=tools,
                execution_info=getattr(runtime, "execution_info", None),
                server_info=getattr(runtime, "server_info", None),
            )
            for call, cfg in zip(calls, get_config_list(config, len(calls)))
        ]
        return calls, kind, runtimes

    def _func(self, input: Any, config: RunnableConfig, runtime: Any) -> Any:
        calls, kind, runtimes = self._prepare(input, config, runtime)
        with get_executor_for_config(config) as executor:
            outputs = list(executor.map(self._run_one, calls, [kind] * len(calls), runtimes))
        return combine_outputs(outputs, kind, self._messages_key)

    async def _afunc(self, input: Any, config: RunnableConfig, runtime: Any) -> Any:
        calls, kind, runtimes = self._prepare(input, config, runtime)
        if len(calls) == 1:
            outputs = [await self._arun_one(calls[0], kind, runtimes[0])]
        else:
            # LangChain's async tools run on asyncio; a failure fails the node as soon as
            # it happens (as a gather does), the other calls' results are dropped
            outputs = list(
                await asyncio.gather(*(self._arun_one(c, kind, rt) for c, rt in zip(calls, runtimes)))
            )
        return combine_outputs(outputs, kind, self._messages_key)

    # -- input -------------------------------------------------------------------------
    def _parse_input(self, input: Any) -> tuple[list[ToolCall], InputKind]:
        if isinstance(input, list):
            if input and isinstance(input[-1], dict) and input[-1].get("type") == "tool_call":
                return cast("list[ToolCall]", input), "tool_calls"
            messages = input
            kind: InputKind = "list"
        elif _is_call_with_context(input):
            return [input["tool_call"]], "tool_calls"
        elif isinstance(input, dict) and (messages := input.get(self._messages_key, [])):
            kind = "dict"
        elif messages := getattr(input, self._messages_key, []):
            kind = "dict"
        else:
            raise ValueError("No message found in input")
        for message in reversed(messages):
            if isinstance(message, AIMessage):
                return list(message.tool_calls), kind
        raise ValueError("No AIMessage found in input")

    def _extract_state(self, input: Any, config: RunnableConfig) -> Any:
        """The state tools see: the one sent with the call, the graph's (for bare tool
        calls), or the input itself."""
        if _is_call_with_context(input):
            return input["state"]
        if _is_tool_call_list(input):
            conf = config.get("configurable") or {}
            read = conf.get(CONFIG_KEY_READ_STATE)
            if read is not None:
                return read()
            channels = _reader_channels(conf.get(CONFIG_KEY_READ))
            if channels is not None:  # a LangGraph-shaped reader: every channel, fresh
                return conf[CONFIG_KEY_READ](list(channels), True)
            state = current_state()
            return {} if state is None else state
        return input

    # -- one call ----------------------------------------------------------------------
    def _request(self, call: ToolCall, runtime: ToolRuntime) -> ToolCallRequest:
        # an unknown tool is reported when the call runs, so an interceptor may answer it
        return ToolCallRequest(
            tool_call=call, tool=self._tools_by_name.get(call["name"]), state=runtime.state, runtime=runtime
        )

    def _run_one(self, call: ToolCall, kind: InputKind, runtime: ToolRuntime) -> Any:
        request = self._request(call, runtime)
        config = runtime.config
        wrap = self._wrap_tool_call
        if wrap is None:
            return self._execute(request, kind, config)
        try:
            return wrap(request, lambda req: self._execute(req, kind, config))
        except GraphBubbleUp:
            raise
        except Exception as exc:
            return self._wrapper_failed(exc, request)

    async def _arun_one(self, call: ToolCall, kind: InputKind, runtime: ToolRuntime) -> Any:
        request = self._request(call, runtime)
        config = runtime.config
        try:
            if self._awrap_tool_call is not None:

                async def execute(req: ToolCallRequest) -> Any:
                    return await self._aexecute(req, kind, config)

                return await self._awrap_tool_call(request, execute)
            if self._wrap_tool_call is not None:
                # a sync interceptor runs the tool synchronously, here
                return self._wrap_tool_call(request, lambda req: self._execute(req, kind, config))
        except GraphBubbleUp:
            raise
        except Exception as exc:
            return self._wrapper_failed(exc, request)
        return await self._aexecute(request, kind, config)

    def _wrapper_failed(self, exc: Exception, request: ToolCallRequest) -> ToolMessage:
        """An interceptor raised: an error message if errors are handled at all."""
        if not self._handle_tool_errors or is_invalid_resume(exc):
            raise exc
        call = request.tool_call
        return ToolMessage(
            content=error_content(exc, flag=self._handle_tool_errors),
            name=call["name"],
            tool_call_id=call["id"],
            status="error",
        )

    def _prepare_call(self, request: ToolCallRequest) -> tuple[BaseTool | None, Any]:
        """The tool and its input (the call with injected arguments), or ``(None, the
        error message)`` for a tool this node doesn't have."""
        call, tool_ = request.tool_call, request.tool
        if tool_ is None:
            if call["name"] not in self._tools_by_name:
                return None, ToolMessage(
                    INVALID_TOOL_NAME_ERROR_TEMPLATE.format(
                        requested_tool=call["name"], available_tools=", ".join(self._tools_by_name)
                    ),
                    name=call["name"],
                    tool_call_id=call["id"],
                    status="error",
                )
            raise TypeError(f"Tool {call['name']} is not registered with ToolNode")
        return tool_, {**self._inject_tool_args(call, request.runtime, tool_), "type": "tool_call"}

    def _bad_arguments(self, exc: ValidationError, call: ToolCall) -> ToolInvocationError:
        injected = self._injected_args.get(call["name"])
        return ToolInvocationError(call["name"], exc, call["args"], filter_validation_errors(exc, injected))

    def _execute(self, request: ToolCallRequest, kind: InputKind, config: RunnableConfig) -> Any:
        tool_, tool_input = self._prepare_call(request)
        if tool_ is None:
            return tool_input
        call = request.tool_call
        try:
            try:
                response = tool_.invoke(tool_input, config)
            except ValidationError as exc:
                if is_invalid_resume(exc):
                    raise
                raise self._bad_arguments(exc, call) from exc
            return normalize_tool_response(response, call, kind, self._messages_key)
        except GraphBubbleUp:
            raise
        except Exception as exc:
            return self._tool_failed(exc, call)

    async def _aexecute(self, request: ToolCallRequest, kind: InputKind, config: RunnableConfig) -> Any:
        tool_, tool_input = self._prepare_call(request)
        if tool_ is None:
            return tool_input
        call = request.tool_call
        try:
            try:
                response = await tool_.ainvoke(tool_input, config)
            except ValidationError as exc:
                if is_invalid_resume(exc):
                    raise
                raise self._bad_arguments(exc, call) from exc
            return normalize_tool_response(response, call, kind, self._messages_key)
        except GraphBubbleUp:
            raise
        except Exception as exc:
            return self._tool_failed(exc, call)

    def _tool_failed(self, exc: Exception, call: ToolCall) -> ToolMessage:
        """A tool (or checking its result) raised: an error message, or re-raise."""
        # a resume that doesn't match an interrupt's response_schema is not the model's
        # to fix: the run fails so the interrupt can be answered again
        if is_invalid_resume(exc):
            raise exc
        flag = self._handle_tool_errors
        if not flag:
            raise exc
        handled = self._handled
        if handled is None:
            handled = self._handled = handled_types(flag)
        if not isinstance(exc, handled):
            raise exc
        return ToolMessage(
            content=error_content(exc, flag=flag), name=call["name"], tool_call_id=call["id"], status="error"
        )

    # -- injected arguments ------------------------------------------------------------
    def _inject_tool_args(self, call: ToolCall, runtime: ToolRuntime, tool_: BaseTool | None = None) -> ToolCall:
        """``call`` with the values of the tool's injected arguments; values the model
        sent for injected arguments are dropped (it must not forge them)."""
        injected = self._injected_args.get(call["name"])
        if injected is None and tool_ is not None:
            # a tool an interceptor supplied at call time
            injected = injected_args(tool_)
        if injected is None:
            return call
        values: dict[str, Any] = {}
        if injected.state:
            values.update(self._state_values(call, runtime.state, injected))
        if injected.store:
            if runtime.store is None:
                raise ValueError(
                    "Cannot inject store into tools with InjectedStore annotations - "
                    "please compile your graph with a store."
                )
            values[injected.store] = runtime.store
        if injected.runtime:
            values[injected.runtime] = runtime
        out = copy(call)
        out["args"] = {
            **{k: v for k, v in call["args"].items() if k not in injected.all_injected_keys},
            **values,
        }
        return out

    def _state_values(self, call: ToolCall, state: Any, injected: InjectedArgs) -> dict[str, Any]:
        fields = list(injected.state.values())
        if isinstance(state, list):
            if (len(fields) == 1 and fields[0] == self._messages_key) or fields[0] is None:
                state = {self._messages_key: state}
            else:
                message = f"Invalid input to ToolNode. Tool {call['name']} requires graph state dict as input."
                if any(fields):
                    message += f" State should contain fields {', '.join(f for f in fields if f)}."
                raise ValueError(message)
        values: dict[str, Any] = {}
        as_dict = isinstance(state, dict)
        for arg, key in injected.state.items():
            if not key:
                values[arg] = state
            elif as_dict and key in state:
                values[arg] = state[key]
            elif not as_dict and hasattr(state, key):
                values[arg] = getattr(state, key)
            elif arg not in injected.optional_state_args:
                raise KeyError(key) if as_dict else AttributeError(key)
        return values


def tools_condition(
    state: list[AnyMessage] | dict[str, Any] | BaseModel, messages_key: str = "messages"
) -> Literal["tools", "__end__"]:
    """Route to ``"tools"`` when the last message has tool calls, else to the end."""
    if isinstance(state, list):
        last = state[-1]
    elif (isinstance(state, dict) and (messages := state.get(messages_key, []))) or (
        messages := getattr(state, messages_key, [])
    ):
        last = messages[-1]
    else:
        raise ValueError(f"No messages found in input state to tool_edge: {state}")
    if getattr(last, "tool_calls", None):
        return "tools"
    return "__end__"
