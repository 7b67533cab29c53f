"""Import-compatible path: graph lifecycle callbacks (``langgraph.callbacks``); needs
langchain-core."""

from actorgraph._callbacks import (
    GraphCallbackHandler,
    GraphInterruptEvent,
    GraphLifecycleEvent,
    GraphLifecycleStatus,
    GraphResumeEvent,
    _AsyncGraphCallbackManager,  # noqa: F401  (LangGraph's tests reach for them by name)
    _GraphCallbackManager,  # noqa: F401
    get_async_graph_callback_manager_for_config,
    get_sync_graph_callback_manager_for_config,
)

__all__ = (
    "GraphCallbackHandler",
    "GraphInterruptEvent",
    "GraphLifecycleEvent",
    "GraphLifecycleStatus",
    "GraphResumeEvent",
    "get_async_graph_callback_manager_for_config",
    "get_sync_graph_callback_manager_for_config",
)
