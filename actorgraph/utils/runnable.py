"""Import-compatible path (``langgraph.utils.runnable``): ``RunnableCallable``, a LangChain
runnable of a sync and an async function (actorgraph's ``NodeRunnable``)."""

from actorgraph.prebuilt._runnable import NodeRunnable as RunnableCallable

__all__ = ("RunnableCallable",)
