"""Values are walked once, in C: plain data (lists, dicts, scalars) is encoded by msgspec
without a Python call per item, the types msgspec doesn't know reach ``pack`` through its
hook, and a value holding a type msgspec would write its own way (a tuple, a set, a
dataclass, an enum, a datetime, ...) is walked in Python as before. Whatever the path, the
bytes are the ones the serializer wrote before (``data/serde_v1.msgpack``), so old
checkpoints load; and a saver serializes only the channels a step changed."""

from __future__ import annotations

import collections
import datetime as dt
import ipaddress
import operator
import pathlib
import re
import sys
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypedDict

import msgspec
import pydantic
import pytest
from langchain_core.messages import AIMessage as LcAIMessage
from serde_samples import FIXTURE_NAME, SAMPLES, Level, Point, same

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from actorgraph.graph import START, StateGraph
from actorgraph.persistence import SerializationError, Serializer
from actorgraph.types import Send

SER = Serializer()
FIXTURE: dict[str, bytes] = msgspec.msgpack.decode((pathlib.Path(__file__).parent / "data" / FIXTURE_NAME).read_bytes())


def roundtrip(value: Any) -> Any:
    return SER.loads(SER.dumps(value))


def big_plain(n: int = 10_000) -> list[Any]:
    return [f"item-{i}" if i % 3 == 0 else i if i % 3 == 1 else {"i": i, "ok": i % 2 == 0, "f": i / 2} for i in range(n)]


@contextmanager
def python_calls() -> Iterator[list[str]]:
    """The Python functions called inside the block (C functions are not counted)."""
    calls: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            calls.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(None)


# -- the stored format didn't change --------------------------------------------------------


def test_the_fixture_holds_every_sample() -> None:
    assert set(FIXTURE) == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_bytes_written_by_the_previous_serializer_read_back_as_before(name: str) -> None:
    """Old checkpoints load: the bytes of 2026-12 read back as the value they stored."""
    _, expected = SAMPLES[name]
    assert same(SER.loads(FIXTURE[name]), expected)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_kind_nested_in_plain_containers_is_written_as_before_and_round_trips(name: str) -> None:
    value, expected = SAMPLES[name]
    data = SER.dumps(value)
    assert data == FIXTURE[name]
    assert same(SER.loads(data), expected)


# -- tuples, sets, enums and friends inside big plain data ---------------------------------


@pytest.mark.parametrize(
    "odd",
    [
        (1, 2), (), {3, 4}, frozenset({5}), Level.HIGH, Point(1), dt.datetime(2024, 1, 2, 3, tzinfo=dt.timezone.utc),
        dt.date(2024, 1, 2), collections.deque([1]), zoneinfo.ZoneInfo("UTC"), re.compile("x"),
        ipaddress.IPv4Address("1.2.3.4"), Send("n", {"a": (1,)}), LcAIMessage(content="hi", id="m1"),
    ],
    ids=lambda v: type(v).__name__,
)  # fmt: skip
@pytest.mark.parametrize("where", ["top", "first", "last", "deep-dict"])
def test_a_non_plain_value_anywhere_in_big_plain_data_round_trips_as_itself(odd: Any, where: str) -> None:
    value: Any = big_plain(2_000)
    if where == "top":
        value = odd
    elif where == "first":
        value[0] = odd
    elif where == "last":
        value.append(odd)
    else:
        value[500] = {"a": [{"b": {"c": [1, odd]}}]}
    out = roundtrip(value)
    assert same(out, value)


def test_tuple_and_non_string_keys_in_big_plain_data_round_trip() -> None:
    value = big_plain(2_000)
    value[7] = {(1, "a"): "tuple key", (): "empty", "s": 1}
    value[8] = {1: "int", 2.5: "float", None: "none", b"b": "bytes", True: "bool"}
    assert same(roundtrip(value), value)


