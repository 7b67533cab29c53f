"""``langgraph._internal._runnable`` for libraries built on LangGraph (see the package doc).

``RunnableCallable`` is actorgraph's ``NodeRunnable``: a LangChain ``Runnable`` of a sync and
an async function that are passed ``config``/``runtime``/``store``/``writer`` by parameter
name - the same contract (langchain's ``create_agent``, langgraph-supervisor).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Union

from langchain_core.runnables import Runnable

from actorgraph.prebuilt._runnable import NodeRunnable as RunnableCallable

__all__ = ("RunnableCallable", "RunnableLike")

RunnableLike = Union[Runnable[Any, Any], Callable[..., Any], Callable[..., Awaitable[Any]]]
"""What a graph takes as a node: a runnable or a (sync or async) function."""
