"""A ``Pregel`` graph -> the engine's ``Program``, built once (and again only when the
graph's nodes or channels are replaced).

Each ``PregelNode`` becomes a ``NodeSpec``: its triggers, what it reads (one channel's
value, or a dict of several), its body (the ``do`` steps chained, a graph run as a
subgraph), and a ``finish`` that sends the output through its writers. The input is
written straight to the input channels, so the first step runs the nodes they trigger.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from actorgraph._constants import END, RESERVED_NAMES, START, TASKS
from actorgraph._types import Command, Send
from actorgraph.actors._callable import BoundCallable, bind_callable, has_native_async
from actorgraph.actors._context_schema import context_coercer
from actorgraph.actors._messages import SendMsg
from actorgraph.actors._policies import sync_timeout_unsupported, validate_cache_policy, validate_retry_policy
from actorgraph.actors._program import NodeSpec, Program
from actorgraph.channels import BaseChannel
from actorgraph.errors import EmptyInputError, InvalidUpdateError
from actorgraph.pregel._node import DEFAULT_BOUND, PregelNode, RunnableSeq
from actorgraph.pregel._write import ChannelWrite, writes_of

if TYPE_CHECKING:
    from actorgraph.pregel._pregel import Pregel

__all__ = ("build_program", "validate_graph")

_RESERVED_CHANNELS = frozenset({TASKS, START, END})


def _known(channels: Mapping[str, Any]) -> str:
    return repr(sorted(channels))[:100]


def validate_graph(
    nodes: Mapping[str, Any],
    channels: Mapping[str, Any],
    input_channels: str | Sequence[str],
    output_channels: str | Sequence[str],
    stream_channels: str | Sequence[str] | None,
    interrupt_after_nodes: Any,
    interrupt_before_nodes: Any,
) -> None:
    """Raise ``ValueError``/``TypeError`` naming the node or channel a graph can't use."""
    for chan in channels:
        if chan in _RESERVED_CHANNELS:
            raise ValueError(f"Channel name '{chan}' is reserved")
    subscribed: set[str] = set()
    for name, node in nodes.items():
        if name in RESERVED_NAMES or name == TASKS:
            raise ValueError(f"Node name '{name}' is reserved")
        if not isinstance(node, PregelNode):
            raise TypeError(f"Invalid node type {type(node)}, expected PregelNode or NodeBuilder")
        subscribed.update(node.triggers)
        reads = [node.channels] if isinstance(node.channels, str) else node.channels
        for chan in reads:
            if chan not in channels:
                raise ValueError(f"Node {name} reads channel '{chan}' not in known channels: '{_known(channels)}'")
    for chan in subscribed:
        if chan not in channels:
            raise ValueError(f"Subscribed channel '{chan}' not in known channels: '{_known(channels)}'")
    if isinstance(input_channels, str):
        if input_channels not in channels:
            raise ValueError(f"Input channel '{input_channels}' not in known channels: '{_known(channels)}'")
        if input_channels not in subscribed:
            raise ValueError(f"Input channel {input_channels} is not subscribed to by any node")
    else:
        for chan in input_channels:
            if chan not in channels:
                raise ValueError(f"Input channel '{chan}' not in '{_known(channels)}'")
        if all(chan not in subscribed for chan in input_channels):
            raise ValueError(f"None of the input channels {input_channels} are subscribed to by any node")
    outputs = {output_channels} if isinstance(output_channels, str) else set(output_channels)
    if isinstance(stream_channels, str):
        outputs.add(stream_channels)
    elif stream_channels is not None:
        outputs.update(stream_channels)
    for chan in outputs:
        if chan not in channels:
            raise ValueError(f"Output channel '{chan}' not in known channels: '{_known(channels)}'")
    for which in (interrupt_after_nodes, interrupt_before_nodes):
        if which != "*":
            for n in which:
                if n not in nodes:
                    raise ValueError(f"Node {n} not in nodes")


# -- a node's body ------------------------------------------------------------------------
def _is_graph(obj: Any) -> bool:
    from actorgraph.pregel._runnable import GraphRunnable

    return isinstance(obj, GraphRunnable)


