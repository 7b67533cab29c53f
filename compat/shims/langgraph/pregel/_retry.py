"""Stand-in for ``langgraph.pregel._retry`` (compat run only): LangGraph's retry loop
runs its task objects; actorgraph's retries live in its node actors. Placeholders that
raise when used."""


def _unsupported(*args: object, **kwargs: object) -> object:
    raise NotImplementedError("LangGraph's private retry loop has no counterpart in actorgraph (compat placeholder)")


run_with_retry = arun_with_retry = _should_retry_on = _ensure_execution_info = _unsupported
_checkpoint_ns_for_parent_command = _unsupported


class _TimedAttemptScope:
    def __init__(self, *args: object, **kwargs: object) -> None:
        _unsupported()
