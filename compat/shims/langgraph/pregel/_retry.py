"""Stand-in for ``langgraph.pregel._retry`` (compat run only). Whether a policy retries an
exception is actorgraph's ``matching_policy`` (for one policy); LangGraph's retry loop
runs its task objects, while actorgraph's retries live in its node actors: the rest are
placeholders that raise when used."""

from typing import Any

from actorgraph._types import RetryPolicy
from actorgraph.actors._policies import matching_policy


def _should_retry_on(retry_policy: RetryPolicy, exc: BaseException) -> bool:
    return matching_policy((retry_policy,), exc) is not None


def _unsupported(*args: object, **kwargs: object) -> Any:
    raise NotImplementedError("LangGraph's private retry loop has no counterpart in actorgraph (compat placeholder)")


run_with_retry = arun_with_retry = _ensure_execution_info = _unsupported
_checkpoint_ns_for_parent_command = _unsupported


class _TimedAttemptScope:
    def __init__(self, *args: object, **kwargs: object) -> None:
        _unsupported()
