"""``StateGraph``: the builder. Collects nodes, edges and schemas; ``compile()`` checks the
graph and turns it into a runnable ``CompiledStateGraph``."""

from __future__ import annotations

import inspect
import logging
import warnings
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, get_args, get_origin, get_type_hints

from typing_extensions import TypeVar

from actorgraph._constants import END, ERROR_HANDLER_PREFIX, RESERVED_CHARS, START
from actorgraph._types import CachePolicy, Command, RetryPolicy, TimeoutPolicy, TracePolicy
from actorgraph.actors._policies import validate_cache_policy, validate_retry_policy
from actorgraph.channels import BaseChannel, LastValue
from actorgraph.errors import GraphValidationError
from actorgraph.warnings import LangGraphDeprecatedSinceV05, LangGraphDeprecatedSinceV10
from actorgraph.graph._branch import Branch
from actorgraph.actors._callable import callable_name, check_config_annotation
from actorgraph.graph._schema import SchemaInfo, analyze_schema, inferred_input_schema, warn_invalid_state_schema

if TYPE_CHECKING:
    from actorgraph.graph._compiled import CompiledStateGraph

__all__ = ("StateGraph", "StateNodeSpec")

StateT = TypeVar("StateT")
ContextT = TypeVar("ContextT", default=None)
InputT = TypeVar("InputT", default=StateT)
OutputT = TypeVar("OutputT", default=StateT)

_log = logging.getLogger("actorgraph.graph")


@dataclass(slots=True)
class StateNodeSpec:
    """A node as the builder holds it."""

    action: Any
    input_schema: Any
    metadata: dict[str, Any] | None = None
    retry_policy: tuple[RetryPolicy, ...] = ()
    cache_policy: CachePolicy[Any] | None = None
    ends: tuple[str, ...] | dict[str, str] = ()
    defer: bool = False
    timeout: TimeoutPolicy | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    error_handler: Any = None
    """Called with the state and a ``NodeError`` when the node fails (retries spent); what
    it returns is applied instead, in the same step."""
    trace_policy: TracePolicy | None = None
    """What tracers record of the node's runs (``TracePolicy``)."""

    @property
    def runnable(self) -> Any:
        """What LangGraph's node spec calls its runnable: a runnable node (a compiled
        graph, a LangChain runnable) itself, else the function as ``.func`` (sync) or
        ``.afunc`` (async)."""
        action = self.action
        if hasattr(type(action), "invoke") and not inspect.isfunction(action):
            return action
        return NodeFunction(action)


class NodeFunction:
    """A function node seen as LangGraph's ``RunnableCallable``: ``func`` or ``afunc`` is
    the callable given to ``add_node``."""

    __slots__ = ("func", "afunc", "name")

    def __init__(self, fn: Any) -> None:
        from actorgraph.actors._callable import is_async_callable

        is_async = is_async_callable(fn)
        self.func = None if is_async else fn
        self.afunc = fn if is_async else None
        self.name = callable_name(fn)

    def __repr__(self) -> str:
        return f"NodeFunction({self.func or self.afunc!r})"


def _command_ends(action: Any) -> tuple[str, ...]:
    """Targets declared by a ``-> Command[Literal["a", "b"]]`` return annotation."""
    target = action if (inspect.isfunction(action) or inspect.ismethod(action)) else getattr(
        action, "__call__", None
    )
    if target is None:
        return ()
    try:
        rtn = get_type_hints(target).get("return")
    except Exception:
        return ()
    if rtn is None:
        return ()
    candidates = get_args(rtn) if get_origin(rtn) not in (None, Command) else (rtn,)
    for cand in candidates:
        if get_origin(cand) is Command:
            args = get_args(cand)
            if args and get_origin(args[0]) is Literal:
                return tuple(str(v) for v in get_args(args[0]))
    return ()


