"""Channels that combine a step's writes: BinaryOperatorAggregate (reducers) and Topic."""

from __future__ import annotations

import collections.abc
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, NotRequired, Required, TypeVar

from actorgraph._types import Overwrite
from actorgraph.channels._base import MISSING, BaseChannel
from actorgraph.channels._snapshot import _DeltaSnapshot
from actorgraph.errors import ErrorCode, InvalidUpdateError, _fill, create_error_message

Value = TypeVar("Value")

__all__ = ("BinaryOperatorAggregate", "Topic", "overwrite_value")

_OVERWRITE_KEY = "__overwrite__"


def overwrite_value(value: Any) -> tuple[bool, Any]:
    """``(True, inner)`` when ``value`` asks to bypass the reducer, else ``(False, None)``.

    Accepts the ``Overwrite`` object and its JSON forms (``{"__overwrite__": v}`` and
    ``{"type": "__overwrite__", "value": v}``), which is what an HTTP client sends.
    """
    if type(value) is Overwrite:
        return True, value.value
    if type(value) is dict:
        if len(value) == 1 and _OVERWRITE_KEY in value:
            return True, value[_OVERWRITE_KEY]
        if value.get("type") == _OVERWRITE_KEY and "value" in value:
            return True, value["value"]
    return False, None


def _concrete(typ: Any) -> Any:
    origin = getattr(typ, "__origin__", None)
    if origin in (Required, NotRequired):
        return _concrete(typ.__args__[0])
    if origin is not None:
        typ = origin
    if typ in (collections.abc.Sequence, collections.abc.MutableSequence):
        return list
    if typ in (collections.abc.Set, collections.abc.MutableSet):
        return set
    if typ in (collections.abc.Mapping, collections.abc.MutableMapping):
        return dict
    return typ


# the empty values a fresh channel copies by their type
_EMPTIES = (list, dict, set)


def _reducer_name(op: Callable[..., Any]) -> str:
    return getattr(op, "__qualname__", None) or getattr(op, "__name__", None) or repr(op)


class BinaryOperatorAggregate(BaseChannel[Value, Value, Value], Generic[Value]):
    """Folds every write into the current value with a reducer: ``value = op(value, write)``.

    This is what ``Annotated[list, operator.add]`` compiles to. The value starts as the
    type's empty instance when the type can be built with no arguments (``[]`` for a
    list), so the key reads as empty rather than missing. ``Overwrite(v)`` replaces the
    value instead of reducing into it (once per step).
    """

    __slots__ = ("value", "operator", "grown_from")
    clears_each_step = False
    waits_for_finish = False
    consumable = False

    def __init__(self, typ: Any, operator: Callable[[Value, Value], Value], key: str = "") -> None:
        super().__init__(typ, key)
        self.operator = operator
        # the list the value was last extended from (its items start the value, the same
        # objects): lets a saver store only the new items without comparing them all
        self.grown_from: list[Any] | None = None
        concrete = _concrete(typ)
        try:
            self.value: Any = concrete()
        except Exception:
            self.value = MISSING

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BinaryOperatorAggregate):
            return False
        a, b = self.operator, other.operator
        # lambdas can't be compared meaningfully: two declarations of one key may each
        # write their own lambda for the same reducer
        if getattr(a, "__name__", "") == "<lambda>" or getattr(b, "__name__", "") == "<lambda>":
            return True
        return a is b or a == b

    def __hash__(self) -> int:
        return hash(BinaryOperatorAggregate)

    def get(self) -> Value:
        if self.value is MISSING:
            raise self._empty()
        return self.value  # type: ignore[no-any-return]

    def is_available(self) -> bool:
        return self.value is not MISSING

    def update(self, values: Sequence[Value]) -> bool:
        if not values:
            return False
        self.grown_from = None
        start = 0
        value = self.value
        if value is MISSING:
            is_over, inner = overwrite_value(values[0])
            if is_over:
                self._after_overwrite(values, 1)
                self.value = inner
                return True
            value = values[0]
            start = 1
        op = self.operator
        if op is operator.add and type(value) is list:
            return self._extend(value, values, start)
        for i in range(start, len(values)):
            v = values[i]
            is_over, inner = overwrite_value(v)
            if is_over:
                self._after_overwrite(values, i + 1)
                self.value = inner
                return True
            try:
                value = op(value, v)
            except Exception as exc:
                exc.add_note(
                    f"While applying the reducer '{_reducer_name(op)}' of key '{self.key}' "
                    f"to the update {v!r}"
                )
                _fill(exc, key=self.key)
                raise
        self.value = value
        return True

    def _extend(self, value: list[Any], values: Sequence[Value], start: int) -> bool:
        # ``operator.add`` folded over lists copies the whole list per write: O(n^2) for a
        # fan-in of n writes. One copy plus extends gives the same list in O(n).
        out = list(value)
        for i in range(start, len(values)):
            v = values[i]
            if type(v) is list:
                out.extend(v)  # type: ignore[arg-type]
                continue
            is_over, inner = overwrite_value(v)
            if is_over:
                self._after_overwrite(values, i + 1)
                self.value = inner
                return True
            try:
                out = out + v  # type: ignore[operator]  # same error as the plain fold
            except Exception as exc:
                exc.add_note(
                    f"While applying the reducer 'add' of key '{self.key}' to the update {v!r}"
                )
                _fill(exc, key=self.key)
                raise
        self.value = out
        self.grown_from = value
        return True

    def _after_overwrite(self, values: Sequence[Value], start: int) -> None:
        # writes after an Overwrite in the same step are dropped; a second Overwrite is a
        # conflict, as two tasks can't both replace the value
        for v in values[start:]:
            if overwrite_value(v)[0]:
                raise InvalidUpdateError(
                    create_error_message(
                        message=(
                            f"At key '{self.key}': Can receive only one Overwrite value per "
                            "super-step."
                        ),
                        error_code=ErrorCode.INVALID_CONCURRENT_GRAPH_UPDATE,
                    ),
                    key=self.key,
                )

    def checkpoint(self) -> Any:
        return self.value

    def from_checkpoint(self, checkpoint: Any) -> BinaryOperatorAggregate[Value]:
        if isinstance(checkpoint, _DeltaSnapshot):
            # the key was a delta channel when this was stored
            checkpoint = checkpoint.value
        cls = self.__class__
        if cls is not BinaryOperatorAggregate or (checkpoint is MISSING and type(self.value) not in _EMPTIES):
            new = cls(self.typ, self.operator, self.key)
            if checkpoint is not MISSING:
                new.value = checkpoint
            return new
        if checkpoint is MISSING:
            # (each run starts from fresh channels: a new empty list, dict or set, as the
            # type made it, without working the type out again)
            checkpoint = type(self.value)()
        # (every step copies channels: skip working out the type's empty value)
        new = object.__new__(cls)
        new.typ = self.typ
        new.key = self.key
        new.operator = self.operator
        new.grown_from = None
        new.value = checkpoint
        return new


