"""LangChain callbacks for a traced run (imported only when ``_trace`` says a run is
traced, so LangChain is never loaded for runs nobody listens to).

The run is one chain run (named after the graph, or ``run_name``); each task of a
visible node is a child chain run (tagged ``graph:step:<n>``, with the task's metadata)
whose input is the node's input and whose output is what the node returned, one per
attempt. The node gets a config whose callbacks are that run's children, and LangChain's
config context is set to it, so models and tools the node calls nest under it. A node's
``TracePolicy`` changes what tracers record, never what other handlers get. Graph
lifecycle handlers hear of interrupts (at the top) and resumes.

Sync calls report through LangChain's ``CallbackManager`` (handlers run where the run
does); async calls on asyncio through ``AsyncCallbackManager`` (awaited).
"""

from __future__ import annotations

import copy
import inspect
import logging
from typing import TYPE_CHECKING, Any

import anyio
from langchain_core.callbacks import BaseCallbackManager
from langchain_core.runnables.config import var_child_runnable_config
from langchain_core.tracers.base import BaseTracer

from actorgraph._callbacks import (
    GraphInterruptEvent,
    GraphResumeEvent,
    _AsyncGraphCallbackManager,
    _GraphCallbackManager,
    get_async_callback_manager_for_config,
    get_callback_manager_for_config,
)
from actorgraph._constants import NS_SEP
from actorgraph.actors._context import TaskContext, TaskTrace, propagated_metadata
from actorgraph.actors._node import NodeActor, _as_own_command
from actorgraph.actors._policies import backoff, matching_policy, sleep_backoff
from actorgraph.errors import ParentCommand

if TYPE_CHECKING:
    from actorgraph.actors._program import NodeSpec
    from actorgraph.actors._run import RunOutcome, RunState

__all__ = ("RunTrace", "TracedNodeActor", "traced_call")

_log = logging.getLogger("actorgraph")

try:  # the handlers that feed the caller's own stream (astream_events, astream_log)
    from langchain_core.tracers._streaming import _StreamingCallbackHandler
except ImportError:  # pragma: no cover - older langchain-core
    _StreamingCallbackHandler = None  # type: ignore[assignment,misc]


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


def _recorded(value: Any, process: Any) -> Any:
    """What tracers record for ``value`` under a ``TracePolicy`` processor: its result,
    or ``value`` itself when there is none or it fails (it never breaks the node)."""
    if process is None:
        return value
    try:
        return process(value)
    except Exception:
        _log.exception("A TracePolicy processor failed: recording the payload unchanged")
        return value


def _is_stream_handler(handler: Any) -> bool:
    return _StreamingCallbackHandler is not None and _StreamingCallbackHandler in type(handler).__mro__


def _split(manager: Any) -> tuple[Any, Any]:
    """(a copy of ``manager`` without the tracers, a copy with only them): tracers record
    what a ``TracePolicy`` makes of a payload; the other handlers get the payload."""
    tracers = [h for h in manager.handlers if isinstance(h, BaseTracer) and not _is_stream_handler(h)]
    real, only = copy.copy(manager), copy.copy(manager)
    only.handlers = tracers
    real.handlers = [h for h in manager.handlers if h not in tracers]
    return real, only


def _ns_tuple(ns: str) -> tuple[str, ...]:
    return tuple(ns.split(NS_SEP)) if ns else ()


