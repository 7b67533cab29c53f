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

__all__ = ("astream_langchain_events",)

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
