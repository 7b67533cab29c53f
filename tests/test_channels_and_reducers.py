"""Channels and reducers, directly and through graphs; Overwrite; write order in a step."""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

import anyio
import pytest

from actorgraph.channels import (
    BinaryOperatorAggregate,
    EphemeralValue,
    LastValue,
    NamedBarrierValue,
    Topic,
)
from actorgraph.errors import EmptyChannelError, InvalidUpdateError
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import Overwrite, Send

# -- LastValue ------------------------------------------------------------------------


def test_last_value_is_empty_until_written() -> None:
    ch = LastValue(int)
    assert not ch.is_available()
    with pytest.raises(EmptyChannelError):
        ch.get()


def test_last_value_keeps_the_last_write_of_each_step() -> None:
    ch = LastValue(int)
    assert ch.update([1]) is True
    assert ch.get() == 1
    assert ch.update([]) is False
    assert ch.get() == 1
    assert ch.update([2]) is True
    assert ch.get() == 2


def test_last_value_rejects_two_writes_in_one_step() -> None:
    ch = LastValue(int, key="x")
    with pytest.raises(InvalidUpdateError, match="At key 'x': Can receive only one value per step"):
        ch.update([1, 2])


def test_last_value_checkpoint_round_trip_is_independent() -> None:
    ch = LastValue(str)
    ch.update(["a"])
    restored = ch.from_checkpoint(ch.checkpoint())
    assert restored.get() == "a"
    restored.update(["b"])
    assert ch.get() == "a"


# -- BinaryOperatorAggregate ----------------------------------------------------------


@pytest.mark.parametrize("typ,empty", [(list, []), (int, 0), (str, ""), (tuple, ())])
def test_aggregate_starts_at_the_types_empty_value(typ: type, empty: object) -> None:
    ch = BinaryOperatorAggregate(typ, operator.add)
    assert ch.is_available()
    assert ch.get() == empty
    assert type(ch.get()) is typ


def test_aggregate_folds_every_write_of_a_step_in_order() -> None:
    ch = BinaryOperatorAggregate(list, operator.add)
    assert ch.update([[1], [2, 3]]) is True
    assert ch.update([[4]]) is True
    assert ch.get() == [1, 2, 3, 4]
    assert ch.update([]) is False


def test_aggregate_with_a_custom_reducer() -> None:
    def keep_max(current: int, new: int) -> int:
        return max(current, new)

    ch = BinaryOperatorAggregate(int, keep_max)
    ch.update([3, 7, 5])
    assert ch.get() == 7


def test_aggregate_overwrite_replaces_the_value() -> None:
    ch = BinaryOperatorAggregate(list, operator.add)
    ch.update([[1, 2]])
    ch.update([Overwrite([9])])
    assert ch.get() == [9]


def test_aggregate_dict_overwrite_forms_replace_the_value() -> None:
    ch = BinaryOperatorAggregate(list, operator.add)
    ch.update([[1]])
    ch.update([{"__overwrite__": ["a"]}])
    assert ch.get() == ["a"]
    ch.update([{"type": "__overwrite__", "value": ["b"]}])
    assert ch.get() == ["b"]


def test_aggregate_overwrite_drops_the_steps_other_writes() -> None:
    ch = BinaryOperatorAggregate(list, operator.add)
    ch.update([[0]])
    ch.update([[1], Overwrite([9]), [2]])
    assert ch.get() == [9]


def test_aggregate_rejects_two_overwrites_in_one_step() -> None:
    ch = BinaryOperatorAggregate(list, operator.add)
    with pytest.raises(InvalidUpdateError, match="only one Overwrite value per super-step"):
        ch.update([Overwrite([1]), Overwrite([2])])


# -- Topic ----------------------------------------------------------------------------


def test_topic_collects_and_flattens_a_steps_writes() -> None:
    ch = Topic(int)
    assert not ch.is_available()
    assert ch.update([1, [2, 3]]) is True
    assert ch.get() == [1, 2, 3]


def test_topic_without_accumulate_keeps_only_the_last_step() -> None:
    ch = Topic(int)
    ch.update([1])
    ch.update([2])
    assert ch.get() == [2]
    assert ch.update([]) is True
    assert not ch.is_available()
    with pytest.raises(EmptyChannelError):
        ch.get()


def test_topic_with_accumulate_keeps_every_step() -> None:
    ch = Topic(int, accumulate=True)
    ch.update([1])
    ch.update([2, 3])
    assert ch.update([]) is False
    assert ch.get() == [1, 2, 3]


# -- EphemeralValue -------------------------------------------------------------------


def test_ephemeral_value_lasts_one_step() -> None:
    ch = EphemeralValue(int)
    ch.update([5])
    assert ch.get() == 5
    assert ch.update([]) is True
    assert not ch.is_available()
    assert ch.update([]) is False


def test_ephemeral_value_guard_rejects_two_writes() -> None:
    with pytest.raises(InvalidUpdateError):
        EphemeralValue(int).update([1, 2])


