"""Calling user functions: nodes and conditional-edge routers.

A callable's signature is read once, at ``add_node``/``compile``: whether it takes the
state at all, which of ``config``, ``runtime``, ``writer``, ``store``, ``previous`` it
accepts (by parameter name, as LangGraph does), and whether it is async. The result is a
closure ``call(input, task_context)`` that passes exactly those - nothing is inspected or
merged per call.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any

__all__ = (
    "BoundCallable",
    "bind_callable",
    "callable_name",
    "check_config_annotation",
    "has_native_async",
    "is_async_callable",
)

_INJECTABLE: dict[str, Callable[[Any], Any]] = {
    "config": lambda t: t.config,
    "runtime": lambda t: t.runtime,
    "writer": lambda t: t.writer,
    "store": lambda t: t.run.cfg.store,
    "previous": lambda t: t.run.resume.previous,
}


def callable_name(fn: Any) -> str:
    """The name ``add_node(fn)`` gives a node: the function's ``__name__``, a compiled
    graph's name, or the callable object's class name."""
    name = getattr(fn, "name", None)
    if isinstance(name, str) and name and not inspect.isfunction(fn):
        return name
    name = getattr(fn, "__name__", None)
    if isinstance(name, str):
        return name
    return type(fn).__name__


def is_async_callable(fn: Any) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    if isinstance(fn, functools.partial):
        return is_async_callable(fn.func)
    call = getattr(fn, "__call__", None)  # noqa: B004
    return call is not None and inspect.iscoroutinefunction(call)


class BoundCallable:
    """A user callable with its calling convention worked out."""

    __slots__ = ("fn", "call", "is_async", "accepts", "takes_input")

    def __init__(
        self,
        fn: Any,
        call: Callable[[Any, Any], Any],
        is_async: bool,
        accepts: frozenset[str],
        takes_input: bool,
    ) -> None:
        self.fn = fn
        self.call = call
        self.is_async = is_async
        self.accepts = accepts
        self.takes_input = takes_input


def _signature(fn: Any) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def bind_callable(fn: Any, what: str) -> BoundCallable:
    """Work out how to call ``fn``; ``what`` names it in errors ("node 'x'")."""
    # a runnable's class defines ``ainvoke`` (a mock that answers every attribute doesn't)
    ainvoke = getattr(fn, "ainvoke", None) if hasattr(type(fn), "ainvoke") else None
    if ainvoke is not None and not inspect.isfunction(fn) and callable(ainvoke):
        # a Runnable-like object (a compiled graph, a LangChain runnable)
        invoke = getattr(fn, "invoke", None)
        if callable(invoke) and not _is_ours(fn):
            # a LangChain runnable runs as the call does: ``invoke`` (in a worker thread)
            # under a sync invoke/stream, ``ainvoke`` under an async one, as in LangGraph
            # (the two may differ, e.g. a RunnableLambda with a separate ``afunc``)
            async def call_either(inp: Any, t: Any) -> Any:
                if t.run.cfg.sync_call:
                    return await _invoke_in_thread(invoke, inp, t)
                return await ainvoke(inp, t.config)

            return BoundCallable(fn, call_either, True, frozenset({"config"}), True)

        async def call_runnable(inp: Any, t: Any) -> Any:
            return await ainvoke(inp, t.config)

        return BoundCallable(fn, call_runnable, True, frozenset({"config"}), True)
    if not callable(fn):
        raise TypeError(
            f"{what} must be a function, a callable object or a compiled graph, "
            f"got {type(fn).__name__}: {fn!r}"
        )
    is_async = is_async_callable(fn)
    sig = _signature(fn)
    takes_input = True
    injected: list[tuple[str, Callable[[Any], Any]]] = []
    if sig is not None:
        params = list(sig.parameters.values())
        positional = [
            p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        has_varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
        takes_input = bool(positional) or has_varargs
        first = positional[0].name if positional else None
        for p in params:
            if p.name == first or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
                continue
            getter = _INJECTABLE.get(p.name)
            if getter is None and _is_node_error(fn, p):
                getter = _node_error
            if getter is not None:
                injected.append((p.name, getter))
    accepts = frozenset(name for name, _ in injected)
    return BoundCallable(fn, _make_call(fn, takes_input, injected), is_async, accepts, takes_input)


def has_native_async(fn: Any) -> bool:
    """Whether ``fn`` is async all the way down, so a timeout can cancel it (LangGraph's
    rule): an async function, an actorgraph graph, or a LangChain runnable whose every
    step has its own async code. A ``RunnableLambda`` of a sync function isn't: under
    ``ainvoke`` it runs the function in a thread, which a timeout can't stop. A runnable
    class that defines its own ``ainvoke`` is taken at its word."""
    if _is_ours(fn):
        return True
    if hasattr(type(fn), "ainvoke") and not inspect.isfunction(fn):
        lc = sys.modules.get("langchain_core.runnables.base")
        if lc is None:
            return True  # no LangChain loaded: a runnable-like object with its own ainvoke
        while isinstance(fn, lc.RunnableBindingBase):
            fn = fn.bound
        if isinstance(fn, lc.RunnableSequence):
            return all(has_native_async(step) for step in fn.steps)
        if isinstance(fn, lc.RunnableParallel):
            return all(has_native_async(step) for step in fn.steps__.values())
        if isinstance(fn, lc.RunnableLambda):
            return bool(getattr(fn, "afunc", None))
        return getattr(type(fn), "ainvoke", None) is not lc.Runnable.ainvoke
    return is_async_callable(fn)


def _is_ours(fn: Any) -> bool:
    """Whether ``fn`` is an actorgraph runnable (a compiled graph or entrypoint): those run
    on the engine's loop whatever the call."""
    return is_our_runnable(fn)


