"""The public face of a compiled program: ``invoke``/``ainvoke``, ``stream``/``astream``,
``batch``/``abatch``. Compiled graphs and entrypoints both are ``GraphRunnable``s.

``ainvoke`` runs the engine inline in the caller's task. ``astream`` runs it in a
detached task and reads its events from a queue, because an async generator must not
yield from inside a task group (see ``_spawn.DetachedTask``). The sync twins drive these
through ``_sync``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import anyio

from actorgraph._constants import CONF, INTERRUPT
from actorgraph._types import STREAM_MODES, Command
from actorgraph.actors._context import current_task
from actorgraph.actors._messages import SendMsg
from actorgraph.actors._program import Program
from actorgraph.actors._run import DEFAULT_RECURSION_LIMIT, RunOutcome, execute, output_with_interrupts
from actorgraph.actors._spawn import DetachedTask
from actorgraph.actors._stream import END_OF_STREAM, NULL_SINK, QueueSink
from actorgraph.actors._sync import iterate_sync, run_sync
from actorgraph.errors import EmptyInputError

__all__ = ("GraphRunnable", "GraphOutput", "ensure_config")


class GraphOutput:
    """``invoke(..., version="v2")`` result: the output value and pending interrupts."""

    __slots__ = ("value", "interrupts")

    def __init__(self, value: Any, interrupts: tuple[Any, ...] = ()) -> None:
        self.value = value
        self.interrupts = interrupts

    def __repr__(self) -> str:
        return f"GraphOutput(value={self.value!r}, interrupts={self.interrupts!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, GraphOutput)
            and other.value == self.value
            and other.interrupts == self.interrupts
        )


_MERGED_KEYS = ("configurable", "metadata")


def ensure_config(config: Any, parent: dict[str, Any] | None = None) -> dict[str, Any]:
    """A complete run config: the parent run's config (for subgraphs), then ``config``.

    ``configurable`` and ``metadata`` merge key by key, ``tags`` concatenate, everything
    else is replaced. Validates ``recursion_limit`` and ``max_concurrency``.
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
    for source in (parent, config):
        if not source:
            continue
        for key, value in source.items():
            if key in _MERGED_KEYS:
                if value:
                    out[key] = {**out[key], **value}
            elif key == "tags":
                if value:
                    out["tags"] = [*out["tags"], *value]
            elif value is not None or key not in out:
                out[key] = value
    limit = out["recursion_limit"]
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"recursion_limit must be an int, got {limit!r}")
    if limit < 1:
        raise ValueError(f"recursion_limit must be at least 1, got {limit}")
    mc = out.get("max_concurrency")
    if mc is not None and (isinstance(mc, bool) or not isinstance(mc, int) or mc < 1):
        raise ValueError(f"max_concurrency must be a positive int or None, got {mc!r}")
    return out


def _stream_modes(stream_mode: Any, default: str) -> tuple[list[str], bool]:
    """(modes, single): the requested modes and whether chunks are yielded bare."""
    if stream_mode is None:
        return [default], True
    if isinstance(stream_mode, str):
        modes, single = [stream_mode], True
    elif isinstance(stream_mode, Sequence):
        modes, single = list(dict.fromkeys(stream_mode)), False
    else:
        raise TypeError(f"stream_mode must be a string or a list of strings, got {stream_mode!r}")
    for m in modes:
        if m not in STREAM_MODES:
            raise ValueError(
                f"Unknown stream_mode {m!r}: expected one of {', '.join(sorted(STREAM_MODES))}"
            )
    return modes, single


