"""``NodeRunnable``: a LangChain ``Runnable`` made of a sync and an async function, the
shape of every prebuilt node (the agent's model call, ``ToolNode``, ``ValidationNode``).

The function's signature is read once: besides its input it may take ``config``,
``runtime``, ``store``, ``writer`` or ``previous`` (by parameter name, as graph nodes do).
The runtime comes from the running graph task, or, outside a graph, from
``config["configurable"]["__pregel_runtime"]`` where LangGraph callers put one. As a graph
node it runs its sync function when the graph was called synchronously, its async one
otherwise, as LangGraph does.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import types
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio.to_thread
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import (
    ensure_config,
    get_async_callback_manager_for_config,
    get_callback_manager_for_config,
    patch_config,
    set_config_context,
)

from actorgraph._runtime import Runtime
from actorgraph.actors._context import current_task

__all__ = ("CONFIG_KEY_RUNTIME", "NodeRunnable", "runtime_from_config")

CONFIG_KEY_RUNTIME = "__pregel_runtime"
"""Where LangGraph code passes a ``Runtime`` in ``configurable`` to a node run by hand."""

_MISSING: Any = object()
_INJECTABLE = ("config", "runtime", "store", "writer", "previous")
_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _ignore(_: Any) -> None:
    return None


def runtime_from_config(config: RunnableConfig | None) -> Runtime[Any] | None:
    """The runtime of the node being run: the one passed in ``config``, else the running
    graph task's, else ``None`` (called outside any graph)."""
    if config:
        runtime = (config.get("configurable") or {}).get(CONFIG_KEY_RUNTIME)
        if runtime is not None:
            return runtime  # type: ignore[no-any-return]
    task = current_task()
    return task.runtime if task is not None else None


class NodeRunnable(Runnable[Any, Any]):
    """Runs ``func`` from ``invoke`` and ``afunc`` from ``ainvoke`` (``func`` when there
    is no ``afunc``), passing the extra arguments each declares. ``trace`` reports the
    call to LangChain callbacks as a chain run; ``recurse`` invokes a ``Runnable`` the
    function returns with the same input."""

    def __init__(
        self,
        func: Callable[..., Any] | None,
        afunc: Callable[..., Awaitable[Any]] | None = None,
        *,
        name: str | None = None,
        tags: Sequence[str] | None = None,
        trace: bool = True,
        recurse: bool = True,
    ) -> None:
        if func is None and afunc is None:
            raise ValueError("At least one of func or afunc must be provided.")
        target: Any = func if func is not None else afunc
        if name is None:
            fname = getattr(target, "__name__", None)
            name = fname if isinstance(fname, str) and fname != "<lambda>" else None
        self.name = name
        self.func = func
        self.afunc = afunc
        self.tags = list(tags) if tags else None
        self.trace = trace
        self.recurse = recurse
        self._accepts: dict[str, Any] = {}
        try:
            params = inspect.signature(target).parameters
        except (TypeError, ValueError):
            params = {}  # type: ignore[assignment]
        for kw in _INJECTABLE:
            p = params.get(kw)
            if p is not None and p.kind in _KINDS:
                self._accepts[kw] = p.default

    def __repr__(self) -> str:
        return f"{self.get_name()}(tags={self.tags!r}, recurse={self.recurse!r})"

    # -- arguments ---------------------------------------------------------------------
    def _kwargs(self, config: RunnableConfig, given: dict[str, Any]) -> dict[str, Any]:
        if not self._accepts:
            return given
        kwargs = dict(given)
        runtime: Any = _MISSING
        for kw, default in self._accepts.items():
            if kw in kwargs:
                continue
            if kw == "config":
                kwargs[kw] = config
                continue
            if runtime is _MISSING:
                runtime = runtime_from_config(config)
            value: Any = _MISSING
            if runtime is not None:
                if kw == "runtime":
                    value = runtime
                elif kw == "writer":
                    value = getattr(runtime, "stream_writer", _MISSING)
                else:
                    value = getattr(runtime, kw, _MISSING)
            elif kw == "runtime":
                value = Runtime()
            elif kw == "writer":
                value = _ignore
            if value is _MISSING:
                if default is inspect.Parameter.empty:
                    raise ValueError(f"Missing required config key '{kw}' for '{self.get_name()}'.")
                value = default
            kwargs[kw] = value
        return kwargs

    # -- sync --------------------------------------------------------------------------
    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        if self.func is None:
            raise TypeError(
                f'No synchronous function provided to "{self.name}".'
                "\nEither initialize with a synchronous function or invoke"
                " via the async API (ainvoke, astream, etc.)"
            )
        config = ensure_config(config)
        call_kwargs = self._kwargs(config, kwargs)
        if not self.trace:
            result = self.func(input, **call_kwargs)
        else:
            manager = get_callback_manager_for_config(config)
            run = manager.on_chain_start(
                None, input, name=config.get("run_name") or self.get_name(), run_id=config.pop("run_id", None)
            )
            try:
                # the function gets the config it was called with (as LangGraph's do);
                # what it runs without a config nests under this run
                child = patch_config(config, callbacks=run.get_child())
                with set_config_context(child) as ctx:
                    result = ctx.run(self.func, input, **call_kwargs)
            except BaseException as exc:
                run.on_chain_error(exc)
                raise
            run.on_chain_end(result)
        if self.recurse and isinstance(result, Runnable):
            return result.invoke(input, config)
        return result

    # -- async -------------------------------------------------------------------------
    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        if self.func is not None and _runs_as_node_of_sync_call(self):
            # the engine awaits runnable nodes; a graph run by invoke()/stream() runs the
            # sync function, in a worker thread (what LangGraph runs for a sync call)
            call = functools.partial(self.invoke, input, config, **kwargs)
            return await anyio.to_thread.run_sync(contextvars.copy_context().run, call)
        if self.afunc is None:
            return self.invoke(input, config, **kwargs)
        config = ensure_config(config)
        call_kwargs = self._kwargs(config, kwargs)
        if not self.trace:
            result = await self.afunc(input, **call_kwargs)
        else:
            manager = get_async_callback_manager_for_config(config)
            run = await manager.on_chain_start(
                None, input, name=config.get("run_name") or self.get_name(), run_id=config.pop("run_id", None)
            )
            try:
                child = patch_config(config, callbacks=run.get_child())
                with set_config_context(child) as ctx:
                    # the coroutine runs in ctx (child config and tracing parent set): step
                    # it there by awaiting a task-free wrapper that switches context
                    result = await _run_in_context(ctx, self.afunc(input, **call_kwargs))
            except BaseException as exc:
                await run.on_chain_error(exc)
                raise
            await run.on_chain_end(result)
        if self.recurse and isinstance(result, Runnable):
            return await result.ainvoke(input, config)
        return result


def _runs_as_node_of_sync_call(runnable: NodeRunnable) -> bool:
    """Whether ``runnable`` is being run by the engine as the node of a task of a graph
    called synchronously."""
    task = current_task()
    return task is not None and task.run.cfg.sync_call and task.node.call_target is runnable


@types.coroutine
def _run_in_context(ctx: contextvars.Context, coro: Any) -> Any:
    """Await ``coro`` with every step of it run inside ``ctx`` (no task spawned, so it
    works on any event loop)."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            if error is not None:
                yielded = ctx.run(coro.throw, error)
            else:
                yielded = ctx.run(coro.send, value)
        except StopIteration as stop:
            return stop.value
        try:
            value, error = (yield yielded), None
        except BaseException as exc:  # cancellation and the like: deliver it to coro
            value, error = None, exc