def test_an_ordered_dict_is_stored_in_its_own_order() -> None:
    od = collections.OrderedDict(a=1, b=2, c=3)
    od.move_to_end("a")
    out = roundtrip([*big_plain(100), {"od": od}])
    assert list(out[-1]["od"]) == ["b", "c", "a"] and type(out[-1]["od"]) is dict


def test_plain_data_nested_deeper_than_the_walk_looks_still_round_trips() -> None:
    value: Any = "leaf"
    for i in range(150):
        value = [value, {"depth": i}] if i % 2 else {"d": value, "t": (i,) if i == 149 else i}
    assert same(roundtrip(value), value)


def test_strings_that_are_not_utf8_are_stored_with_question_marks() -> None:
    assert roundtrip([*big_plain(10), "a\ud800b", {"k\udc00": 1}])[-2:] == ["a?b", {"k?": 1}]


# -- walked in C ----------------------------------------------------------------------------


def test_big_plain_data_is_encoded_without_a_python_call_per_item() -> None:
    value = {"items": big_plain(10_000), "more": [big_plain(1_000), {"x": big_plain(500)}]}
    with python_calls() as calls:
        data = SER.dumps(value)
    assert len(calls) < 20, calls[:50]
    assert SER.loads(data) == value


def test_objects_msgspec_does_not_know_cost_python_calls_of_their_own_only() -> None:
    """A LangChain message among 10,000 plain items: the hook packs the message alone."""
    msg = LcAIMessage(content="hi", id="m1")
    value = [*big_plain(10_000), msg]
    with python_calls() as calls:
        data = SER.dumps(value)
    assert len(calls) < 300, calls[:50]  # the message's own packing; never per plain item
    out = SER.loads(data)
    assert out[:-1] == value[:-1] and out[-1] == msg and type(out[-1]) is LcAIMessage


def test_the_types_handed_to_the_hook_are_those_msgspec_has_no_encoding_for() -> None:
    """Whatever the walk leaves to msgspec's hook must really reach it: a type msgspec
    encodes itself would otherwise be stored in msgspec's shape, not ours."""
    from actorgraph.persistence._serde import _is_hooked

    class Plain:
        pass

    class Model(pydantic.BaseModel):
        a: int = 1

    samples: list[Any] = [value for value, _ in SAMPLES.values()]
    samples += [Plain(), Model(), LcAIMessage(content="x"), zoneinfo.ZoneInfo("UTC"), pathlib.Path("/x")]
    hooked: list[type] = []
    encoder = msgspec.msgpack.Encoder(enc_hook=lambda obj: hooked.append(type(obj)))
    for value in samples:
        hooked.clear()
        encoder.encode([value])
        if _is_hooked(type(value)):
            assert hooked == [type(value)], type(value)


# -- what can't be stored ---------------------------------------------------------------------


class Opaque:
    """Plain data to nobody: no fields to store, never pickled."""


@pytest.mark.parametrize("where", ["top", "in-big-list", "deep", "next-to-a-message"])
def test_an_unsupported_type_anywhere_is_a_serialization_error_naming_the_type(where: str) -> None:
    value: Any = big_plain(1_000)
    if where == "top":
        value = Opaque()
    elif where == "in-big-list":
        value[999] = Opaque()
    elif where == "deep":
        value[3] = {"a": [{"b": (1, {"c": Opaque()})}]}
    else:
        value += [LcAIMessage(content="hi"), {"x": Opaque()}]
    with pytest.raises(SerializationError, match=r"test_serde_walk\.Opaque is not serializable"):
        SER.dumps(value)


@pytest.mark.parametrize("key", [pathlib.Path("/k"), frozenset({1}), dt.date(2020, 1, 1)], ids=lambda k: type(k).__name__)
def test_a_dict_key_that_is_not_a_scalar_is_refused_naming_its_type_in_big_data(key: Any) -> None:
    value = [*big_plain(1_000), {"ok": {key: 1}}, LcAIMessage(content="hi")]
    with pytest.raises(SerializationError, match=f"key of type {type(key).__name__}"):
        SER.dumps(value)


