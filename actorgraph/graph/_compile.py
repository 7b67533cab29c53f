"""``StateGraph.compile()``: builder -> engine ``Program``.

Each node gets a trigger channel (``branch:to:<node>``) that edges write to, each
``add_edge([a, b], c)`` a join channel, and the input a ``__start__`` channel read by the
hidden ``__start__`` node. The per-node ``finish`` function built here turns a node's
return value into writes: the update (checked against the state's keys), its static
edges, its ``Command.goto`` and its conditional edges.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from actorgraph._constants import DEFAULT_ERROR_HANDLER, END, ERROR_HANDLER_PREFIX, START
from actorgraph._schema_values import object_to_pairs
from actorgraph._types import Command, Send
from actorgraph.actors._messages import SendMsg
from actorgraph.actors._policies import sync_timeout_unsupported
from actorgraph.actors._program import NodeSpec, Program
from actorgraph.channels import (
    EphemeralValue,
    LastValueAfterFinish,
    NamedBarrierValue,
    NamedBarrierValueAfterFinish,
)
from actorgraph.errors import ErrorCode, InvalidUpdateError, ParentCommand, create_error_message
from actorgraph.persistence._serde import register_schema_types
from actorgraph.graph._branch import Branch
from actorgraph.graph._migrate import LayoutMigration
from actorgraph.actors._callable import bind_callable, has_native_async
from actorgraph.actors._context_schema import context_coercer
from actorgraph.graph._schema import ROOT
from actorgraph.graph._subgraph import bind_subgraph, find_subgraph, is_compiled_graph

if TYPE_CHECKING:
    from actorgraph.graph._compiled import CompiledStateGraph
    from actorgraph.graph._state import StateGraph

__all__ = ("compile_graph", "trigger_channel")

_log = logging.getLogger("actorgraph.graph")


def trigger_channel(node: str) -> str:
    return f"branch:to:{node}"


def _not_a_dict(where: str, value: Any, node: str | None = None) -> InvalidUpdateError:
    return InvalidUpdateError(
        create_error_message(
            message=(
                f"{where} must return a dict of state updates, a Command or None; "
                f"got {type(value).__name__}: {value!r}"
            ),
            error_code=ErrorCode.INVALID_GRAPH_NODE_RETURN_VALUE,
        ),
        node=node,
        value=value,
    )


class _UpdateReader:
    """Turns a node's return value into ``(key, value)`` writes, checking every key."""

    __slots__ = ("node", "keys", "node_names", "schema_types", "strict", "root")

    def __init__(
        self,
        node: str,
        keys: frozenset[str],
        node_names: frozenset[str],
        schema_types: frozenset[type] = frozenset(),
        strict: bool = False,
    ) -> None:
        self.node = node
        self.keys = keys
        self.node_names = node_names
        self.schema_types = schema_types
        # the state is a bare value (one __root__ channel): whatever a node returns is it
        self.root = keys == {ROOT}
        # strict: a key the state doesn't have is an error; otherwise it is dropped, as
        # LangGraph drops it
        self.strict = strict

    def dict_pairs(self, value: dict[str, Any]) -> list[tuple[str, Any]]:
        if not self.keys.issuperset(value):
            if self.strict:
                self._unknown(value)
            return [(k, v) for k, v in value.items() if k in self.keys]
        return list(value.items())

    def pairs(self, value: Any) -> list[tuple[str, Any]]:
        if self.root:
            return [(ROOT, value)]
        if type(value) is dict:
            return self.dict_pairs(value)
        pairs = object_to_pairs(value)
        if pairs is None:
            raise _not_a_dict(f"Node '{self.node}'", value, self.node)
        if type(value) not in self.schema_types and not self.keys.issuperset(k for k, _ in pairs):
            raise InvalidUpdateError(
                f"Node '{self.node}' returned a {type(value).__name__} object, which is not a "
                f"state update: return a dict of state keys instead (state keys: "
                f"{sorted(self.keys)}).",
                node=self.node,
                value=value,
            )
        return self._known(pairs)

    def _known(self, pairs: Sequence[tuple[str, Any]]) -> list[tuple[str, Any]]:
        keys = self.keys
        if all(k in keys for k, _ in pairs):
            return list(pairs)
        if self.strict:
            self._unknown([k for k, _ in pairs])
        return [(k, v) for k, v in pairs if k in keys]

    def _unknown(self, keys: Any) -> None:
        bad = sorted(k for k in keys if k not in self.keys)
        raise InvalidUpdateError(
            f"Node '{self.node}' wrote key(s) {bad} that the graph's state doesn't have. "
            f"State keys: {sorted(self.keys)}",
            node=self.node,
            key=bad[0] if bad else None,
        )

    def command(self, cmd: Command[Any], writes: list[tuple[str, Any]], sends: list[SendMsg]) -> None:
        if cmd.graph is not None:
            if cmd.graph == Command.PARENT:
                raise ParentCommand(cmd)
            raise InvalidUpdateError(
                f"Node '{self.node}' returned Command(graph={cmd.graph!r}): graph must be None "
                "(this graph) or Command.PARENT",
                node=self.node,
                value=cmd,
            )
        if cmd.update is not None:
            pairs = cmd._update_as_tuples()
            if not self.root and any(k == ROOT for k, _ in pairs):
                raise _not_a_dict(f"Node '{self.node}' (Command.update)", cmd.update, self.node)
            writes.extend(self._known(pairs))
        if cmd.goto:
            self.goto(cmd.goto, writes, sends)

    def goto(self, goto: Any, writes: list[tuple[str, Any]], sends: list[SendMsg]) -> None:
        items = goto if isinstance(goto, (list, tuple)) else (goto,)
        for item in items:
            if isinstance(item, Send):
                msg = self.send(item)
                if msg is not None:
                    sends.append(msg)
            elif isinstance(item, str):
                if item == END:
                    continue
                if item not in self.node_names:
                    if not self.strict:
                        _log.warning(
                            "Node '%s' returned Command(goto=%r), which is not a node of this "
                            "graph: ignoring it.",
                            self.node,
                            item,
                        )
                        continue
                    raise InvalidUpdateError(
                        f"Node '{self.node}' returned Command(goto={item!r}), which is not a node "
                        f"of this graph. Known nodes: {sorted(self.node_names)}",
                        node=self.node,
                        value=item,
                    )
                writes.append((trigger_channel(item), None))
            else:
                raise InvalidUpdateError(
                    f"Node '{self.node}': Command.goto takes node names or Send objects, got "
                    f"{type(item).__name__}: {item!r}",
                    node=self.node,
                    value=item,
                )

    def send(self, send: Send) -> SendMsg | None:
        if send.node == END:
            raise InvalidUpdateError(f"Node '{self.node}': cannot Send to the END node", node=self.node, value=send)
        if send.node not in self.node_names:
            if not self.strict:
                _log.warning(
                    "Node '%s' sent Send(%r, ...) to a node that doesn't exist: ignoring it.",
                    self.node,
                    send.node,
                )
                return None
            raise InvalidUpdateError(
                f"Node '{self.node}' sent Send({send.node!r}, ...) to a node that doesn't exist. "
                f"Known nodes: {sorted(self.node_names)}",
                node=self.node,
                value=send,
            )
        return SendMsg(node=send.node, arg=send.arg, timeout=send.timeout)


