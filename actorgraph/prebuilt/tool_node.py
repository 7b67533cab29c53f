"""Import-compatible path (``langgraph.prebuilt.tool_node``): ``ToolNode``,
``tools_condition``, the injected tool arguments and the interceptor types."""

from actorgraph.prebuilt._injected import InjectedState, InjectedStore, ToolRuntime
from actorgraph.prebuilt._tool_errors import (
    INVALID_TOOL_NAME_ERROR_TEMPLATE,
    TOOL_CALL_ERROR_TEMPLATE,
    TOOL_EXECUTION_ERROR_TEMPLATE,
    TOOL_INVOCATION_ERROR_TEMPLATE,
    ToolInvocationError,
)
# LangGraph's private helpers, under their names, for code that imports them
from actorgraph.prebuilt._tool_errors import default_handle_tool_errors as _default_handle_tool_errors  # noqa: F401
from actorgraph.prebuilt._tool_errors import error_content as _handle_tool_error  # noqa: F401
from actorgraph.prebuilt._tool_errors import filter_validation_errors as _filter_validation_errors  # noqa: F401
from actorgraph.prebuilt._tool_errors import infer_handled_types as _infer_handled_types  # noqa: F401
from actorgraph.prebuilt._tool_node import (
    AsyncToolCallWrapper,
    ToolCallRequest,
    ToolCallWithContext,
    ToolCallWrapper,
    ToolNode,
    tools_condition,
)
from actorgraph.prebuilt._runnable import NodeRunnable as RunnableCallable
from actorgraph.prebuilt._tool_output import msg_content_output

__all__ = (
    "INVALID_TOOL_NAME_ERROR_TEMPLATE",
    "TOOL_CALL_ERROR_TEMPLATE",
    "TOOL_EXECUTION_ERROR_TEMPLATE",
    "TOOL_INVOCATION_ERROR_TEMPLATE",
    "AsyncToolCallWrapper",
    "InjectedState",
    "InjectedStore",
    "RunnableCallable",
    "ToolCallRequest",
    "ToolCallWithContext",
    "ToolCallWrapper",
    "ToolInvocationError",
    "ToolNode",
    "ToolRuntime",
    "msg_content_output",
    "tools_condition",
)

