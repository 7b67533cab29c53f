"""Stand-in for ``langgraph._internal._runnable`` (compat run only). ``is_async_callable``
is actorgraph's own; LangGraph's RunnableCallable/RunnableSeq wrappers have no counterpart
in actorgraph's engine (nodes are called directly): placeholders that raise."""

import inspect

from actorgraph.actors._callable import is_async_callable  # noqa: F401

ASYNCIO_ACCEPTS_CONTEXT = True


def is_async_generator(func: object) -> bool:
    return inspect.isasyncgenfunction(func) or inspect.isasyncgenfunction(getattr(func, "__call__", None))


class RunnableCallable:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("actorgraph has no RunnableCallable (compat placeholder)")


class RunnableSeq:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("actorgraph has no RunnableSeq (compat placeholder)")
