"""What ``ToolNode`` tells the model when a tool call goes wrong.

A failing tool call becomes an error ``ToolMessage`` the model can act on, or is
re-raised, per ``handle_tool_errors``: ``True`` (every error), a string (that text), a
callable (its return value; its annotation says which errors it handles), an exception
class or a tuple of them, or ``False`` (re-raise). Bad arguments from the model become a
``ToolInvocationError`` that lists only the arguments the model controls.
"""

from __future__ import annotations

import inspect
from types import UnionType
from typing import TYPE_CHECKING, Any, Callable, Union, cast, get_args, get_origin, get_type_hints

from langchain_core.tools.base import ToolException
from pydantic import ValidationError

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

    from actorgraph.prebuilt._injected import InjectedArgs

__all__ = (
    "INVALID_TOOL_NAME_ERROR_TEMPLATE",
    "TOOL_CALL_ERROR_TEMPLATE",
    "TOOL_EXECUTION_ERROR_TEMPLATE",
    "TOOL_INVOCATION_ERROR_TEMPLATE",
    "ErrorHandling",
    "ToolInvocationError",
    "default_handle_tool_errors",
    "error_content",
    "filter_validation_errors",
    "handled_types",
    "infer_handled_types",
)

INVALID_TOOL_NAME_ERROR_TEMPLATE = "Error: {requested_tool} is not a valid tool, try one of [{available_tools}]."
TOOL_CALL_ERROR_TEMPLATE = "Error: {error}\n Please fix your mistakes."
TOOL_EXECUTION_ERROR_TEMPLATE = (
    "Error executing tool '{tool_name}' with kwargs {tool_kwargs} with error:\n"
    " {error}\n"
    " Please fix the error and try again."
)
TOOL_INVOCATION_ERROR_TEMPLATE = (
    "Error invoking tool '{tool_name}' with kwargs {tool_kwargs} with error:\n"
    " {error}\n"
    " Please fix the error and try again."
)

ErrorHandling = Union[bool, str, Callable[..., str], type[Exception], tuple[type[Exception], ...]]


class ToolInvocationError(ToolException):
    """The model called a tool with arguments its schema rejects.

    ``source`` is pydantic's ``ValidationError``; ``filtered_errors`` keeps only the
    errors about arguments the model sends (injected ones are the graph's business), and
    the message lists those.
    """

    def __init__(
        self,
        tool_name: str,
        source: ValidationError,
        tool_kwargs: dict[str, Any],
        filtered_errors: list[ErrorDetails] | None = None,
    ) -> None:
        if filtered_errors is None:
            details = str(source)
        else:
            details = "\n".join(
                f"{'.'.join(str(part) for part in err.get('loc', ()))}: {err.get('msg', 'Unknown error')}"
                for err in filtered_errors
            )
        self.message = TOOL_INVOCATION_ERROR_TEMPLATE.format(
            tool_name=tool_name, tool_kwargs=tool_kwargs, error=details
        )
        self.tool_name = tool_name
        self.tool_kwargs = tool_kwargs
        self.source = source
        self.filtered_errors = filtered_errors
        super().__init__(self.message)


def default_handle_tool_errors(e: Exception) -> str:
    """The default ``handle_tool_errors``: bad arguments from the model go back to it;
    any other error fails the run."""
    if isinstance(e, ToolInvocationError):
        return e.message
    raise e


def error_content(e: Exception, *, flag: ErrorHandling) -> str:
    """The text of the error ``ToolMessage`` for ``e`` under setting ``flag``."""
    if isinstance(flag, (bool, tuple)) or (isinstance(flag, type) and issubclass(flag, Exception)):
        return TOOL_CALL_ERROR_TEMPLATE.format(error=repr(e))
    if isinstance(flag, str):
        return flag
    if callable(flag):
        return cast(str, cast(Callable[..., Any], flag)(e))
    raise ValueError(
        f"Got unexpected type of `handle_tool_error`. Expected bool, str or callable. Received: {flag}"
    )


def _exception_types(annotation: Any) -> tuple[type[Exception], ...] | None:
    """The exception classes ``annotation`` names, or ``None`` if it names other things."""
    members = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    if all(isinstance(m, type) and issubclass(m, Exception) for m in members):
        return tuple(members)
    return None


def infer_handled_types(handler: Callable[..., str]) -> tuple[type[Exception], ...]:
    """The errors a handler function handles, read from its first parameter's
    annotation (``e: ValueError``, ``e: ValueError | TypeError``); unannotated: all."""
    params = list(inspect.signature(handler).parameters.values())
    if not params:
        return (Exception,)
    first = params[1] if params[0].name in ("self", "cls") and len(params) == 2 else params[0]
    hints = get_type_hints(handler)
    if first.name not in hints:
        return (Exception,)
    annotation = hints[first.name]
    if get_origin(annotation) in (Union, UnionType):
        found = _exception_types(annotation)
        if found is None:
            raise ValueError(
                "All types in the error handler error annotation must be Exception types. "
                "For example, `def custom_handler(e: Union[ValueError, TypeError])`. "
                f"Got '{first.annotation}' instead."
            )
        return found
    if Exception in getattr(annotation, "__mro__", ()):
        return (annotation,)
    raise ValueError(
        "Arbitrary types are not supported in the error handler signature. Please annotate "
        "the error with either a specific Exception type or a union of Exception types. For "
        "example, `def custom_handler(e: ValueError)` or `def custom_handler(e: "
        f"Union[ValueError, TypeError])`. Got '{annotation}' instead."
    )


def handled_types(flag: ErrorHandling) -> tuple[type[Exception], ...]:
    """The errors setting ``flag`` turns into error messages (when it is truthy)."""
    if isinstance(flag, type) and issubclass(flag, Exception):
        return (flag,)
    if isinstance(flag, tuple):
        return flag
    if callable(flag) and not isinstance(flag, type):
        return infer_handled_types(flag)
    return (Exception,)


def filter_validation_errors(error: ValidationError, injected: InjectedArgs | None) -> list[ErrorDetails]:
    """``error``'s details without those about injected arguments (and without injected
    values in the inputs they show)."""
    hidden = injected.names() if injected is not None else set()
    kept: list[ErrorDetails] = []
    for detail in error.errors():
        loc = detail["loc"]
        if not loc or loc[0] in hidden:
            continue
        copy: dict[str, Any] = {**detail}
        shown = copy.get("input")
        if isinstance(shown, dict):
            copy["input"] = {k: v for k, v in shown.items() if k not in hidden}
        kept.append(copy)  # type: ignore[arg-type]
    return kept
