"""Graph lifecycle callbacks (``langgraph.callbacks``) and LangChain callback managers
for a run's config.

A ``GraphCallbackHandler`` passed in ``config["callbacks"]`` hears when a run pauses for
interrupts (``on_interrupt``) and when it resumes from a saved checkpoint
(``on_resume``). Needs langchain-core (the handlers are LangChain callback handlers);
the engine imports this module only when a run has callbacks.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias
from uuid import UUID

from langchain_core.callbacks import (
    AsyncCallbackManager,
    BaseCallbackHandler,
    BaseCallbackManager,
    CallbackManager,
)
from langchain_core.callbacks.manager import ahandle_event, handle_event

from actorgraph._types import Interrupt

__all__ = (
    "GraphCallbackHandler",
    "GraphInterruptEvent",
    "GraphLifecycleEvent",
    "GraphLifecycleStatus",
    "GraphResumeEvent",
    "get_async_callback_manager_for_config",
    "get_async_graph_callback_manager_for_config",
    "get_callback_manager_for_config",
    "get_sync_graph_callback_manager_for_config",
)

GraphLifecycleStatus: TypeAlias = Literal[
    "input", "pending", "done", "interrupt_before", "interrupt_after", "out_of_steps"
]
"""Where a run stood when a lifecycle event was taken."""


@dataclasses.dataclass(frozen=True)
class GraphInterruptEvent:
    """A run paused: ``interrupts`` are the ``interrupt()`` calls that paused it (empty
    at a static breakpoint, whose ``status`` is ``interrupt_before``/``interrupt_after``)."""

    run_id: UUID | None
    status: GraphLifecycleStatus
    checkpoint_id: str
    checkpoint_ns: tuple[str, ...]
    interrupts: tuple[Interrupt, ...]


@dataclasses.dataclass(frozen=True)
class GraphResumeEvent:
    """A run (or a subgraph run, named by ``checkpoint_ns``) continued from the saved
    checkpoint ``checkpoint_id``."""

    run_id: UUID | None
    status: GraphLifecycleStatus
    checkpoint_id: str
    checkpoint_ns: tuple[str, ...]


GraphLifecycleEvent: TypeAlias = GraphInterruptEvent | GraphResumeEvent


class GraphCallbackHandler(BaseCallbackHandler):
    """Subclass and pass in ``config["callbacks"]`` to hear a run's lifecycle: only
    handlers of this class get these events (other LangChain handlers in the same list
    keep getting LangChain's). A handler that raises doesn't stop the run, unless it sets
    ``raise_error = True``."""

    def on_interrupt(self, event: GraphInterruptEvent) -> Any:
        """The run paused for ``event.interrupts``."""

    def on_resume(self, event: GraphResumeEvent) -> Any:
        """The run continued from ``event.checkpoint_id``."""


def _graph_handlers(handlers: Sequence[Any]) -> list[GraphCallbackHandler]:
    return [h for h in handlers if isinstance(h, GraphCallbackHandler)]


_Unset: Any = object()


class _GraphManagerBase(BaseCallbackManager):
    """Holds the graph handlers of a run's callbacks, and the graph run's id."""

    run_id: UUID | None

    def __init__(
        self,
        handlers: Sequence[BaseCallbackHandler] | None = None,
        inheritable_handlers: Sequence[BaseCallbackHandler] | None = None,
        parent_run_id: UUID | None = None,
        *,
        tags: list[str] | None = None,
        inheritable_tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inheritable_metadata: dict[str, Any] | None = None,
        run_id: UUID | None = None,
    ) -> None:
        super().__init__(
            handlers=list(handlers or ()),
            inheritable_handlers=list(inheritable_handlers or ()),
            parent_run_id=parent_run_id,
            tags=tags,
            inheritable_tags=inheritable_tags,
            metadata=metadata,
            inheritable_metadata=inheritable_metadata,
        )
        self.run_id = run_id

    def copy(self, *, run_id: Any = _Unset) -> Any:  # type: ignore[override]
        if run_id is not _Unset and run_id is not None and not isinstance(run_id, UUID):
            raise TypeError("run_id must be a UUID or None")
        return type(self)(
            _graph_handlers(self.handlers),
            _graph_handlers(self.inheritable_handlers),
            self.parent_run_id,
            tags=list(self.tags),
            inheritable_tags=list(self.inheritable_tags),
            metadata=dict(self.metadata),
            inheritable_metadata=dict(self.inheritable_metadata),
            run_id=self.run_id if run_id is _Unset else run_id,
        )

    @classmethod
    def configure(cls, callbacks: Any = None, *, run_id: UUID | None = None) -> Any:  # type: ignore[override]
        """A manager with the graph handlers found in ``callbacks`` (a handler, a list of
        handlers, or a LangChain callback manager)."""
        if callbacks is None:
            return cls(run_id=run_id)
        if isinstance(callbacks, cls):
            return callbacks.copy(run_id=run_id)
        if isinstance(callbacks, BaseCallbackManager):
            return cls(
                _graph_handlers(callbacks.handlers),
                _graph_handlers(callbacks.inheritable_handlers),
                callbacks.parent_run_id,
                tags=list(callbacks.tags),
                inheritable_tags=list(callbacks.inheritable_tags),
                metadata=dict(callbacks.metadata),
                inheritable_metadata=dict(callbacks.inheritable_metadata),
                run_id=run_id,
            )
        if isinstance(callbacks, GraphCallbackHandler):
            return cls([callbacks], run_id=run_id)
        if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Sequence):
            raise TypeError("callbacks must be a handler, sequence, or manager")
        return cls(_graph_handlers(callbacks), run_id=run_id)


class _GraphCallbackManager(_GraphManagerBase):
    """Calls the graph handlers' ``on_interrupt``/``on_resume`` (sync runs)."""

    def on_interrupt(self, event: GraphInterruptEvent) -> None:
        handle_event(self.handlers, "on_interrupt", None, event)

    def on_resume(self, event: GraphResumeEvent) -> None:
        handle_event(self.handlers, "on_resume", None, event)


class _AsyncGraphCallbackManager(_GraphManagerBase):
    """Calls the graph handlers' ``on_interrupt``/``on_resume`` (async runs; handlers
    may be coroutine functions)."""

    @property
    def is_async(self) -> bool:
        return True

    async def on_interrupt(self, event: GraphInterruptEvent) -> None:
        await ahandle_event(self.handlers, "on_interrupt", None, event)

    async def on_resume(self, event: GraphResumeEvent) -> None:
        await ahandle_event(self.handlers, "on_resume", None, event)


def get_sync_graph_callback_manager_for_config(config: Mapping[str, Any], *, run_id: UUID | None = None) -> _GraphCallbackManager:
    """The graph handlers of ``config["callbacks"]``, for the run ``run_id``."""
    manager: _GraphCallbackManager = _GraphCallbackManager.configure(config.get("callbacks"), run_id=run_id)
    return manager


def get_async_graph_callback_manager_for_config(
    config: Mapping[str, Any], *, run_id: UUID | None = None
) -> _AsyncGraphCallbackManager:
    """The graph handlers of ``config["callbacks"]``, for the run ``run_id`` (async)."""
    manager: _AsyncGraphCallbackManager = _AsyncGraphCallbackManager.configure(config.get("callbacks"), run_id=run_id)
    return manager


# -- LangChain callback managers for a config ---------------------------------------------

# configurable keys that look like credentials never become trace metadata
_SECRET_WORDS = ("key", "token", "secret", "password", "auth")


def _tracing_metadata(config: Mapping[str, Any]) -> dict[str, Any] | None:
    """The config's ``configurable`` scalars, which tracers (only) record as metadata:
    not private keys (``__...``), not objects, not what looks like a credential."""
    configurable = config.get("configurable")
    if not configurable:
        return None
    out = {
        k: v
        for k, v in configurable.items()
        if not k.startswith("__")
        and isinstance(v, (str, int, float, bool))
        and not any(word in k.casefold() for word in _SECRET_WORDS)
    }
    return out or None


_CONFIGURE_TAKES_LS_METADATA: bool | None = None


def _configure(cls: Any, config: Mapping[str, Any], tags: list[str] | None) -> Any:
    global _CONFIGURE_TAKES_LS_METADATA
    if _CONFIGURE_TAKES_LS_METADATA is None:
        _CONFIGURE_TAKES_LS_METADATA = (
            "langsmith_inheritable_metadata" in inspect.signature(CallbackManager.configure).parameters
        )
    kwargs: dict[str, Any] = {
        "inheritable_callbacks": config.get("callbacks"),
        "inheritable_tags": tags,
        "inheritable_metadata": config.get("metadata"),
    }
    if _CONFIGURE_TAKES_LS_METADATA:
        kwargs["langsmith_inheritable_metadata"] = _tracing_metadata(config)
    return cls.configure(**kwargs)


def _tags(config: Mapping[str, Any], tags: Sequence[str] | None) -> list[str] | None:
    base = config.get("tags")
    if base is not None and tags is not None:
        return [*base, *tags]
    if tags is not None:
        return list(tags)
    return base


def get_callback_manager_for_config(config: Mapping[str, Any], tags: Sequence[str] | None = None) -> CallbackManager:
    """The LangChain ``CallbackManager`` of a run config (its callbacks, tags and
    metadata, plus ``tags``); a manager already in the config is reused."""
    all_tags = _tags(config, tags)
    callbacks = config.get("callbacks")
    if callbacks and isinstance(callbacks, CallbackManager):
        if all_tags:
            callbacks.add_tags(all_tags)
        if metadata := config.get("metadata"):
            callbacks.add_metadata(metadata)
        return callbacks
    manager: CallbackManager = _configure(CallbackManager, config, all_tags)
    return manager


def get_async_callback_manager_for_config(
    config: Mapping[str, Any], tags: Sequence[str] | None = None
) -> AsyncCallbackManager:
    """The LangChain ``AsyncCallbackManager`` of a run config (see
    ``get_callback_manager_for_config``)."""
    all_tags = _tags(config, tags)
    callbacks = config.get("callbacks")
    if callbacks and isinstance(callbacks, AsyncCallbackManager):
        if all_tags:
            callbacks.add_tags(all_tags)
        if metadata := config.get("metadata"):
            callbacks.add_metadata(metadata)
        return callbacks
    manager: AsyncCallbackManager = _configure(AsyncCallbackManager, config, all_tags)
    return manager