def _as_policies(retry_policy: Any, where: str) -> tuple[RetryPolicy, ...]:
    if retry_policy is None:
        return ()
    if isinstance(retry_policy, RetryPolicy):
        policies: tuple[RetryPolicy, ...] = (retry_policy,)
    elif isinstance(retry_policy, Sequence) and not isinstance(retry_policy, str):
        policies = tuple(retry_policy)
    else:
        raise TypeError(f"{where}: retry_policy must be a RetryPolicy or a sequence of them, got {retry_policy!r}")
    for policy in policies:
        validate_retry_policy(policy, where)
    return policies


def _parallel(name: str, steps: dict[str, Any]) -> Any:
    """A dict of runnables as a node (LangChain's ``RunnableParallel``: each key's runnable
    gets the input, the node returns the dict of their outputs), as LangGraph takes it."""
    try:
        from langchain_core.runnables import RunnableParallel
    except ImportError:
        raise TypeError(
            f"Node '{name}' is a dict of runnables, which runs as LangChain's RunnableParallel: "
            "install langchain-core, or pass a function"
        ) from None
    return RunnableParallel(steps)


def _timeout(value: Any, where: str) -> TimeoutPolicy | None:
    try:
        return TimeoutPolicy.coerce(value)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{where}: {exc}") from None


def _same_channel(a: BaseChannel[Any, Any, Any], b: BaseChannel[Any, Any, Any]) -> bool:
    return type(a) is type(b) and getattr(a, "operator", None) == getattr(b, "operator", None)


@dataclass(slots=True)
class _NodeDefaults:
    retry_policy: tuple[RetryPolicy, ...] = ()
    cache_policy: CachePolicy[Any] | None = None
    timeout: TimeoutPolicy | None = None
    error_handler: Any = None