class _Finish:
    """``NodeSpec.finish`` for a user node: update + edges + conditional edges."""

    __slots__ = ("reader", "static", "branches", "state_mapper", "managed", "nodes")

    def __init__(
        self,
        reader: _UpdateReader,
        static: list[tuple[str, Any]],
        branches: list[Branch],
        state_mapper: Any,
        managed: tuple[tuple[str, Any], ...] = (),
    ) -> None:
        self.reader = reader
        self.static = static
        self.branches = branches
        self.state_mapper = state_mapper
        self.managed = managed
        self.nodes = reader.node_names

    def __call__(self, tctx: Any, result: Any) -> Any:
        writes = tctx.writes
        if result is not None:
            if type(result) is dict and not self.reader.root:
                reader = self.reader
                if reader.keys.issuperset(result):
                    writes.extend(result.items())
                else:
                    writes.extend(reader.dict_pairs(result))
            elif isinstance(result, Command):
                self.reader.command(result, writes, tctx.sends)
            elif isinstance(result, (list, tuple)) and any(isinstance(r, Command) for r in result):
                # several updates at once: Commands and plain updates, applied in order
                for item in result:
                    if isinstance(item, Command):
                        self.reader.command(item, writes, tctx.sends)
                    elif item is not None:
                        writes.extend(self.reader.pairs(item))
            else:
                writes.extend(self.reader.pairs(result))
        if self.static:
            writes.extend(self.static)
        if self.branches:
            return self._route(tctx, result)
        return None

    def _route(self, tctx: Any, output: Any = None) -> Any:
        raw = tctx.run.reader.fresh(tctx.writes)
        if self.managed:
            step, stop = tctx.spec.step, tctx.run.stop
            for key, get in self.managed:
                raw[key] = get(step, stop)
        state = self.state_mapper(raw) if self.state_mapper is not None else raw
        trace = tctx.trace
        if trace is not None and trace.run is not None:
            return self._route_traced(tctx, state, raw, output)
        pending = []
        for branch in self.branches:
            bound = branch.bind()
            arg = _router_input(branch, state, raw, output)
            if bound.is_async:
                pending.append((branch, arg))
            else:
                self._apply(tctx, branch, bound.call(arg, tctx))
        if pending:
            return self._route_async(tctx, pending)
        return None

    async def _route_traced(self, tctx: Any, state: Any, raw: Any, output: Any) -> None:
        """Routers of a traced task: each a child run of the task's run (after the node's
        own call and its writes, as LangGraph numbers them)."""
        from actorgraph.actors._langchain_trace import traced_call

        for i, branch in enumerate(self.branches):
            bound = branch.bind()
            arg = _router_input(branch, state, raw, output)
            result = await traced_call(tctx, branch.name, f"seq:step:{i + 3}", arg, lambda: bound.call(arg, tctx))  # noqa: B023
            self._apply(tctx, branch, result)

    async def _route_async(self, tctx: Any, branches: list[tuple[Branch, Any]]) -> None:
        for branch, arg in branches:
            self._apply(tctx, branch, await branch.bind().call(arg, tctx))

    def _apply(self, tctx: Any, branch: Branch, result: Any) -> None:
        targets, sends = branch.route(result, self.nodes, self.reader.strict)
        for t in targets:
            tctx.writes.append((trigger_channel(t), None))
        for s in sends:
            msg = self.reader.send(s)
            if msg is not None:
                tctx.sends.append(msg)


