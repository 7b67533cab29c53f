"""``@entrypoint``: a function run as a one-node graph on the same runtime, persistence
and streaming as ``StateGraph``.

The function gets the run's input and may ask for ``previous`` (what the last run on the
thread returned, or saved with ``entrypoint.final``), ``store``, ``writer``, ``config``
and ``runtime``. Its return value is the run's output. The tasks it calls run as tasks
of its super-step.
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, get_args, get_origin, get_type_hints

from actorgraph._constants import END, PREVIOUS, START
from actorgraph._types import CachePolicy, Command, RetryPolicy, TimeoutPolicy
from actorgraph.actors._callable import bind_callable
from actorgraph.actors._context_schema import context_coercer
from actorgraph.actors._messages import SendMsg
from actorgraph.actors._policies import sync_timeout_unsupported, validate_cache_policy, validate_retry_policy
from actorgraph.actors._program import NodeSpec, Program
from actorgraph.pregel._runnable import GraphRunnable
from actorgraph.channels import EphemeralValue, LastValue
from actorgraph.errors import InvalidUpdateError
from actorgraph.warnings import LangGraphDeprecatedSinceV05, LangGraphDeprecatedSinceV10
from actorgraph.persistence._serde import register_schema_types

__all__ = ("EntrypointGraph", "entrypoint")

R = TypeVar("R")
S = TypeVar("S")
ContextT = TypeVar("ContextT")

_INJECTED = frozenset({"config", "runtime", "writer", "store", "previous"})


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _Final(Generic[R, S]):
    """Returned by an entrypoint: ``value`` is the run's output, ``save`` what the next
    run on the thread gets as ``previous``."""

    value: R
    save: S


def _finish(tctx: Any, result: Any) -> None:
    if isinstance(result, _Final):
        value, save = result.value, result.save
    else:
        value = save = result
    tctx.writes.append((END, value))
    tctx.writes.append((PREVIOUS, save))


def _check_signature(func: Callable[..., Any], name: str) -> None:
    if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
        raise NotImplementedError("Generators are not supported in the Functional API.")
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return
    if not sig.parameters:
        raise ValueError(
            f"Entrypoint function must have at least one parameter: '{name}' takes none (its "
            "first parameter receives the run's input)"
        )
    positional = [
        p
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name not in _INJECTED
    ]
    required = [p for p in positional if p.default is p.empty]
    if not positional or len(required) > 1:
        raise TypeError(
            f"@entrypoint function '{name}' must take exactly one positional parameter (the run's "
            f"input), plus any of {sorted(_INJECTED)} by name; its signature is {sig}"
        )


def _io_types(func: Callable[..., Any]) -> tuple[Any, Any, Any]:
    """(input, output, save) types from the function's annotations (``Any`` when absent;
    ``-> entrypoint.final[R, S]`` gives output R and save S)."""
    try:
        sig = inspect.signature(func)
        hints = get_type_hints(func)
    except Exception:
        return Any, Any, Any
    first = next(iter(sig.parameters), None)
    input_type = hints.get(first, Any) if first is not None else Any
    ret = hints.get("return", Any)
    if ret is _Final:
        return input_type, Any, Any
    if get_origin(ret) is _Final:
        args = get_args(ret)
        if len(args) != 2:
            raise TypeError(
                "Annotate both the returned and the saved value: `-> entrypoint.final[int, str]` "
                "returns an int and saves a str."
            )
        return input_type, args[0], args[1]
    return input_type, ret, ret


class EntrypointGraph(GraphRunnable):
    """What ``@entrypoint`` returns: run it with ``invoke``/``stream`` like a compiled
    graph; read its thread with ``get_state``."""

    def __init__(self, func: Callable[..., Any], program: Program, types: tuple[Any, Any, Any], context_schema: Any) -> None:
        self.func = func
        self.program = program
        # the graph's name, as LangGraph names entrypoint graphs (the node is the function)
        self.name = "LangGraph"
        self.input_type, self.output_type, self.save_type = types
        self.context_schema = context_schema
        self.__wrapped__ = func
        self.__doc__ = func.__doc__

    def __repr__(self) -> str:
        return f"<entrypoint {self.program.name!r}>"

    def get_name(self, suffix: str | None = None) -> str:
        return self.name + suffix if suffix else self.name

    def get_input_schema(self, config: Any = None) -> Any:
        """A pydantic model of the entrypoint's input (its first parameter's type)."""
        from actorgraph._jsonschema import value_model

        return value_model(self.get_name("Input"), self.input_type)

    def get_output_schema(self, config: Any = None) -> Any:
        """A pydantic model of the entrypoint's output (its return type)."""
        from actorgraph._jsonschema import value_model

        return value_model(self.get_name("Output"), self.output_type)

    def get_input_jsonschema(self, config: Any = None) -> dict[str, Any]:
        return dict(self.get_input_schema(config).model_json_schema())

    def get_output_jsonschema(self, config: Any = None) -> dict[str, Any]:
        return dict(self.get_output_schema(config).model_json_schema())

    def get_context_jsonschema(self) -> dict[str, Any] | None:
        from actorgraph._jsonschema import context_jsonschema

        return context_jsonschema(self.context_schema)

    def get_graph(self, config: Any = None, *, xray: int | bool = False) -> Any:
        """``__start__ -> <entrypoint> -> __end__``."""
        from actorgraph.draw._drawable import Graph

        graph = Graph()
        start = graph.add_node(None, START)
        node = graph.add_node(None, self.name)
        end = graph.add_node(None, END)
        graph.add_edge(start, node)
        graph.add_edge(node, end)
        return graph


