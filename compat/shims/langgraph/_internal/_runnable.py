"""Stand-in for ``langgraph._internal._runnable`` (compat run only). ``is_async_callable``
is actorgraph's own; ``RunnableCallable``/``RunnableLike`` are what actorgraph serves to
libraries (``actorgraph._internal._runnable``); LangGraph's RunnableSeq has no counterpart
in actorgraph's engine (nodes are called directly): a placeholder that raises."""

import inspect

from actorgraph._internal._runnable import RunnableCallable, RunnableLike  # noqa: F401
from actorgraph.actors._callable import is_async_callable  # noqa: F401

ASYNCIO_ACCEPTS_CONTEXT = True


def is_async_generator(func: object) -> bool:
    return inspect.isasyncgenfunction(func) or inspect.isasyncgenfunction(getattr(func, "__call__", None))


class RunnableSeq:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("actorgraph has no RunnableSeq (compat placeholder)")
