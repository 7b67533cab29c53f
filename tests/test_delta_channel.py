"""DeltaChannel (beta): a batch reducer channel, its snapshot form, replaying saved
writes, and ``_messages_delta_reducer``; in graphs with and without a checkpointer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, NotRequired

import pytest
from typing_extensions import TypedDict

from actorgraph.channels._base import MISSING
from actorgraph.channels._snapshot import _DeltaSnapshot
from actorgraph.channels.delta import DeltaChannel
from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.errors import EmptyChannelError, InvalidUpdateError
from actorgraph.graph import START, StateGraph
from actorgraph.graph.message import REMOVE_ALL_MESSAGES, _messages_delta_reducer
from actorgraph.graph.state import _get_channel
from actorgraph.messages import AIMessage, HumanMessage, RemoveMessage
from actorgraph.types import Overwrite

pytestmark = pytest.mark.anyio


def _extend(state: list[Any], writes: Sequence[Any]) -> list[Any]:
    out = list(state)
    for w in writes:
        out.extend(w if isinstance(w, list) else [w])
    return out


def _merge(state: dict[str, Any], writes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    out = dict(state)
    for w in writes:
        out.update(w)
    return out


def test_update_folds_a_batch_and_checkpoint_is_always_empty() -> None:
    ch = DeltaChannel(_extend).from_checkpoint(MISSING)
    assert ch.get() == [] and ch.ValueType is list
    assert ch.update([[1], 2]) and ch.get() == [1, 2]
    assert not ch.update([])
    assert ch.checkpoint() is MISSING
    with pytest.raises(EmptyChannelError):
        DeltaChannel(_extend).get()


def test_overwrite_resets_and_two_overwrites_conflict() -> None:
    ch = DeltaChannel(_extend).from_checkpoint(MISSING)
    ch.update([[1]])
    ch.update([Overwrite([9]), [5]])  # the writes beside an Overwrite are dropped
    assert ch.get() == [9]
    ch.update([Overwrite(None)])
    assert ch.get() == []
    with pytest.raises(InvalidUpdateError, match="one Overwrite"):
        ch.update([Overwrite([1]), {"__overwrite__": [2]}])


def test_from_checkpoint_reads_snapshots_and_plain_values() -> None:
    spec = DeltaChannel(_extend)
    assert spec.from_checkpoint(_DeltaSnapshot([1, 2])).get() == [1, 2]
    assert spec.from_checkpoint([3]).get() == [3]  # stored before it became a delta channel
    assert spec.from_checkpoint(None).get() == []


def test_replay_writes_starts_after_the_last_overwrite() -> None:
    ch = DeltaChannel(_merge, dict).from_checkpoint(MISSING)
    ch.replay_writes([("t0", "f", {"a": 1}), ("t1", "f", Overwrite({"x": 1})), ("t2", "f", {"y": 2})])
    assert ch.get() == {"x": 1, "y": 2}
    ch.replay_writes([])
    assert ch.get() == {"x": 1, "y": 2}


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="snapshot_frequency"):
        DeltaChannel(_extend, snapshot_frequency=0)
    with pytest.raises(TypeError, match="callable"):
        DeltaChannel("nope")  # type: ignore[arg-type]


def test_equality_and_copy() -> None:
    a = DeltaChannel(_extend, snapshot_frequency=5)
    assert a == DeltaChannel(_extend, snapshot_frequency=5)
    assert a != DeltaChannel(_extend, snapshot_frequency=6)
    live = a.from_checkpoint(MISSING)
    live.update([[1]])
    clone = live.copy()
    clone.update([[2]])
    assert live.get() == [1] and clone.get() == [1, 2] and clone.snapshot_frequency == 5


def test_the_value_type_comes_from_the_annotation() -> None:
    ch = _get_channel("files", Annotated[NotRequired[dict[str, int]], DeltaChannel(_merge)])
    assert ch.typ is dict and ch.key == "files"
    live = ch.from_checkpoint(MISSING)
    live.update([{"a": 1}])
    assert live.get() == {"a": 1}


def test_messages_delta_reducer_dedupes_removes_and_resets() -> None:
    h = HumanMessage(content="hi", id="h1")
    out = _messages_delta_reducer([], [[h], AIMessage(content="yo", id="a1")])
    assert [m.id for m in out] == ["h1", "a1"]
    out = _messages_delta_reducer(out, [HumanMessage(content="edited", id="h1")])
    assert [m.content for m in out] == ["edited", "yo"]
    out = _messages_delta_reducer(out, [RemoveMessage(id="a1"), RemoveMessage(id="unknown")])
    assert [m.id for m in out] == ["h1"]
    out = _messages_delta_reducer(out, [[HumanMessage(content="x", id="x"), RemoveMessage(id=REMOVE_ALL_MESSAGES)], ("user", "new")])
    assert len(out) == 1 and out[0].content == "new"


def test_messages_delta_reducer_is_batching_invariant() -> None:
    xs = [[HumanMessage(content="a", id="1")], [AIMessage(content="b", id="2")]]
    ys = [[RemoveMessage(id="1")], [HumanMessage(content="c", id="2")]]
    once = _messages_delta_reducer([], xs + ys)
    twice = _messages_delta_reducer(_messages_delta_reducer([], xs), ys)
    assert once == twice


class _Chat(TypedDict):
    log: Annotated[list, DeltaChannel(_extend, snapshot_frequency=2)]
    other: str


async def test_a_delta_key_in_a_checkpointed_graph_keeps_its_history() -> None:
    def node(state: _Chat) -> dict[str, Any]:
        return {"log": [f"out{len(state['log'])}"]}

    saver = InMemorySaver()
    graph = StateGraph(_Chat).add_node("n", node).add_edge(START, "n").compile(checkpointer=saver)
    cfg = {"configurable": {"thread_id": "t"}}
    for i in range(4):
        await graph.ainvoke({"log": [f"in{i}"], "other": ""}, cfg)
    state = await graph.aget_state(cfg)
    assert state.values["log"] == ["in0", "out1", "in1", "out3", "in2", "out5", "in3", "out7"]
    history = [s async for s in graph.aget_state_history(cfg)]
    assert [len(s.values["log"]) for s in history] == [8, 7, 6, 6, 5, 4, 4, 3, 2, 2, 1, 0]
    # a run from an older checkpoint forks off it, without the newer writes
    older = history[5].config  # the input checkpoint of the third run
    out = await graph.ainvoke({"log": ["fork"], "other": ""}, older)
    assert out["log"] == ["in0", "out1", "in1", "out3", "fork", "out5"]


async def test_a_delta_key_without_a_checkpointer() -> None:
    class S(TypedDict):
        files: Annotated[dict[str, str], DeltaChannel(_merge)]

    graph = StateGraph(S).add_node("w", lambda s: {"files": {"b": "2"}}).add_edge(START, "w").compile()
    assert await graph.ainvoke({"files": {"a": "1"}}) == {"files": {"a": "1", "b": "2"}}


class _Msgs(TypedDict):
    messages: Annotated[list, DeltaChannel(_messages_delta_reducer)]


async def test_messages_written_to_a_delta_channel_get_ids_that_every_read_keeps() -> None:
    app = StateGraph(_Msgs).add_node("n", lambda s: {"messages": [("ai", "hi"), {"role": "user", "content": "x"}]})
    app = app.add_edge(START, "n").compile(checkpointer=InMemorySaver())
    cfg = {"configurable": {"thread_id": "t"}}
    out = await app.ainvoke({"messages": "start"}, cfg)
    ids = [m.id for m in out["messages"]]
    assert len(ids) == 3 and all(ids)
    assert [m.id for m in (await app.aget_state(cfg)).values["messages"]] == ids
    assert [m.id for m in (await app.aget_state(cfg)).values["messages"]] == ids


async def test_parallel_writes_replay_in_the_order_the_step_applied_them() -> None:
    class S(TypedDict):
        log: Annotated[list, DeltaChannel(_extend, snapshot_frequency=1000)]

    builder = StateGraph(S)
    for n in "hgfedcba":
        builder.add_node(n, lambda s, n=n: {"log": [n]})
        builder.add_edge(START, n)
    app = builder.compile(checkpointer=InMemorySaver())
    cfg = {"configurable": {"thread_id": "t"}}
    live = (await app.ainvoke({"log": []}, cfg))["log"]
    assert live == list("abcdefgh")
    assert (await app.aget_state(cfg)).values["log"] == live


async def test_a_cache_hit_is_saved_for_the_delta_channel_to_replay() -> None:
    from actorgraph.cache.memory import InMemoryCache
    from actorgraph.types import CachePolicy

    class S(TypedDict):
        log: Annotated[list, DeltaChannel(_extend)]

    builder = StateGraph(S).add_node("a", lambda s: {"log": ["a"]}, cache_policy=CachePolicy())
    app = builder.add_edge(START, "a").compile(checkpointer=InMemorySaver(), cache=InMemoryCache())
    for thread in ("1", "2"):
        cfg = {"configurable": {"thread_id": thread}}
        await app.ainvoke({"log": []}, cfg)
        assert (await app.aget_state(cfg)).values["log"] == ["a"]


async def test_clearing_a_checkpoint_keeps_what_its_finished_tasks_wrote() -> None:
    from actorgraph.graph import END

    class S(TypedDict):
        log: Annotated[list, DeltaChannel(_extend)]

    def q(state: S) -> dict[str, Any]:
        from actorgraph.types import interrupt

        interrupt("continue?")
        return {"log": ["q"]}

    builder = StateGraph(S).add_node("p", lambda s: {"log": ["p"]}).add_node("q", q)
    app = builder.add_edge(START, "p").add_edge(START, "q").compile(checkpointer=InMemorySaver())
    cfg = {"configurable": {"thread_id": "t"}}
    await app.ainvoke({"log": ["in"]}, cfg)
    head = await app.aget_state(cfg)
    await app.aupdate_state(head.config, {"log": ["edit"]}, as_node="q")
    cleared = await app.aupdate_state(head.config, None, as_node=END)
    state = await app.aget_state(cleared)
    assert state.values["log"] == ["in", "p", "edit"] and state.next == ()


async def test_a_command_update_on_a_saved_step_is_stored() -> None:
    from actorgraph.types import Command, interrupt

    class S(TypedDict):
        log: Annotated[list, DeltaChannel(_extend)]
        x: int

    def ask(state: S) -> dict[str, Any]:
        interrupt("q")
        return {"log": ["asked"]}

    builder = StateGraph(S).add_node("a", ask).add_node("z", lambda s: {}).add_edge(START, "a").add_edge("a", "z")
    app = builder.compile(checkpointer=InMemorySaver())
    cfg = {"configurable": {"thread_id": "t"}}
    await app.ainvoke({"log": ["in"], "x": 0}, cfg)
    out = await app.ainvoke(Command(resume="y", update={"log": ["cmd"], "x": 5}), cfg)
    assert out == {"log": ["in", "cmd", "asked"], "x": 5}
    assert (await app.aget_state(cfg)).values == out
    history = [s.values async for s in app.aget_state_history(cfg)]
    assert history[0] == history[1] == out  # the step's checkpoint and the last one
