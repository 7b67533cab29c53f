"""DeltaChannel (beta): a reducer channel whose checkpoints need not hold its value.

Its reducer folds a whole batch of writes at once, ``reducer(state, [w1, w2, ...])``,
and must be batching-invariant (``reducer(reducer(s, xs), ys) == reducer(s, xs + ys)``),
so a reader can rebuild the value from a snapshot (``_DeltaSnapshot``) plus the writes
saved since, replayed in one call. When snapshots are taken is the saver side's decision
(every ``snapshot_frequency`` updates, or after a bound number of super-steps); the
channel only folds writes.
"""

from __future__ import annotations

import collections.abc
import copy as _copy
from collections.abc import Callable, Sequence
from typing import Any, Generic, NotRequired, Required, TypeVar

from actorgraph.channels._aggregate import overwrite_value
from actorgraph.channels._base import MISSING, BaseChannel
from actorgraph.channels._snapshot import _DeltaSnapshot
from actorgraph.errors import ErrorCode, InvalidUpdateError, _fill, create_error_message

__all__ = ("DeltaChannel", "concrete_type")

Value = TypeVar("Value")

def concrete_type(typ: Any) -> Any:
    """``typ`` without ``Annotated``/``Required``/``NotRequired`` and parameters, abstract
    collections replaced by the class that builds them (``Sequence`` -> ``list``)."""
    while hasattr(typ, "__origin__"):
        if typ.__origin__ in (Required, NotRequired):
            typ = typ.__args__[0]
        else:
            typ = typ.__origin__
    if typ in (collections.abc.Sequence, collections.abc.MutableSequence):
        return list
    if typ in (collections.abc.Set, collections.abc.MutableSet):
        return set
    if typ in (collections.abc.Mapping, collections.abc.MutableMapping):
        return dict
    return typ


def _same_reducer(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    # two declarations of one key may each write their own lambda for the same reducer
    if getattr(a, "__name__", "") == "<lambda>" or getattr(b, "__name__", "") == "<lambda>":
        return True
    return a is b


class DeltaChannel(BaseChannel[Any, Any, Any], Generic[Value]):
    """A reducer channel stored as its writes, with a full snapshot every
    ``snapshot_frequency`` updates (beta: the stored form may change).

    ``reducer(state, writes)`` gets the current value and a list of writes and returns the
    new value; it must be deterministic and batching-invariant. ``typ`` (the value's type,
    ``list`` by default) is taken from the key's annotation in a state schema
    (``Annotated[dict, DeltaChannel(merge)]``). ``Overwrite(v)`` replaces the value.
    """

    __slots__ = ("value", "reducer", "snapshot_frequency")
    clears_each_step = False
    waits_for_finish = False
    consumable = False

    def __init__(
        self,
        reducer: Callable[[Any, Sequence[Any]], Any],
        typ: Any = None,
        *,
        snapshot_frequency: int = 100,
    ) -> None:
        if isinstance(snapshot_frequency, bool) or not isinstance(snapshot_frequency, int) or snapshot_frequency <= 0:
            raise ValueError(f"snapshot_frequency must be a positive int, got {snapshot_frequency}")
        if not callable(reducer):
            raise TypeError(f"DeltaChannel's reducer must be callable, got {reducer!r}")
        super().__init__(concrete_type(list if typ is None else typ))
        self.reducer = reducer
        self.snapshot_frequency = snapshot_frequency
        self.value: Any = MISSING

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, DeltaChannel)
            and other.snapshot_frequency == self.snapshot_frequency
            and _same_reducer(self.reducer, other.reducer)
        )

    def __hash__(self) -> int:
        return hash((DeltaChannel, self.snapshot_frequency))

    def with_type(self, typ: Any) -> DeltaChannel[Value]:
        """The same channel for values of ``typ`` (from the key's annotation)."""
        new = self.__class__(self.reducer, typ, snapshot_frequency=self.snapshot_frequency)
        new.key = self.key
        return new

    def _empty_value(self) -> Any:
        try:
            return self.typ()
        except Exception:
            return MISSING

    def copy(self) -> DeltaChannel[Value]:
        new = self.__class__(self.reducer, self.typ, snapshot_frequency=self.snapshot_frequency)
        new.key = self.key
        new.value = self.value if self.value is MISSING else _copy.copy(self.value)
        return new

    def from_checkpoint(self, checkpoint: Any) -> DeltaChannel[Value]:
        """A fresh channel holding ``checkpoint``: empty (``MISSING`` or ``None``: writes
        are replayed onto the empty value), a ``_DeltaSnapshot``, or a plain value (a key
        stored before it became a delta channel)."""
        new = self.__class__(self.reducer, self.typ, snapshot_frequency=self.snapshot_frequency)
        new.key = self.key
        if checkpoint is MISSING or checkpoint is None:
            new.value = self._empty_value()
        elif isinstance(checkpoint, _DeltaSnapshot):
            new.value = checkpoint.value
        else:
            new.value = checkpoint
        return new

    def replay_writes(self, writes: Sequence[tuple[str, str, Any]]) -> None:
        """Apply saved ``(task_id, channel, value)`` writes, oldest first, in one reducer
        call; the last ``Overwrite`` among them is the new starting value."""
        values = [w[2] for w in writes]
        if not values:
            return
        base = self.value
        start = 0
        for i, v in enumerate(values):
            is_over, inner = overwrite_value(v)
            if is_over:
                base = _copy.copy(inner) if inner is not None else self._empty_value()
                start = i + 1
        rest = values[start:]
        self.value = self.reducer(base, rest) if rest else base

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            return False
        over = None
        for v in values:
            is_over, inner = overwrite_value(v)
            if is_over:
                if over is not None:
                    raise InvalidUpdateError(
                        create_error_message(
                            message=f"At key '{self.key}': Can receive only one Overwrite value per super-step.",
                            error_code=ErrorCode.INVALID_CONCURRENT_GRAPH_UPDATE,
                        ),
                        key=self.key,
                    )
                over = (inner,)
        if over is not None:
            inner = over[0]
            self.value = _copy.copy(inner) if inner is not None else self._empty_value()
            return True
        base = self._empty_value() if self.value is MISSING else self.value
        try:
            self.value = self.reducer(base, list(values))
        except Exception as exc:
            exc.add_note(f"While applying the DeltaChannel reducer of key '{self.key}'")
            _fill(exc, key=self.key)
            raise
        return True

    def get(self) -> Any:
        if self.value is MISSING:
            raise self._empty()
        return self.value

    def is_available(self) -> bool:
        return self.value is not MISSING

    def checkpoint(self) -> Any:
        """Always ``MISSING``: a delta channel's value is stored as a ``_DeltaSnapshot`` at
        snapshot steps (by the checkpoint writer) and rebuilt from writes otherwise."""
        return MISSING
