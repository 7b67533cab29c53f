"""``@task``: a function whose calls run as tasks of the calling node's super-step.

Calling a task returns a future at once; the call runs concurrently with its caller and
with other calls, with the task's retry and cache policies, and its result is saved so a
resumed caller doesn't run it again (see ``actorgraph.actors._calls``).
"""

from __future__ import annotations

import functools
import inspect
import warnings
from datetime import timedelta
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, overload

from actorgraph._constants import RETURN
from actorgraph._types import CachePolicy, RetryPolicy, TimeoutPolicy
from actorgraph.actors._callable import callable_name, is_async_callable
from actorgraph.actors._calls import CallFuture, call_task
from actorgraph.actors._policies import sync_timeout_unsupported, validate_cache_policy, validate_retry_policy
from actorgraph.actors._program import NodeSpec
from actorgraph.warnings import LangGraphDeprecatedSinceV05

__all__ = ("TaskFunction", "task")

P = ParamSpec("P")
T = TypeVar("T")


def _record(tctx: Any, result: Any) -> None:
    tctx.writes.append((RETURN, result))


class TaskFunction(Generic[P, T]):
    """A ``@task`` function: calling it returns a ``CallFuture`` of its result."""

    def __init__(
        self,
        func: Callable[P, T],
        *,
        name: str | None = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        cache_policy: CachePolicy[Any] | None = None,
        timeout: float | timedelta | TimeoutPolicy | None = None,
    ) -> None:
        if not callable(func):
            raise TypeError(f"@task needs a function, got {func!r}")
        self.func = func
        # a task of functools.partial(f, ...) is named after f, as in LangGraph
        target = func.func if isinstance(func, functools.partial) else func
        self.name: str = name or callable_name(target)
        policies: tuple[RetryPolicy, ...]
        if retry_policy is None:
            policies = ()
        elif isinstance(retry_policy, RetryPolicy):
            policies = (retry_policy,)
        else:
            policies = tuple(retry_policy)
        for p in policies:
            validate_retry_policy(p, f"task '{self.name}'")
        if cache_policy is not None:
            validate_cache_policy(cache_policy, f"task '{self.name}'")
        try:
            timeout_policy = TimeoutPolicy.coerce(timeout)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"task '{self.name}': {exc}") from None
        is_async = is_async_callable(func)
        if timeout_policy is not None and not is_async:
            raise sync_timeout_unsupported(self.name, kind="Task")
        self.node = NodeSpec(
            self.name,
            triggers=(),
            call=lambda inp, t: func(*inp[0], **inp[1]),  # type: ignore[arg-type]
            is_async=is_async,
            finish=_record,
            retry_policy=policies,
            cache_policy=cache_policy,
            timeout=timeout_policy,
            call_target=func,
            is_call=True,
        )
        functools.update_wrapper(self, func)  # type: ignore[arg-type]

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> CallFuture[T]:
        return call_task(self.node, args, kwargs)

    def __repr__(self) -> str:
        return f"<task {self.name!r}>"

    def clear_cache(self, cache: Any) -> None:
        """Drop this task's entries from ``cache``."""
        from actorgraph.actors._policies import CACHE_NS, function_identity

        cache.clear([(CACHE_NS, function_identity(self.func), self.name)])

    async def aclear_cache(self, cache: Any) -> None:
        from actorgraph.actors._policies import CACHE_NS, function_identity

        await cache.aclear([(CACHE_NS, function_identity(self.func), self.name)])


class _TaskDecorator(Protocol):
    """What ``task(name=...)`` returns: a decorator typed for sync and async functions."""

    @overload
    def __call__(self, func: Callable[P, Awaitable[T]], /) -> TaskFunction[P, T]: ...

    @overload
    def __call__(self, func: Callable[P, T], /) -> TaskFunction[P, T]: ...


@overload
def task(__func: Callable[P, Awaitable[T]]) -> TaskFunction[P, T]: ...


@overload
def task(__func: Callable[P, T]) -> TaskFunction[P, T]: ...


@overload
def task(
    *,
    name: str | None = None,
    retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
    cache_policy: CachePolicy[Any] | None = None,
    timeout: float | timedelta | TimeoutPolicy | None = None,
) -> _TaskDecorator: ...


def task(
    __func: Callable[P, T] | None = None,
    *,
    name: str | None = None,
    retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
    cache_policy: CachePolicy[Any] | None = None,
    timeout: float | timedelta | TimeoutPolicy | None = None,
    **kwargs: Any,
) -> Any:
    """Make a function a task: ``@task`` or ``@task(name=..., retry_policy=...,
    cache_policy=..., timeout=...)``. Call it from an ``@entrypoint``, another task, or a
    graph node. A timeout applies to each attempt of an async task (a sync task can't be
    interrupted, so a timeout on one is a ``ValueError``)."""
    if "retry" in kwargs:
        warnings.warn(
            "`retry` is deprecated and will be removed. Please use `retry_policy` instead.",
            LangGraphDeprecatedSinceV05,
            stacklevel=2,
        )
        retry_policy = retry_policy or kwargs.pop("retry")
    if kwargs:
        raise TypeError(f"task() got unexpected keyword arguments: {sorted(kwargs)}")

    # checked here, not when a function is decorated: a bad timeout fails at task(...),
    # as in LangGraph
    try:
        timeout_policy = TimeoutPolicy.coerce(timeout)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"task '{name}': {exc}" if name else f"task: {exc}") from None

    def decorate(func: Callable[P, T]) -> TaskFunction[P, T]:
        return TaskFunction(
            func, name=name, retry_policy=retry_policy, cache_policy=cache_policy, timeout=timeout_policy
        )

    if __func is not None:
        if inspect.isclass(__func):
            raise TypeError("@task decorates functions, not classes")
        return decorate(__func)
    return decorate
