"""The public face of a compiled program: ``invoke``/``ainvoke``, ``stream``/``astream``,
``batch``/``abatch``. Compiled graphs and entrypoints both are ``GraphRunnable``s.

``ainvoke`` runs the engine inline in the caller's task. ``astream`` runs it in a
detached task and reads its events from a queue, because an async generator must not
yield from inside a task group (see ``_spawn.DetachedTask``). The sync twins drive these
through ``_sync``.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from typing import Any

import anyio

from actorgraph._constants import CONF, CONFIG_KEY_TASK_ID, INTERRUPT, START
from actorgraph._stream_types import MESSAGES_V2_FLAG, GraphOutput
from actorgraph._types import STREAM_MODES, Command, StateSnapshot, StateUpdate
from actorgraph.pregel._state_api import abulk_update_state, aget_state, aget_state_history, aupdate_state
from actorgraph.actors._context import current_task
from actorgraph.actors._program import Program
from actorgraph.actors._run import DEFAULT_RECURSION_LIMIT, RunInput, RunOutcome, execute, output_with_interrupts
from actorgraph.actors._spawn import DetachedTask
from actorgraph.actors._stream import NULL_SINK
from actorgraph.pregel._sinks import END_OF_STREAM, PrintSink, QueueSink, print_event
from actorgraph.pregel._sync import iterate_sync, run_sync
from actorgraph.actors._trace import NOT_TRACED, trace_callbacks
from actorgraph.errors import ConfigError

__all__ = ("GraphRunnable", "GraphOutput", "ensure_config", "merge_configs", "patch_configurable")


_MERGED_KEYS = ("configurable", "metadata")
# a RunnableConfig's own keys; any other top-level key goes into ``configurable``
_CONFIG_KEYS = frozenset(
    ("tags", "metadata", "callbacks", "run_name", "max_concurrency", "recursion_limit", "configurable", "run_id")
)
# configurable keys that address a checkpoint lineage of their own
_COORDINATE_KEYS = ("thread_id", "checkpoint_ns", "checkpoint_id", "checkpoint_map")


def merge_configs(*configs: Any) -> dict[str, Any]:
    """Merge configs left to right without filling in defaults (``with_config``)."""
    out: dict[str, Any] = {}
    for source in configs:
        if not source:
            continue
        for key, value in source.items():
            if key in _MERGED_KEYS:
                if value:
                    out[key] = {**out.get(key, {}), **value}
            elif key == "tags":
                if value:
                    out["tags"] = [*out.get("tags", []), *value]
            elif key == "callbacks" and value is not None and out.get("callbacks") is not None:
                out["callbacks"] = _merge_callbacks(out["callbacks"], value)
            elif value is not None or key not in out:
                out[key] = value
    return out


def _merge_callbacks(before: Any, after: Any) -> Any:
    """Both sets of callbacks (as LangGraph merges them): two lists concatenate; with a
    LangChain callback manager, a copy of it gets the other's handlers."""
    if isinstance(before, list) and isinstance(after, list):
        return [*before, *after]
    manager, handlers = (after, before) if isinstance(before, list) else (before, after)
    if isinstance(handlers, list):
        merged = manager.copy()
        for handler in handlers:
            merged.add_handler(handler, inherit=True)
        return merged
    # two managers: the later one, with the earlier one's handlers added
    merged = after.copy()
    for handler in getattr(before, "handlers", ()):
        merged.add_handler(handler, inherit=True)
    return merged


