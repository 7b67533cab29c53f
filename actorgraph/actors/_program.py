"""What the engine runs: a ``Program`` of channels and ``NodeSpec``s, built once by the
graph builder (or the functional API) at compile time.

Everything a step needs to look up is precomputed here: which nodes a channel triggers,
which channels clear between steps or wait for the run to finish, how a node is called and
how its return value becomes writes. The hot path only indexes these tables.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec

from actorgraph._constants import PULL
from actorgraph._types import CachePolicy, RetryPolicy, TimeoutPolicy
from actorgraph.actors._placement import Placement
from actorgraph.channels import BaseChannel
from actorgraph.channels._base import MISSING

__all__ = ("GraphStatistics", "ManagedValue", "NodeSpec", "Program", "ProgramCounters")

# step, stop -> value
ManagedValue = Callable[[int, int], Any]


class NodeSpec:
    """How to run one node.

    ``call(input, tctx)`` runs the user's code and returns its result (or an awaitable
    when ``is_async``). A sync ``call`` that may block (user code) is ``blocking``; where
    its tasks run is ``_placement.decide``'s answer. ``finish(tctx, result)`` turns the
    result into writes and sends on ``tctx`` and may return an awaitable (async
    conditional edges).
    """

    __slots__ = (
        "name",
        "triggers",
        "reads",
        "read_channel",
        "managed",
        "mapper",
        "call",
        "is_async",
        "blocking",
        "finish",
        "tags",
        "metadata",
        "hidden",
        "retry_policy",
        "cache_policy",
        "timeout",
        "defer",
        "is_subgraph",
        "subgraph",
        "error_handler",
        "trace_policy",
        "call_target",
        "is_call",
        "inline_ok",
        "run_now",
        "direct",
        "id_parts",
    )

    def __init__(
        self,
        name: str,
        *,
        triggers: Sequence[str],
        call: Callable[[Any, Any], Any],
        is_async: bool,
        finish: Callable[[Any, Any], Any],
        blocking: bool = True,
        reads: Sequence[str] | None = None,
        read_channel: str | None = None,
        managed: Sequence[tuple[str, ManagedValue]] = (),
        mapper: Callable[[Any], Any] | None = None,
        tags: Sequence[str] = (),
        metadata: Mapping[str, Any] | None = None,
        hidden: bool = False,
        retry_policy: Sequence[RetryPolicy] = (),
        cache_policy: CachePolicy[Any] | None = None,
        timeout: TimeoutPolicy | None = None,
        defer: bool = False,
        is_subgraph: bool = False,
        subgraph: Any = None,
        error_handler: str | None = None,
        trace_policy: Any = None,
        call_target: Any = None,
        is_call: bool = False,
        inline_ok: bool = True,
        run_now: bool = False,
        sync_finish: bool = True,
    ) -> None:
        self.name = name
        self.triggers = tuple(triggers)
        self.reads = tuple(reads) if reads is not None else None
        self.read_channel = read_channel
        self.managed = tuple(managed)
        self.mapper = mapper
        self.call = call
        self.is_async = is_async
        self.blocking = blocking
        self.finish = finish
        self.tags = tuple(tags)
        self.metadata = dict(metadata) if metadata else None
        self.hidden = hidden
        self.retry_policy = tuple(retry_policy)
        self.cache_policy = cache_policy
        self.timeout = timeout
        self.defer = defer
        self.is_subgraph = is_subgraph
        # the compiled graph this node runs (as the node, or called inside it): its state
        # shows under the node's tasks in snapshots
        self.subgraph = subgraph
        # the node that handles this node's failures (add_node(..., error_handler=...))
        self.error_handler = error_handler
        # what tracers record of its tasks' inputs and outputs (a TracePolicy, or None)
        self.trace_policy = trace_policy
        # the user's callable (names the node's cache namespace)
        self.call_target = call_target if call_target is not None else call
        # a @task: called with (args, kwargs); its result goes back to its caller
        self.is_call = is_call
        # whether a lone sync task of a sync call may run on the loop thread
        self.inline_ok = inline_ok
        # bookkeeping that never blocks or suspends (``__start__``): placed NOW
        self.run_now = run_now
        # a sync node with no policies and no async router: the lone task of a sync call
        # is placed NOW, and in a fan-out it goes straight to a worker thread
        self.direct = (
            not is_async and inline_ok and sync_finish and not retry_policy and cache_policy is None and timeout is None
        )
        # what its pull tasks' ids hash after the node's name (as LangGraph's do)
        self.id_parts = (PULL, *sorted(self.triggers))

    @property
    def subgraphs(self) -> list[Any]:
        """The graphs this node runs (LangGraph's ``PregelNode.subgraphs``)."""
        return [self.subgraph] if self.subgraph is not None else []

    def __repr__(self) -> str:
        return f"NodeSpec({self.name!r}, triggers={self.triggers})"

    def copy(self, update: Mapping[str, Any]) -> NodeSpec:
        """A copy with the attributes in ``update`` replaced (LangGraph's
        ``PregelNode.copy``)."""
        unknown = set(update) - set(self.__slots__)
        if unknown:
            raise AttributeError(f"NodeSpec '{self.name}' has no attributes {sorted(unknown)}")
        new = object.__new__(NodeSpec)
        for name in self.__slots__:
            setattr(new, name, update[name] if name in update else getattr(self, name))
        return new

    # -- LangGraph's PregelNode surface (``graph.nodes["x"].bound`` / ``.invoke``) --------
    @property
    def bound(self) -> Any:
        """What the node runs, as given to ``add_node``."""
        return self.call_target

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        """Run the node's runnable by itself (outside any graph run) with the node's
        tags and metadata; a plain function is called with the input."""
        target: Any = self.call_target
        if not hasattr(target, "invoke"):
            return target(input)
        return target.invoke(input, self._own_config(config), **kwargs)

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        """Async twin of ``invoke``."""
        target: Any = self.call_target
        if not hasattr(target, "ainvoke"):
            result = target(input)
            return await result if inspect.isawaitable(result) else result
        return await target.ainvoke(input, self._own_config(config), **kwargs)

    def _own_config(self, config: Any) -> dict[str, Any]:
        out = dict(config or {})
        if self.tags:
            out["tags"] = [*self.tags, *(out.get("tags") or ())]
        if self.metadata:
            out["metadata"] = {**self.metadata, **(out.get("metadata") or {})}
        return out


class GraphStatistics(msgspec.Struct, frozen=True, kw_only=True):
    """Counters over every run of one compiled graph (``graph.statistics()``), for a
    benchmark report or a server's metrics. A subgraph's runs count in its own graph's."""

    runs: int
    runs_failed: int
    runs_interrupted: int
    steps: int
    """Super-steps closed (the input step included)."""
    tasks: int
    """Tasks started: node tasks and ``@task`` calls."""
    tasks_failed: int
    """Tasks that raised (each attempt a retry policy makes counts)."""
    tasks_in_threads: int
    """Tasks of sync nodes handed to worker threads."""
    jobs_run: int
    """Dispatcher jobs: actors' turns and tasks that ran as jobs."""
    workers_started: int
    """Worker tasks spawned besides each run's own (a fan-out whose tasks suspend)."""
    peak_workers: int
    """The most workers one run had at once."""
    runs_active: int = 0
    """Runs going on now (read live, not summed at a run's end)."""
    tasks_running: int = 0
    """Node tasks of those runs started and not finished."""
    jobs_queued: int = 0
    """Dispatcher jobs of those runs waiting for a worker."""


class ProgramCounters:
    """Mutable counters behind ``GraphStatistics``; updated once per run, at its end,
    from the run's dispatcher statistics and its actors' counters."""

    __slots__ = (
        "runs",
        "runs_failed",
        "runs_interrupted",
        "steps",
        "tasks",
        "tasks_failed",
        "tasks_in_threads",
        "jobs_run",
        "workers_started",
        "peak_workers",
        "live",
    )

    def __init__(self) -> None:
        self.runs = self.runs_failed = self.runs_interrupted = 0
        self.steps = self.tasks = self.tasks_failed = self.tasks_in_threads = 0
        self.jobs_run = self.workers_started = self.peak_workers = 0
        # the runs going on (added once a run has its dispatcher, removed at its end):
        # their live numbers are read when asked, nothing is counted per task
        self.live: set[Any] = set()

    def begin(self, run: Any) -> None:
        self.live.add(run)

    def end(self, run: Any) -> None:
        """A run that stopped without being recorded (cancelled, or it raised)."""
        self.live.discard(run)

    def record(self, run: Any) -> None:
        dispatcher = run.dispatcher  # (its counters, read directly: no snapshot per run)
        self.live.discard(run)
        self.runs += 1
        if run.error is not None or dispatcher.failure is not None:
            self.runs_failed += 1
        elif run.outcome is not None and run.outcome.interrupts:
            self.runs_interrupted += 1
        self.steps += run.barrier.steps_closed
        for actors in (run.actors, run.call_actors):
            for actor in actors.values():
                self.tasks += actor.started
                self.tasks_failed += actor.failed
        self.tasks_in_threads += dispatcher.threads_run
        self.jobs_run += dispatcher.jobs_run
        self.workers_started += dispatcher.spawned
        if dispatcher.peak_workers > self.peak_workers:
            self.peak_workers = dispatcher.peak_workers

    def snapshot(self) -> GraphStatistics:
        live = [run.dispatcher.statistics() for run in list(self.live)]
        return GraphStatistics(
            **{name: getattr(self, name) for name in self.__slots__ if name != "live"},
            runs_active=len(live),
            tasks_running=sum(d.tasks_running for d in live),
            jobs_queued=sum(d.queue_depth for d in live),
        )


def _append_style(channel: Any) -> bool:
    """Whether a channel's reducer only appends to (or rebuilds) a list, never mutating
    items in place: ``operator.add`` and ``add_messages``."""
    op = getattr(channel, "operator", None)
    return op is operator.add or getattr(op, "delta_storable", False) is True


def _is_delta(channel: Any) -> bool:
    from actorgraph.channels import DeltaChannel

    return isinstance(channel, DeltaChannel)


def _replayable(channel: Any) -> bool:
    from actorgraph.channels import BinaryOperatorAggregate, DeltaChannel

    return isinstance(channel, (BinaryOperatorAggregate, DeltaChannel))


def _untracked(channel: Any) -> bool:
    from actorgraph.channels import UntrackedValue

    return isinstance(channel, UntrackedValue)


class Program:
    """A compiled graph as the engine sees it."""

    def __init__(
        self,
        *,
        name: str,
        nodes: Mapping[str, NodeSpec],
        channels: Mapping[str, BaseChannel[Any, Any, Any]],
        state_keys: Sequence[str],
        output_keys: Sequence[str],
        input_channel: str,
        stream_keys: Sequence[str] | None = None,
        single_output: str | None = None,
        stream_single: Any = "",
        map_input: Callable[[Any], list[tuple[str, Any]]],
        map_command: Callable[[Any], tuple[list[tuple[str, Any]], list[Any]]],
        command_writes: Callable[[Any], tuple[list[tuple[str, Any]], list[Any]]] | None = None,
        coerce_context: Callable[[Any], Any] = lambda c: c,
        stream_mode: str = "updates",
        checkpointer: Any = None,
        store: Any = None,
        cache: Any = None,
        interrupt_before: Sequence[str] | str = (),
        interrupt_after: Sequence[str] | str = (),
        debug: bool = False,
        retry_policy: Sequence[RetryPolicy] = (),
        cache_policy: CachePolicy[Any] | None = None,
        strict: bool = False,
    ) -> None:
        self.name = name
        # compile(strict=True): refuse what LangGraph silently accepts (see StateGraph.compile)
        self.strict = strict
        # seconds a super-step may take before the run fails with TimeoutError (LangGraph's
        # ``graph.step_timeout``)
        self.step_timeout: float | None = None
        self.nodes = dict(nodes)
        self.channels = dict(channels)
        for key, chan in self.channels.items():
            chan.key = key
        self.state_keys = tuple(state_keys)
        self.state_key_set = frozenset(state_keys)
        self.state_key_order = {k: i for i, k in enumerate(self.state_keys)}
        self.output_keys = tuple(output_keys)
        self.output_key_set = frozenset(output_keys)
        # what the values/updates streams show: every state key (private ones included,
        # as LangGraph streams them); ``invoke`` returns only the output keys
        self.stream_keys = tuple(stream_keys) if stream_keys is not None else self.output_keys
        self.stream_key_set = frozenset(self.stream_keys)
        # the functional API's output: one channel's bare value, not a dict of keys
        self.single_output = single_output
        # the same for the values/updates streams and snapshots (a Pregel graph may stream
        # every channel while it returns one); by default what ``invoke`` does
        self.stream_single: str | None = single_output if stream_single == "" else stream_single
        self.input_channel = input_channel
        self.map_input = map_input
        self.map_command = map_command
        # a Command's update/goto as channel writes and sends, applied to a saved thread's
        # pending step (map_command is for a run with no saved step: the update is its input)
        self.command_writes = command_writes if command_writes is not None else map_command
        self.coerce_context = coerce_context
        self.stream_mode = stream_mode
        self.checkpointer = checkpointer
        self.store = store
        self.cache = cache
        self.interrupt_before = interrupt_before
        self.interrupt_after = interrupt_after
        self.debug = debug
        self.retry_policy = tuple(retry_policy)
        self.cache_policy = cache_policy
        self.stats = ProgramCounters()
        # where each node's tasks run, by the facts of the call (``_placement.decide``)
        self.placements: dict[tuple[Any, ...], Placement] = {}
        # brings a checkpoint dict LangGraph saved in an older channel layout up to this
        # graph's, in place (set by ``StateGraph.compile``; other programs never had one)
        self.migrate: Callable[[dict[str, Any]], None] | None = None

        trigger_to_nodes: dict[str, list[str]] = {}
        for node in self.nodes.values():
            for trigger in node.triggers:
                trigger_to_nodes.setdefault(trigger, []).append(node.name)
        self.trigger_to_nodes: dict[str, tuple[str, ...]] = {
            k: tuple(sorted(v)) for k, v in trigger_to_nodes.items()
        }
        self.step_clear_channels = frozenset(
            k for k, c in self.channels.items() if c.clears_each_step
        )
        self.finish_channels = tuple(k for k, c in self.channels.items() if c.waits_for_finish)
        self.consumable_channels = frozenset(k for k, c in self.channels.items() if c.consumable)
        # channels whose values are never saved (UntrackedValue): their writes aren't either
        self.untracked_channels = frozenset(k for k, c in self.channels.items() if _untracked(c))
        # DeltaChannels: stored as snapshots every so often, rebuilt from writes between
        self.delta_value_channels = frozenset(k for k, c in self.channels.items() if _is_delta(c))
        # reducer channels a restore may have to rebuild from saved writes
        self.replay_channels = frozenset(k for k, c in self.channels.items() if _replayable(c))
        # lists that only grow through their reducer: checkpoints store their new items
        self.delta_channels = frozenset(k for k, c in self.channels.items() if _append_style(c))
        # nodes whose input is the whole state: they share one input dict per step
        self.all_state_readers = frozenset(
            n.name for n in self.nodes.values() if n.reads == self.state_keys
        )

    def new_channels(self, saved: Mapping[str, Any] | None = None) -> dict[str, BaseChannel[Any, Any, Any]]:
        """Fresh channel instances for one run, restored from ``saved`` values."""
        if not saved:
            return {k: c.from_checkpoint(MISSING) for k, c in self.channels.items()}
        return {
            k: c.from_checkpoint(saved.get(k, MISSING)) for k, c in self.channels.items()
        }
