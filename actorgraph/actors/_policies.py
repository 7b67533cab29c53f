"""Per-node policies applied around one task: retry, timeout and cache.

Validation happens once, when a policy is attached to a node; at run time this module
only matches an exception to a policy, computes a backoff, bounds an attempt's time and
builds cache keys.
"""

from __future__ import annotations

import inspect
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio

from actorgraph._cache_key import stable_cache_key
from actorgraph._types import CachePolicy, RetryPolicy, TimeoutPolicy
from actorgraph.errors import NodeTimeoutError

__all__ = (
    "CACHE_NS",
    "backoff",
    "cache_key",
    "matching_policy",
    "run_with_timeout",
    "sleep_backoff",
    "validate_cache_policy",
    "validate_retry_policy",
)

CACHE_NS = "__pregel_ns_writes"


def validate_retry_policy(policy: RetryPolicy, where: str) -> None:
    """Raise ``ValueError`` naming the field of ``policy`` that makes no sense."""
    def bad(field: str, why: str) -> ValueError:
        return ValueError(f"{where}: RetryPolicy.{field}={getattr(policy, field)!r} {why}")

    if not isinstance(policy, RetryPolicy):
        raise TypeError(f"{where}: expected a RetryPolicy, got {type(policy).__name__}: {policy!r}")
    for field in ("initial_interval", "backoff_factor", "max_interval"):
        value = getattr(policy, field)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad(field, "must be a number")
    if policy.initial_interval < 0:
        raise bad("initial_interval", "must be >= 0")
    if policy.backoff_factor < 1:
        raise bad("backoff_factor", "must be >= 1 (the interval may not shrink)")
    if policy.max_interval < policy.initial_interval:
        raise bad("max_interval", f"must be >= initial_interval ({policy.initial_interval})")
    if isinstance(policy.max_attempts, bool) or not isinstance(policy.max_attempts, int) or policy.max_attempts < 1:
        raise bad("max_attempts", "must be an int >= 1 (1 means no retry)")
    on = policy.retry_on
    if isinstance(on, type):
        if not issubclass(on, BaseException):
            raise bad("retry_on", "must be an exception type, a sequence of them, or a predicate")
    elif isinstance(on, Sequence) and not isinstance(on, str):
        if not on or not all(isinstance(t, type) and issubclass(t, BaseException) for t in on):
            raise bad("retry_on", "must list exception types")
    elif not callable(on):
        raise bad("retry_on", "must be an exception type, a sequence of them, or a predicate")


def validate_cache_policy(policy: CachePolicy[Any], where: str) -> None:
    if not isinstance(policy, CachePolicy):
        raise TypeError(f"{where}: expected a CachePolicy, got {type(policy).__name__}: {policy!r}")
    if not callable(policy.key_func):
        raise ValueError(f"{where}: CachePolicy.key_func must be callable, got {policy.key_func!r}")
    ttl = policy.ttl
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or ttl <= 0):
        raise ValueError(f"{where}: CachePolicy.ttl must be a positive number of seconds or None, got {ttl!r}")


def matching_policy(policies: Sequence[RetryPolicy], exc: BaseException) -> RetryPolicy | None:
    """The first policy that retries ``exc``, if any."""
    for policy in policies:
        on = policy.retry_on
        if isinstance(on, type) or (isinstance(on, Sequence) and not isinstance(on, str)):
            if isinstance(exc, on if isinstance(on, type) else tuple(on)):  # type: ignore[arg-type]
                return policy
        elif callable(on):
            if on(exc):
                return policy
        else:  # only a policy that was never attached to a node gets here unchecked
            raise TypeError(
                "retry_on must be an Exception class, a list or tuple of Exception classes, or a callable"
            )
    return None