def test_ephemeral_value_without_guard_keeps_the_last_write() -> None:
    ch = EphemeralValue(int, guard=False)
    ch.update([1, 2])
    assert ch.get() == 2


# -- NamedBarrierValue ----------------------------------------------------------------


def test_named_barrier_value_opens_once_every_name_is_written() -> None:
    ch = NamedBarrierValue(str, {"a", "b"})
    assert ch.update(["a"]) is True
    assert not ch.is_available()
    with pytest.raises(EmptyChannelError):
        ch.get()
    assert ch.update(["a"]) is False
    assert ch.update(["b"]) is True
    assert ch.is_available()
    assert ch.get() is None


def test_named_barrier_value_resets_when_consumed() -> None:
    ch = NamedBarrierValue(str, {"a", "b"})
    ch.update(["a", "b"])
    assert ch.consume() is True
    assert not ch.is_available()
    assert ch.consume() is False


def test_named_barrier_value_rejects_an_unexpected_name() -> None:
    ch = NamedBarrierValue(str, {"a", "b"})
    with pytest.raises(InvalidUpdateError, match="'z'"):
        ch.update(["z"])


# -- through graphs -------------------------------------------------------------------


class Reduced(TypedDict):
    items: Annotated[list, operator.add]
    total: Annotated[int, operator.add]
    text: Annotated[str, operator.add]
    plain: int


@pytest.mark.anyio
async def test_reducer_keys_appear_in_the_output_at_their_empty_value() -> None:
    seen: list = []

    def n(state: Reduced) -> None:
        seen.append(dict(state))

    g = StateGraph(Reduced).add_node("n", n).add_edge(START, "n")
    expected = {"items": [], "total": 0, "text": "", "plain": 1}
    assert await g.compile().ainvoke({"plain": 1}) == expected
    assert seen == [expected]


@pytest.mark.anyio
async def test_parallel_writes_to_reducer_keys_are_all_kept() -> None:
    g = StateGraph(Reduced)
    g.add_node("a", lambda s: {"items": ["a"], "total": 1, "text": "a"})
    g.add_node("b", lambda s: {"items": ["b"], "total": 2, "text": "b"})
    g.add_edge(START, "a").add_edge(START, "b")
    out = await g.compile().ainvoke({"items": ["in"], "total": 10, "text": ">"})
    assert out == {"items": ["in", "a", "b"], "total": 13, "text": ">ab"}


def merge(current: dict, new: dict) -> dict:
    return {**current, **new}


class Merged(TypedDict):
    d: Annotated[dict, merge]


@pytest.mark.anyio
async def test_custom_reducer_through_a_graph() -> None:
    g = StateGraph(Merged)
    g.add_node("a", lambda s: {"d": {"a": 1}}).add_node("b", lambda s: {"d": {"b": 2}})
    g.add_edge(START, "a").add_edge("a", "b")
    assert await g.compile().ainvoke({"d": {"x": 0}}) == {"d": {"x": 0, "a": 1, "b": 2}}


@pytest.mark.anyio
async def test_overwrite_bypasses_the_reducer_in_a_graph() -> None:
    class S(TypedDict):
        items: Annotated[list, operator.add]

    g = StateGraph(S)
    g.add_node("a", lambda s: {"items": ["a"]})
    g.add_node("reset", lambda s: {"items": Overwrite(["fresh"])})
    g.add_node("c", lambda s: {"items": ["c"]})
    g.add_edge(START, "a").add_edge("a", "reset").add_edge("reset", "c")
    assert await g.compile().ainvoke({"items": ["in"]}) == {"items": ["fresh", "c"]}

    g2 = StateGraph(S).add_node("dict_reset", lambda s: {"items": {"__overwrite__": ["dict"]}})
    g2.add_edge(START, "dict_reset")
    assert await g2.compile().ainvoke({"items": ["in"]}) == {"items": ["dict"]}


def test_two_overwrites_in_one_step_raise_invalid_update_error() -> None:
    class S(TypedDict):
        items: Annotated[list, operator.add]

    g = StateGraph(S)
    g.add_node("a", lambda s: {"items": Overwrite(["a"])})
    g.add_node("b", lambda s: {"items": Overwrite(["b"])})
    g.add_edge(START, "a").add_edge(START, "b")
    with pytest.raises(InvalidUpdateError, match="At key 'items'.*only one Overwrite"):
        g.compile().invoke({"items": []})


@pytest.mark.anyio
async def test_topic_key_in_a_graph_accumulates_across_steps() -> None:
    class S(TypedDict):
        events: Annotated[list, Topic(str, accumulate=True)]

    g = StateGraph(S)
    g.add_node("a", lambda s: {"events": ["a1", "a2"]}).add_node("b", lambda s: {"events": "b"})
    g.add_node("c", lambda s: {"events": "c"})
    g.add_edge(START, "a").add_edge(START, "b").add_edge("a", "c")
    assert await g.compile().ainvoke({"events": ["in"]}) == {"events": ["in", "a1", "a2", "b", "c"]}


