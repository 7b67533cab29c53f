"""Tool arguments the model never sees: the graph state (``InjectedState``), the store
(``InjectedStore``) and the ``ToolRuntime``.

A tool declares them in its signature (``state: Annotated[dict, InjectedState]``,
``runtime: ToolRuntime``); LangChain leaves them out of the schema the model gets, and
``ToolNode`` fills them in before each call. Which arguments a tool wants is worked out
once per tool (``injected_args``), not per call.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Generic, Union, get_args, get_origin, get_type_hints

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, InjectedToolArg
from langchain_core.tools.base import (
    _DirectlyInjectedToolArg,
    _is_injected_arg_type,
    get_all_basemodel_annotations,
)
from typing_extensions import TypeVar

from actorgraph._runtime import TOOL_CALL_WRITER, ExecutionInfo
from actorgraph._types import StreamWriter

__all__ = (
    "InjectedArgs",
    "InjectedState",
    "InjectedStore",
    "ToolRuntime",
    "injected_args",
)

StateT = TypeVar("StateT", default=dict)
ContextT = TypeVar("ContextT", default=None)

@dataclasses.dataclass
class ToolRuntime(_DirectlyInjectedToolArg, Generic[ContextT, StateT]):
    """What a tool can reach besides its arguments; a tool gets it by declaring a
    parameter typed ``ToolRuntime`` (or named ``runtime``).

    ``state`` is the graph state, ``tool_call_id`` the id of the call being answered,
    ``config`` the run config, ``context``/``store``/``stream_writer`` those of the
    graph's ``Runtime``, and ``tools`` every tool of the ``ToolNode``.
    """

    state: StateT
    context: ContextT
    config: RunnableConfig
    stream_writer: StreamWriter
    tool_call_id: str | None
    store: Any | None
    tools: list[BaseTool] = dataclasses.field(default_factory=list)
    execution_info: ExecutionInfo | None = None
    server_info: Any | None = None

    def emit_output_delta(self, delta: Any) -> None:
        """Send a partial output of this tool call to the ``tools`` stream (nothing
        happens when the run doesn't stream ``tools``)."""
        writer = TOOL_CALL_WRITER.get()
        if writer is not None:
            writer(delta)


class InjectedState(InjectedToolArg):
    """Marks a tool argument that receives the graph state: all of it
    (``Annotated[dict, InjectedState]``) or one key (``InjectedState("foo")``)."""

    def __init__(self, field: str | None = None) -> None:
        self.field = field


class InjectedStore(InjectedToolArg):
    """Marks a tool argument that receives the graph's store
    (``Annotated[BaseStore, InjectedStore()]``); the graph must be compiled with one."""


@dataclasses.dataclass(frozen=True, slots=True)
class InjectedArgs:
    """Which arguments of one tool ``ToolNode`` fills in."""

    state: dict[str, str | None]
    """argument -> the state key it gets (``None``: the whole state)"""
    store: str | None
    runtime: str | None
    all_injected_keys: frozenset[str]
    """every injected argument, including other ``InjectedToolArg`` kinds: values the
    model sends for these are dropped"""
    optional_state_args: frozenset[str]
    """state arguments with a default: a missing state key leaves them out"""

    @property
    def empty(self) -> bool:
        return not (self.state or self.store or self.runtime or self.all_injected_keys)

    def names(self) -> set[str]:
        """The arguments whose validation errors are not the model's to fix."""
        out = set(self.state)
        if self.store:
            out.add(self.store)
        if self.runtime:
            out.add(self.runtime)
        return out


def _is_marker(arg: Any, kind: type) -> bool:
    """Whether ``arg`` (an annotation or part of one) is, or contains, marker ``kind``."""
    if isinstance(arg, kind) or (isinstance(arg, type) and issubclass(arg, kind)):
        return True
    origin = get_origin(arg)
    if origin is Union or origin is Annotated:
        return any(_is_marker(a, kind) for a in get_args(arg))
    return isinstance(origin, type) and issubclass(origin, kind)


def _marker(annotation: Any, kind: type) -> Any:
    """The marker of ``kind`` in ``annotation``: an instance or class found among its
    arguments, ``True`` when the annotation itself is one, or ``None``."""
    found = [a for a in get_args(annotation) if _is_marker(a, kind)]
    if len(found) > 1:
        raise ValueError(
            f"A tool argument should not be annotated with {kind.__name__} more than once. Found: {found}"
        )
    if found:
        return found[0]
    return True if _is_marker(annotation, kind) else None


def injected_args(tool: BaseTool) -> InjectedArgs:
    """Read ``tool``'s injected arguments from its input schema and its function."""
    schema = tool.get_input_schema()
    from_schema = get_all_basemodel_annotations(schema)
    func = getattr(tool, "func", None) or getattr(tool, "coroutine", None)
    from_func = get_type_hints(func, include_extras=True) if func is not None else {}
    fields = getattr(schema, "model_fields", {})
    state: dict[str, str | None] = {}
    optional: set[str] = set()
    store: str | None = None
    runtime: str | None = None
    every: set[str] = set()
    for name, annotation in {**from_func, **from_schema}.items():
        if _is_injected_arg_type(annotation):
            every.add(name)
        if name == "runtime":
            runtime = name
        marker = _marker(annotation, InjectedState)
        if marker is not None:
            key = marker.field if isinstance(marker, InjectedState) else None
            state[name] = key or None
            info = fields.get(name)
            if key and info is not None and not info.is_required():
                optional.add(name)
        if _marker(annotation, InjectedStore) is not None:
            store = name
        if _marker(annotation, ToolRuntime) is not None:
            runtime = name
    return InjectedArgs(
        state=state,
        store=store,
        runtime=runtime,
        all_injected_keys=frozenset(every),
        optional_state_args=frozenset(optional),
    )