class RunTrace:
    """One traced run: its chain run, and its graph lifecycle handlers."""

    __slots__ = ("sync", "run_manager", "graph_callbacks")

    def __init__(self, sync: bool, run_manager: Any, graph_callbacks: Any) -> None:
        self.sync = sync
        self.run_manager = run_manager
        self.graph_callbacks = graph_callbacks

    # -- the run -----------------------------------------------------------------------
    @classmethod
    async def start(
        cls, callbacks: Any, config: dict[str, Any], given: Any, input: Any, name: str, sync: bool
    ) -> RunTrace:
        """Open the run's chain run. ``given``: the config the caller passed (its
        ``run_id``/``run_name`` name this run; inherited ones name the parent's)."""
        # the run's own metadata also carries where it runs (thread_id ...), as
        # LangGraph's ensure_config adds it
        base = {**config, "callbacks": callbacks, "metadata": propagated_metadata(config)}
        given = given if isinstance(given, dict) else {}
        run_name = given.get("run_name") or name
        run_id = given.get("run_id")
        if sync:
            manager: BaseCallbackManager = get_callback_manager_for_config(base)
        else:
            manager = get_async_callback_manager_for_config(base)
        if "ls_integration" not in manager.metadata:
            manager.add_metadata({"ls_integration": "langgraph"})
        run_manager = await _maybe_await(manager.on_chain_start(None, input, name=run_name, run_id=run_id))  # type: ignore[arg-type]
        graph_cls = _GraphCallbackManager if sync else _AsyncGraphCallbackManager
        graph_callbacks = graph_cls.configure(callbacks, run_id=run_manager.run_id)
        return cls(sync, run_manager, graph_callbacks if graph_callbacks.handlers else None)

    async def end(self, output: Any) -> None:
        await _maybe_await(self.run_manager.on_chain_end(output))

    async def error(self, exc: BaseException) -> None:
        with anyio.CancelScope(shield=True):
            await _maybe_await(self.run_manager.on_chain_error(exc))

    # -- lifecycle ---------------------------------------------------------------------
    async def resumed(self, checkpoint_id: str, ns: str) -> None:
        if self.graph_callbacks is not None:
            event = GraphResumeEvent(
                run_id=self.run_manager.run_id, status="pending", checkpoint_id=checkpoint_id, checkpoint_ns=_ns_tuple(ns)
            )
            await _maybe_await(self.graph_callbacks.on_resume(event))

    async def paused(self, run: RunState, outcome: RunOutcome) -> None:
        if self.graph_callbacks is None:
            return
        persistence = run.persistence
        event = GraphInterruptEvent(
            run_id=self.run_manager.run_id,
            status=outcome.status,  # type: ignore[arg-type]
            checkpoint_id=(persistence.builder.checkpoint_id or "") if persistence is not None else "",
            checkpoint_ns=_ns_tuple(run.cfg.checkpoint_ns),
            interrupts=tuple(outcome.interrupts),
        )
        await _maybe_await(self.graph_callbacks.on_interrupt(event))

    # -- tasks -------------------------------------------------------------------------
    def actor(self, node: NodeSpec, run: RunState) -> NodeActor:
        return NodeActor(node, run) if node.hidden else TracedNodeActor(node, run)

    async def start_task(self, tctx: TaskContext, inp: Any) -> Any:
        """Open a task's chain run and point the task's config (and LangChain's config
        context) at its children."""
        spec = tctx.spec
        trace = tctx.trace
        if trace is None:
            trace = tctx.trace = TaskTrace()
        trace.callbacks = None
        tctx._config = None
        config = tctx.config
        if trace.parent is not None:
            # a task call: its run goes under its caller's, its input by parameter name
            step_manager = _callbacks_manager(trace.parent, self.sync)
            inp = _call_arguments(tctx.node, inp)
        else:
            step_manager = self.run_manager.get_child(f"graph:step:{spec.step}")
        tags = config.get("tags")
        if tags:
            step_manager.add_tags(list(tags))
        step_manager.add_metadata(config["metadata"])
        policy = tctx.node.trace_policy
        recorded = _recorded(inp, policy.process_inputs) if policy is not None else inp
        if recorded is inp:
            node_manager = await _maybe_await(step_manager.on_chain_start(None, inp, name=spec.name))
        else:
            real, tracers = _split(step_manager)
            # tracers start last: a cancellation in between leaves no tracer run open
            node_manager = await _maybe_await(real.on_chain_start(None, inp, name=spec.name))
            await _maybe_await(tracers.on_chain_start(None, recorded, name=spec.name, run_id=node_manager.run_id))
            node_manager.handlers = step_manager.handlers
        trace.run = node_manager
        trace.callbacks = node_manager.get_child("seq:step:1")
        tctx._config = None
        var_child_runnable_config.set(tctx.config)  # type: ignore[arg-type]
        _set_langsmith_parent(node_manager)
        return node_manager

    async def end_task(self, node_manager: Any, tctx: TaskContext, output: Any) -> None:
        if not self.sync:
            await _tap_output(node_manager, output)
        policy = tctx.node.trace_policy
        recorded = _recorded(output, policy.process_outputs) if policy is not None else output
        with anyio.CancelScope(shield=True):
            if recorded is output:
                await _maybe_await(node_manager.on_chain_end(output))
            else:
                real, tracers = _split(node_manager)
                # tracers end first: a cancellation can't leave a tracer run open
                await _maybe_await(tracers.on_chain_end(recorded))
                await _maybe_await(real.on_chain_end(output))

    async def task_error(self, node_manager: Any, exc: BaseException) -> None:
        with anyio.CancelScope(shield=True):
            await _maybe_await(node_manager.on_chain_error(exc))


