"""Stand-in for ``langgraph._internal._runnable`` (compat run only): the asyncio capability
flag is a plain constant; LangGraph's own runnable classes have no counterpart in
actorgraph (placeholders that raise)."""

import sys

ASYNCIO_ACCEPTS_CONTEXT = sys.version_info >= (3, 11)


class RunnableCallable:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("actorgraph has no RunnableCallable (LangGraph internal; compat placeholder)")


class RunnableSeq:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("actorgraph has no RunnableSeq (LangGraph internal; compat placeholder)")
