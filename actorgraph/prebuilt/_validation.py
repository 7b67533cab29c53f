"""``ValidationNode``: checks the tool calls of the last AI message against their
schemas without running anything, answering each with a ``ToolMessage`` (the validated
arguments as JSON, or the validation error for the model to fix)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from langchain_core.messages import AIMessage, AnyMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import get_executor_for_config
from langchain_core.tools import BaseTool, create_schema_from_function
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import BaseModel, ValidationError
from pydantic.v1 import BaseModel as BaseModelV1
from pydantic.v1 import ValidationError as ValidationErrorV1
from typing_extensions import deprecated

from actorgraph.prebuilt._runnable import NodeRunnable
from actorgraph.warnings import LangGraphDeprecatedSinceV10

__all__ = ("ValidationNode",)


def _default_format_error(error: BaseException, call: ToolCall, schema: type[BaseModel] | type[BaseModelV1]) -> str:
    return f"{error!r}\n\nRespond after fixing all validation errors."


@deprecated(
    "ValidationNode is deprecated. Please use `create_agent` from `langchain.agents` with custom tool error handling.",
    category=LangGraphDeprecatedSinceV10,
)
class ValidationNode(NodeRunnable):
    """Validates each tool call of the last ``AIMessage`` against a schema: a pydantic
    model (v2 or v1, named by its class name), a tool's ``args_schema``, or a function's
    signature. Returns ``{"messages": [...]}`` (a list for a list input); an invalid
    call's message has ``additional_kwargs={"is_error": True}``."""

    def __init__(
        self,
        schemas: Sequence[BaseTool | type[BaseModel] | Callable[..., Any]],
        *,
        format_error: Callable[[BaseException, ToolCall, type[BaseModel]], str] | None = None,
        name: str = "validation",
        tags: list[str] | None = None,
    ) -> None:
        super().__init__(self._func, None, name=name, tags=tags, trace=False)
        self._format_error = format_error or _default_format_error
        self.schemas_by_name: dict[str, type[BaseModel] | type[BaseModelV1]] = {}
        for schema in schemas:
            if isinstance(schema, BaseTool):
                args_schema = schema.args_schema
                if args_schema is None:
                    raise ValueError(f"Tool {schema.name} does not have an args_schema defined.")
                if not isinstance(args_schema, type) or not is_basemodel_subclass(args_schema):
                    raise ValueError(
                        "Validation node only works with tools that have a pydantic BaseModel args_schema. "
                        f"Got {schema.name} with args_schema: {args_schema}."
                    )
                self.schemas_by_name[schema.name] = args_schema
            elif isinstance(schema, type) and issubclass(schema, (BaseModel, BaseModelV1)):
                self.schemas_by_name[schema.__name__] = schema
            elif callable(schema):
                self.schemas_by_name[schema.__name__] = create_schema_from_function("Validation", schema)
            else:
                raise ValueError(
                    f"Unsupported input to ValidationNode. Expected BaseModel, tool or function. Got: {type(schema)}."
                )

    def _get_message(self, input: list[AnyMessage] | dict[str, Any]) -> tuple[str, AIMessage]:
        if isinstance(input, list):
            kind, messages = "list", input
        elif messages := input.get("messages", []):
            kind = "dict"
        else:
            raise ValueError("No message found in input")
        last = messages[-1]
        if not isinstance(last, AIMessage):
            raise ValueError("Last message is not an AIMessage")
        return kind, last

    def _validate(self, call: ToolCall) -> ToolMessage:
        schema = self.schemas_by_name[call["name"]]
        try:
            if issubclass(schema, BaseModel):
                content = schema.model_validate(call["args"]).model_dump_json()
            elif issubclass(schema, BaseModelV1):
                content = schema.validate(call["args"]).json()
            else:
                raise ValueError(
                    f"Unsupported schema type: {type(schema)}. Expected BaseModel or BaseModelV1."
                )
        except (ValidationError, ValidationErrorV1) as exc:
            return ToolMessage(
                content=self._format_error(exc, call, cast(type[BaseModel], schema)),
                name=call["name"],
                tool_call_id=cast(str, call["id"]),
                additional_kwargs={"is_error": True},
            )
        return ToolMessage(content=content, name=call["name"], tool_call_id=cast(str, call["id"]))

    def _func(self, input: list[AnyMessage] | dict[str, Any], config: RunnableConfig) -> Any:
        kind, message = self._get_message(input)
        with get_executor_for_config(config) as executor:
            outputs = list(executor.map(self._validate, message.tool_calls))
        return outputs if kind == "list" else {"messages": outputs}