def _flatten(values: Sequence[Any]) -> Iterator[Any]:
    for v in values:
        if isinstance(v, list):
            yield from v
        else:
            yield v


class Topic(BaseChannel[Sequence[Value], Value | list[Value], list[Value]], Generic[Value]):
    """A pub/sub channel: collects every value written (lists are flattened).

    With ``accumulate=False`` (default) it holds the values of the last step only.
    """

    __slots__ = ("values", "accumulate")
    waits_for_finish = False
    consumable = False

    def __init__(self, typ: Any = Any, accumulate: bool = False, key: str = "") -> None:
        super().__init__(typ, key)
        self.accumulate = accumulate
        self.values: list[Value] = []

    @property
    def clears_each_step(self) -> bool:  # type: ignore[override]
        return not self.accumulate

    @property
    def ValueType(self) -> Any:  # noqa: N802 - LangGraph's public spelling
        return Sequence[self.typ]  # type: ignore[name-defined]

    @property
    def UpdateType(self) -> Any:  # noqa: N802
        return self.typ | list[self.typ]  # type: ignore[name-defined]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Topic) and other.accumulate == self.accumulate

    def __hash__(self) -> int:
        return hash((Topic, self.accumulate))

    def get(self) -> Sequence[Value]:
        if not self.values:
            raise self._empty()
        return list(self.values)

    def is_available(self) -> bool:
        return bool(self.values)

    def update(self, values: Sequence[Value | list[Value]]) -> bool:
        updated = False
        if not self.accumulate:
            updated = bool(self.values)
            self.values = []
        flat = list(_flatten(values))
        if flat:
            self.values.extend(flat)
            updated = True
        return updated

    def checkpoint(self) -> Any:
        return list(self.values) if self.values else MISSING

    def from_checkpoint(self, checkpoint: Any) -> Topic[Value]:
        new = self.__class__(self.typ, self.accumulate, self.key)
        if checkpoint is not MISSING and checkpoint is not None:
            if isinstance(checkpoint, tuple) and len(checkpoint) == 2 and isinstance(checkpoint[1], list):
                checkpoint = checkpoint[1]  # the (version, values) form older releases stored
            new.values = list(checkpoint)
        return new