class GraphRunnable:
    """Runs a ``Program``; the base of ``CompiledStateGraph``."""

    program: Program
    name: str

    def statistics(self) -> Any:
        """Counters over every run of this graph: runs, failures, steps, tasks, peak workers."""
        return self.program.stats.snapshot()

    # -- input -------------------------------------------------------------------------
    def _input(self, input: Any) -> tuple[list[tuple[str, Any]], list[SendMsg]]:
        if isinstance(input, Command):
            return self.program.map_command(input)
        if input is None:
            raise EmptyInputError(
                f"Received no input for graph '{self.name}': pass the initial state "
                "(a dict of state keys) to start a run."
            )
        return self.program.map_input(input), []

    def _config(self, config: Any) -> dict[str, Any]:
        parent = current_task()
        return ensure_config(config, parent.run.config if parent is not None else None)

    # -- async -------------------------------------------------------------------------
    async def ainvoke(
        self,
        input: Any,
        config: Any = None,
        *,
        context: Any = None,
        stream_mode: Any = "values",
        version: str = "v1",
        **kwargs: Any,
    ) -> Any:
        """Run the graph to the end and return its output (the final state)."""
        return await self._ainvoke(input, config, context, stream_mode, version, False)

    async def _ainvoke(
        self,
        input: Any,
        config: Any,
        context: Any,
        stream_mode: Any,
        version: str,
        sync_call: bool,
    ) -> Any:
        if stream_mode != "values":
            return [c async for c in self._astream(input, config, context, stream_mode, False, version, sync_call)]
        cfg = self._config(config)
        writes, sends = self._input(input)
        outcome = await execute(
            self.program,
            writes,
            sends,
            cfg,
            context=self.program.coerce_context(context),
            sink=NULL_SINK,
            parent=current_task(),
            sync_call=sync_call,
        )
        return self._output(outcome, version)

    def _output(self, outcome: RunOutcome, version: str) -> Any:
        if version == "v2":
            return GraphOutput(outcome.values, tuple(outcome.interrupts))
        return output_with_interrupts(outcome)

    def astream(
        self,
        input: Any,
        config: Any = None,
        *,
        context: Any = None,
        stream_mode: Any = None,
        subgraphs: bool = False,
        version: str = "v1",
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Run the graph, yielding stream chunks as they happen."""
        return self._astream(input, config, context, stream_mode, subgraphs, version, False)

    async def _astream(
        self,
        input: Any,
        config: Any,
        context: Any,
        stream_mode: Any,
        subgraphs: bool,
        version: str,
        sync_call: bool,
    ) -> AsyncIterator[Any]:
        modes, single = _stream_modes(stream_mode, self.program.stream_mode)
        cfg = self._config(config)
        writes, sends = self._input(input)
        sink = QueueSink(frozenset(modes), subgraphs)
        ctx_value = self.program.coerce_context(context)
        parent = current_task()
        result: list[Any] = []

        async def body() -> None:
            try:
                result.append(
                    await execute(
                        self.program,
                        writes,
                        sends,
                        cfg,
                        context=ctx_value,
                        sink=sink,
                        parent=parent,
                        sync_call=sync_call,
                    )
                )
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
                yield _format(ns, mode, chunk, single, subgraphs, version)
        finally:
            if not task.done:
                task.cancel()
                with anyio.CancelScope(shield=True):
                    await task.wait()
        if result and isinstance(result[0], BaseException):
            raise result[0]

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

        async def one(i: int, scope: anyio.CancelScope) -> None:
            if limiter is not None:
                await limiter.acquire()
            try:
                out[i] = await self._ainvoke(inputs[i], configs[i], kwargs.get("context"), "values", "v1", False)
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
        version: str = "v1",
        **kwargs: Any,
    ) -> Any:
        """Run the graph to the end and return its output (the final state)."""
        return run_sync(lambda: self._ainvoke(input, config, context, stream_mode, version, True))

    def stream(
        self,
        input: Any,
        config: Any = None,
        *,
        context: Any = None,
        stream_mode: Any = None,
        subgraphs: bool = False,
        version: str = "v1",
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run the graph, yielding stream chunks as they happen."""
        return iterate_sync(
            lambda: self._astream(input, config, context, stream_mode, subgraphs, version, True)
        )

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


def _batch_configs(config: Any, n: int) -> list[Any]:
    if isinstance(config, Sequence) and not isinstance(config, (str, dict)):
        if len(config) != n:
            raise ValueError(f"batch got {n} inputs but {len(config)} configs")
        return [c or {} for c in config]
    return [config or {} for _ in range(n)]


def _format(
    ns: tuple[str, ...], mode: str, chunk: Any, single: bool, subgraphs: bool, version: str
) -> Any:
    if version == "v2":
        if mode == "values" and isinstance(chunk, dict) and INTERRUPT in chunk:
            data = {k: v for k, v in chunk.items() if k != INTERRUPT}
            return {"type": mode, "ns": ns, "data": data, "interrupts": chunk[INTERRUPT]}
        part: dict[str, Any] = {"type": mode, "ns": ns, "data": chunk}
        if mode == "values":
            part["interrupts"] = ()
        return part
    if subgraphs:
        return (ns, chunk) if single else (ns, mode, chunk)
    return chunk if single else (mode, chunk)
