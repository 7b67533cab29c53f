"""NamedBarrierValue: the join channel behind ``add_edge(["a", "b"], "c")``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from actorgraph.channels._base import MISSING, BaseChannel
from actorgraph.errors import InvalidUpdateError

__all__ = ("NamedBarrierValue", "NamedBarrierValueAfterFinish")


class NamedBarrierValue(BaseChannel[None, str, set[str]]):
    """Becomes available once every name in ``names`` has been written; resets when the
    node it triggers consumes it."""

    __slots__ = ("names", "seen")
    clears_each_step = False
    waits_for_finish = False
    consumable = True

    def __init__(self, typ: Any, names: Iterable[str], key: str = "") -> None:
        super().__init__(typ, key)
        self.names = frozenset(names)
        self.seen: set[str] = set()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.names == self.names  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.names))

    def get(self) -> None:
        if self.seen != self.names:
            raise self._empty()
        return None

    def is_available(self) -> bool:
        return self.seen == self.names

    def update(self, values: Sequence[str]) -> bool:
        updated = False
        for v in values:
            if v not in self.names:
                raise InvalidUpdateError(
                    f"At key '{self.key}': '{v}' is not one of the nodes this join waits for "
                    f"({sorted(self.names)})",
                    key=self.key,
                    value=v,
                )
            if v not in self.seen:
                self.seen.add(v)
                updated = True
        return updated

    def consume(self) -> bool:
        if self.seen == self.names:
            self.seen = set()
            return True
        return False

    def checkpoint(self) -> Any:
        return sorted(self.seen) if self.seen else MISSING

    def from_checkpoint(self, checkpoint: Any) -> NamedBarrierValue:
        new = self.__class__(self.typ, self.names, self.key)
        if checkpoint is not MISSING and checkpoint is not None:
            new.seen = set(checkpoint)
        return new


class NamedBarrierValueAfterFinish(NamedBarrierValue):
    """A join for a deferred node: available once all names were written *and* the rest
    of the graph has finished."""

    __slots__ = ("finished",)
    waits_for_finish = True

    def __init__(self, typ: Any, names: Iterable[str], key: str = "") -> None:
        super().__init__(typ, names, key)
        self.finished = False

    def get(self) -> None:
        if not self.finished or self.seen != self.names:
            raise self._empty()
        return None

    def is_available(self) -> bool:
        return self.finished and self.seen == self.names

    def consume(self) -> bool:
        if self.finished and self.seen == self.names:
            self.finished = False
            self.seen = set()
            return True
        return False

    def finish(self) -> bool:
        if not self.finished and self.seen == self.names:
            self.finished = True
            return True
        return False

    def checkpoint(self) -> Any:
        return MISSING if not self.seen else (sorted(self.seen), self.finished)

    def from_checkpoint(self, checkpoint: Any) -> NamedBarrierValueAfterFinish:
        new = self.__class__(self.typ, self.names, self.key)
        if checkpoint is not MISSING and checkpoint is not None:
            seen, new.finished = checkpoint
            new.seen = set(seen)
        return new