class entrypoint(Generic[ContextT]):  # noqa: N801 - LangGraph's public spelling
    """``@entrypoint(checkpointer=..., store=..., cache=..., context_schema=...)`` turns a
    function of one input into a runnable graph."""

    final = _Final

    def __init__(
        self,
        checkpointer: Any = None,
        store: Any = None,
        cache: Any = None,
        context_schema: type[ContextT] | None = None,
        cache_policy: CachePolicy[Any] | None = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> None:
        if "config_schema" in kwargs:
            warnings.warn(
                "`config_schema` is deprecated and will be removed. Please use `context_schema` instead.",
                LangGraphDeprecatedSinceV10,
                stacklevel=2,
            )
            config_schema = kwargs.pop("config_schema")
            if context_schema is None:
                context_schema = config_schema
        if "retry" in kwargs:
            warnings.warn(
                "`retry` is deprecated and will be removed. Please use `retry_policy` instead.",
                LangGraphDeprecatedSinceV05,
                stacklevel=2,
            )
            retry = kwargs.pop("retry")
            if retry_policy is None:
                retry_policy = retry
        if kwargs:
            raise TypeError(f"entrypoint() got unexpected keyword arguments: {sorted(kwargs)}")
        self.checkpointer = checkpointer
        self.store = store
        self.cache = cache
        self.context_schema = context_schema
        self.cache_policy = cache_policy
        if retry_policy is None:
            self.retry_policy: tuple[RetryPolicy, ...] = ()
        elif isinstance(retry_policy, RetryPolicy):
            self.retry_policy = (retry_policy,)
        else:
            self.retry_policy = tuple(retry_policy)
        for p in self.retry_policy:
            validate_retry_policy(p, "entrypoint")
        if cache_policy is not None:
            validate_cache_policy(cache_policy, "entrypoint")
        try:
            self.timeout = TimeoutPolicy.coerce(timeout)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"entrypoint: {exc}") from None

    def __call__(self, func: Callable[..., Any]) -> EntrypointGraph:
        if not callable(func):
            raise TypeError(f"@entrypoint needs a function, got {func!r}")
        name = getattr(func, "__name__", type(func).__name__)
        _check_signature(func, name)
        types = _io_types(func)
        bound = bind_callable(func, f"entrypoint '{name}'")
        if self.timeout is not None and not bound.is_async:
            raise sync_timeout_unsupported(name)
        node = NodeSpec(
            name,
            triggers=(START,),
            read_channel=START,
            call=bound.call,
            is_async=bound.is_async,
            finish=_finish,
            retry_policy=self.retry_policy,
            cache_policy=self.cache_policy,
            timeout=self.timeout,
            call_target=func,
            # a sync entrypoint waits on its tasks with .result(): never on the loop thread
            inline_ok=False,
        )
        # the types its signature names may be stored (its input, output and saved value)
        register_schema_types(*(t for t in types if t is not Any))
        if self.context_schema is not None:
            register_schema_types(self.context_schema)

        def map_input(value: Any) -> list[tuple[str, Any]]:
            return [(START, value)]

        def map_command(cmd: Command[Any]) -> tuple[list[tuple[str, Any]], list[SendMsg]]:
            raise InvalidUpdateError(
                f"entrypoint '{name}' takes its input as a value, not Command(update=/goto=); "
                "Command(resume=...) answers an interrupt",
                node=name,
                value=cmd,
            )

        program = Program(
            name=name,
            nodes={name: node},
            channels={START: EphemeralValue(Any), END: LastValue(Any), PREVIOUS: LastValue(Any)},
            state_keys=(END, PREVIOUS),
            output_keys=(END,),
            stream_keys=(END,),
            single_output=END,
            input_channel=START,
            map_input=map_input,
            map_command=map_command,
            coerce_context=context_coercer(self.context_schema),
            stream_mode="updates",
            checkpointer=self.checkpointer,
            store=self.store,
            cache=self.cache,
        )
        return EntrypointGraph(func, program, types, self.context_schema)