@pytest.mark.anyio
async def test_ephemeral_key_in_a_graph_is_visible_only_to_the_next_step() -> None:
    class S(TypedDict):
        log: Annotated[list, operator.add]
        flash: Annotated[int, EphemeralValue]

    seen: dict[str, dict] = {}

    def node(name: str, writes: dict):
        def fn(state: S) -> dict:
            seen[name] = dict(state)
            return {"log": [name], **writes}

        return fn

    g = StateGraph(S)
    g.add_node("a", node("a", {"flash": 7})).add_node("b", node("b", {})).add_node("c", node("c", {}))
    g.add_edge(START, "a").add_edge("a", "b").add_edge("b", "c")
    out = await g.compile().ainvoke({"log": []})
    assert seen["b"] == {"log": ["a"], "flash": 7}
    assert seen["c"] == {"log": ["a", "b"]}
    assert out == {"log": ["a", "b", "c"]}


@pytest.mark.anyio
async def test_join_edge_fires_again_when_both_sources_run_again() -> None:
    """The named barrier behind add_edge([a, b], c) resets after c consumes it."""

    class S(TypedDict):
        log: Annotated[list, operator.add]

    g = StateGraph(S)
    g.add_node("start", lambda s: {"log": ["s"]})
    g.add_node("a", lambda s: {"log": ["a"]}).add_node("b", lambda s: {"log": ["b"]})
    g.add_node("c", lambda s: {"log": ["c"]})
    g.add_edge(START, "start").add_edge("start", "a").add_edge("start", "b")
    g.add_edge(["a", "b"], "c")
    g.add_conditional_edges("c", lambda s: "start" if s["log"].count("c") < 2 else END)
    assert await g.compile().ainvoke({"log": []}) == {
        "log": ["s", "a", "b", "c", "s", "a", "b", "c"]
    }


# -- write order within a step --------------------------------------------------------


class Log(TypedDict):
    log: Annotated[list, operator.add]


def _sleepy(name: str, delay: float):
    async def node(state: Log) -> dict:
        await anyio.sleep(delay)
        return {"log": [name]}

    return node


@pytest.mark.anyio
async def test_parallel_writes_apply_in_node_name_order_not_completion_order() -> None:
    names = ["z", "a", "B", "_x", "10", "9"]
    g = StateGraph(Log)
    # the first name in str order sleeps longest, so completion order is reversed
    for name in names:
        delay = 0.01 * (sorted(names, reverse=True).index(name) + 1)
        g.add_node(name, _sleepy(name, delay))
        g.add_edge(START, name)
    out = await g.compile().ainvoke({"log": []})
    assert out == {"log": ["10", "9", "B", "_x", "a", "z"]}


@pytest.mark.anyio
async def test_write_order_does_not_follow_add_node_order() -> None:
    g = StateGraph(Log)
    g.add_node("b", _sleepy("b", 0.0)).add_node("a", _sleepy("a", 0.02))
    g.add_edge(START, "b").add_edge(START, "a")
    assert await g.compile().ainvoke({"log": []}) == {"log": ["a", "b"]}


@pytest.mark.anyio
async def test_send_writes_apply_after_edge_tasks_in_send_order() -> None:
    async def worker(arg: dict) -> dict:
        await anyio.sleep(arg["delay"])
        return {"log": [f"w{arg['i']}"]}

    def route(state: Log) -> list:
        return [
            "z",
            Send("worker", {"i": 1, "delay": 0.03}),
            "a",
            Send("worker", {"i": 2, "delay": 0.02}),
            Send("worker", {"i": 3, "delay": 0.0}),
        ]

    g = StateGraph(Log)
    g.add_node("s", lambda s: {"log": ["s"]})
    g.add_node("worker", worker).add_node("a", _sleepy("a", 0.04)).add_node("z", _sleepy("z", 0.0))
    g.add_edge(START, "s")
    g.add_conditional_edges("s", route, ["a", "z", "worker"])
    assert await g.compile().ainvoke({"log": []}) == {"log": ["s", "a", "z", "w1", "w2", "w3"]}


@pytest.mark.anyio
async def test_updates_stream_reports_tasks_while_state_keeps_path_order() -> None:
    g = StateGraph(Log)
    g.add_node("a", _sleepy("a", 0.03)).add_node("b", _sleepy("b", 0.0))
    g.add_edge(START, "a").add_edge(START, "b")
    chunks = [c async for c in g.compile().astream({"log": []}, stream_mode="updates")]
    assert sorted(chunks, key=lambda c: next(iter(c))) == [{"a": {"log": ["a"]}}, {"b": {"log": ["b"]}}]
    final = await g.compile().ainvoke({"log": []})
    assert final == {"log": ["a", "b"]}