class StateGraph(Generic[StateT, ContextT, InputT, OutputT]):
    """A graph whose nodes read and update a shared state.

    ``state_schema`` defines the state keys and how updates to each combine (reducers);
    ``input_schema``/``output_schema`` narrow what ``invoke`` accepts and returns;
    ``context_schema`` types the run-scoped ``context=`` nodes get through ``Runtime``.
    """

    def __init__(
        self,
        state_schema: type[StateT],
        context_schema: type[ContextT] | None = None,
        *,
        input_schema: type[InputT] | None = None,
        output_schema: type[OutputT] | None = None,
        **kwargs: Any,
    ) -> None:
        for old, new, category in (
            ("input", "input_schema", LangGraphDeprecatedSinceV05),
            ("output", "output_schema", LangGraphDeprecatedSinceV05),
            ("config_schema", "context_schema", LangGraphDeprecatedSinceV10),
        ):
            if old in kwargs:
                warnings.warn(
                    f"`{old}` is deprecated and will be removed. Please use `{new}` instead.",
                    category,
                    stacklevel=2,
                )
        if kwargs.get("input") is not None and input_schema is None:
            input_schema = kwargs["input"]
        if kwargs.get("output") is not None and output_schema is None:
            output_schema = kwargs["output"]
        if kwargs.get("config_schema") is not None and context_schema is None:
            context_schema = kwargs["config_schema"]
        unknown = set(kwargs) - {"input", "output", "config_schema"}
        if unknown:
            raise TypeError(f"StateGraph() got unexpected keyword arguments: {sorted(unknown)}")
        self.nodes: dict[str, StateNodeSpec] = {}
        self.edges: set[tuple[str, str]] = set()
        self.waiting_edges: set[tuple[tuple[str, ...], str]] = set()
        self.branches: defaultdict[str, dict[str, Branch]] = defaultdict(dict)
        self.schemas: dict[Any, SchemaInfo] = {}
        self.channels: dict[str, BaseChannel[Any, Any, Any]] = {}
        self.managed: dict[str, Any] = {}
        self.compiled = False
        self._node_defaults = _NodeDefaults()
        self.state_schema = state_schema
        self.input_schema = input_schema or state_schema
        self.output_schema = output_schema or state_schema
        self.context_schema = context_schema
        self._add_schema(self.state_schema)
        self._add_schema(self.input_schema, allow_managed=False)
        self._add_schema(self.output_schema, allow_managed=False)

    # -- schemas -----------------------------------------------------------------------
    def _add_schema(self, schema: Any, allow_managed: bool = True) -> SchemaInfo:
        info = self.schemas.get(schema)
        if info is not None:
            return info
        warn_invalid_state_schema(schema)
        info = analyze_schema(schema)
        if info.managed and not allow_managed:
            raise GraphValidationError(
                f"Managed values ({sorted(info.managed)}) belong in the state schema, not in "
                f"the input/output schema '{getattr(schema, '__name__', schema)}'"
            )
        for key, chan in info.channels.items():
            existing = self.channels.get(key)
            if existing is None:
                self.channels[key] = chan
            elif not _same_channel(existing, chan) and not isinstance(chan, LastValue):
                # a plain annotation elsewhere (an input/output schema listing the key as
                # `list`) leaves the first declaration's reducer in place, as in LangGraph
                raise GraphValidationError(
                    f"Channel '{key}' already exists with a different type: state key '{key}' "
                    f"is declared with {type(existing).__name__} and {type(chan).__name__}; "
                    "declare its reducer the same way in every schema.",
                    key=key,
                )
        self.managed.update(info.managed)
        self.schemas[schema] = info
        return info

    # -- nodes -------------------------------------------------------------------------
    def add_node(
        self,
        node: str | Callable[..., Any] | Any,
        action: Any = None,
        *,
        defer: bool = False,
        metadata: dict[str, Any] | None = None,
        input_schema: Any = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        cache_policy: CachePolicy[Any] | None = None,
        destinations: dict[str, str] | tuple[str, ...] | None = None,
        timeout: Any = None,
        error_handler: Any = None,
        trace_policy: TracePolicy | None = None,
        **kwargs: Any,
    ) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        """Add a node: ``add_node("name", fn)`` or ``add_node(fn)`` (named after ``fn``).

        ``trace_policy``: what LangChain tracers record of the node's runs (``TracePolicy``).

        ``error_handler``: a function ``(state, error: NodeError) -> update`` run in the same
        step when the node fails for good (after its retries); its update (or ``Command``)
        replaces the failure."""
        if "retry" in kwargs:
            warnings.warn(
                "`retry` is deprecated and will be removed. Please use `retry_policy` instead.",
                LangGraphDeprecatedSinceV05,
                stacklevel=2,
            )
            retry_policy = retry_policy or kwargs.pop("retry")
        if "input" in kwargs:
            warnings.warn(
                "`input` is deprecated and will be removed. Please use `input_schema` instead.",
                LangGraphDeprecatedSinceV05,
                stacklevel=2,
            )
            input_schema = input_schema or kwargs.pop("input")
        if kwargs:
            raise TypeError(f"add_node() got unexpected keyword arguments: {sorted(kwargs)}")
        if not isinstance(node, str):
            action, name = node, callable_name(node)
        else:
            name = node
        if action is None:
            raise TypeError(f"add_node('{name}') needs a function (or a compiled graph) to run")
        if isinstance(action, dict):
            action = _parallel(name, action)
        if not callable(action) and not hasattr(action, "ainvoke"):
            raise TypeError(
                f"Node '{name}' must be a function, a callable object or a compiled graph, "
                f"got {type(action).__name__}: {action!r}"
            )
        if self.compiled:
            _log.warning(
                "Adding node '%s' to a graph that has already been compiled: the compiled "
                "graph won't have it. Compile again.",
                name,
            )
        self._check_name(name)
        check_config_annotation(action)
        inferred = None if input_schema is not None else inferred_input_schema(action)
        schema = input_schema or inferred or self.state_schema
        ends: tuple[str, ...] | dict[str, str] = _command_ends(action)
        if destinations is not None:
            ends = dict(destinations) if isinstance(destinations, dict) else tuple(destinations)
        if cache_policy is not None:
            validate_cache_policy(cache_policy, f"Node '{name}'")
        if error_handler is not None:
            if not callable(error_handler):
                raise TypeError(f"Node '{name}': error_handler must be callable, got {error_handler!r}")
            if f"{ERROR_HANDLER_PREFIX}{name}" in self.nodes:
                raise GraphValidationError(
                    f"Auto-generated error handler node `{ERROR_HANDLER_PREFIX}{name}` already exists.",
                    node=f"{ERROR_HANDLER_PREFIX}{name}",
                )
        self.nodes[name] = StateNodeSpec(
            action=action,
            input_schema=schema,
            metadata=dict(metadata) if metadata else None,
            retry_policy=_as_policies(retry_policy, f"Node '{name}'"),
            cache_policy=cache_policy,
            ends=ends,
            defer=defer,
            timeout=_timeout(timeout, f"Node '{name}'"),
            error_handler=error_handler,
            trace_policy=trace_policy,
        )
        if schema is not self.state_schema:
            self._add_schema(schema)
        return self

    def set_node_defaults(
        self,
        *,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        cache_policy: CachePolicy[Any] | None = None,
        timeout: Any = None,
        error_handler: Any = None,
    ) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        """Policies for every node that doesn't set its own (applied at ``compile``);
        ``error_handler`` handles the failures of every node without one of its own."""
        if retry_policy is not None:
            self._node_defaults.retry_policy = _as_policies(retry_policy, "set_node_defaults")
        if cache_policy is not None:
            validate_cache_policy(cache_policy, "set_node_defaults")
            self._node_defaults.cache_policy = cache_policy
        if timeout is not None:
            self._node_defaults.timeout = _timeout(timeout, "set_node_defaults")
        if error_handler is not None:
            if not callable(error_handler):
                raise TypeError(f"set_node_defaults: error_handler must be callable, got {error_handler!r}")
            self._node_defaults.error_handler = error_handler
        return self

    def _check_name(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"Node names must be strings, got {name!r}")
        if name in self.nodes:
            raise GraphValidationError(f"Node `{name}` already present.", node=name)
        if name.startswith(ERROR_HANDLER_PREFIX):
            handled = self.nodes.get(name[len(ERROR_HANDLER_PREFIX) :])
            if handled is not None and handled.error_handler is not None:
                # the node that runs that node's error handler
                raise GraphValidationError(f"Node `{name}` already present.", node=name)
        if name in (START, END):
            raise GraphValidationError(f"Node `{name}` is reserved.", node=name)
        for ch in RESERVED_CHARS:
            if ch in name:
                raise GraphValidationError(
                    f"Node name '{name}': '{ch}' is a reserved character and is not allowed in "
                    "node names.",
                    node=name,
                )

    # -- edges -------------------------------------------------------------------------
    def add_edge(self, start_key: str | list[str], end_key: str) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        """``add_edge("a", "b")``: b runs after a. ``add_edge(["a", "b"], "c")``: c runs
        once both a and b have finished."""
        if self.compiled:
            _log.warning("Adding an edge to a graph that has already been compiled.")
        if isinstance(start_key, str):
            if start_key == END:
                raise GraphValidationError("END cannot be a start node", node=END)
            if end_key == START:
                raise GraphValidationError("START cannot be an end node", node=START)
            self.edges.add((start_key, end_key))
            return self
        starts = tuple(start_key)
        if not starts:
            raise GraphValidationError("add_edge() got an empty list of start nodes")
        for s in starts:
            if s == END:
                raise GraphValidationError("END cannot be a start node", node=END)
        if end_key == START:
            raise GraphValidationError("START cannot be an end node", node=START)
        self.waiting_edges.add((starts, end_key))
        return self

    def add_conditional_edges(
        self,
        source: str,
        path: Callable[..., Any],
        path_map: dict[Hashable, str] | list[str] | None = None,
    ) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        """After ``source``, call ``path(state)`` to choose the next node(s)."""
        if self.compiled:
            _log.warning("Adding an edge to a graph that has already been compiled.")
        if not callable(path) and not hasattr(type(path), "ainvoke"):
            raise TypeError(
                f"The router of a conditional edge from '{source}' must be callable (or a "
                f"runnable), got {path!r}"
            )
        branch = Branch(source, path, path_map)
        if branch.name in self.branches[source]:
            raise GraphValidationError(
                f"Branch with name `{branch.name}` already exists for node `{source}`", node=source
            )
        self.branches[source][branch.name] = branch
        if branch.input_schema is not None:
            # a router annotated with a narrower schema sees only that schema's keys
            self._add_schema(branch.input_schema)
        return self

    def add_sequence(self, nodes: Sequence[Callable[..., Any] | tuple[str, Callable[..., Any]]]) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        """Add nodes that run one after another, with edges between them."""
        if len(nodes) < 1:
            raise GraphValidationError("Sequence requires at least one node.")
        previous: str | None = None
        for item in nodes:
            if isinstance(item, tuple) and len(item) == 2:
                name, action = item
            else:
                name, action = callable_name(item), item
            if name in self.nodes:
                raise GraphValidationError(
                    f"Node names must be unique: node with the name '{name}' already exists. "
                    "To add two callables with the same name (two lambdas, say), pass them as "
                    "(name, callable) tuples.",
                    node=name,
                )
            self.add_node(name, action)
            if previous is not None:
                self.add_edge(previous, name)
            previous = name
        return self

    def set_entry_point(self, key: str) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        """Same as ``add_edge(START, key)``."""
        return self.add_edge(START, key)

    def set_conditional_entry_point(
        self, path: Callable[..., Any], path_map: dict[Hashable, str] | list[str] | None = None
    ) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        """Same as ``add_conditional_edges(START, path, path_map)``."""
        return self.add_conditional_edges(START, path, path_map)

    def set_finish_point(self, key: str) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        """Same as ``add_edge(key, END)``."""
        return self.add_edge(key, END)

    # -- validation and compile ----------------------------------------------------------
    def validate(
        self, interrupt: Sequence[str] | None = None, *, strict: bool = False
    ) -> StateGraph[StateT, ContextT, InputT, OutputT]:
        """Check the graph; raises ``GraphValidationError`` naming what is wrong.
        ``strict=True`` also refuses nodes that nothing can route to."""
        from actorgraph.graph._validate import validate_graph

        validate_graph(self, interrupt, strict=strict)
        return self

    def compile(
        self,
        checkpointer: Any = None,
        *,
        cache: Any = None,
        store: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        debug: bool = False,
        name: str | None = None,
        strict: bool = False,
        transformers: Any = None,
    ) -> CompiledStateGraph[StateT, ContextT, InputT, OutputT]:
        """Check the graph and build its runnable form.

        ``strict=True`` opts into checks LangGraph doesn't make (by default the compiled
        graph behaves exactly as LangGraph's): a node that nothing can route to fails
        compile; a node writing a key the state doesn't have fails the run instead of the
        key being dropped; ``Command(graph=Command.PARENT)`` from a graph that isn't a
        subgraph is an ``InvalidUpdateError``; resuming is strict (see
        ``UnknownInterruptError``). ``transformers``: stream transformer classes (or
        ``scope -> transformer`` factories) every ``stream_events(version="v3")`` run of
        it gets.
        """
        from actorgraph.graph._compile import compile_graph
        from actorgraph.persistence._saver_api import ensure_valid_checkpointer

        interrupts = [
            n
            for lst in (interrupt_before, interrupt_after)
            if lst and lst != "*"
            for n in lst
        ]
        ensure_valid_checkpointer(checkpointer)
        self.validate(interrupts, strict=strict)
        compiled = compile_graph(
            self,
            checkpointer=checkpointer,
            cache=cache,
            store=store,
            interrupt_before=interrupt_before or (),
            interrupt_after=interrupt_after or (),
            debug=debug,
            name=name or "LangGraph",
            strict=strict,
        )
        if transformers:
            compiled.stream_transformers = tuple(transformers)
        self.compiled = True
        return compiled
