"""``RemoteGraph.stream_events(version="v3")``: the LangGraph SDK's thread stream, shaped
like a local run stream (``run.values``, ``run.messages``, ``run.extensions``,
``output``, ``interrupted``, ``abort()``, iterating raw events).

Entering the stream enters the SDK's thread stream and starts the run; the projections
are the SDK's own (``values``, ``messages``, ``tool_calls``, ``subgraphs``) or, for the
channels it doesn't type (``updates``, ``checkpoints``, ``tasks``, ``custom``), each
event's ``params.data``, as the local transformers yield them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from types import TracebackType
from typing import Any

from actorgraph._types import Command

__all__ = (
    "_AsyncRemoteGraphRunStream",
    "_ChannelProjection",
    "_ProjectionRegistry",
    "_RemoteGraphRunStream",
    "_translate_command_input",
)

_log = logging.getLogger("actorgraph.pregel.remote")


def _translate_command_input(input: Any) -> Any:
    """The v3 wire ``input`` for a run's input: a ``Command(resume=...)`` becomes its bare
    resume value (the server wraps it as ``{"resume": ...}`` when the thread is waiting
    on an interrupt); a Command that moves (``goto``) or writes (``update``) has no v3
    form. Anything else goes as it is."""
    if not isinstance(input, Command):
        return input
    if input.goto or input.update:
        raise NotImplementedError(
            "RemoteGraph v3 streaming supports `Command(resume=...)` only; "
            "`goto` / `update` are not supported by the v3 `run.start` path."
        )
    return input.resume


def _data_decoder(channel: str) -> Any:
    from langgraph_sdk.stream.decoders import DataDecoder

    return DataDecoder(channel)


class _ChannelProjection:
    """The ``params.data`` of a channel's events (``for`` on a sync stream, ``async for``
    on an async one); the stream must be entered."""

    def __init__(self, sdk: Any, channel: str) -> None:
        self._sdk = sdk
        self._channel = channel

    def __iter__(self) -> Iterator[Any]:
        decoder = _data_decoder(self._channel)
        for event in self._sdk.subscribe([self._channel]):
            yield from decoder.feed(event)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[Any]:
        decoder = _data_decoder(self._channel)
        async for event in self._sdk.subscribe([self._channel]):
            for item in decoder.feed(event):
                yield item


class _ProjectionRegistry(Mapping[str, Any]):
    """``run.extensions``: a projection by channel name. The SDK's typed projections for
    ``values``/``messages``/``tool_calls``/``subgraphs``, a ``_ChannelProjection`` for the
    untyped protocol channels, and any other name is a custom extension channel. It lists
    the first two kinds (not ``lifecycle``, which the SDK consumes to drive ``output``
    and ``interrupted``, nor ``debug``, which v3 doesn't carry)."""

    _TYPED = ("values", "messages", "tool_calls", "subgraphs")
    _DECODED = ("updates", "checkpoints", "tasks", "custom")
    _NATIVE = _TYPED + _DECODED

    def __init__(self, sdk: Any) -> None:
        self._sdk = sdk

    def __getitem__(self, name: str) -> Any:
        if name in self._TYPED:
            return getattr(self._sdk, name)
        if name in self._DECODED:
            return _ChannelProjection(self._sdk, name)
        return self._sdk.extensions[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._NATIVE)

    def __len__(self) -> int:
        return len(self._NATIVE)


class _RunStreamBase:
    """What the sync and async adapters share: the run's start arguments and the
    projections, read from the SDK's thread stream."""

    def __init__(self, client: Any, sdk_thread: Any, input: Any, config: Any, metadata: Any) -> None:
        self._client = client
        self._sdk = sdk_thread
        self._start_kwargs: dict[str, Any] = {
            "input": _translate_command_input(input),
            "config": config,
            "metadata": metadata,
        }
        self._run_id: str | None = None
        self._closed = False

    @property
    def values(self) -> Any:
        """The state after each step."""
        return self._sdk.values

    @property
    def messages(self) -> Any:
        """Chat messages as they stream."""
        return self._sdk.messages

    @property
    def subgraphs(self) -> Any:
        """A handle per subgraph run."""
        return self._sdk.subgraphs

    @property
    def tool_calls(self) -> Any:
        """Tool executions (the ``tools`` channel: started / output / finished), not the
        tool calls inside ``messages``."""
        return self._sdk.tool_calls

    @property
    def extensions(self) -> Mapping[str, Any]:
        """Projections by channel name (see ``_ProjectionRegistry``)."""
        return _ProjectionRegistry(self._sdk)


class _RemoteGraphRunStream(_RunStreamBase):
    """``with rg.stream_events(..., version="v3") as run:`` over the SDK's sync thread
    stream."""

    def __init__(self, *, sync_client: Any, sdk_thread: Any, input: Any, config: Any, metadata: Any) -> None:
        super().__init__(sync_client, sdk_thread, input, config, metadata)
        self._events: Iterator[Any] | None = None

    def __enter__(self) -> _RemoteGraphRunStream:
        if self._closed:
            raise RuntimeError("_RemoteGraphRunStream already closed")
        self._sdk.__enter__()
        try:
            started = self._sdk.run.start(**self._start_kwargs)
        except BaseException:
            self._sdk.__exit__(*sys.exc_info())
            raise
        self._run_id = started["run_id"]
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._closed:
            self._closed = True
            self._sdk.__exit__(exc_type, exc, tb)

    @property
    def output(self) -> Any:
        """The run's output as the SDK has it now."""
        return self._sdk.output

    @property
    def interrupted(self) -> bool:
        """Whether the run is paused at an interrupt now (read without waiting, unlike a
        local run stream's, which runs to the end first)."""
        return self._sdk.interrupted

    @property
    def interrupts(self) -> list[Any]:
        """The interrupts pending now."""
        return list(self._sdk.interrupts)

    def abort(self) -> None:
        """Cancel the run (if it started) and close the stream; once is enough. Failures
        to cancel are logged, not raised: the stream closes anyway."""
        if self._closed:
            return
        self._closed = True
        if self._run_id is not None:
            try:
                self._client.runs.cancel(self._sdk.thread_id, self._run_id, wait=False)
            except Exception:
                _log.debug("RemoteGraph run stream: cancelling the run failed", exc_info=True)
        try:
            self._sdk.close()
        except Exception:
            _log.debug("RemoteGraph run stream: closing the SDK stream failed", exc_info=True)

    def __iter__(self) -> Iterator[Any]:
        """The raw protocol events (one iterator per stream: iterating again goes on)."""
        if self._events is None:
            self._events = iter(self._sdk.events)
        return self._events

    def interleave(self, *names: str) -> Iterator[tuple[str, Any]]:
        """``(name, item)`` from several projections, in arrival order."""
        yield from self._sdk.interleave_projections(list(names))


class _AsyncRemoteGraphRunStream(_RunStreamBase):
    """``async with await rg.astream_events(..., version="v3") as run:`` over the SDK's
    async thread stream. (No ``interleave``: combine projections with tasks.)"""

    def __init__(self, *, client: Any, sdk_thread: Any, input: Any, config: Any, metadata: Any) -> None:
        super().__init__(client, sdk_thread, input, config, metadata)
        self._events: AsyncIterator[Any] | None = None

    async def __aenter__(self) -> _AsyncRemoteGraphRunStream:
        if self._closed:
            raise RuntimeError("_AsyncRemoteGraphRunStream already closed")
        await self._sdk.__aenter__()
        try:
            started = await self._sdk.run.start(**self._start_kwargs)
        except BaseException:
            await self._sdk.__aexit__(*sys.exc_info())
            raise
        self._run_id = started["run_id"]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._closed:
            self._closed = True
            await self._sdk.__aexit__(exc_type, exc, tb)

    async def output(self) -> Any:
        """Wait for the run to end; its output."""
        return await self._sdk.output

    async def interrupted(self) -> bool:
        """Whether the run is paused at an interrupt now (read without waiting)."""
        return self._sdk.interrupted

    async def interrupts(self) -> list[Any]:
        """The interrupts pending now."""
        return list(self._sdk.interrupts)

    async def abort(self) -> None:
        """Cancel the run (if it started) and close the stream; once is enough."""
        if self._closed:
            return
        self._closed = True
        if self._run_id is not None:
            try:
                await self._client.runs.cancel(self._sdk.thread_id, self._run_id, wait=False)
            except Exception:
                _log.debug("RemoteGraph run stream: cancelling the run failed", exc_info=True)
        try:
            await self._sdk.close()
        except Exception:
            _log.debug("RemoteGraph run stream: closing the SDK stream failed", exc_info=True)

    def __aiter__(self) -> AsyncIterator[Any]:
        """The raw protocol events (one iterator per stream)."""
        if self._events is None:
            self._events = self._sdk.events.__aiter__()
        return self._events
