"""Channels that hold one value: LastValue, AnyValue, EphemeralValue, UntrackedValue and
the after-finish variant used by deferred nodes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from actorgraph.channels._base import MISSING, BaseChannel
from actorgraph.errors import ErrorCode, InvalidUpdateError, create_error_message

Value = TypeVar("Value")

__all__ = ("AnyValue", "EphemeralValue", "LastValue", "LastValueAfterFinish", "UntrackedValue")


def _one_value_error(key: str) -> InvalidUpdateError:
    return InvalidUpdateError(
        create_error_message(
            message=(
                f"At key '{key}': Can receive only one value per step. "
                "Use an Annotated key with a reducer to handle multiple values."
            ),
            error_code=ErrorCode.INVALID_CONCURRENT_GRAPH_UPDATE,
        ),
        key=key,
    )


class LastValue(BaseChannel[Value, Value, Value], Generic[Value]):
    """Holds the last value written; more than one write in a step is an error."""

    __slots__ = ("value",)
    clears_each_step = False
    waits_for_finish = False
    consumable = False

    def __init__(self, typ: Any = Any, key: str = "") -> None:
        super().__init__(typ, key)
        self.value: Any = MISSING

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def get(self) -> Value:
        if self.value is MISSING:
            raise self._empty()
        return self.value  # type: ignore[no-any-return]

    def is_available(self) -> bool:
        return self.value is not MISSING

    def update(self, values: Sequence[Value]) -> bool:
        n = len(values)
        if n == 0:
            return False
        if n != 1:
            raise _one_value_error(self.key)
        self.value = values[0]
        return True

    def checkpoint(self) -> Any:
        return self.value

    def from_checkpoint(self, checkpoint: Any) -> LastValue[Value]:
        cls = self.__class__
        if cls is LastValue or cls is AnyValue:
            # (every run and step copies channels: the three slots, without the calls of
            # the constructors; a subclass may set more in its own)
            new = object.__new__(cls)
            new.typ = self.typ
            new.key = self.key
        else:
            new = cls(self.typ, self.key)
        new.value = checkpoint
        return new


class AnyValue(LastValue[Value]):
    """Holds the last value written; several writes in one step are fine (the last wins).
    A step that passes it by without a write clears it."""

    __slots__ = ()
    clears_each_step = True

    def update(self, values: Sequence[Value]) -> bool:
        if len(values) == 0:
            if self.value is MISSING:
                return False
            self.value = MISSING
            return True
        self.value = values[-1]
        return True


class UntrackedValue(LastValue[Value]):
    """Holds the last value written but is never saved in checkpoints."""

    __slots__ = ("guard",)

    def __init__(self, typ: Any = Any, guard: bool = True, key: str = "") -> None:
        super().__init__(typ, key)
        self.guard = guard

    def update(self, values: Sequence[Value]) -> bool:
        if len(values) == 0:
            return False
        if len(values) != 1 and self.guard:
            raise _one_value_error(self.key)
        self.value = values[-1]
        return True

    def checkpoint(self) -> Any:
        return MISSING

    def from_checkpoint(self, checkpoint: Any) -> UntrackedValue[Value]:
        new = self.__class__(self.typ, self.guard, self.key)
        return new

    def copy(self) -> UntrackedValue[Value]:
        new = self.__class__(self.typ, self.guard, self.key)
        new.value = self.value
        return new


class EphemeralValue(BaseChannel[Value, Value, Value], Generic[Value]):
    """Holds the value written in the previous step only; cleared when a step passes it by.

    Edges use these as trigger channels (``branch:to:<node>``), so a node runs once per
    activation.
    """

    __slots__ = ("value", "guard")
    clears_each_step = True
    waits_for_finish = False
    consumable = False

    def __init__(self, typ: Any = Any, guard: bool = True, key: str = "") -> None:
        super().__init__(typ, key)
        self.guard = guard
        self.value: Any = MISSING

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EphemeralValue) and other.guard == self.guard

    def __hash__(self) -> int:
        return hash((EphemeralValue, self.guard))

    def get(self) -> Value:
        if self.value is MISSING:
            raise self._empty()
        return self.value  # type: ignore[no-any-return]

    def is_available(self) -> bool:
        return self.value is not MISSING

    def update(self, values: Sequence[Value]) -> bool:
        if len(values) == 0:
            if self.value is MISSING:
                return False
            self.value = MISSING
            return True
        if len(values) != 1 and self.guard:
            raise InvalidUpdateError(
                f"At key '{self.key}': EphemeralValue(guard=True) can receive only one value per step.",
                key=self.key,
            )
        self.value = values[-1]
        return True

    def checkpoint(self) -> Any:
        return self.value

    def from_checkpoint(self, checkpoint: Any) -> EphemeralValue[Value]:
        cls = self.__class__
        if cls is EphemeralValue:
            # (the trigger channel of every edge, copied each run: its four slots, without
            # the calls of the constructors; a subclass may set more in its own)
            new = object.__new__(cls)
            new.typ = self.typ
            new.key = self.key
            new.guard = self.guard
        else:
            new = cls(self.typ, self.guard, self.key)
        new.value = checkpoint
        return new


class LastValueAfterFinish(BaseChannel[Value, Value, Any], Generic[Value]):
    """Like LastValue, but only readable after ``finish()``: triggers deferred nodes once the
    rest of the graph has nothing left to do."""

    __slots__ = ("value", "finished")
    clears_each_step = False
    waits_for_finish = True
    consumable = True

    def __init__(self, typ: Any = Any, key: str = "") -> None:
        super().__init__(typ, key)
        self.value: Any = MISSING
        self.finished = False

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def get(self) -> Value:
        if self.value is MISSING or not self.finished:
            raise self._empty()
        return self.value  # type: ignore[no-any-return]

    def is_available(self) -> bool:
        return self.finished and self.value is not MISSING

    def update(self, values: Sequence[Value]) -> bool:
        if len(values) == 0:
            return False
        self.finished = False
        self.value = values[-1]
        return True

    def consume(self) -> bool:
        if self.finished:
            self.finished = False
            self.value = MISSING
            return True
        return False

    def finish(self) -> bool:
        if not self.finished and self.value is not MISSING:
            self.finished = True
            return True
        return False

    def checkpoint(self) -> Any:
        return MISSING if self.value is MISSING else (self.value, self.finished)

    def from_checkpoint(self, checkpoint: Any) -> LastValueAfterFinish[Value]:
        new = self.__class__(self.typ, self.key)
        if checkpoint is not MISSING:
            new.value, new.finished = checkpoint
        return new
