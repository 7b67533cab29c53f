"""The channel protocol: a named slot of state with a rule for combining a step's writes.

Channels are plain synchronous objects owned by the barrier actor. A run makes its own
instances from the compiled prototypes (``from_checkpoint``), so runs never share state.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from actorgraph.errors import EmptyChannelError

Value = TypeVar("Value")
Update = TypeVar("Update")
C = TypeVar("C")
Checkpoint = TypeVar("Checkpoint")

__all__ = ("BaseChannel", "Checkpoint", "MISSING", "Update", "Value")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()
"""Marks an empty channel slot (``None`` is a legitimate value)."""


class BaseChannel(Generic[Value, Update, C], ABC):
    """Base class of every channel kind.

    Class attributes let the barrier pick the channels that need per-step attention
    once, at compile time, instead of scanning every channel every step:

    - ``clears_each_step``: the value lasts one step (``update([])`` may clear it).
    - ``waits_for_finish``: the channel reacts to ``finish()`` (deferred nodes).
    - ``consumable``: the channel resets when the node it triggers reads it.

    A channel class written by a user (LangGraph's protocol) may rely on any of these
    hooks, so they all default to on; the built-in kinds turn off what they don't use.
    """

    __slots__ = ("key", "typ")

    clears_each_step: bool = True
    waits_for_finish: bool = True
    consumable: bool = True

    def __init__(self, typ: Any, key: str = "") -> None:
        self.typ = typ
        self.key = key

    @property
    def ValueType(self) -> Any:  # noqa: N802 - LangGraph's public spelling
        return self.typ

    @property
    def UpdateType(self) -> Any:  # noqa: N802
        return self.typ

    # -- reading -----------------------------------------------------------------------
    @abstractmethod
    def get(self) -> Value:
        """Current value; raises ``EmptyChannelError`` if nothing was written yet."""

    def is_available(self) -> bool:
        try:
            self.get()
        except EmptyChannelError:
            return False
        return True

    # -- writing -----------------------------------------------------------------------
    @abstractmethod
    def update(self, values: Sequence[Update]) -> bool:
        """Apply one step's writes (in task-path order). Returns whether the value changed."""

    def consume(self) -> bool:
        """Called when a node triggered by this channel runs. Returns whether it changed."""
        return False

    def finish(self) -> bool:
        """Called when the run would otherwise end. Returns whether it changed."""
        return False

    # -- persistence -------------------------------------------------------------------
    def checkpoint(self) -> C | Any:
        """A serializable snapshot of the value, or ``MISSING`` when empty."""
        try:
            return self.get()
        except EmptyChannelError:
            return MISSING

    @abstractmethod
    def from_checkpoint(self, checkpoint: C | Any) -> BaseChannel[Value, Update, C]:
        """A fresh instance of this channel (same kind and settings) holding ``checkpoint``."""

    def copy(self) -> BaseChannel[Value, Update, C]:
        """An independent instance with the same value."""
        return self.from_checkpoint(self.checkpoint())

    def _empty(self) -> EmptyChannelError:
        return EmptyChannelError(f"Channel '{self.key}' is empty: nothing was written to it yet", key=self.key)
