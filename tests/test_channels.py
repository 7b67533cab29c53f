"""The channel protocol as LangGraph's public channel modules define it: each kind used
directly (``from_checkpoint`` / ``update`` / ``get`` / ``checkpoint`` / ``consume`` /
``finish``), and untracked values in a checkpointed graph."""

from __future__ import annotations

import operator
import threading
from collections.abc import Sequence
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from actorgraph.channels._base import MISSING
from actorgraph.channels.any_value import AnyValue
from actorgraph.channels.base import BaseChannel
from actorgraph.channels.binop import BinaryOperatorAggregate, _get_overwrite
from actorgraph.channels.ephemeral_value import EphemeralValue
from actorgraph.channels.last_value import LastValue, LastValueAfterFinish
from actorgraph.channels.named_barrier_value import NamedBarrierValue, NamedBarrierValueAfterFinish
from actorgraph.channels.topic import Topic
from actorgraph.channels.untracked_value import UntrackedValue
from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.errors import EmptyChannelError, InvalidUpdateError
from actorgraph.graph import START, StateGraph
from actorgraph.types import Overwrite


def test_last_value_holds_one_write_per_step() -> None:
    ch = LastValue(int).from_checkpoint(MISSING)
    assert ch.ValueType is int and ch.UpdateType is int
    with pytest.raises(EmptyChannelError):
        ch.get()
    assert not ch.is_available()
    with pytest.raises(InvalidUpdateError, match="one value per step"):
        ch.update([5, 6])
    assert ch.update([3]) and ch.get() == 3
    assert not ch.update([])
    restored = LastValue(int).from_checkpoint(ch.checkpoint())
    assert restored.get() == 3


def test_topic_types_flattening_and_clearing() -> None:
    ch = Topic(str).from_checkpoint(MISSING)
    assert ch.ValueType == Sequence[str]
    assert ch.UpdateType == str | list[str]
    assert ch.update(["a", ["b", "c"]]) and ch.get() == ["a", "b", "c"]
    assert ch.update([])  # a step without writes empties it
    with pytest.raises(EmptyChannelError):
        ch.get()
    assert not ch.update([])
    acc = Topic(str, accumulate=True).from_checkpoint(MISSING)
    acc.update(["a"])
    assert not acc.update([])
    acc.update([["b"]])
    assert Topic(str, accumulate=True).from_checkpoint(acc.checkpoint()).get() == ["a", "b"]


def test_topic_reads_the_older_tuple_checkpoint_form() -> None:
    assert Topic(int).from_checkpoint((1, [4, 5])).get() == [4, 5]


def test_binop_folds_writes_and_honours_overwrite() -> None:
    ch = BinaryOperatorAggregate(int, operator.add).from_checkpoint(MISSING)
    assert ch.get() == 0
    ch.update([1, 2, 3])
    assert ch.get() == 6
    ch.update([Overwrite(1), 5])
    assert ch.get() == 1
    with pytest.raises(InvalidUpdateError, match="one Overwrite"):
        ch.update([Overwrite(1), Overwrite(2)])
    assert _get_overwrite({"__overwrite__": [1]}) == (True, [1])
    assert _get_overwrite({"type": "__overwrite__", "value": 2}) == (True, 2)
    assert _get_overwrite({"value": 2}) == (False, None)


def test_untracked_value_is_never_checkpointed() -> None:
    ch = UntrackedValue(dict).from_checkpoint(MISSING)
    ch.update([{"a": 1}])
    assert ch.get() == {"a": 1}
    assert ch.checkpoint() is MISSING
    assert not UntrackedValue(dict).from_checkpoint(ch.checkpoint()).is_available()
    assert ch.copy().get() == {"a": 1}


def test_ephemeral_and_any_value_clear_on_an_empty_step() -> None:
    for ch in (EphemeralValue(int).from_checkpoint(MISSING), AnyValue(int).from_checkpoint(MISSING)):
        assert ch.update([1])
        assert ch.update([]) and not ch.is_available()
        assert not ch.update([])
    with pytest.raises(InvalidUpdateError, match="EphemeralValue"):
        EphemeralValue(int).update([1, 2])
    assert AnyValue(int).update([1, 2])


def test_named_barriers_wait_for_every_name() -> None:
    ch = NamedBarrierValue(str, {"a", "b"}).from_checkpoint(MISSING)
    ch.update(["a"])
    assert not ch.is_available()
    ch.update(["b"])
    assert ch.is_available() and ch.consume() and not ch.is_available()
    with pytest.raises(InvalidUpdateError, match="'c'"):
        ch.update(["c"])
    fin = NamedBarrierValueAfterFinish(str, {"a"}).from_checkpoint(MISSING)
    fin.update(["a"])
    assert not fin.is_available()
    assert fin.finish() and fin.is_available() and fin.consume()
    after = LastValueAfterFinish(int).from_checkpoint(MISSING)
    after.update([1])
    assert not after.is_available() and after.finish() and after.get() == 1


class _Counter(BaseChannel[int, int, int]):
    """A channel written against LangGraph's protocol only: no engine flags."""

    def __init__(self, typ: Any = int, key: str = "") -> None:
        super().__init__(typ, key)
        self.value = 0
        self.steps = 0

    def from_checkpoint(self, checkpoint: Any) -> _Counter:
        new = _Counter(self.typ, self.key)
        if checkpoint is not MISSING:
            new.value = checkpoint
        return new

    def update(self, values: Sequence[int]) -> bool:
        if not values:
            self.steps += 1
            return False
        self.value += sum(values)
        return True

    def get(self) -> int:
        return self.value


def test_a_user_channel_gets_every_hook_and_a_default_checkpoint() -> None:
    ch = _Counter().from_checkpoint(MISSING)
    ch.update([2])
    assert ch.checkpoint() == 2  # the protocol's default: the value itself
    assert ch.clears_each_step and ch.consumable and ch.waits_for_finish

    class S(TypedDict):
        n: Annotated[int, _Counter]

    g = StateGraph(S).add_node("a", lambda s: {"n": 1}).add_node("b", lambda s: {"n": 10})
    g.add_edge(START, "a").add_edge("a", "b")
    assert g.compile().invoke({"n": 5}) == {"n": 16}


class _Locked(TypedDict):
    x: int
    lock: Annotated[threading.Lock, UntrackedValue]


@pytest.mark.anyio
async def test_untracked_state_runs_with_a_checkpointer_and_is_never_stored() -> None:
    """Known gap #30: a lock in an UntrackedValue key neither fails the save nor is saved."""
    saver = InMemorySaver()
    g = StateGraph(_Locked).add_node("a", lambda s: {"x": 1, "lock": threading.Lock()})
    app = g.add_edge(START, "a").compile(checkpointer=saver)
    cfg = {"configurable": {"thread_id": "t"}}
    out = await app.ainvoke({"x": 0}, cfg)
    assert out["x"] == 1 and "lock" in out
    state = await app.aget_state(cfg)
    assert state.values == {"x": 1}
    assert all("lock" not in (t.result or {}) for s in [state] for t in s.tasks)
