"""``Pregel``: a graph declared as nodes and channels, and the base of every compiled
graph (``CompiledStateGraph`` is a ``Pregel``).

Its settings are plain attributes, as in LangGraph, and may be changed after
construction (``app.checkpointer = saver``): run-time settings go straight into the
engine ``Program``; replacing nodes or channels builds the program again on next use.
"""

from __future__ import annotations

import copy as _copy
import warnings
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic

from actorgraph._constants import TASKS
from actorgraph._jsonschema import context_jsonschema, value_model
from actorgraph.warnings import LangGraphDeprecatedSinceV10
from actorgraph._types import RetryPolicy, Send
from actorgraph.actors._program import Program
from actorgraph.pregel._runnable import GraphRunnable, merge_configs
from actorgraph.channels import BaseChannel, Topic
from actorgraph.pregel._node import NodeBuilder, PregelNode
from actorgraph.persistence._saver_api import ensure_valid_checkpointer
from actorgraph.pregel._protocol import ContextT, InputT, OutputT, PregelProtocol, StateT

if TYPE_CHECKING:
    from actorgraph.pregel._typed import TypedRuns as _TypedRuns
else:  # the typed signatures are for type checkers: at run time GraphRunnable's methods run

    class _TypedRuns(Generic[StateT, ContextT, InputT, OutputT]):
        __slots__ = ()

__all__ = ("Pregel",)

_UNSET: Any = object()


class _ProgramField:
    """A setting the engine reads from the ``Program``: kept there once it is built (so
    a change reaches the next run), and on the graph until then."""

    __slots__ = ("name", "attr", "default")

    def __init__(self, attr: str, default: Any) -> None:
        self.attr = attr
        self.default = default
        self.name = attr

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        program = obj.__dict__.get("_program")
        if program is not None:
            return getattr(program, self.attr)
        return obj.__dict__.get("_settings", {}).get(self.name, self.default)

    def __set__(self, obj: Any, value: Any) -> None:
        if self.attr == "retry_policy":
            value = (value,) if isinstance(value, RetryPolicy) else tuple(value or ())
        elif self.attr == "step_timeout" and value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"step_timeout must be a positive number of seconds or None, got {value!r}")
        obj.__dict__.setdefault("_settings", {})[self.name] = value
        program = obj.__dict__.get("_program")
        if program is not None:
            setattr(program, self.attr, value)


_STRUCTURE = frozenset(
    {"nodes", "channels", "input_channels", "output_channels", "stream_channels", "context_schema"}
)


