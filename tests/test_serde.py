"""The safe serializer (LangGraph's JsonPlusSerializer format): round trips of every
kind, the allow-list (register_type, schema registration, strict mode), exceptions stored
as their repr, and bytes that name a class that is not allowed, crafted payloads or
corrupt bytes read back without importing or calling anything."""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
import enum
import os
import sys
import uuid
from decimal import Decimal
from typing import Annotated, Any, TypedDict

import msgspec
import pydantic
import pytest

import actorgraph.persistence._serde_policy as _policy
from actorgraph.graph import START, StateGraph
from actorgraph.messages import AIMessage, HumanMessage, RemoveMessage, SystemMessage, ToolMessage
from actorgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from actorgraph.persistence import SerializationError, Serializer, register_type
from actorgraph.types import Interrupt, Overwrite

SER = Serializer()
STRICT = JsonPlusSerializer(allowed_msgpack_modules=None)


def roundtrip(value: Any) -> Any:
    return SER.loads(SER.dumps(value))


@pytest.fixture
def isolated_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made by the test are forgotten after it (the allow-list is global)."""
    monkeypatch.setattr(_policy, "_registry", dict(_policy._registry))


# -- classes on the allow-list ------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    PAIR = (1, 2)


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0
    tags: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Segment:
    start: Point
    end: Point
    label: str | None = None


@dataclasses.dataclass
class Derived:
    a: int
    doubled: int = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.doubled = self.a * 2


class Inner(msgspec.Struct, frozen=True):
    n: int
    when: dt.date


class Outer(msgspec.Struct, kw_only=True):
    inner: Inner
    items: list[int] = []


class PInner(pydantic.BaseModel):
    name: str
    at: dt.datetime


class POuter(pydantic.BaseModel):
    inner: PInner
    scores: dict[str, float] = {}
    color: Color = Color.RED


register_type(Color, Level, Point, Segment, Derived, Inner, Outer, PInner, POuter)


# -- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None, True, False, 0, -1, 2**63, 1.5, float("inf"), "", "héllo", b"\x00\xff",
        [], {}, [1, "a", None, [2.5, [b"x"]]], {"a": {"b": [1, {"c": None}]}, "n": 1},
        {1: "int key", 2.5: "float key", True: "bool key", None: "none key", b"k": "bytes key"},
    ],
    ids=lambda v: type(v).__name__,
)  # fmt: skip
def test_msgpack_native_values_round_trip_with_exact_types(value: Any) -> None:
    out = roundtrip(value)
    assert out == value
    assert type(out) is type(value)


@pytest.mark.parametrize(
    "value",
    [
        (1, "a", (2, (3,))),
        (),
        {1, "a", (2, 3)},
        frozenset({1, 2}),
        [(1, 2), {3}, frozenset({"x"})],
        {"t": (1, [2, (3, {4})])},
    ],
    ids=["tuple", "empty-tuple", "set", "frozenset", "in-list", "nested"],
)
def test_tuples_and_sets_round_trip_as_themselves(value: Any) -> None:
    out = roundtrip(value)
    assert out == value
    assert type(out) is type(value)
    if isinstance(value, list):
        assert [type(x) for x in out] == [tuple, set, frozenset]
    if isinstance(value, dict):
        assert type(out["t"]) is tuple and type(out["t"][1][1]) is tuple and type(out["t"][1][1][1]) is set


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone.utc),
        dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30))),
        dt.datetime(2024, 5, 6, 7, 8, 9, 1),
        dt.date(1999, 12, 31),
        dt.time(23, 59, 58, 999),
        dt.time(1, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.timedelta(days=-3, seconds=5, microseconds=7),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        Decimal("-12345.678900"),
        Decimal("1E+30"),
    ],
    ids=["aware-utc", "aware-offset", "naive", "date", "time", "aware-time", "timedelta", "uuid", "decimal", "decimal-exp"],
)
def test_datetime_uuid_and_decimal_values_round_trip(value: Any) -> None:
    out = roundtrip(value)
    assert out == value
    assert type(out) is type(value)
    if isinstance(value, (dt.datetime, dt.time)):
        assert out.utcoffset() == value.utcoffset()
        assert (out.tzinfo is None) == (value.tzinfo is None)
    if isinstance(value, Decimal):
        assert str(out) == str(value)


def test_enums_round_trip_to_the_same_members() -> None:
    assert roundtrip(Color.RED) is Color.RED
    assert roundtrip(Color.PAIR) is Color.PAIR
    assert roundtrip([Level.HIGH, Level.LOW]) == [Level.HIGH, Level.LOW]
    assert type(roundtrip(Level.HIGH)) is Level


def test_dataclasses_round_trip_with_nesting_defaults_and_init_false_fields() -> None:
    p = Point(3)
    assert roundtrip(p) == Point(3, 0, [])
    seg = Segment(Point(1, 2, ["a"]), Point(3, 4))
    out = roundtrip(seg)
    assert out == seg
    assert type(out.start) is Point and out.label is None
    derived = roundtrip(Derived(21))
    assert (derived.a, derived.doubled) == (21, 42)
    assert roundtrip({"points": [Point(1), Point(2, 3)]}) == {"points": [Point(1), Point(2, 3)]}


def test_msgspec_structs_round_trip_with_nesting() -> None:
    value = Outer(inner=Inner(n=1, when=dt.date(2020, 1, 2)), items=[1, 2])
    out = roundtrip(value)
    assert out == value
    assert type(out.inner) is Inner and type(out.inner.when) is dt.date
    assert roundtrip(Outer(inner=Inner(n=2, when=dt.date(2021, 1, 1)))).items == []


def test_pydantic_models_round_trip_with_nesting() -> None:
    at = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc)
    value = POuter(inner=PInner(name="n", at=at), scores={"a": 1.5}, color=Color.PAIR)
    out = roundtrip(value)
    assert out == value
    assert type(out.inner) is PInner and out.inner.at == at and out.color is Color.PAIR


def test_actorgraph_messages_round_trip() -> None:
    msgs = [
        HumanMessage(content="hi", id="1"),
        AIMessage(content="yo", id="2", tool_calls=[{"name": "t", "args": {"a": 1}, "id": "c1", "type": "tool_call"}]),
        SystemMessage(content=[{"type": "text", "text": "sys"}], id="3"),
        ToolMessage(content="res", tool_call_id="c1", id="4", status="error"),
        RemoveMessage(id="5"),
    ]
    out = roundtrip(msgs)
    assert out == msgs
    assert [type(m) for m in out] == [HumanMessage, AIMessage, SystemMessage, ToolMessage, RemoveMessage]


def test_interrupt_and_overwrite_round_trip() -> None:
    intr = Interrupt(value={"question": "ok?", "when": dt.date(2024, 1, 1)}, id="abc")
    out = roundtrip(intr)
    assert type(out) is Interrupt
    assert (out.value, out.id) == ({"question": "ok?", "when": dt.date(2024, 1, 1)}, "abc")
    ow = roundtrip(Overwrite([1, (2, 3)]))
    assert type(ow) is Overwrite and ow.value == [1, (2, 3)] and ow.type == "__overwrite__"


def test_dumps_typed_and_loads_typed_use_the_msgpack_format() -> None:
    kind, data = SER.dumps_typed({"a": (1,)})
    assert kind == "msgpack" and data == SER.dumps({"a": (1,)})
    assert SER.loads_typed((kind, data)) == {"a": (1,)}
    assert SER.dumps_typed(None) == ("null", b"") and SER.dumps_typed(b"x") == ("bytes", b"x")
    with pytest.raises(SerializationError, match=r"unpickles only for a serializer made with JsonPlusSerializer\(pickle_fallback=True\)"):
        SER.loads_typed(("pickle", data))


def test_subclasses_of_builtins_are_stored_as_the_builtin() -> None:
    class MyDict(dict):
        pass

    out = roundtrip(MyDict(a=1))
    assert out == {"a": 1} and type(out) is dict


def test_tuple_keys_round_trip() -> None:
    assert roundtrip({(1, "a"): 1, (2, (3, 4)): 2}) == {(1, "a"): 1, (2, (3, 4)): 2}


# -- exceptions ---------------------------------------------------------------------------


class Boom(Exception):
    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        raise AssertionError("must never be called by the serializer")


def test_exceptions_are_stored_as_their_repr_and_never_rebuilt() -> None:
    assert roundtrip({"error": ValueError("bad value")}) == {"error": "ValueError('bad value')"}
    exc = Exception.__new__(Boom)
    exc.args = ("kaboom",)
    assert roundtrip(exc) == "Boom('kaboom')"


# -- the allow-list -----------------------------------------------------------------------


@dataclasses.dataclass
class Unlisted:
    a: int


def test_a_class_not_on_the_allow_list_is_stored_and_read_as_its_fields_in_strict_mode(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = SER.dumps({"k": (Unlisted(1),)})
    assert STRICT.loads(data) == {"k": ({"a": 1},)}
    assert "Blocked deserialization" in caplog.text and "Unlisted" in caplog.text


def test_by_default_a_loaded_data_class_is_rebuilt_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    _policy._warned_unregistered_types.clear()
    assert SER.loads(SER.dumps([Unlisted(1)])) == [Unlisted(1)]
    assert "unregistered type" in caplog.text


def test_a_class_whose_module_is_not_loaded_is_never_imported() -> None:
    crafted = msgspec.msgpack.encode(
        msgspec.msgpack.Ext(2, msgspec.msgpack.encode(["tabnanny", "NannyNag", {"lineno": 1}]))
    )
    was_imported = "tabnanny" in sys.modules
    assert SER.loads(crafted) == {"lineno": 1}
    assert ("tabnanny" in sys.modules) == was_imported


def test_plain_class_instances_are_refused_and_cannot_be_registered() -> None:
    class Plain:
        pass

    with pytest.raises(SerializationError, match=r"Plain"):
        SER.dumps(Plain())
    with pytest.raises(TypeError, match="can't be registered"):
        register_type(Plain)


def test_register_type_allows_a_class_in_strict_mode(isolated_allow_list: None) -> None:
    @dataclasses.dataclass
    class Later:
        a: int

    assert STRICT.loads(SER.dumps(Later(1))) == {"a": 1}
    register_type(Later)
    assert STRICT.loads(SER.dumps(Later(1))) == Later(1)
    assert type(STRICT.loads(SER.dumps(Later(1)))) is Later


@dataclasses.dataclass
class SchemaLeaf:
    v: int


@dataclasses.dataclass
class SchemaItem:
    name: str
    leaf: SchemaLeaf | None = None


class ItemsState(TypedDict):
    items: list[SchemaItem]
    extra: Annotated[dict[str, SchemaItem], "meta"]


def test_compiling_a_graph_allows_the_classes_its_schema_names(isolated_allow_list: None) -> None:
    value = {"items": [SchemaItem("a", SchemaLeaf(1))]}
    assert STRICT.loads(SER.dumps(value)) == {"items": [{"name": "a", "leaf": {"v": 1}}]}
    g = StateGraph(ItemsState)
    g.add_node("n", lambda s: {})
    g.add_edge(START, "n")
    g.compile()
    assert STRICT.loads(SER.dumps(value)) == value  # SchemaItem and its nested SchemaLeaf are allowed now
    assert type(STRICT.loads(SER.dumps(value))["items"][0].leaf) is SchemaLeaf


# -- reading refuses what is not allowed ----------------------------------------------------


def test_reading_a_class_removed_from_the_allow_list_imports_nothing(isolated_allow_list: None) -> None:
    @dataclasses.dataclass
    class GoneFromRegistry9f3a:
        a: int

    register_type(GoneFromRegistry9f3a)
    data = SER.dumps({"v": GoneFromRegistry9f3a(1)})
    del _policy._registry[(__name__, "GoneFromRegistry9f3a")]

    imported: list[str] = []
    real_import = builtins.__import__

    def spy(mod: str, *args: Any, **kwargs: Any) -> Any:
        imported.append(mod)
        return real_import(mod, *args, **kwargs)

    builtins.__import__ = spy  # not monkeypatch: its setattr imports modules itself
    try:
        out = STRICT.loads(data)
    finally:
        builtins.__import__ = real_import
    assert out == {"v": {"a": 1}}
    assert imported == []


def _crafted(code: int, payload: Any) -> bytes:
    return msgspec.msgpack.encode(msgspec.msgpack.Ext(code, msgspec.msgpack.encode(payload)))


@pytest.mark.parametrize("code", [0, 1, 2, 4, 5], ids=["single", "positional", "keywords", "pydantic1", "pydantic2"])
@pytest.mark.parametrize(
    "target", [("os", "system"), ("posix", "system"), ("subprocess", "Popen"), ("builtins", "eval"), ("tabnanny", "check")]
)
@pytest.mark.parametrize("serde", [SER, STRICT], ids=["default", "strict"])
def test_crafted_bytes_naming_an_arbitrary_callable_are_never_called(
    code: int, target: tuple[str, str], serde: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    called: list[Any] = []
    monkeypatch.setattr(os, "system", lambda *a, **k: called.append(a))
    was_imported = "tabnanny" in sys.modules
    arg: Any = ["echo pwned"] if code == 1 else ({"command": "echo pwned"} if code in (2, 4, 5) else "echo pwned")
    out = serde.loads(_crafted(code, [*target, arg]))
    assert out == arg
    assert called == []
    assert ("tabnanny" in sys.modules) == was_imported


def test_a_method_record_other_than_datetime_fromisoformat_is_refused(tmp_path: Any) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    data = _crafted(3, ["pathlib", "Path", str(secret), "read_text"])
    assert SER.loads(data) == str(secret)


def test_crafted_payload_with_an_allowed_name_but_wrong_fields_reads_as_its_fields() -> None:
    data = _crafted(2, [__name__, "Point", {"x": 1, "__class__": "os"}])
    assert SER.loads(data) == {"x": 1, "__class__": "os"}


@pytest.mark.parametrize(
    "data",
    [
        b"\xc1",  # a byte msgpack never uses
        SER.dumps({"a": [1, 2, 3]})[:-1],  # truncated
        b"",
        msgspec.msgpack.encode(msgspec.msgpack.Ext(99, b"\x90")),  # unknown extension code
    ],
    ids=["invalid-byte", "truncated", "empty", "unknown-ext"],
)
def test_corrupted_bytes_raise_serialization_error(data: bytes) -> None:
    with pytest.raises(SerializationError):
        SER.loads(data)


def test_a_corrupt_extension_payload_reads_as_none() -> None:
    assert SER.loads(msgspec.msgpack.encode(msgspec.msgpack.Ext(1, b"\xc1"))) is None


# -- values that can't be stored ------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [{frozenset({1}): "v"}, {"ok": {dt.date(2020, 1, 1): 1}}],
    ids=["frozenset-key", "nested-date-key"],
)  # fmt: skip
def test_dict_with_a_non_scalar_key_is_refused_naming_the_key_type(value: Any) -> None:
    inner = value.get("ok", value)
    key_type = type(next(iter(inner))).__name__
    with pytest.raises(SerializationError) as info:
        SER.dumps(value)
    assert "dict keys must be" in str(info.value)
    assert f"key of type {key_type}" in str(info.value)


def test_int_beyond_64_bits_is_a_serialization_error() -> None:
    with pytest.raises(SerializationError):
        SER.dumps({"n": 2**70})


def test_serialization_error_is_an_actorgraph_error_and_a_type_error() -> None:
    from actorgraph.errors import ActorGraphError

    assert issubclass(SerializationError, ActorGraphError)
    assert issubclass(SerializationError, TypeError)