def _passthrough(inp: Any, tctx: Any) -> Any:
    return inp


def _bind_step(step: Any, what: str) -> BoundCallable:
    if step is DEFAULT_BOUND:
        return BoundCallable(step, _passthrough, False, frozenset(), True)
    if _is_graph(step):
        # a graph as a node's body runs as a subgraph of the task (its namespace, stream
        # and checkpointer), and its output is the node's output as it is
        async def run_subgraph(inp: Any, tctx: Any) -> Any:
            return await step.run_as_node(inp)

        return BoundCallable(step, run_subgraph, True, frozenset(), True)
    return bind_callable(step, what)


def _chain(bounds: list[BoundCallable]) -> BoundCallable:
    """One callable that passes the input through every step in order."""
    if len(bounds) == 1:
        return bounds[0]
    if not any(b.is_async for b in bounds):
        calls = [b.call for b in bounds]

        def call_all(inp: Any, tctx: Any) -> Any:
            for c in calls:
                inp = c(inp, tctx)
            return inp

        return BoundCallable(bounds, call_all, False, frozenset(), True)

    async def acall_all(inp: Any, tctx: Any) -> Any:
        for b in bounds:
            out = b.call(inp, tctx)
            if b.is_async or inspect.isawaitable(out):
                out = await out
            inp = out
        return inp

    return BoundCallable(bounds, acall_all, True, frozenset(), True)


class _Writers:
    """``NodeSpec.finish`` of a Pregel node: its output through its writers."""

    __slots__ = ("node", "entries", "nodes")

    def __init__(self, node: str, entries: list[Any], nodes: frozenset[str]) -> None:
        self.node = node
        self.entries = entries
        self.nodes = nodes

    def __call__(self, tctx: Any, result: Any) -> None:
        sends: list[Send] = []
        writes_of(self.entries, result, tctx.writes, sends)
        for s in sends:
            tctx.sends.append(_send(self.node, s, self.nodes))


def _send(where: str, send: Send, nodes: frozenset[str]) -> SendMsg:
    if send.node not in nodes:
        raise InvalidUpdateError(
            f"{where} sent Send({send.node!r}, ...) to a node that doesn't exist. Known nodes: {sorted(nodes)}",
            value=send,
        )
    return SendMsg(node=send.node, arg=send.arg, timeout=send.timeout)


def _node_spec(name: str, node: PregelNode, nodes: frozenset[str], defaults: Pregel[Any, Any, Any, Any]) -> NodeSpec:
    steps = node.bound.steps if isinstance(node.bound, RunnableSeq) else (node.bound,)
    if node.timeout is not None and not all(
        s is DEFAULT_BOUND or has_native_async(s)
        for s in (*steps, *(w for w in node.writers if not isinstance(w, ChannelWrite)))
    ):
        raise sync_timeout_unsupported(name)
    bound = _chain([_bind_step(s, f"Node '{name}'") for s in steps])
    entries: list[Any] = []
    for w in node.writers:
        if not isinstance(w, ChannelWrite):
            raise TypeError(
                f"Node '{name}': a writer must be a ChannelWrite (declare writes with "
                f"NodeBuilder().write_to(...)), got {type(w).__name__}: {w!r}"
            )
        entries.extend(w.writes)
    for p in node.retry_policy or ():
        validate_retry_policy(p, f"Node '{name}'")
    if node.cache_policy is not None:
        validate_cache_policy(node.cache_policy, f"Node '{name}'")
    if isinstance(node.channels, str):
        read_channel: str | None = node.channels
        reads: tuple[str, ...] | None = None
    else:
        read_channel, reads = None, tuple(node.channels)
    return NodeSpec(
        name,
        triggers=tuple(node.triggers),
        reads=reads,
        read_channel=read_channel,
        mapper=node.mapper,
        call=bound.call,
        is_async=bound.is_async,
        blocking=node.bound is not DEFAULT_BOUND,
        finish=_Writers(f"Node '{name}'", entries, nodes),
        tags=node.tags or (),
        metadata=node.metadata,
        retry_policy=tuple(node.retry_policy or ()) or tuple(defaults.retry_policy or ()),
        cache_policy=node.cache_policy or defaults.cache_policy,
        timeout=node.timeout,
        # a graph as the whole body: its checkpoints and snapshots nest under the task
        is_subgraph=_is_graph(node.bound),
        subgraph=node.subgraphs[0] if node.subgraphs else None,
        call_target=node.bound,
    )