# -- a saver serializes only what changed ----------------------------------------------------

KEYS = 10


Wide = TypedDict(  # type: ignore[misc]
    "Wide", {"i": int, "tag": str, **{f"l{k}": Annotated[list, operator.add] for k in range(KEYS)}}
)


class CountingSerializer(JsonPlusSerializer):
    """The default serializer, remembering every value it was given to store."""

    def __init__(self) -> None:
        super().__init__()
        self.stored: list[Any] = []

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        self.stored.append(obj)
        return super().dumps_typed(obj)


def _wide_graph(saver: Any, steps: int) -> Any:
    def step(s: Any) -> dict[str, Any]:
        i = s["i"]
        return {"i": i + 1, f"l{i % KEYS}": [{"step": i}]}

    g = StateGraph(Wide)
    g.add_node("step", step)
    g.add_edge(START, "step")
    g.add_conditional_edges("step", lambda s: "step" if s["i"] < steps else "__end__", ["step", "__end__"])
    return g.compile(checkpointer=saver)


@pytest.mark.anyio
@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
async def test_a_step_serializes_only_the_values_it_changed_never_the_big_unchanged_ones(
    anyio_backend: str, durability: str
) -> None:
    serde = CountingSerializer()
    steps = 30
    app = _wide_graph(InMemorySaver(serde=serde), steps)
    start: dict[str, Any] = {"i": 0, "tag": "t", **{f"l{k}": big_plain(300) for k in range(KEYS)}}
    cfg = {"configurable": {"thread_id": f"wide-{durability}"}, "recursion_limit": steps + 10}
    out = await app.ainvoke(start, cfg, durability=durability)
    # the input's lists are stored once as writes and once as the first checkpoint's values
    big = [v for v in serde.stored if isinstance(v, list) and len(v) >= 300]
    assert len(big) <= 2 * KEYS, [len(v) for v in big]
    # afterwards a step stores its writes and the items it appended: never a whole list
    assert all(len(v) <= 2 for v in serde.stored if isinstance(v, list) and len(v) < 300)
    expected = {f"l{k}": big_plain(300) + [{"step": i} for i in range(k, steps, KEYS)] for k in range(KEYS)}
    assert out == {"i": steps, "tag": "t", **expected}
    assert (await app.aget_state(cfg)).values == out


def _wrap(old: Any, new: Any) -> Any:
    """A reducer whose value can't be stored, though every write can."""
    return Opaque() if new == "wrap" else new


class Bag(TypedDict, total=False):
    items: Annotated[list, operator.add]
    obj: Annotated[Any, _wrap]


@pytest.mark.anyio
async def test_under_exit_a_value_that_cant_be_stored_fails_the_run_naming_channel_and_type(anyio_backend: str) -> None:
    """Under "exit" values are encoded once, when the run's last checkpoint is stored: a
    value that can't be stored still fails the run with an error naming the channel, the
    thread and the type, and the thread keeps what it had; a value replaced before the
    end is never stored."""
    saver = InMemorySaver()
    g = StateGraph(Bag)
    g.add_node("a", lambda s: {"items": ["a"]})
    g.add_node("b", lambda s: {"obj": "wrap"})
    g.add_node("c", lambda s: {"items": ["c"], "obj": s.get("end", "fine")})
    g.add_edge(START, "a").add_edge("a", "b").add_edge("b", "c")
    app = g.compile(checkpointer=saver)
    cfg = {"configurable": {"thread_id": "exit-thread"}}
    assert await app.ainvoke({"items": ["in"]}, cfg, durability="exit") == {"items": ["in", "a", "c"], "obj": "fine"}
    assert (await app.aget_state(cfg)).values == {"items": ["in", "a", "c"], "obj": "fine"}

    g2 = StateGraph(Bag)
    g2.add_node("b", lambda s: {"obj": "wrap", "items": ["b"]})
    g2.add_edge(START, "b")
    with pytest.raises(SerializationError) as info:
        await g2.compile(checkpointer=saver).ainvoke({"items": ["again"]}, cfg, durability="exit")
    message = str(info.value)
    assert "'obj'" in message and "Opaque" in message and "'exit-thread'" in message
    assert (await app.aget_state(cfg)).values == {"items": ["in", "a", "c"], "obj": "fine"}