def is_our_runnable(obj: Any) -> bool:
    """Whether ``obj`` is an actorgraph runnable (``pregel.GraphRunnable``: a compiled
    graph or an entrypoint), told by its class's marker: the engine can't import the
    package above it."""
    return getattr(type(obj), "is_actorgraph_runnable", False) is True


async def _invoke_in_thread(invoke: Callable[..., Any], inp: Any, t: Any) -> Any:
    import contextvars

    import anyio.lowlevel
    import anyio.to_thread

    run = t.run
    if run.loop_token is None:
        # the code in the thread may call back into this loop (nested invokes): it needs
        # the loop's token
        run.loop_token = anyio.lowlevel.current_token()
    config = t.config
    ctx = contextvars.copy_context()
    return await anyio.to_thread.run_sync(ctx.run, invoke, inp, config)


def _is_config_annotation(ann: Any) -> bool:
    """``RunnableConfig`` (LangChain's or ours), optionally ``| None``, or no annotation."""
    import typing

    if ann is inspect.Parameter.empty:
        return True
    if isinstance(ann, str):
        return ann.replace(" ", "") in ("RunnableConfig", "Optional[RunnableConfig]", "RunnableConfig|None")
    if getattr(ann, "__name__", None) == "RunnableConfig":
        return True
    args = typing.get_args(ann)
    if args and typing.get_origin(ann) in (typing.Union, _union_type()):
        rest = [a for a in args if a is not type(None)]
        return len(rest) == 1 and len(args) == 2 and getattr(rest[0], "__name__", None) == "RunnableConfig"
    return False


def _union_type() -> Any:
    import types

    return types.UnionType


def check_config_annotation(fn: Any) -> None:
    """Warn (as LangGraph does) when a node's ``config`` parameter is annotated with
    something other than ``RunnableConfig``: the node still gets the config."""
    if inspect.isclass(fn) or not callable(fn) or hasattr(fn, "ainvoke"):
        return
    sig = _signature(fn)
    if sig is None:
        return
    param = sig.parameters.get("config")
    if param is None or param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
        return
    if not _is_config_annotation(param.annotation):
        import warnings

        warnings.warn(
            "The 'config' parameter should be typed as 'RunnableConfig' or 'RunnableConfig | None', "
            f"not '{param.annotation}'. ",
            UserWarning,
            stacklevel=3,
        )


def _node_error(t: Any) -> Any:
    return t.spec.failure


def _is_node_error(fn: Any, param: inspect.Parameter) -> bool:
    """Whether a parameter is annotated ``NodeError`` (an error handler's failure)."""
    from actorgraph.errors import NodeError

    ann = param.annotation
    if ann is NodeError:
        return True
    if isinstance(ann, str):
        return ann.rsplit(".", 1)[-1] == "NodeError"
    return False


def _make_call(
    fn: Any, takes_input: bool, injected: list[tuple[str, Callable[[Any], Any]]]
) -> Callable[[Any, Any], Any]:
    if not injected:
        if takes_input:
            return lambda inp, t: fn(inp)
        return lambda inp, t: fn()
    if len(injected) == 1:
        (name, get), = injected
        if takes_input:
            return lambda inp, t: fn(inp, **{name: get(t)})
        return lambda inp, t: fn(**{name: get(t)})
    if takes_input:
        return lambda inp, t: fn(inp, **{n: g(t) for n, g in injected})
    return lambda inp, t: fn(**{n: g(t) for n, g in injected})