class Pregel(  # type: ignore[misc]  # the typed overloads narrow GraphRunnable's signatures
    _TypedRuns[StateT, ContextT, InputT, OutputT],
    GraphRunnable,
    PregelProtocol[StateT, ContextT, InputT, OutputT],
    Generic[StateT, ContextT, InputT, OutputT],
):
    """Actors (nodes) that read channels and write channels, run in super-steps.

    ::

        app = Pregel(
            nodes={"one": NodeBuilder().subscribe_only("a").do(lambda x: x + x).write_to("b")},
            channels={"a": EphemeralValue(str), "b": LastValue(str)},
            input_channels="a",
            output_channels="b",
        )
        app.invoke("foo")  # 'foofoo'
    """

    checkpointer = _ProgramField("checkpointer", None)
    store = _ProgramField("store", None)
    cache = _ProgramField("cache", None)
    retry_policy = _ProgramField("retry_policy", ())
    cache_policy = _ProgramField("cache_policy", None)
    interrupt_before_nodes = _ProgramField("interrupt_before", ())
    interrupt_after_nodes = _ProgramField("interrupt_after", ())
    debug = _ProgramField("debug", False)
    stream_mode = _ProgramField("stream_mode", "values")
    step_timeout = _ProgramField("step_timeout", None)
    """Seconds each super-step may take; a step still running then fails the run with
    ``TimeoutError`` (``None``: no limit)."""
    name = _ProgramField("name", "LangGraph")  # type: ignore[assignment]

    stream_eager: bool = False
    stream_channels: str | Sequence[str] | None = None
    context_schema: Any = None

    def __init__(
        self,
        *,
        nodes: Mapping[str, PregelNode | NodeBuilder],
        channels: Mapping[str, Any] | None,
        auto_validate: bool = True,
        stream_mode: str = "values",
        stream_eager: bool = False,
        output_channels: str | Sequence[str],
        stream_channels: str | Sequence[str] | None = None,
        interrupt_after_nodes: Any = (),
        interrupt_before_nodes: Any = (),
        input_channels: str | Sequence[str],
        step_timeout: float | None = None,
        debug: bool | None = None,
        checkpointer: Any = None,
        store: Any = None,
        cache: Any = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] = (),
        cache_policy: Any = None,
        context_schema: Any = None,
        config: Any = None,
        trigger_to_nodes: Mapping[str, Sequence[str]] | None = None,
        node_error_handler_map: Mapping[str, str] | None = None,
        name: str = "LangGraph",
        stream_transformers: Sequence[Any] | None = None,
        **deprecated_kwargs: Any,
    ) -> None:
        config_type = deprecated_kwargs.get("config_type", _UNSET)
        if config_type is not _UNSET:
            warnings.warn(
                "`config_type` is deprecated and will be removed. Please use `context_schema` instead.",
                LangGraphDeprecatedSinceV10,
                stacklevel=2,
            )
            if context_schema is None:
                context_schema = config_type
        ensure_valid_checkpointer(checkpointer)
        self.__dict__["_program"] = None
        self.__dict__["_buildable"] = True
        self.nodes = {k: v.build() if isinstance(v, NodeBuilder) else v for k, v in nodes.items()}
        chans = dict(channels or {})
        if TASKS in chans and not isinstance(chans[TASKS], Topic):
            raise ValueError(f"Channel '{TASKS}' is reserved and cannot be used in the graph.")
        chans[TASKS] = Topic(Send, accumulate=False)
        self.channels = chans
        self.stream_mode = stream_mode
        self.stream_eager = stream_eager
        self.output_channels = output_channels
        self.stream_channels = stream_channels
        self.interrupt_after_nodes = interrupt_after_nodes
        self.interrupt_before_nodes = interrupt_before_nodes
        self.input_channels = input_channels
        self.step_timeout = step_timeout
        self.debug = bool(debug)
        self.checkpointer = checkpointer
        self.store = store
        self.cache = cache
        self.retry_policy = retry_policy
        self.cache_policy = cache_policy
        self.context_schema = context_schema
        self.config = config
        self.node_error_handler_map = dict(node_error_handler_map or {})
        self.name = name
        self.stream_transformers = tuple(stream_transformers or ())
        if auto_validate:
            self.validate()

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in _STRUCTURE and "_buildable" in self.__dict__:
            # a new shape: the program is built again on next use
            self.__dict__["_program"] = None

    # -- the engine program ------------------------------------------------------------
    @property
    def program(self) -> Program:  # type: ignore[override]
        program = self.__dict__.get("_program")
        if program is None:
            from actorgraph.pregel._build import build_program

            program = self.__dict__["_program"] = build_program(self)
        return program  # type: ignore[no-any-return]

    @program.setter
    def program(self, program: Program) -> None:
        self.__dict__["_program"] = program

    def validate(self) -> Pregel[StateT, ContextT, InputT, OutputT]:
        """Check the nodes and channels fit together (raises ``ValueError`` naming the
        one at fault) and build the engine program."""
        if "_buildable" in self.__dict__:
            self.__dict__["_program"] = None
        _ = self.program
        return self

    def _migrate_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Bring a checkpoint dict LangGraph saved in an older format up to the current
        one, in place (LangGraph's private hook of the same name, which its code and tests
        call). Threads loaded by a run or a state read are migrated the same way."""
        if checkpoint.get("v", 1) < 4 and checkpoint.get("pending_sends"):
            # before format 4, the Sends of the next step were kept beside the channels
            checkpoint["channel_values"][TASKS] = checkpoint.pop("pending_sends")
            checkpoint["channel_versions"][TASKS] = max(checkpoint["channel_versions"].values())
        migrate = self.program.migrate
        if migrate is not None:
            migrate(checkpoint)

    @property
    def trigger_to_nodes(self) -> Mapping[str, Sequence[str]]:
        """Channel -> the nodes a write to it triggers."""
        return self.program.trigger_to_nodes

    @property
    def stream_channels_asis(self) -> str | Sequence[str]:
        return self.stream_channels or [
            k for k, c in self.channels.items() if isinstance(c, BaseChannel) and k != TASKS
        ]

    @property
    def stream_channels_list(self) -> Sequence[str]:
        s = self.stream_channels_asis
        return [s] if isinstance(s, str) else s

    # -- config ------------------------------------------------------------------------
    def copy(self, update: dict[str, Any] | None = None) -> Any:
        """A copy of the graph with ``update`` applied to its attributes."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        if "_settings" in self.__dict__:
            new.__dict__["_settings"] = dict(self.__dict__["_settings"])
        program = self.__dict__.get("_program")
        if program is not None:
            new.__dict__["_program"] = _copy.copy(program)
        for k, v in (update or {}).items():
            setattr(new, k, v)
        return new

    def with_config(self, config: Any = None, **kwargs: Any) -> Any:
        """A copy of the graph whose runs use ``config`` (merged over its own)."""
        return self.copy({"config": merge_configs(self.config, config, kwargs)})

    # -- names and schemas -------------------------------------------------------------
    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        name = name or self.name or type(self).__name__
        if suffix:
            return name + suffix.title() if name[:1].isupper() else f"{name}_{suffix.lower()}"
        return name

    @property
    def InputType(self) -> Any:  # noqa: N802 - LangGraph's public spelling
        if isinstance(self.input_channels, str):
            channel = self.channels[self.input_channels]
            if isinstance(channel, BaseChannel):
                return channel.UpdateType
        return None

    @property
    def OutputType(self) -> Any:  # noqa: N802
        if isinstance(self.output_channels, str):
            channel = self.channels[self.output_channels]
            if isinstance(channel, BaseChannel):
                return channel.ValueType
        return None

    def get_input_schema(self, config: Any = None) -> Any:
        """A pydantic model of what ``invoke`` takes."""
        if isinstance(self.input_channels, str):
            return value_model(self.get_name("Input"), self.InputType or Any)
        keys = self.input_channels or list(self.channels)
        return fields_model(
            self.get_name("Input"),
            {k: c.UpdateType for k in keys if isinstance(c := self.channels[k], BaseChannel)},
        )

    def get_output_schema(self, config: Any = None) -> Any:
        """A pydantic model of what ``invoke`` returns."""
        if isinstance(self.output_channels, str):
            return value_model(self.get_name("Output"), self.OutputType or Any)
        return fields_model(
            self.get_name("Output"),
            {k: c.ValueType for k in self.output_channels if isinstance(c := self.channels[k], BaseChannel)},
        )

    @property
    def input_schema(self) -> Any:
        return self.get_input_schema()

    @property
    def output_schema(self) -> Any:
        return self.get_output_schema()

    def get_input_jsonschema(self, config: Any = None) -> dict[str, Any]:
        return self.get_input_schema(config).model_json_schema()  # type: ignore[no-any-return]

    def get_output_jsonschema(self, config: Any = None) -> dict[str, Any]:
        return self.get_output_schema(config).model_json_schema()  # type: ignore[no-any-return]

    def get_context_jsonschema(self) -> dict[str, Any] | None:
        """The JSON schema of the graph's ``context_schema`` (``None`` without one)."""
        return context_jsonschema(self.context_schema)

    # -- subgraphs ---------------------------------------------------------------------
    def get_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> Iterator[tuple[str, Pregel[Any, Any, Any, Any]]]:
        """The graphs its nodes run as subgraphs, as ``(namespace, graph)``."""
        for name, graph in self._node_subgraphs():
            if namespace is not None and namespace != name and not namespace.startswith(f"{name}|"):
                continue  # (whole segments: "research_review" is not "research" then more)
            if namespace == name:
                yield name, graph
                return
            if namespace is None:
                yield name, graph
            if recurse and isinstance(graph, Pregel):
                rest = namespace[len(name) + 1 :] if namespace is not None else None
                for sub_ns, sub in graph.get_subgraphs(namespace=rest, recurse=recurse):
                    yield f"{name}|{sub_ns}", sub

    def _node_subgraphs(self) -> Iterator[tuple[str, Any]]:
        """(node, the graph it runs) for each node that runs one."""
        for name, node in self.nodes.items():
            if isinstance(node, PregelNode):
                if node.subgraphs:
                    yield name, node.subgraphs[0]
            elif getattr(node, "subgraph", None) is not None:
                yield name, node.subgraph

    async def aget_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> AsyncIterator[tuple[str, Pregel[Any, Any, Any, Any]]]:
        for item in self.get_subgraphs(namespace=namespace, recurse=recurse):
            yield item

    # -- drawing ------------------------------------------------------------------------
    def get_graph(self, config: Any = None, *, xray: int | bool = False) -> Any:
        """The nodes and the channels between them, to draw."""
        from actorgraph.pregel._draw import draw_pregel

        return draw_pregel(self)

    async def aget_graph(self, config: Any = None, *, xray: int | bool = False) -> Any:
        return self.get_graph(config, xray=xray)

    # -- node cache ----------------------------------------------------------------------
    def clear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Drop the node cache's entries of ``nodes`` (of every node when ``None``)."""
        cache = self.program.cache
        if cache is not None:
            cache.clear(self._cache_namespaces(nodes))

    async def aclear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Async twin of ``clear_cache``."""
        cache = self.program.cache
        if cache is not None:
            await cache.aclear(self._cache_namespaces(nodes))

    def _cache_namespaces(self, nodes: Sequence[str] | None) -> list[tuple[str, ...]]:
        from actorgraph.actors._policies import CACHE_NS, function_identity

        specs = self.program.nodes
        names = [n for n, s in specs.items() if not s.hidden] if nodes is None else list(nodes)
        unknown = [n for n in names if n not in specs]
        if unknown:
            raise ValueError(f"clear_cache: unknown node(s) {unknown}; nodes are {sorted(n for n, s in specs.items() if not s.hidden)}")
        return [(CACHE_NS, function_identity(specs[n].call_target), n) for n in names]

    # -- runnable extras -----------------------------------------------------------------
    def map(self) -> _Each:
        """A runnable that runs this graph on each item of a list, in order."""
        return _Each(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.get_name()!r} nodes={list(self.program.nodes)}>"


class _Each:
    """``graph.map()``: the graph run once per item of its input list."""

    __slots__ = ("graph",)

    def __init__(self, graph: GraphRunnable) -> None:
        self.graph = graph

    def invoke(self, inputs: Sequence[Any], config: Any = None, **kwargs: Any) -> list[Any]:
        return [self.graph.invoke(x, config, **kwargs) for x in inputs]

    async def ainvoke(self, inputs: Sequence[Any], config: Any = None, **kwargs: Any) -> list[Any]:
        return [await self.graph.ainvoke(x, config, **kwargs) for x in inputs]

    def __repr__(self) -> str:
        return f"{self.graph!r}.map()"


def fields_model(name: str, fields: Mapping[str, Any]) -> Any:
    """A pydantic model with one optional field per channel."""
    from pydantic import create_model

    return create_model(name, **{k: (typ, None) for k, typ in fields.items()})  # type: ignore[call-overload]