class _StartFinish(_Finish):
    """``finish`` of the hidden ``__start__`` node: writes the input into the state."""

    __slots__ = ("input_keys",)

    def __init__(self, input_keys: frozenset[str], *args: Any) -> None:
        super().__init__(*args)
        self.input_keys = input_keys

    def __call__(self, tctx: Any, value: Any) -> Any:
        keys = self.input_keys
        if self.reader.root:
            tctx.writes.append((ROOT, value))
            if self.static:
                tctx.writes.extend(self.static)
            if self.branches:
                return self._route(tctx)
            return None
        if type(value) is dict:
            pairs = [(k, v) for k, v in value.items() if k in keys]
        else:
            pairs = [(k, v) for k, v in object_to_pairs(value) or () if k in keys]
        tctx.writes.extend(pairs)
        if self.static:
            tctx.writes.extend(self.static)
        if self.branches:
            return self._route(tctx)
        return None


def _handler_name(node: str, own: Any, default: Any) -> str | None:
    if own is not None:
        return f"{ERROR_HANDLER_PREFIX}{node}"
    if default is not None:
        return DEFAULT_ERROR_HANDLER
    return None


def _router_input(branch: Branch, state: Any, raw: dict[str, Any], output: Any) -> Any:
    """What a router gets: the state as its schema reads it; a router without a schema of
    its own also sees the keys the node returned that the reading left out (LangGraph's
    passthrough)."""
    arg = state if branch.view is None else branch.view(raw)
    if branch.input_schema is None and type(output) is dict and type(arg) is dict and not output.keys() <= arg.keys():
        return {**output, **arg}
    return arg


def _schema_view(info: Any) -> Any:
    """The state as a router annotated with a narrower schema sees it: that schema's keys,
    as that schema's type."""
    keys = tuple(info)
    mapper = info.mapper

    def view(raw: dict[str, Any]) -> Any:
        values = {k: raw[k] for k in keys if k in raw}
        return mapper(values) if mapper is not None else values

    return view


def _identity(value: Any, tctx: Any) -> Any:
    return value