def patch_configurable(config: Any, patch: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` whose ``configurable`` has ``patch``'s keys set."""
    if config is None:
        return {CONF: dict(patch)}
    return {**config, CONF: {**(config.get(CONF) or {}), **patch}}


def ensure_config(config: Any, parent: dict[str, Any] | None = None) -> dict[str, Any]:
    """A complete run config: the parent run's config (for subgraphs), then ``config``.

    ``configurable`` and ``metadata`` merge key by key, ``tags`` concatenate, everything
    else is replaced; keys that aren't a RunnableConfig's own go into ``configurable`` (as
    LangGraph does: ``{"thread_id": "t"}`` is ``{"configurable": {"thread_id": "t"}}``). A
    ``configurable`` naming its own thread or checkpoint doesn't inherit the parent's: a
    graph invoked inside a node with its own thread keeps to that thread. Validates
    ``recursion_limit`` and ``max_concurrency``.
    """
    if config is not None and not isinstance(config, dict):
        raise TypeError(f"config must be a dict (a RunnableConfig), got {type(config).__name__}")
    out: dict[str, Any] = {
        "tags": [],
        "metadata": {},
        "callbacks": None,
        "recursion_limit": DEFAULT_RECURSION_LIMIT,
        CONF: {},
    }
    if parent and config:
        own = config.get(CONF)
        if own and any(own.get(k) is not None for k in _COORDINATE_KEYS):
            parent = {k: v for k, v in parent.items() if k != CONF}
    for source in (parent, config):
        if not source:
            continue
        for key, value in source.items():
            if key in _MERGED_KEYS:
                if value:
                    if not isinstance(value, dict):
                        raise ConfigError(f"config['{key}'] must be a dict, got {type(value).__name__}: {value!r:.80}")
                    out[key] = {**out[key], **value}
            elif key == "tags":
                if value:
                    out["tags"] = [*out["tags"], *value]
            elif key not in _CONFIG_KEYS:
                if value is not None:
                    out[CONF] = {**out[CONF], key: value}
            elif value is not None or key not in out:
                out[key] = value
    limit = out["recursion_limit"]
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"recursion_limit must be an int, got {limit!r}")
    if limit < 1:
        raise ConfigError(f"recursion_limit must be at least 1, got {limit}", key="recursion_limit", value=limit)
    mc = out.get("max_concurrency")
    if mc is not None and (isinstance(mc, bool) or not isinstance(mc, int) or mc < 1):
        raise ConfigError(f"max_concurrency must be a positive int or None, got {mc!r}", key="max_concurrency", value=mc)
    return out


def _stream_modes(stream_mode: Any, default: str, strict: bool = True) -> tuple[list[str], bool]:
    """(modes, single): the requested modes and whether chunks are yielded bare. A mode
    that doesn't exist streams nothing, as in LangGraph, unless ``strict``."""
    if stream_mode is None:
        return [default], True
    if isinstance(stream_mode, str):
        modes, single = [stream_mode], True
    elif isinstance(stream_mode, Sequence):
        modes, single = list(dict.fromkeys(stream_mode)), False
    else:
        raise TypeError(f"stream_mode must be a string or a list of strings, got {stream_mode!r}")
    for m in modes:
        if m not in _MODES and (strict or not isinstance(m, str)):
            raise ConfigError(
                f"Unknown stream_mode {m!r}: expected one of {', '.join(sorted(_MODES))}", key="stream_mode", value=m
            )
    return modes, single


# ``tools``: LangChain tool calls' start/finish/error events (not in ``StreamMode``, as
# in LangGraph, where it feeds the tool-call transformers)
_MODES = STREAM_MODES | {"tools"}


class GraphRunnable:
    """Runs a ``Program``; the base of ``CompiledStateGraph``."""

    program: Program
    name: str
    is_actorgraph_runnable = True
    """Marks a runnable of ours for the engine, which sits below this package
    (``actors._callable.is_our_runnable``)."""
    stream_transformers: tuple[Any, ...] = ()
    """Transformer factories ``compile(transformers=...)`` added to every
    ``stream_events(version="v3")`` run."""
    config: dict[str, Any] | None = None
    """Defaults merged under every call's config (``with_config``)."""

    def with_config(self, config: Any = None, **kwargs: Any) -> Any:
        """A copy of this graph whose calls run with ``config`` (and ``kwargs`` as config
        keys, e.g. ``recursion_limit=50``) merged under their own config."""
        clone = copy.copy(self)
        clone.config = merge_configs(self.config, config, kwargs)
        return clone

    def __or__(self, other: Any) -> Any:
        """``graph | step``: a LangChain ``RunnableSequence`` (needs langchain-core)."""
        from langchain_core.runnables import RunnableSequence

        from actorgraph.actors._lc_view import as_langchain

        return RunnableSequence(as_langchain(self), as_langchain(other))

    def __ror__(self, other: Any) -> Any:
        """``step | graph``: a LangChain ``RunnableSequence`` (needs langchain-core)."""
        from langchain_core.runnables import RunnableSequence

        from actorgraph.actors._lc_view import as_langchain

        return RunnableSequence(as_langchain(other), as_langchain(self))

    @property
    def checkpointer(self) -> Any:
        """The checkpointer it was compiled with (``None``, ``True``/``False`` for a subgraph)."""
        return self.program.checkpointer

    @property
    def store(self) -> Any:
        return self.program.store

    def config_schema(self, *, include: Sequence[str] | None = None) -> Any:
        """Deprecated: a pydantic model of the run config (``configurable`` typed by the
        ``context_schema``). Use ``get_context_jsonschema``."""
        import warnings

        from actorgraph.warnings import LangGraphDeprecatedSinceV10

        warnings.warn(
            "`config_schema` is deprecated. Use `get_context_jsonschema` for the relevant schema instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        from typing import get_type_hints

        from pydantic import create_model

        from actorgraph._config_types import RunnableConfig

        context_schema = getattr(self, "context_schema", None)
        fields: dict[str, Any] = {"configurable": (context_schema, None)} if context_schema else {}
        for name, hint in get_type_hints(RunnableConfig).items():
            if name in (include or ()) and name != "configurable":
                fields[name] = (hint, None)
        name = self.get_name("Config") if hasattr(self, "get_name") else f"{self.name}Config"
        return create_model(name, **fields)

    def get_config_jsonschema(self, *, include: Sequence[str] | None = None) -> dict[str, Any]:
        """Deprecated: JSON Schema of ``config_schema()``. Use ``get_context_jsonschema``."""
        import warnings

        from actorgraph.warnings import LangGraphDeprecatedSinceV10

        warnings.warn(
            "`get_config_jsonschema` is deprecated. Use `get_context_jsonschema` instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LangGraphDeprecatedSinceV10)
            model = self.config_schema(include=include)
        return dict(model.model_json_schema())

    def statistics(self) -> Any:
        """Counters over every run of this graph: runs, failures, steps, tasks, peak workers."""
        return self.program.stats.snapshot()

    # -- input -------------------------------------------------------------------------
    def _input(self, input: Any, program: Program) -> RunInput:
        if input is None:
            return RunInput(None)
        if isinstance(input, Command):
            # on a saved thread, update/goto apply to its pending step, which then runs
            command = program.command_writes(input) if input.update is not None or input.goto else None
            if input.resume is not None:
                return RunInput(None, resume=input.resume, command=command)
            writes, sends = program.map_command(input)
            return RunInput(writes, sends, command=command)
        return RunInput(program.map_input(input))

    def _config(self, config: Any, parent: Any) -> dict[str, Any]:
        """The run's complete config (``parent``: the calling task, if any)."""
        if self.config:
            config = merge_configs(self.config, config)
        if parent is None:
            return ensure_config(config)
        if config is None:
            return parent.run.cfg.config  # complete already, and never changed by a run
        return ensure_config(config, parent.run.cfg.config)

    def _detached(self, config: Any, parent: Any) -> bool:
        """Whether a graph called inside a node keeps a lineage of its own (its config
        names a thread or checkpoint): it saves as a top-level run does."""
        if parent is None:
            return False
        for source in (self.config, config):
            if not source:
                continue
            own = source.get(CONF)
            if own:
                if own.get(CONFIG_KEY_TASK_ID) is not None:
                    # a task's own config passed on (`sub.invoke(state, config)`): its
                    # checkpoint_ns is the task's, and the graph runs as its subgraph
                    continue
                for key in _COORDINATE_KEYS:
                    if own.get(key) is not None:
                        return True
            if source.get("thread_id") is not None:
                return True
        return False

    async def _execute(self, input: Any, config: Any, opts: _Options, sink: Any) -> RunOutcome:
        parent = current_task()
        program = self.program
        return await self._run(
            input,
            config,
            self._config(config, parent),
            self._input(input, program),
            program.coerce_context(opts.context),
            sink,
            parent,
            opts,
            self._detached(config, parent),
        )

    def _run(
        self,
        input: Any,
        config: Any,
        cfg: dict[str, Any],
        run_input: RunInput,
        context: Any,
        sink: Any,
        parent: Any,
        opts: _Options,
        detached: bool,
    ) -> Awaitable[RunOutcome]:
        """``execute`` the run (an awaitable); when something listens to its callbacks
        (see ``_trace``), as a LangChain chain run that its tasks' runs nest in."""
        given = merge_configs(self.config, config) if self.config else config
        callbacks = trace_callbacks(cfg, given, parent)
        if callbacks is not NOT_TRACED:
            return self._run_traced(callbacks, input, cfg, given, run_input, context, sink, parent, opts, detached)
        return self._execute_run(run_input, cfg, context, sink, parent, opts, detached, None)

    def _execute_run(
        self,
        run_input: RunInput,
        cfg: dict[str, Any],
        context: Any,
        sink: Any,
        parent: Any,
        opts: _Options,
        detached: bool,
        trace: Any,
    ) -> Awaitable[RunOutcome]:
        """The ``execute`` coroutine of the run (no coroutine layer of its own)."""
        return execute(
            self.program,
            run_input,
            cfg,
            context=context,
            sink=sink,
            parent=parent,
            sync_call=opts.sync_call,
            durability=opts.durability,
            interrupt_before=opts.interrupt_before,
            interrupt_after=opts.interrupt_after,
            detached=detached,
            control=opts.control,
            trace=trace,
        )

    async def _run_traced(
        self,
        callbacks: Any,
        input: Any,
        cfg: dict[str, Any],
        given: Any,
        run_input: RunInput,
        context: Any,
        sink: Any,
        parent: Any,
        opts: _Options,
        detached: bool,
    ) -> RunOutcome:
        from actorgraph.actors._langchain_trace import RunTrace

        if parent is None:
            sync = opts.sync_call or _backend() != "asyncio"
        elif parent.run.cfg.trace is not None:
            sync = parent.run.cfg.trace.sync  # a subgraph reports as its parent does
        else:
            sync = parent.run.cfg.sync_call or parent.run.backend != "asyncio"
        trace = await RunTrace.start(callbacks, cfg, given, input, self.name, sync)
        try:
            outcome = await self._execute_run(run_input, cfg, context, sink, parent, opts, detached, trace)
        except BaseException as exc:
            await trace.error(exc)
            raise
        await trace.end(outcome.values)
        return outcome

    # -- async -------------------------------------------------------------------------
    async def ainvoke(
        self,
        input: Any,
        config: Any = None,
        *,
        context: Any = None,
        stream_mode: Any = "values",
        output_keys: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        durability: str | None = None,
        control: Any = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> Any:
        """Run the graph to the end (or to a pause) and return its output.

        ``control``: a ``RunControl`` through which the run can be asked to stop at the
        next step boundary (``GraphDrained``)."""
        durability = _deprecated_kwargs(kwargs, durability)
        opts = _Options(context, stream_mode, False, version, durability, interrupt_before, interrupt_after, False, output_keys, control)
        opts.print_mode = self._print_modes(kwargs)
        return await self._ainvoke(input, config, opts)

    async def run_as_node(self, input: Any) -> Any:
        """Run as a node of a parent graph (the calling task): same thread, config,
        stream and checkpointer, in the task's namespace."""
        outcome = await self._execute(input, None, _AS_NODE, NULL_SINK)
        return self._output(outcome, _AS_NODE)

    async def _ainvoke(self, input: Any, config: Any, opts: _Options) -> Any:
        if opts.stream_mode != "values":
            return [c async for c in self._astream(input, config, opts)]
        sink = PrintSink(frozenset(opts.print_mode)) if opts.print_mode else NULL_SINK
        outcome = await self._execute(input, config, opts, sink)
        return self._output(outcome, opts)

    def _print_modes(self, kwargs: dict[str, Any]) -> tuple[str, ...]:
        """The modes to print as they stream (``print_mode``; ``updates`` and ``values``
        with ``debug=True`` here or at compile), checked as stream modes are."""
        if kwargs:
            if kwargs.get("debug"):
                return ("updates", "values")
        elif not self.program.debug:
            return ()
        if self.program.debug:
            return ("updates", "values")
        print_mode = kwargs.get("print_mode")
        if not print_mode:
            return ()
        return tuple(_stream_modes(print_mode, "values")[0])

    def _v2_mappers(self) -> tuple[Any, Any]:
        """(output, state) mappers of ``version="v2"`` streams: a dict of values to the
        output (state) schema's pydantic model or dataclass; ``None`` for other schemas."""
        mappers = self.__dict__.get("_v2_mapper_cache")
        if mappers is None:
            builder = getattr(self, "builder", None)
            mappers = self.__dict__["_v2_mapper_cache"] = (
                _schema_mapper(getattr(builder, "output_schema", None)),
                _schema_mapper(getattr(builder, "state_schema", None)),
            )
        return mappers

    def _output(self, outcome: RunOutcome, opts: _Options) -> Any:
        keys = opts.output_keys
        if keys is not None and outcome.state is not None:
            # the channels asked for instead of the graph's output: one bare value, or a dict
            sv = outcome.state
            values: Any = sv.get(keys) if isinstance(keys, str) else {k: sv[k] for k in keys if k in sv}
            outcome = RunOutcome(values, outcome.interrupts, outcome.paused, sv)
        if opts.version == "v2":
            output: Any = outcome.values
            mapper = self._v2_mappers()[0]
            if mapper is not None and isinstance(output, dict):
                output = mapper(output)
            return GraphOutput(output, tuple(outcome.interrupts))
        return output_with_interrupts(outcome)

    def astream(
        self,
        input: Any,
        config: Any = None,
        *,
        context: Any = None,
        stream_mode: Any = None,
        output_keys: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        durability: str | None = None,
        control: Any = None,
        subgraphs: bool = False,
        version: str = "v1",
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Run the graph, yielding stream chunks as they happen."""
        durability = _deprecated_kwargs(kwargs, durability)
        opts = _Options(context, stream_mode, subgraphs, version, durability, interrupt_before, interrupt_after, False, output_keys, control)
        opts.print_mode = self._print_modes(kwargs)
        return self._astream(input, config, opts)

    async def _astream(self, input: Any, config: Any, opts: _Options) -> AsyncIterator[Any]:
        modes, single = _stream_modes(opts.stream_mode, self.program.stream_mode, self.program.strict)
        printed = frozenset(opts.print_mode)
        sink = QueueSink(frozenset(modes) | printed, opts.subgraphs)
        parent = current_task()
        cfg = self._config(config, parent)
        mappers: tuple[Any, Any] = (None, None)
        if opts.version == "v2":
            mappers = self._v2_mappers()
            # a stream_events(version="v3") run: chat models stream protocol events
            sink.messages_v2 = bool(cfg[CONF].get(MESSAGES_V2_FLAG))
        run_input = self._input(input, self.program)
        ctx_value = self.program.coerce_context(opts.context)
        detached = self._detached(config, parent)
        result: list[Any] = []

        async def body() -> None:
            try:
                result.append(await self._run(input, config, cfg, run_input, ctx_value, sink, parent, opts, detached))
            except BaseException as exc:  # handed to the consumer below
                result.append(exc)
                if isinstance(exc, anyio.get_cancelled_exc_class()):
                    raise
            finally:
                sink.close()

        task = DetachedTask(body)
        try:
            while True:
                event = await sink.get()
                if event is END_OF_STREAM:
                    break
                ns, mode, chunk = event
                if printed and mode in printed:
                    print_event(ns, mode, chunk)
                    if mode not in modes:
                        continue
                yield _format(ns, mode, chunk, single, opts.subgraphs, opts.version, mappers)
        finally:
            if not task.done:
                task.cancel()
                with anyio.CancelScope(shield=True):
                    await task.wait()
        if result and isinstance(result[0], BaseException):
            raise result[0]

    # -- event streams -----------------------------------------------------------------
    def stream_events(
        self,
        input: Any,
        config: Any = None,
        *,
        version: str = "v2",
        transformers: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """``version="v3"``: a ``GraphRunStream`` whose projections (``run.values``,
        ``run.messages``, ``run.lifecycle``, ``run.subgraphs``, and those of
        ``transformers`` and ``compile(transformers=...)``) the caller drives by reading
        them. Other keyword arguments (``context``, ``durability``, ``interrupt_before``
        ...) go to ``stream``; ``stream_mode`` and ``subgraphs`` are v3's own. The
        LangChain event versions ``"v1"``/``"v2"`` exist only as ``astream_events``."""
        if version == "v3":
            from actorgraph.stream._entry import stream_events_v3

            inside = current_task() is not None
            return stream_events_v3(
                self, input, config, transformers=transformers, inside_node=inside, **_v3_kwargs(kwargs)
            )
        raise NotImplementedError(
            f"stream_events(version={version!r}) is not available synchronously: use "
            "astream_events(), or version='v3'"
        )

    def astream_events(
        self,
        input: Any,
        config: Any = None,
        *,
        version: str = "v2",
        transformers: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """``version="v3"``: an awaitable of an ``AsyncGraphRunStream`` (see
        ``stream_events``). ``"v1"``/``"v2"``: LangChain's event stream (``on_chat_model_stream``,
        ``on_tool_start`` ... of the LangChain components the nodes run), with the
        keyword arguments passed on to ``astream`` as given."""
        if version == "v3":
            from actorgraph.stream._entry import astream_events_v3, reject_v3_invariant_kwargs

            reject_v3_invariant_kwargs(kwargs)
            inside = current_task() is not None
            return astream_events_v3(
                self, input, config, transformers=transformers, inside_node=inside, **_v3_kwargs(kwargs)
            )
        from actorgraph.stream._events import astream_langchain_events

        return astream_langchain_events(self, input, config, version, kwargs)

    def astream_log(
        self,
        input: Any,
        config: Any = None,
        *,
        diff: bool = True,
        with_streamed_output_list: bool = True,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """LangChain's run log of a run (``RunLogPatch`` objects, or ``RunLog`` states
        with ``diff=False``): each traced run's streamed and final output. Filters
        (``include_names`` ...) and other keyword arguments as LangChain's."""
        from actorgraph.stream._events import astream_langchain_log

        return astream_langchain_log(self, input, config, diff, with_streamed_output_list, kwargs)

    async def abatch(
        self,
        inputs: Sequence[Any],
        config: Any = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """``ainvoke`` each input concurrently; results in input order."""
        configs = _batch_configs(config, len(inputs))
        out: list[Any] = [None] * len(inputs)
        limit = configs[0].get("max_concurrency") if configs else None
        limiter = anyio.CapacityLimiter(limit) if limit else None
        failed: list[BaseException] = []
        opts = _Options(
            kwargs.get("context"),
            "values",
            False,
            "v1",
            kwargs.get("durability"),
            kwargs.get("interrupt_before"),
            kwargs.get("interrupt_after"),
            False,
            kwargs.get("output_keys"),
        )

        async def one(i: int, scope: anyio.CancelScope) -> None:
            if limiter is not None:
                await limiter.acquire()
            try:
                out[i] = await self._ainvoke(inputs[i], configs[i], opts)
            except Exception as exc:
                if return_exceptions:
                    out[i] = exc
                elif not failed:
                    # the first failure is the batch's error, raised as itself (not in an
                    # exception group); the other runs are cancelled
                    failed.append(exc)
                    scope.cancel()
            finally:
                if limiter is not None:
                    limiter.release()

        async with anyio.create_task_group() as tg:
            for i in range(len(inputs)):
                tg.start_soon(one, i, tg.cancel_scope)
        if failed:
            raise failed[0]
        return out

    # -- sync --------------------------------------------------------------------------
    def invoke(
        self,
        input: Any,
        config: Any = None,
        *,
        context: Any = None,
        stream_mode: Any = "values",
        output_keys: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        durability: str | None = None,
        control: Any = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> Any:
        """Run the graph to the end (or to a pause) and return its output.

        ``control``: a ``RunControl`` through which the run can be asked to stop at the
        next step boundary (``GraphDrained``)."""
        durability = _deprecated_kwargs(kwargs, durability)
        opts = _Options(context, stream_mode, False, version, durability, interrupt_before, interrupt_after, True, output_keys, control)
        opts.print_mode = self._print_modes(kwargs)
        return run_sync(lambda: self._ainvoke(input, config, opts))

    def stream(
        self,
        input: Any,
        config: Any = None,
        *,
        context: Any = None,
        stream_mode: Any = None,
        output_keys: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        durability: str | None = None,
        control: Any = None,
        subgraphs: bool = False,
        version: str = "v1",
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run the graph, yielding stream chunks as they happen."""
        durability = _deprecated_kwargs(kwargs, durability)
        opts = _Options(context, stream_mode, subgraphs, version, durability, interrupt_before, interrupt_after, True, output_keys, control)
        opts.print_mode = self._print_modes(kwargs)
        return iterate_sync(lambda: self._astream(input, config, opts))

    def batch(
        self,
        inputs: Sequence[Any],
        config: Any = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """``invoke`` each input; results in input order."""
        return run_sync(lambda: self.abatch(inputs, config, return_exceptions=return_exceptions, **kwargs))


    # -- state ------------------------------------------------------------------------
    async def aget_state(self, config: Any, *, subgraphs: bool = False) -> StateSnapshot:
        """The thread's state at its latest checkpoint (or the one ``config`` names)."""
        return await aget_state(self.program, config, subgraphs=subgraphs)

    def get_state(self, config: Any, *, subgraphs: bool = False) -> StateSnapshot:
        """The thread's state at its latest checkpoint (or the one ``config`` names)."""
        return run_sync(lambda: aget_state(self.program, config, subgraphs=subgraphs))

    def aget_state_history(
        self, config: Any, *, filter: dict[str, Any] | None = None, before: Any = None, limit: int | None = None
    ) -> AsyncIterator[StateSnapshot]:
        """The thread's checkpoints, newest first."""
        return aget_state_history(self.program, config, filter=filter, before=before, limit=limit)

    def get_state_history(
        self, config: Any, *, filter: dict[str, Any] | None = None, before: Any = None, limit: int | None = None
    ) -> Iterator[StateSnapshot]:
        """The thread's checkpoints, newest first."""
        return iterate_sync(lambda: aget_state_history(self.program, config, filter=filter, before=before, limit=limit))

    async def aupdate_state(self, config: Any, values: Any, as_node: str | None = None, task_id: str | None = None) -> dict[str, Any]:
        """Save ``values`` as a new checkpoint, as if node ``as_node`` had returned them."""
        return await aupdate_state(self.program, config, values, as_node, task_id)

    def update_state(self, config: Any, values: Any, as_node: str | None = None, task_id: str | None = None) -> dict[str, Any]:
        """Save ``values`` as a new checkpoint, as if node ``as_node`` had returned them."""
        return run_sync(lambda: aupdate_state(self.program, config, values, as_node, task_id))

    async def abulk_update_state(self, config: Any, supersteps: Sequence[Sequence[StateUpdate]]) -> dict[str, Any]:
        """Several updates, one checkpoint per superstep."""
        return await abulk_update_state(self.program, config, supersteps)

    def bulk_update_state(self, config: Any, supersteps: Sequence[Sequence[StateUpdate]]) -> dict[str, Any]:
        """Several updates, one checkpoint per superstep."""
        return run_sync(lambda: abulk_update_state(self.program, config, supersteps))


class _Options:
    """How one call runs (everything but its input and config)."""

    __slots__ = (
        "context",
        "stream_mode",
        "subgraphs",
        "version",
        "durability",
        "interrupt_before",
        "interrupt_after",
        "sync_call",
        "output_keys",
        "control",
        "print_mode",
    )

    def __init__(
        self,
        context: Any,
        stream_mode: Any,
        subgraphs: bool,
        version: str,
        durability: str | None,
        interrupt_before: Any,
        interrupt_after: Any,
        sync_call: bool,
        output_keys: Any,
        control: Any = None,
    ) -> None:
        self.context = context
        self.stream_mode = stream_mode
        self.subgraphs = subgraphs
        self.version = version
        self.durability = durability
        self.interrupt_before = interrupt_before
        self.interrupt_after = interrupt_after
        self.sync_call = sync_call
        self.output_keys = output_keys
        self.control = control
        self.print_mode: tuple[str, ...] = ()


def _backend() -> str:
    import sniffio

    try:
        return sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return "asyncio"


_AS_NODE = _Options(None, "values", False, "v1", None, None, None, False, None)
"""How a graph runs as a node of its parent (``run_as_node``): shared by every such run,
never changed."""


def _deprecated_kwargs(kwargs: dict[str, Any], durability: str | None) -> str | None:
    """The durability a call asked for, honouring the deprecated ``checkpoint_during``."""
    if not kwargs:
        return durability
    checkpoint_during = kwargs.get("checkpoint_during")
    if checkpoint_during is None:
        return durability
    import warnings

    from actorgraph.warnings import LangGraphDeprecatedSinceV10

    warnings.warn(
        "`checkpoint_during` is deprecated and will be removed. Please use `durability` instead.",
        category=LangGraphDeprecatedSinceV10,
        stacklevel=3,
    )
    if durability is not None:
        raise ConfigError(
            "Cannot use both `checkpoint_during` and `durability` parameters. Please use `durability` instead.",
            key="durability",
            value=durability,
        )
    return "async" if checkpoint_during else "exit"


def _batch_configs(config: Any, n: int) -> list[Any]:
    if isinstance(config, Sequence) and not isinstance(config, (str, dict)):
        if len(config) != n:
            raise ValueError(f"batch got {n} inputs but {len(config)} configs")
        return [c or {} for c in config]
    return [config or {} for _ in range(n)]


def _format(
    ns: tuple[str, ...],
    mode: str,
    chunk: Any,
    single: bool,
    subgraphs: bool,
    version: str,
    mappers: tuple[Any, Any] = (None, None),
) -> Any:
    if version == "v2":
        if mode == "values":
            interrupts: Any = ()
            if isinstance(chunk, dict):
                if INTERRUPT in chunk:
                    interrupts = chunk[INTERRUPT]
                    chunk = {k: v for k, v in chunk.items() if k != INTERRUPT}
                # the graph's schema, so its own values only (a subgraph's may differ)
                if mappers[0] is not None and not ns:
                    chunk = mappers[0](chunk)
            return {"type": mode, "ns": ns, "data": chunk, "interrupts": interrupts}
        if mappers[1] is not None and not ns and mode in ("checkpoints", "debug"):
            _map_checkpoint_values(chunk, mappers[1])
        return {"type": mode, "ns": ns, "data": chunk}
    if subgraphs:
        return (ns, chunk) if single else (ns, mode, chunk)
    return chunk if single else (mode, chunk)


def _schema_mapper(schema: Any) -> Any:
    """``schema(**values)`` for a pydantic model or dataclass schema, else ``None``."""
    if not isinstance(schema, type):
        return None
    if dataclasses.is_dataclass(schema) or (hasattr(schema, "model_fields") and hasattr(schema, "model_validate")):
        return lambda values: schema(**values)
    return None


def _map_checkpoint_values(payload: Any, mapper: Any) -> None:
    """Map the ``values`` of a checkpoint payload (bare, or in a debug ``checkpoint``
    event) in place; not the input checkpoint's, where the state isn't complete yet."""
    if not isinstance(payload, dict):
        return
    if payload.get("type") == "checkpoint" and isinstance(payload.get("payload"), dict):
        payload = payload["payload"]
    values = payload.get("values")
    if isinstance(values, dict) and START not in (payload.get("next") or ()):
        payload["values"] = mapper(values)


def _v3_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """v3 always passes ``interrupt_before``/``interrupt_after``/``control`` to ``stream``
    (``None`` when not given); the rest goes as it is."""
    return {
        "interrupt_before": kwargs.pop("interrupt_before", None),
        "interrupt_after": kwargs.pop("interrupt_after", None),
        "control": kwargs.pop("control", None),
        "kwargs": kwargs,
    }