def backoff(policy: RetryPolicy, attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
    interval = min(policy.max_interval, policy.initial_interval * policy.backoff_factor ** (attempt - 1))
    return interval + random.uniform(0, 1) if policy.jitter else interval


async def sleep_backoff(delay: float, sync_call: bool) -> None:
    """Wait ``delay`` seconds before a retry. Under a sync ``invoke``/``stream`` this is
    ``time.sleep`` in a worker thread, as LangGraph's sync retry loop sleeps, so code that
    patches ``time.sleep`` (to skip or record the waits) sees the same calls; the loop
    thread stays free, and a cancelled run doesn't wait for the thread. Under ``ainvoke``
    it is an async sleep."""
    if sync_call:
        await anyio.to_thread.run_sync(time.sleep, delay, abandon_on_cancel=True)
    else:
        await anyio.sleep(delay)


def cache_key(policy: CachePolicy[Any], node: str, value: Any, is_call: bool = False) -> str:
    """The cache key of a task's input; a failing key function names the node. A task
    call's key function gets the call's own arguments."""
    try:
        key = policy.key_func(*value[0], **value[1]) if is_call else policy.key_func(value)
    except Exception as exc:
        exc.add_note(f"While computing the cache key of node '{node}' (CachePolicy.key_func)")
        raise
    if isinstance(key, str):
        return stable_cache_key(key)
    if isinstance(key, bytes):
        return stable_cache_key(key)
    raise TypeError(
        f"CachePolicy.key_func of node '{node}' must return str or bytes, got {type(key).__name__}: {key!r}"
    )


def function_identity(fn: Any) -> str:
    """A stable name for the code behind a node (part of its cache namespace)."""
    target = getattr(fn, "func", fn)  # functools.partial
    if not (inspect.isfunction(target) or inspect.ismethod(target)):
        target = type(target)
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', '?')}"


class Progress:
    """Marks progress of a task for its idle timeout; safe to call from any thread.
    Calling it (``runtime.heartbeat()``) always counts; ``streamed()`` (a stream write, a
    model's token) counts unless the policy says ``refresh_on="heartbeat"``."""

    __slots__ = ("last", "auto")

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.auto = True

    def __call__(self) -> None:
        self.last = time.monotonic()

    def streamed(self) -> None:
        if self.auto:
            self.last = time.monotonic()


def sync_timeout_unsupported(name: str, *, kind: str = "Node") -> ValueError:
    """The error for a timeout on a sync node or task (LangGraph's text): sync Python code
    can't be interrupted, so a timeout could only abandon it, still running."""
    return ValueError(
        "Node timeouts are only supported for async nodes because sync Python execution "
        f"cannot be safely cancelled in-process. {kind} {name!r} is sync."
    )


async def run_with_timeout(
    call: Callable[[], Awaitable[Any]],
    policy: TimeoutPolicy,
    node: str,
    progress: Progress,
) -> Any:
    """Run ``call()`` under ``policy``; raise ``NodeTimeoutError`` when it runs out."""
    start = time.monotonic()
    run_limit = policy.run_timeout
    idle_limit = policy.idle_timeout
    progress.auto = policy.refresh_on == "auto"
    if idle_limit is None:
        assert run_limit is not None
        with anyio.CancelScope(deadline=anyio.current_time() + float(run_limit)) as scope:  # type: ignore[arg-type]
            result = await call()
        if scope.cancelled_caught:
            raise NodeTimeoutError(node, time.monotonic() - start, kind="run", run_timeout=float(run_limit))  # type: ignore[arg-type]
        return result

    fired: list[tuple[str, float]] = []
    out: list[Any] = []

    async def watch(scope: anyio.CancelScope) -> None:
        while True:
            now = time.monotonic()
            idle_left = float(idle_limit) - (now - progress.last)  # type: ignore[arg-type]
            run_left = float(run_limit) - (now - start) if run_limit is not None else float("inf")  # type: ignore[arg-type]
            if run_left <= 0:
                fired.append(("run", float(run_limit)))  # type: ignore[arg-type]
                scope.cancel()
                return
            if idle_left <= 0:
                fired.append(("idle", float(idle_limit)))  # type: ignore[arg-type]
                scope.cancel()
                return
            await anyio.sleep(min(idle_left, run_left))

    failed: list[BaseException] = []
    async with anyio.create_task_group() as tg:
        with anyio.CancelScope() as work_scope:
            tg.start_soon(watch, work_scope)
            try:
                out.append(await call())
            except Exception as exc:  # re-raised below, outside the task group
                failed.append(exc)
        tg.cancel_scope.cancel()
    if failed:
        raise failed[0]
    if fired:
        kind = fired[0][0]
        raise NodeTimeoutError(
            node,
            time.monotonic() - start,
            kind=kind,  # type: ignore[arg-type]
            idle_timeout=float(idle_limit),  # type: ignore[arg-type]
            run_timeout=float(run_limit) if run_limit is not None else None,  # type: ignore[arg-type]
        )
    return out[0]
