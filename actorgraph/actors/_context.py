"""The per-task context (scratchpad) and the functions that read it from inside a node:
``get_config``, ``get_store``, ``get_stream_writer``, ``get_runtime``, ``interrupt``.

Each task runs in its own ``contextvars.Context`` holding its ``TaskContext``, so these
calls work from async nodes, sync nodes in worker threads, and anything they call. The
config and runtime objects are built only when asked for: most nodes never ask, and
building them per task is the per-task config merging LangGraph pays for everywhere.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from xxhash import xxh3_128_hexdigest

from actorgraph._constants import (
    CONF,
    CONFIG_KEY_CHECKPOINT_ID,
    CONFIG_KEY_CHECKPOINT_NS,
    CONFIG_KEY_DURABILITY,
    CONFIG_KEY_TASK_ID,
    NS_SEP,
    PUSH,
)
from actorgraph._runtime import ExecutionInfo, Runtime
from actorgraph._types import Interrupt
from actorgraph.actors._policies import Progress
from actorgraph.errors import GraphInterrupt, _mark_invalid_resume

if TYPE_CHECKING:
    from actorgraph.actors._messages import SendMsg, TaskSpec
    from actorgraph.actors._program import NodeSpec
    from actorgraph.actors._run import RunState

__all__ = (
    "TaskContext",
    "TaskTrace",
    "current_state",
    "current_task",
    "get_config",
    "get_runtime",
    "get_store",
    "get_stream_writer",
    "interrupt",
    "interrupt_id",
)

_time = time.time

CURRENT: ContextVar[TaskContext | None] = ContextVar("actorgraph_task", default=None)


def interrupt_id(ns: str, index: int) -> str:
    """Stable id of the ``index``-th interrupt of the task at checkpoint namespace ``ns``."""
    key = ns if index == 0 else f"{ns}{NS_SEP}{index}"
    # xxh3-128 of the namespace, as LangGraph computes it: the same task gets the same
    # interrupt ids on both runtimes, and clients that derive ids from it keep working
    return xxh3_128_hexdigest(key.encode())


class TaskTrace:
    """The LangChain callbacks of a traced task: its chain run while it runs, the
    callbacks its config gets (that run's children), and for a task call the callbacks
    of its caller, under which its run goes."""

    __slots__ = ("run", "callbacks", "parent")

    def __init__(self, parent: Any = None) -> None:
        self.run: Any = None
        self.callbacks: Any = None
        self.parent = parent


class TaskContext:
    """Everything one running task needs besides its input: where its writes go, what it
    may read, and how to reach the run (stream, store, context)."""

    __slots__ = (
        "run",
        "spec",
        "node",
        "_ns",
        "writes",
        "sends",
        "parent_command",
        "resume",
        "interrupt_counter",
        "attempt",
        "started_at",
        "_progress",
        "extra_callbacks",
        "trace",
        "subgraphs",
        "calls",
        "future",
        "call_scope",
        "path_text",
        "alone",
        "_config",
        "_runtime",
        "_writer",
    )

    def __init__(self, run: RunState, spec: TaskSpec, node: NodeSpec) -> None:
        self.run = run
        self.spec = spec
        self.node = node
        self._ns: str | None = None
        self.writes: list[tuple[str, Any]] = []
        self.sends: list[SendMsg] = []
        self.parent_command: Any = None
        self.resume: list[Any] = run.resume.answers_for(spec.id)
        self.interrupt_counter = 0
        self.attempt = 1
        self.started_at = _time()
        """When the task's first attempt started (Unix time)."""
        self._progress: Progress | None = None
        self.extra_callbacks: tuple[Any, ...] = ()
        # a traced task's callbacks (see _langchain_trace); None when nothing listens
        self.trace: TaskTrace | None = None
        self.subgraphs = 0
        self.calls = 0
        """How many tasks this task has called (the index of the next call)."""
        self.future: Any = None
        # the cancel scope of an async task call while it runs (future.cancel() uses it)
        self.call_scope: Any = None
        # its path as task ids spell it (``path_str``), made when it first calls a task
        self.path_text: str | None = None
        """For a task call: the future its caller waits on."""
        self.alone = False
        """Whether it is the only work of its sync call (it then runs on the loop thread,
        and so do lone tasks of graphs it runs as subgraphs)."""
        self._config: dict[str, Any] | None = None
        self._runtime: Runtime[Any] | None = None
        self._writer: Any = None

    @property
    def ns(self) -> str:
        """The task's checkpoint namespace (its subgraphs' run under it; its interrupts'
        ids derive from it): made when first asked for."""
        ns = self._ns
        if ns is None:
            spec = self.spec
            parent_ns = self.run.cfg.checkpoint_ns
            ns = self._ns = f"{parent_ns}{NS_SEP}{spec.name}:{spec.id}" if parent_ns else f"{spec.name}:{spec.id}"
        return ns

    @property
    def progress(self) -> Progress:
        """The task's heartbeat for idle timeouts (made when first needed: an attempt
        under a timeout starts it)."""
        p = self._progress
        if p is None:
            p = self._progress = Progress()
        return p

    # -- what nodes can ask for --------------------------------------------------------
    @property
    def writer(self) -> Any:
        w = self._writer
        if w is None:
            cfg = self.run.cfg
            sink = cfg.sink
            if sink.wants("custom", cfg.stream_ns):
                ns = cfg.stream_ns
                emit = sink.emit
                streamed = self.progress.streamed

                def w(value: Any) -> None:
                    streamed()
                    emit(ns, "custom", value)

            else:
                w = self.progress_writer
            self._writer = w
        return w

    def child_namespace(self) -> str:
        """The checkpoint namespace of the next graph this task runs as a subgraph: its
        own namespace, numbered from the second call on, so two subgraph runs in one
        node keep separate checkpoints (and a re-run of the node finds them again)."""
        n = self.subgraphs
        self.subgraphs += 1
        return self.ns if n == 0 else f"{self.ns}{NS_SEP}{n}"

    def progress_writer(self, value: Any) -> None:
        """The stream writer when nobody streams ``custom``: it only counts as progress."""
        self.progress.streamed()

    def reset_for_retry(self) -> None:
        """Forget what a failed attempt wrote, before the next attempt."""
        self.writes.clear()
        self.sends.clear()
        self.parent_command = None
        self.interrupt_counter = 0
        self.subgraphs = 0
        self.calls = 0
        self.attempt += 1
        self._runtime = None
        self.progress()

    @property
    def config(self) -> dict[str, Any]:
        cfg = self._config
        if cfg is None:
            cfg = self._config = self._build_config()
        return cfg

    @property
    def runtime(self) -> Runtime[Any]:
        rt = self._runtime
        if rt is None:
            run = self.run
            cfg = run.cfg
            run_id = cfg.run_id
            rt = self._runtime = Runtime(
                context=cfg.context,
                store=cfg.store,
                stream_writer=self.writer,
                heartbeat=self.progress,
                previous=run.resume.previous,
                execution_info=ExecutionInfo(
                    checkpoint_id=run.current_checkpoint_id(),
                    checkpoint_ns=self.ns,
                    task_id=self.spec.id,
                    thread_id=cfg.thread_id,
                    run_id=str(run_id) if run_id else None,
                    node_attempt=self.attempt,
                    node_first_attempt_time=self.started_at,
                ),
                server_info=cfg.server_info,
                control=run.ensure_control(),
            )
        return rt

    def _build_config(self) -> dict[str, Any]:
        run_cfg = self.run.cfg
        spec = self.spec
        base = run_cfg.config
        metadata = propagated_metadata(base)
        if run_cfg.thread_id is not None:
            metadata.setdefault("thread_id", run_cfg.thread_id)
        metadata.setdefault(CONFIG_KEY_CHECKPOINT_NS, self.ns)
        metadata.update(
            langgraph_step=spec.step,
            langgraph_node=spec.name,
            langgraph_triggers=spec.triggers,
            langgraph_path=spec.path,
            langgraph_checkpoint_ns=self.ns,
        )
        if self.node.metadata:
            metadata.update(self.node.metadata)
        configurable = dict(run_cfg.configurable)
        configurable[CONFIG_KEY_TASK_ID] = spec.id
        configurable[CONFIG_KEY_CHECKPOINT_NS] = self.ns
        configurable[CONFIG_KEY_CHECKPOINT_ID] = None
        if run_cfg.durability_given:
            configurable[CONFIG_KEY_DURABILITY] = run_cfg.durability
        trace = self.trace
        callbacks = trace.callbacks if trace is not None and trace.callbacks is not None else base.get("callbacks")
        if self.extra_callbacks:
            from actorgraph.actors._message_stream import merge_callbacks

            callbacks = merge_callbacks(callbacks, self.extra_callbacks)
        cfg: dict[str, Any] = {
            "callbacks": callbacks,
            "configurable": configurable,
            "metadata": metadata,
        }
        tags = list(base.get("tags") or ())
        if self.node.tags:
            tags.extend(self.node.tags)
        if tags:
            cfg["tags"] = tags
        # not the run's run_name / run_id: they name the graph's own run, and a LangChain
        # component called with this config would take them as its own
        if "max_concurrency" in base:
            cfg["max_concurrency"] = base["max_concurrency"]
        return cfg

    # -- interrupts --------------------------------------------------------------------
    def next_interrupt(
        self, value: Any, response_schema: Any = None, validate: Callable[[Any], Any] | None = None
    ) -> Any:
        """The resume value for this task's next ``interrupt()`` (checked by ``validate``
        if given: a rejected answer is not kept), or raise GraphInterrupt."""
        idx = self.interrupt_counter
        self.interrupt_counter += 1
        if idx < len(self.resume):
            answer = self.resume[idx]
            return answer if validate is None else validate(answer)
        # the id is keyed by how many answers the task has (the slot the answer fills), not
        # by call order, which parallel calls in one task (threads) don't keep stable
        answered = len(self.resume)
        answer = self.run.resume.take(self, answered)
        if answer is not _NO_ANSWER:
            checked = answer if validate is None else validate(answer)
            self.resume.append(answer)
            self.run.resume.record(self)
            return checked
        raise GraphInterrupt(
            (Interrupt(value=value, id=interrupt_id(self.ns, answered), response_schema=response_schema),)
        )


# configurable keys a task's config metadata also carries (as LangGraph's does): where and
# for whom it runs, for tracing and for the metadata of stream events
_PROPAGATED_KEYS = ("thread_id", "checkpoint_id", "checkpoint_ns", "task_id", "run_id", "assistant_id", "graph_id")


def propagated_metadata(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``config``'s metadata with the set ``_PROPAGATED_KEYS`` of its
    ``configurable`` added (metadata given explicitly wins)."""
    metadata = dict(config.get("metadata") or ())
    configurable = config.get(CONF)
    if configurable:
        for key in _PROPAGATED_KEYS:
            if key not in metadata:
                value = configurable.get(key)
                if value:
                    metadata[key] = value
    return metadata


class _NoAnswer:
    __slots__ = ()


_NO_ANSWER: Any = _NoAnswer()


def current_task() -> TaskContext | None:
    """The context of the task running in this context, if any."""
    return CURRENT.get()


def current_state() -> Any:
    """The state of the graph whose task runs in this context, as its step started, or
    ``None`` outside a graph. A task run by a ``Send`` gets it as its node would if an
    edge had triggered it (the node's input keys, managed values, input schema); any
    other task gets every state key in a dict."""
    tctx = CURRENT.get()
    if tctx is None or tctx.run.reader is None:
        return None
    values = tctx.run.reader.values()
    node, spec = tctx.node, tctx.spec
    if spec.path[0] != PUSH or node.reads is None:
        return dict(values)
    state = {k: values[k] for k in node.reads if k in values}
    for key, fn in node.managed:
        state[key] = fn(spec.step, tctx.run.stop)
    return node.mapper(state) if node.mapper is not None else state


def _require(fn: str) -> TaskContext:
    tctx = CURRENT.get()
    if tctx is None:
        raise RuntimeError(
            f"Called {fn}() outside of a running graph: call it from inside a node, a task, "
            "or a function they call."
        )
    return tctx


def get_config() -> dict[str, Any]:
    """The config of the running node (``RunnableConfig``)."""
    return _require("get_config").config


def get_store() -> Any:
    """The store the graph was compiled with (or ``None``)."""
    return _require("get_store").run.cfg.store


def get_stream_writer() -> Any:
    """A callable that sends a value to the ``custom`` stream (a no-op when nobody
    streams ``custom``)."""
    return _require("get_stream_writer").writer


def get_runtime(context_schema: Any = None) -> Runtime[Any]:
    """The ``Runtime`` of the running node."""
    return _require("get_runtime").runtime


def interrupt(value: Any, *, response_schema: Any = None) -> Any:
    """Pause the run and hand ``value`` to the caller; returns the answer on resume.

    The first time a node reaches this call the run stops with ``__interrupt__`` in its
    output. Resuming with ``Command(resume=answer)`` re-runs the node from its start, and
    this call returns ``answer``. Several calls in one node are answered in order. Needs a
    checkpointer, since resuming reads the saved state.

    ``response_schema`` describes the answer expected: a JSON schema (dict) is passed on
    to the caller as it is; a type (pydantic model, dataclass, ``TypedDict``...) is passed
    on as its JSON schema, and the answer is validated into it - a bad answer raises
    pydantic's ``ValidationError`` (``is_invalid_resume(e)`` is true) and the interrupt
    stays pending.
    """
    tctx = _require("interrupt")
    if response_schema is None or isinstance(response_schema, dict):
        return tctx.next_interrupt(value, response_schema)
    from pydantic import TypeAdapter

    adapter = TypeAdapter(response_schema)
    return tctx.next_interrupt(value, adapter.json_schema(), functools.partial(_validate_answer, adapter))


def _validate_answer(adapter: Any, answer: Any) -> Any:
    from pydantic import ValidationError

    try:
        return adapter.validate_python(answer)
    except ValidationError as exc:
        _mark_invalid_resume(exc)
        raise