class Log(TypedDict, total=False):
    log: Annotated[list, operator.add]
    n: int


@pytest.mark.anyio
@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
async def test_appended_items_read_back_from_the_saver_whoever_wrote_them(anyio_backend: str, durability: str) -> None:
    """A step's growth of a list is stored once (the bytes of its one write are reused
    for the checkpoint); with several writers in a step, or a list replaced, what is read
    back from storage is still exactly the value."""
    g = StateGraph(Log)
    g.add_node("one", lambda s: {"log": [{"by": "one", "n": s.get("n", 0)}]})
    g.add_node("left", lambda s: {"log": [("left",), {"k": (1, 2)}]})
    g.add_node("right", lambda s: {"log": ["right"]})
    g.add_node("same", lambda s: {"log": []})
    g.add_node("last", lambda s: {"log": [s["log"][0]], "n": 1})
    g.add_edge(START, "one").add_edge("one", "left").add_edge("one", "right")
    g.add_edge(["left", "right"], "same").add_edge("same", "last")
    saver = InMemorySaver()
    app = g.compile(checkpointer=saver)
    cfg = {"configurable": {"thread_id": f"log-{durability}"}}
    out = await app.ainvoke({"log": big_plain(50)}, cfg, durability=durability)
    expected = [*big_plain(50), {"by": "one", "n": 0}, ("left",), {"k": (1, 2)}, "right", "item-0"]
    assert same(out["log"], expected)
    fresh = g.compile(checkpointer=saver)  # reads what was stored
    assert same((await fresh.aget_state(cfg)).values["log"], expected)
    history = [snap.values.get("log", []) async for snap in fresh.aget_state_history(cfg)]
    assert all(same(h, expected[: len(h)]) for h in history)


async def _messages_keep_their_ids(saver: Any) -> None:
    from langchain_core.messages import AIMessage, HumanMessage

    from actorgraph.graph import MessagesState

    def talk(s: Any) -> dict[str, Any]:
        return {"messages": [AIMessage(content=f"reply {len(s['messages'])}")]}

    g = StateGraph(MessagesState)
    g.add_node("talk", talk)
    g.add_edge(START, "talk")
    app = g.compile(checkpointer=saver)
    cfg = {"configurable": {"thread_id": "ids"}}
    for turn in range(3):
        out = await app.ainvoke({"messages": [HumanMessage(content=f"hi {turn}")]}, cfg)
    assert all(m.id for m in out["messages"]) and len(out["messages"]) == 6
    stored = (await g.compile(checkpointer=saver).aget_state(cfg)).values["messages"]
    assert [(m.id, m.content) for m in stored] == [(m.id, m.content) for m in out["messages"]]


@pytest.mark.anyio
async def test_messages_given_ids_by_the_reducer_are_stored_with_their_ids(anyio_backend: str) -> None:
    """add_messages gives a message without an id its id after the node's write was
    stored: the checkpoint stores the message as the state holds it, id included."""
    await _messages_keep_their_ids(InMemorySaver())


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # aiosqlite runs on asyncio
async def test_messages_given_ids_by_the_reducer_are_stored_with_their_ids_in_sqlite(
    anyio_backend: str, tmp_path: pathlib.Path
) -> None:
    from actorgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "ids.db")) as saver:
        await _messages_keep_their_ids(saver)