def compile_graph(
    builder: StateGraph[Any, Any, Any, Any],
    *,
    checkpointer: Any,
    cache: Any,
    store: Any,
    interrupt_before: Any,
    interrupt_after: Any,
    debug: bool,
    name: str,
    strict: bool = False,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    from actorgraph.graph._compiled import CompiledStateGraph

    node_names = frozenset(builder.nodes)
    defaults = builder._node_defaults
    register_schema_types(*builder.schemas)
    state_channels = dict(builder.channels)
    state_keys = tuple(state_channels)
    key_set = frozenset(state_keys)
    state_info = builder.schemas[builder.state_schema]
    output_info = builder.schemas[builder.output_schema]
    input_info = builder.schemas[builder.input_schema]
    root = state_info.kind == "root"
    # a bare-value state: routers get the value itself
    state_mapper = (lambda values: values.get(ROOT)) if root else state_info.mapper
    output_keys = tuple(output_info.channels) if output_info.kind != "dict" else state_keys
    input_keys = frozenset(input_info.channels) if input_info.kind != "dict" else key_set

    channels: dict[str, Any] = dict(state_channels)
    channels[START] = EphemeralValue(Any)
    for n, spec in builder.nodes.items():
        channels[trigger_channel(n)] = LastValueAfterFinish(Any) if spec.defer else EphemeralValue(Any, guard=False)
    triggers: dict[str, list[str]] = {n: [trigger_channel(n)] for n in builder.nodes}
    static: defaultdict[str, list[tuple[str, Any]]] = defaultdict(list)
    for s, e in sorted(builder.edges):
        if e != END:
            static[s].append((trigger_channel(e), None))
    for starts, end in sorted(builder.waiting_edges):
        if end == END:
            continue
        key = f"join:{'+'.join(starts)}:{end}"
        deferred = builder.nodes[end].defer
        channels[key] = (NamedBarrierValueAfterFinish if deferred else NamedBarrierValue)(str, set(starts))
        triggers[end].append(key)
        for s in starts:
            static[s].append((key, s))

    # a router reads the channels of its own schema (its first parameter's annotation),
    # else of its node's input schema (the state schema's from START), as LangGraph;
    # the whole state when that is every channel
    everything = key_set == frozenset(state_info.channels)
    for source, branches in builder.branches.items():
        for branch in branches.values():
            schema = branch.input_schema or (
                builder.nodes[source].input_schema if source in builder.nodes else builder.state_schema
            )
            info = builder.schemas.get(schema, state_info)
            whole = info.kind in ("dict", "root") or (info is state_info and everything)
            branch.view = None if whole else _schema_view(info)

    nodes: dict[str, NodeSpec] = {}
    schema_types = frozenset(t for t in builder.schemas if isinstance(t, type))
    start_reader = _UpdateReader(START, key_set, node_names, schema_types, strict)
    nodes[START] = NodeSpec(
        START,
        triggers=(START,),
        read_channel=START,
        call=_identity,
        is_async=False,
        blocking=False,
        finish=_StartFinish(
            input_keys,
            start_reader,
            static.get(START, []),
            list(builder.branches.get(START, {}).values()),
            state_mapper,
            tuple(state_info.managed.items()),
        ),
        hidden=True,
        # it only maps the input to writes (and runs START's routers): no job of its own
        # unless a router is async
        run_now=not any(b.bind().is_async for b in builder.branches.get(START, {}).values()),
        sync_finish=not any(b.bind().is_async for b in builder.branches.get(START, {}).values()),
    )
    for n, spec in builder.nodes.items():
        info = builder.schemas[spec.input_schema]
        if is_compiled_graph(spec.action):
            bound = bind_subgraph(spec.action, key_set)
            is_subgraph = True
            subgraph = spec.action
        else:
            bound = bind_callable(spec.action, f"Node '{n}'")
            is_subgraph = False
            subgraph = find_subgraph(spec.action)
        reads = tuple(info.channels) if info.kind != "dict" else state_keys
        read_channel = ROOT if info.kind == "root" else None
        timeout = spec.timeout or defaults.timeout
        if timeout is not None and not has_native_async(spec.action):
            raise sync_timeout_unsupported(n)
        nodes[n] = NodeSpec(
            n,
            triggers=triggers[n],
            reads=None if read_channel else reads,
            read_channel=read_channel,
            managed=tuple(info.managed.items()),
            mapper=info.mapper,
            call=bound.call,
            is_async=bound.is_async,
            finish=_Finish(
                _UpdateReader(n, key_set, node_names, schema_types, strict),
                static.get(n, []),
                list(builder.branches.get(n, {}).values()),
                state_mapper,
                tuple(state_info.managed.items()),
            ),
            metadata=spec.metadata,
            retry_policy=spec.retry_policy or defaults.retry_policy,
            cache_policy=spec.cache_policy or defaults.cache_policy,
            timeout=timeout,
            defer=spec.defer,
            is_subgraph=is_subgraph,
            subgraph=subgraph,
            error_handler=_handler_name(n, spec.error_handler, defaults.error_handler),
            trace_policy=spec.trace_policy,
            call_target=spec.action,
            sync_finish=not any(b.bind().is_async for b in builder.branches.get(n, {}).values()),
        )
        handler = spec.error_handler or defaults.error_handler
        if handler is not None:
            h_name = _handler_name(n, spec.error_handler, defaults.error_handler)
            assert h_name is not None
            if h_name in nodes:
                continue  # the default handler, shared by every node without its own
            h_bound = bind_callable(handler, f"error handler of node '{n}'")
            # a node of its own: triggered by nothing, run when a node it handles fails;
            # its update goes through no edges (it replaces the failure, as in LangGraph)
            nodes[h_name] = NodeSpec(
                h_name,
                triggers=(),
                reads=None if read_channel else reads,
                read_channel=read_channel,
                managed=tuple(info.managed.items()),
                mapper=info.mapper,
                call=h_bound.call,
                is_async=h_bound.is_async,
                finish=_Finish(
                    _UpdateReader(h_name, key_set, node_names, schema_types, strict),
                    [],
                    [],
                    state_mapper,
                    tuple(state_info.managed.items()),
                ),
                call_target=handler,
            )

    # a node's error handler is listed just before it, as in LangGraph
    ordered: dict[str, NodeSpec] = {}
    for n, spec_ in nodes.items():
        h = spec_.error_handler
        if h is not None and h not in ordered:
            ordered[h] = nodes[h]
        ordered.setdefault(n, spec_)
    nodes = ordered

    def map_input(value: Any) -> list[tuple[str, Any]]:
        if not root and type(value) is not dict and object_to_pairs(value) is None:
            raise InvalidUpdateError(
                create_error_message(
                    message=(
                        f"Graph '{name}' input must be a dict of state keys (or a Command), got "
                        f"{type(value).__name__}: {value!r}"
                    ),
                    error_code=ErrorCode.INVALID_GRAPH_NODE_RETURN_VALUE,
                ),
                value=value,
            )
        return [(START, value)]

    def map_command(cmd: Command[Any]) -> tuple[list[tuple[str, Any]], list[SendMsg]]:
        if cmd.graph == Command.PARENT:
            raise InvalidUpdateError(
                "A graph's input can't be Command(graph=Command.PARENT): there is no parent graph", value=cmd
            )
        if cmd.resume is not None:
            raise InvalidUpdateError(
                "Command(resume=...) answers an interrupt of a saved thread: compile the graph "
                "with a checkpointer and pass the thread's config",
                value=cmd,
            )
        if not cmd.goto:
            return map_input(cmd.update if cmd.update is not None else {}), []
        writes: list[tuple[str, Any]] = []
        sends: list[SendMsg] = []
        reader = _UpdateReader("__input__", key_set, node_names, strict=strict)
        reader.command(cmd, writes, sends)
        return writes, sends

    def command_writes(cmd: Command[Any]) -> tuple[list[tuple[str, Any]], list[SendMsg]]:
        writes: list[tuple[str, Any]] = []
        sends: list[SendMsg] = []
        reader = _UpdateReader("__input__", key_set, node_names, strict=strict)
        reader.command(Command(update=cmd.update, goto=cmd.goto), writes, sends)
        return writes, sends

    program = Program(
        name=name,
        nodes=nodes,
        channels=channels,
        state_keys=state_keys,
        output_keys=output_keys,
        stream_keys=state_keys,
        single_output=ROOT if root else None,
        input_channel=START,
        map_input=map_input,
        map_command=map_command,
        command_writes=command_writes,
        coerce_context=context_coercer(builder.context_schema),
        stream_mode="updates",
        checkpointer=checkpointer,
        store=store,
        cache=cache,
        interrupt_before=interrupt_before,
        interrupt_after=interrupt_after,
        debug=debug,
        strict=strict,
    )
    program.migrate = LayoutMigration(nodes, builder.edges)
    return CompiledStateGraph(builder, program, name)