# -- input --------------------------------------------------------------------------------
def _input_mapper(input_channels: str | Sequence[str]) -> Callable[[Any], list[tuple[str, Any]]]:
    if isinstance(input_channels, str):
        channel = input_channels

        def one(value: Any) -> list[tuple[str, Any]]:
            return [(channel, value)]

        return one
    wanted = frozenset(input_channels)

    def several(value: Any) -> list[tuple[str, Any]]:
        if not isinstance(value, dict):
            raise TypeError(f"Expected chunk to be a dict, got {type(value).__name__}")
        writes = [(k, v) for k, v in value.items() if k in wanted]
        if not writes:
            raise EmptyInputError(f"Received no input for {list(input_channels)}")
        return writes

    return several


def _command_mapper(nodes: frozenset[str]) -> Callable[[Any], tuple[list[tuple[str, Any]], list[SendMsg]]]:
    def map_command(cmd: Command[Any]) -> tuple[list[tuple[str, Any]], list[SendMsg]]:
        if cmd.graph == Command.PARENT:
            raise InvalidUpdateError("There is no parent graph", value=cmd)
        writes: list[tuple[str, Any]] = []
        sends: list[SendMsg] = []
        goto = cmd.goto if isinstance(cmd.goto, (list, tuple)) else [cmd.goto] if cmd.goto else []
        for item in goto:
            if isinstance(item, Send):
                sends.append(_send("Command(goto=...)", item, nodes))
            elif isinstance(item, str):
                writes.append((f"branch:to:{item}", START))
            else:
                raise TypeError(f"In Command.goto, expected Send/str, got {type(item).__name__}")
        if cmd.update:
            writes.extend(cmd._update_as_tuples())
        return writes, sends

    return map_command


def _channel_list(channels: str | Sequence[str]) -> tuple[str, ...]:
    return (channels,) if isinstance(channels, str) else tuple(channels)


def build_program(graph: Pregel[Any, Any, Any, Any]) -> Program:
    """The engine program of ``graph`` (validated first)."""
    nodes: dict[str, PregelNode] = graph.nodes
    channels: dict[str, Any] = {k: v for k, v in graph.channels.items() if k != TASKS}
    validate_graph(
        nodes,
        channels,
        graph.input_channels,
        graph.output_channels,
        graph.stream_channels,
        graph.interrupt_after_nodes,
        graph.interrupt_before_nodes,
    )
    for k, c in channels.items():
        if not isinstance(c, BaseChannel):
            raise TypeError(f"Channel '{k}' must be a channel (e.g. LastValue(int)), got {type(c).__name__}: {c!r}")
    names = frozenset(nodes)
    specs = {name: _node_spec(name, node, names, graph) for name, node in nodes.items()}
    output = graph.output_channels
    stream = graph.stream_channels_asis
    program = Program(
        name=graph.name,
        nodes=specs,
        channels=channels,
        state_keys=tuple(channels),
        output_keys=_channel_list(output),
        stream_keys=_channel_list(stream),
        single_output=output if isinstance(output, str) else None,
        stream_single=stream if isinstance(stream, str) else None,
        input_channel=graph.input_channels if isinstance(graph.input_channels, str) else "",
        map_input=_input_mapper(graph.input_channels),
        map_command=_command_mapper(names),
        coerce_context=context_coercer(graph.context_schema),
        stream_mode=graph.stream_mode,
        checkpointer=graph.checkpointer,
        store=graph.store,
        cache=graph.cache,
        interrupt_before=graph.interrupt_before_nodes,
        interrupt_after=graph.interrupt_after_nodes,
        debug=bool(graph.debug),
        retry_policy=tuple(graph.retry_policy or ()),
        cache_policy=graph.cache_policy,
    )
    program.step_timeout = graph.step_timeout
    return program
