"""``astream_events(version="v1" | "v2")``: LangChain's callback event stream over a run.

The events are LangChain's (``on_chat_model_start``/``_stream``/``_end``, ``on_tool_*``
...): its event-stream handler is added to the run's callbacks, which every task passes
on to the LangChain components it calls, while the run is driven through ``astream``
with the caller's keyword arguments. ``"v1"`` (deprecated by LangChain) gives the same
events as ``"v2"``. Needs langchain-core, and asyncio.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from typing import Any

__all__ = ("astream_langchain_events", "astream_langchain_log")

_FILTERS = ("include_names", "include_types", "include_tags", "exclude_names", "exclude_types", "exclude_tags")


async def astream_langchain_events(
    graph: Any, input: Any, config: Any, version: str, kwargs: dict[str, Any]
) -> AsyncIterator[Any]:
    if version not in ("v1", "v2"):
        raise NotImplementedError(f"Unsupported version: {version!r}. Expected 'v1', 'v2', or 'v3'.")
    try:
        from langchain_core.tracers.event_stream import _astream_events_implementation_v2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"astream_events(version={version!r}) streams LangChain callback events: install "
            "langchain-core, or use astream() / astream_events(version='v3')"
        ) from exc
    if version == "v1":
        warnings.warn(
            "astream_events version='v1' is deprecated. Use version='v2' or astream instead.",
            DeprecationWarning,
            stacklevel=2,
        )
    filters = {k: kwargs.pop(k) for k in _FILTERS if k in kwargs}
    events = _astream_events_implementation_v2(graph, input, config=config, **filters, **kwargs)
    try:
        async for event in events:
            yield event
    finally:
        await events.aclose()  # type: ignore[attr-defined]


async def astream_langchain_log(
    graph: Any, input: Any, config: Any, diff: bool, with_streamed_output_list: bool, kwargs: dict[str, Any]
) -> AsyncIterator[Any]:
    """``astream_log``: LangChain's run-log patches over a run (each traced run's
    streamed and final output), the run driven through ``astream``."""
    try:
        from langchain_core.tracers.log_stream import LogStreamCallbackHandler, _astream_log_implementation
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("astream_log streams LangChain run logs: install langchain-core") from exc
    filters = {k: kwargs.pop(k) for k in _FILTERS if k in kwargs}
    handler = LogStreamCallbackHandler(auto_close=False, _schema_format="original", **filters)
    logs = _astream_log_implementation(  # type: ignore[call-overload]
        graph, input, config, diff=diff, stream=handler, with_streamed_output_list=with_streamed_output_list, **kwargs
    )
    try:
        async for item in logs:
            yield item
    finally:
        await logs.aclose()  # type: ignore[attr-defined]