async def _tap_output(node_manager: Any, output: Any) -> None:
    """Show a task's output to the handlers that stream a run's outputs (LangChain's
    ``astream_events``/``astream_log``): they report it as the run's stream chunk, as for
    a node LangGraph streams under an async run."""
    taps = [h for h in node_manager.handlers if _is_stream_handler(h)]
    if not taps:
        return

    async def one() -> Any:
        yield output

    chunks = one()
    for handler in taps:
        chunks = handler.tap_output_aiter(node_manager.run_id, chunks)
    async for _ in chunks:
        pass


def _callbacks_manager(callbacks: Any, sync: bool) -> Any:
    """A fresh manager over ``callbacks`` (a caller's config callbacks), of the run's kind."""
    config = {"callbacks": callbacks}
    if sync:
        return get_callback_manager_for_config(config).copy()
    return get_async_callback_manager_for_config(config).copy()


def _call_arguments(node: NodeSpec, inp: Any) -> Any:
    """A task call's ``(args, kwargs)`` as the task function's parameters by name."""
    try:
        args, kwargs = inp
        bound = inspect.signature(node.call_target).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return inp
    return dict(bound.arguments)


async def traced_call(tctx: TaskContext, name: str, tag: str, arg: Any, call: Any) -> Any:
    """Run ``call()`` (a router of a traced task) as a child run of the task's run."""
    assert tctx.trace is not None
    manager = tctx.trace.run.get_child(tag)
    tags = tctx.config.get("tags")
    if tags:
        manager.add_tags(list(tags))  # after the child tag, as LangGraph orders them
    run_manager = await _maybe_await(manager.on_chain_start(None, arg, name=name))
    try:
        result = await _maybe_await(call())
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            await _maybe_await(run_manager.on_chain_error(exc))
        raise
    await _maybe_await(run_manager.on_chain_end(result))
    return result


def _set_langsmith_parent(node_manager: Any) -> None:
    """Functions decorated with LangSmith's ``@traceable`` that a node calls nest under
    its run too (through LangSmith's own context)."""
    for handler in node_manager.handlers:
        run_map = getattr(handler, "run_map", None)
        if run_map is not None and type(handler).__name__ == "LangChainTracer":
            run = run_map.get(str(node_manager.run_id))
            if run is None:
                return
            try:
                from langsmith.run_helpers import _set_tracing_context

                _set_tracing_context({"parent": run})
            except Exception:  # a langsmith without it: LangChain's own nesting still holds
                pass
            return


class TracedNodeActor(NodeActor):
    """A node actor whose tasks are traced (a chain run per attempt)."""

    __slots__ = ()

    def __init__(self, node: NodeSpec, run: RunState) -> None:
        super().__init__(node, run)
        self.plain = False  # traced tasks run in jobs: LangChain's async handlers need the loop

    async def _attempts(self, tctx: TaskContext, inp: Any, inline: bool, first: Any = None) -> None:
        node = self.node
        trace = self.run.cfg.trace
        assert trace is not None
        policies = node.retry_policy or self.run.cfg.program.retry_policy
        timeout = tctx.spec.timeout or node.timeout
        attempt = 1
        while True:
            node_manager = await trace.start_task(tctx, inp)
            try:
                try:
                    if first is not None:
                        result, first = await first, None
                    elif timeout is not None:
                        result = await self._call_with_timeout(tctx, inp, timeout)
                    else:
                        result = await self._call(tctx, inp, inline, abandon=False)
                except ParentCommand as pc:
                    result = _as_own_command(pc.command)
                pending = node.finish(tctx, result)
                if pending is not None:
                    await pending
            except BaseException as exc:
                await trace.task_error(node_manager, exc)
                if not isinstance(exc, Exception):
                    raise
                policy = matching_policy(policies, exc) if policies else None
                if policy is None or attempt >= policy.max_attempts:
                    if attempt > 1:
                        exc.add_note(f"Node '{node.name}' failed {attempt} attempts")
                    raise
                delay = backoff(policy, attempt)
                self._emit_retry(tctx, attempt, exc, delay)
                tctx.reset_for_retry()
                await sleep_backoff(delay, self.run.cfg.sync_call)
                attempt += 1
            else:
                await trace.end_task(node_manager, tctx, result)
                return

