"""What a run is, fixed when it starts: the program, the caller's config and the facts
derived from it and from the calling task (thread, namespaces, where its events go, its
context and store, durability, breakpoints, recursion limit, where sync nodes may run).

One ``RunConfig`` per run (``RunState.cfg``), set once in its constructor and never
changed after: the run's live parts sit on ``RunState``, what it resumes from on
``ResumeState``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from actorgraph._constants import CONF, CONFIG_KEY_NODE_FINISHED, CONFIG_KEY_RUNTIME, CONFIG_KEY_THREAD_ID
from actorgraph._runtime import ServerInfo, coerce_parent_runtime, server_info_from
from actorgraph.actors._ids import own_namespace
from actorgraph.actors._log import run_logger
from actorgraph.actors._persist import DURABILITY_MODES
from actorgraph.actors._stream import NULL_SINK, CallbackModesSink, StreamSink, TeeSink
from actorgraph.errors import ConfigError

if TYPE_CHECKING:
    from actorgraph.actors._context import TaskContext
    from actorgraph.actors._langchain_trace import RunTrace
    from actorgraph.actors._program import Program

__all__ = ("DEFAULT_RECURSION_LIMIT", "RunConfig")

# LangGraph's default (and its environment variable to change it)
DEFAULT_RECURSION_LIMIT = int(os.environ.get("LANGGRAPH_DEFAULT_RECURSION_LIMIT", "10007"))


class RunConfig:
    """A run's frozen facts (see the module). ``caller`` is the task that runs this graph
    inside it (``None`` at the top); ``detached``: the graph keeps its own thread's lineage
    all the same (a graph with a thread or checkpoint of its own invoked in a node), so
    only its events still go to the caller. ``namespace``: a top-level run's checkpoint
    namespace (a subgraph's, when the state API writes to it directly)."""

    sink: StreamSink
    stream_ns: tuple[str, ...]
    checkpoint_ns: str
    context: Any
    store: Any
    durability: str

    __slots__ = (
        "program",
        "config",
        "configurable",
        "thread_id",
        "run_id",
        "checkpoint_ns",
        "stream_ns",
        "sink",
        "live_stream",
        "parent",
        "context",
        "store",
        "durability",
        "durability_given",
        "interrupt_before",
        "interrupt_after",
        "recursion_limit",
        "sync_call",
        "alone",
        "node_finished",
        "server_info",
        "trace",
        "log",
    )

    def __init__(
        self,
        program: Program,
        config: dict[str, Any],
        *,
        sink: StreamSink,
        caller: TaskContext | None,
        detached: bool,
        sync_call: bool,
        context: Any,
        durability: str | None,
        interrupt_before: Any,
        interrupt_after: Any,
        trace: RunTrace | None,
        namespace: str = "",
    ) -> None:
        self.program = program
        self.config = config
        # the run's LangChain callbacks, when something listens (see _trace)
        self.trace = trace
        # the task this run is a subgraph of (its lineage and namespace are under it)
        parent = None if detached else caller
        self.parent = parent
        # sync_call: the run's event loop is private to a sync call (invoke/stream), so a
        # sync node may run on it; alone: nothing else of that call runs meanwhile (the
        # run is top-level, or the task that runs it as a subgraph is alone)
        self.sync_call: bool = caller.run.cfg.sync_call if caller is not None else sync_call
        self.alone: bool = caller.alone if caller is not None else True
        configurable: dict[str, Any] = config.get(CONF) or {}
        self.configurable = configurable
        thread = configurable.get(CONFIG_KEY_THREAD_ID)
        self.thread_id: str | None = str(thread) if thread is not None else None
        self.run_id: Any = config.get("run_id")
        # LangGraph's private hook: called with a node's name each time one of its tasks
        # finishes (subgraphs' included)
        self.node_finished: Any = configurable.get(CONFIG_KEY_NODE_FINISHED)
        self.server_info: ServerInfo | None
        if parent is not None:
            pcfg = parent.run.cfg
            if self.node_finished is None:
                self.node_finished = pcfg.node_finished
            nth = parent.subgraphs
            checkpoint_ns = parent.child_namespace()
            stateful = program.checkpointer is True
            if stateful:
                # checkpointer=True: one lineage across the parent's runs, under the node's
                # name without task ids, so each run continues the last one's state
                checkpoint_ns = own_namespace(checkpoint_ns)
            own = parent.spec.name if stateful else f"{parent.spec.name}:{parent.spec.id}"
            prefix = (*pcfg.stream_ns, own, str(nth)) if nth and not stateful else (*pcfg.stream_ns, own)
            if sink is NULL_SINK:
                # a subgraph: its events join the parent's stream under its namespace (the
                # second and later runs from one task numbered, as their checkpoints are)
                sink = pcfg.sink
                stream_ns: tuple[str, ...] = prefix
            else:
                # stream()/astream() called inside a node: the caller consumes the events,
                # and a parent stream that takes subgraph events gets them too
                stream_ns = ()
                if pcfg.sink.subgraphs and pcfg.sink.modes:
                    messages = parent.run.messages
                    sink = TeeSink(sink, pcfg.sink, prefix, messages.seen if messages is not None else None)
            self.context = context if context is not None else pcfg.context
            self.store = program.store if program.store is not None else pcfg.store
            self.durability = durability or pcfg.durability
            self.durability_given: bool = durability is not None or pcfg.durability_given
        else:
            stream_ns = ()
            if caller is not None and caller.run.cfg.sink.subgraphs:
                # a graph invoked in a node on a thread of its own is a root run: its
                # messages and tools still reach a caller's stream that takes subgraphs
                forward = CallbackModesSink(caller.run.cfg.sink)
                if forward.modes:
                    sink = forward if sink is NULL_SINK else TeeSink(sink, forward, (), None)
            checkpoint_ns = namespace
            self.context = context
            self.store = program.store
            self.durability = durability or "async"
            self.durability_given = durability is not None
        self.sink = sink
        self.stream_ns = stream_ns
        self.checkpoint_ns = checkpoint_ns
        # what a node's Runtime carries besides the context and the drain control (see
        # RunState.control): the server's info
        if caller is not None:
            # a subgraph, or a graph with a thread of its own invoked inside a node: for
            # the same server as the caller's run
            self.server_info = (server_info_from(configurable) if detached else None) or caller.run.cfg.server_info
        elif not configurable:
            self.server_info = None
        else:
            self.server_info = server_info_from(configurable)
            seeded = configurable.get(CONFIG_KEY_RUNTIME)
            if seeded is not None:
                # a Runtime (or a server's runtime-like object) seeded by the caller: what
                # this run doesn't set itself, it inherits from there
                inherited = coerce_parent_runtime(seeded)
                self.server_info = self.server_info or inherited.server_info
                if self.context is None:
                    self.context = inherited.context
                seeded_store = getattr(seeded, "store", None)
                if seeded_store is not None:
                    self.store = seeded_store
        if self.durability not in DURABILITY_MODES:
            if not program.strict:
                # LangGraph saves as "async" for a value it doesn't know
                self.durability = "async"
            else:
                raise ConfigError(
                    f"durability must be one of {', '.join(DURABILITY_MODES)}, got {self.durability!r}",
                    key="durability",
                    value=self.durability,
                )
        self.interrupt_before = interrupt_before if interrupt_before is not None else program.interrupt_before
        self.interrupt_after = interrupt_after if interrupt_after is not None else program.interrupt_after
        self.recursion_limit: int = config.get("recursion_limit", DEFAULT_RECURSION_LIMIT)
        # nodes write to the stream as they run: a sync node must not run on the thread of
        # the loop that delivers the stream, or its chunks would wait for it to return
        self.live_stream: bool = sink is not NULL_SINK and (
            sink.wants("messages", stream_ns) or sink.wants("tools", stream_ns) or sink.wants("custom", stream_ns)
        )
        self.log: Any = run_logger(
            graph=program.name, run_id=self.run_id, thread_id=self.thread_id, ns=checkpoint_ns
        )
