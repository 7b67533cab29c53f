"""``stream_events(version="v3")`` / ``astream_events(version="v3")``: build the mux from
the built-in transformers, the graph's compile-time ones and the call's, then hand the
graph's own ``stream(..., subgraphs=True, version="v2")`` to a run handle that pulls it.

The graph is duck-typed (anything with ``stream``/``astream``), and ``stream`` is looked
up on it at call time, so a wrapped or patched ``stream`` is what runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from actorgraph._stream_types import MESSAGES_V2_FLAG
from actorgraph.stream._lifecycle import LifecycleTransformer, SubgraphTransformer
from actorgraph.stream._mux import StreamMux
from actorgraph.stream._run_stream import AsyncGraphRunStream, GraphRunStream
from actorgraph.stream._transformers import MessagesTransformer, ValuesTransformer
from actorgraph.stream._types import StreamTransformer

__all__ = (
    "astream_events_v3",
    "collect_stream_modes",
    "normalize_stream_transformer_factories",
    "reject_v3_invariant_kwargs",
    "stream_events_v3",
)

_BUILTINS: tuple[Callable[[tuple[str, ...]], StreamTransformer], ...] = (
    ValuesTransformer,
    MessagesTransformer,
    LifecycleTransformer,
    SubgraphTransformer,
)
_V3_OWNED = ("stream_mode", "subgraphs")


def reject_v3_invariant_kwargs(kwargs: dict[str, Any]) -> None:
    """``stream_mode`` and ``subgraphs`` are v3's own: refuse them from the caller."""
    clash = [k for k in _V3_OWNED if k in kwargs]
    if clash:
        raise TypeError(
            f"stream_events(version='v3') / astream_events(version='v3') don't accept "
            f"{', '.join(clash)}: v3 sets them itself (the stream modes are the ones its "
            "transformers require, and subgraph events always flow, to their own projections)"
        )


def normalize_stream_transformer_factories(
    specs: Sequence[Callable[[tuple[str, ...]], Any]] | None,
) -> list[Callable[[tuple[str, ...]], Any]]:
    """Transformer specs as scope factories: each spec is called as ``spec(scope)`` (a
    transformer class, or a configured factory such as ``functools.partial``). A
    ready-made instance is refused: it couldn't be cloned into subgraph scopes."""
    factories: list[Callable[[tuple[str, ...]], Any]] = []
    for spec in specs or ():
        if isinstance(spec, StreamTransformer):
            raise TypeError(
                "stream_events(version='v3') transformers must be scope-aware callables, got "
                f"pre-built instance {type(spec).__name__}: pass the class, or a factory such as "
                "`lambda scope: MyTransformer(scope, ...)`"
            )
        if not callable(spec):
            raise TypeError(
                f"stream_events(version='v3') transformers must be scope-aware callables, got {type(spec).__name__}"
            )
        factories.append(functools.partial(_build, spec))
    return factories


def _build(spec: Callable[[tuple[str, ...]], Any], scope: tuple[str, ...]) -> Any:
    return spec(scope)


def collect_stream_modes(mux: StreamMux) -> list[str]:
    """The stream modes the mux's transformers need, in first-required order."""
    modes: dict[str, None] = {}
    for t in mux._transformers:
        for mode in getattr(t, "required_stream_modes", ()):
            modes[mode] = None
    return list(modes)


def _scope(config: Any, inside_node: bool) -> tuple[str, ...]:
    """The namespace the root projections match: ``()`` for a run started from a node
    (its events are its own consumer's root events), else the ``checkpoint_ns`` the
    config names."""
    if inside_node or not isinstance(config, dict):
        return ()
    ns = (config.get("configurable") or {}).get("checkpoint_ns")
    return tuple(ns.split("|")) if ns else ()


def _flagged(config: Any) -> dict[str, Any]:
    base = dict(config) if isinstance(config, dict) else {}
    base["configurable"] = {**(base.get("configurable") or {}), MESSAGES_V2_FLAG: True}
    return base


def _mux(graph: Any, config: Any, transformers: Any, inside_node: bool, is_async: bool) -> StreamMux:
    compiled = normalize_stream_transformer_factories(getattr(graph, "stream_transformers", ()))
    extra = normalize_stream_transformer_factories(transformers)
    return StreamMux(
        factories=[*_BUILTINS, *compiled, *extra],
        scope=_scope(config, inside_node),
        is_async=is_async,
    )


def stream_events_v3(
    graph: Any,
    input: Any,
    config: Any,
    *,
    transformers: Any,
    inside_node: bool,
    interrupt_before: Any,
    interrupt_after: Any,
    control: Any,
    kwargs: dict[str, Any],
) -> GraphRunStream:
    reject_v3_invariant_kwargs(kwargs)
    mux = _mux(graph, config, transformers, inside_node, is_async=False)
    parts = graph.stream(
        input,
        _flagged(config),
        stream_mode=collect_stream_modes(mux),
        subgraphs=True,
        version="v2",
        interrupt_before=interrupt_before,
        interrupt_after=interrupt_after,
        control=control,
        **kwargs,
    )
    return GraphRunStream(iter(parts), mux)


async def astream_events_v3(
    graph: Any,
    input: Any,
    config: Any,
    *,
    transformers: Any,
    inside_node: bool,
    interrupt_before: Any,
    interrupt_after: Any,
    control: Any,
    kwargs: dict[str, Any],
) -> AsyncGraphRunStream:
    mux = _mux(graph, config, transformers, inside_node, is_async=True)
    parts = graph.astream(
        input,
        _flagged(config),
        stream_mode=collect_stream_modes(mux),
        subgraphs=True,
        version="v2",
        interrupt_before=interrupt_before,
        interrupt_after=interrupt_after,
        control=control,
        **kwargs,
    )
    return AsyncGraphRunStream(parts.__aiter__(), mux)
