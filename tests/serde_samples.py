"""Values of every kind the serializer stores, each nested in plain containers, shared by
the serializer tests and by the script that wrote ``data/serde_v1.msgpack`` (the bytes the
serializer of 2026-12 wrote for them: old checkpoints must keep loading).

``SAMPLES`` maps a name to ``(value, expected)``: ``expected`` is what reads back (the
value itself, except where storing converts: bytearray, subclasses of builtins, exceptions).
Everything here is deterministic across processes (no sets of strings), so the stored bytes
can be compared byte for byte.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import decimal
import enum
import ipaddress
import pathlib
import re
import sys
import uuid
import zoneinfo
from typing import Any, NamedTuple

import msgspec
import numpy as np
import pydantic
from langchain_core.messages import AIMessage as LcAIMessage
from langchain_core.messages import HumanMessage as LcHumanMessage
from langchain_core.messages import ToolMessage as LcToolMessage

from actorgraph.channels._snapshot import _DeltaSnapshot
from actorgraph.messages import AIMessage, HumanMessage
from actorgraph.persistence import register_type
from actorgraph.types import Interrupt, Overwrite, Send

__all__ = ("FIXTURE_NAME", "SAMPLES", "same", "write_fixture")

FIXTURE_NAME = "serde_v1.msgpack"


class Color(enum.Enum):
    RED = "red"
    PAIR = (1, 2)


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Mood(enum.StrEnum):
    CALM = "calm"


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0
    tags: list[Any] = dataclasses.field(default_factory=list)


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


class Pair(NamedTuple):
    left: Any
    right: Any


class Inner(msgspec.Struct, frozen=True):
    n: int
    when: dt.date


class Outer(msgspec.Struct, kw_only=True):
    inner: Inner
    items: list[Any] = []


class PInner(pydantic.BaseModel):
    name: str
    at: dt.datetime


class POuter(pydantic.BaseModel):
    inner: PInner
    scores: dict[str, float] = {}
    color: Color = Color.RED
    extra: list[Any] = []


register_type(Color, Level, Mood, Point, Segment, Derived, Pair, Inner, Outer, PInner, POuter)


class MyDict(dict):  # type: ignore[type-arg]
    pass


class MyList(list):  # type: ignore[type-arg]
    pass


class MyStr(str):
    pass


_AT = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone.utc)
_BIG = [f"item-{i}" if i % 3 == 0 else i if i % 3 == 1 else {"i": i, "ok": i % 2 == 0} for i in range(300)]


def _nested(x: Any) -> Any:
    """``x`` deep inside plain containers, next to plain data."""
    return {"plain": [1, "a", None, 2.5, True, b"b"], "deep": [{"k": [x, {"again": x}]}], "big": _BIG[:30]}


_values: dict[str, Any] = {
    "plain": {"a": {"b": [1, {"c": None}]}, "n": 1, "f": -1.5, "t": True, "by": b"\x00\xff", "u": "héllo"},
    "plain_big": {"items": _BIG, "more": [_BIG[:50], {"x": _BIG[:20]}]},
    "non_str_keys": {1: "int", 2.5: "float", True: "bool", None: "none", b"k": "bytes", "s": {3: [4]}},
    "tuple": (1, "a", (2, (3,)), ()),
    "tuple_keys": {(1, "a"): 1, (2, (3, 4)): [(5,)]},
    "set": {1, 2, 3},
    "frozenset": frozenset({4, 5}),
    "deque": collections.deque([1, (2,), {"d": 3}]),
    "datetime_utc": _AT,
    "datetime_offset": dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30))),
    "datetime_naive": dt.datetime(2024, 5, 6, 7, 8, 9, 1),
    "date": dt.date(1999, 12, 31),
    "time": dt.time(23, 59, 58, 999),
    "time_aware": dt.time(1, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    "timedelta": dt.timedelta(days=-3, seconds=5, microseconds=7),
    "timezone": dt.timezone(dt.timedelta(hours=3), "EAT"),
    "zoneinfo": zoneinfo.ZoneInfo("America/New_York"),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "decimal": decimal.Decimal("-12345.678900"),
    "pattern": re.compile(r"a+b", re.IGNORECASE),
    "path": pathlib.Path("/tmp/x/y.txt"),
    "ipv4": ipaddress.IPv4Address("10.1.2.3"),
    "ipv6_network": ipaddress.IPv6Network("2001:db8::/32"),
    "enum": [Color.RED, Color.PAIR],
    "int_enum": Level.HIGH,
    "str_enum": Mood.CALM,
    "dataclass": Point(1, 2, ["a", (3,)]),
    "dataclass_nested": Segment(Point(1), Point(2, 3), "s"),
    "dataclass_init_false": Derived(21),
    "namedtuple": Pair(1, [2, (3,)]),
    "struct": Outer(inner=Inner(n=1, when=dt.date(2020, 1, 2)), items=[1, (2,), {"x": 3}]),
    "pydantic": POuter(inner=PInner(name="n", at=_AT), scores={"a": 1.5}, color=Color.PAIR, extra=[(1, 2)]),
    "lc_messages": [
        LcHumanMessage(content="hi", id="h1"),
        LcAIMessage(content="", id="a1", tool_calls=[{"name": "t", "args": {"a": [1, 2]}, "id": "c1"}]),
        LcToolMessage(content="res", tool_call_id="c1", id="t1"),
    ],
    "ag_messages": [HumanMessage(content="hi", id="1"), AIMessage(content="yo", id="2")],
    "send": Send("node", {"arg": [1, (2,)]}),
    "interrupt": Interrupt(value={"q": "ok?", "when": dt.date(2024, 1, 1)}, id="abc"),
    "overwrite": Overwrite([1, (2, 3)]),
    "numpy": np.arange(6, dtype=np.int32).reshape(2, 3),
    "delta_snapshot": _DeltaSnapshot([1, {"a": (2,)}]),
}

# stored as something else: (value, what reads back)
_converted: dict[str, tuple[Any, Any]] = {
    # an aware datetime is stored by its isoformat: its zone comes back as a fixed offset
    "datetime_zoneinfo": (
        dt.datetime(2024, 5, 6, 7, 8, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
        dt.datetime(2024, 5, 6, 7, 8, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    ),
    "bytearray": (bytearray(b"ab"), b"ab"),
    "memoryview": (memoryview(b"cd"), b"cd"),
    "dict_subclass": (MyDict(a=1), {"a": 1}),
    "list_subclass": (MyList([1, 2]), [1, 2]),
    "str_subclass": (MyStr("s"), "s"),
    "exception": (ValueError("bad value"), "ValueError('bad value')"),
}

SAMPLES: dict[str, tuple[Any, Any]] = {}
for _name, _value in _values.items():
    SAMPLES[_name] = (_value, _value)
    SAMPLES[_name + "_nested"] = (_nested(_value), _nested(_value))
for _name, (_value, _expected) in _converted.items():
    SAMPLES[_name] = (_value, _expected)
    SAMPLES[_name + "_nested"] = (_nested(_value), _nested(_expected))


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same type all the way down (a tuple is not a list)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and bool((a == b).all())
    if isinstance(a, dict):
        return list(a) == list(b) and all(
            type(k1) is type(k2) and same(a[k1], b[k2]) for k1, k2 in zip(a, b, strict=True)
        )
    if isinstance(a, (list, tuple, collections.deque)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (set, frozenset)):
        return a == b and sorted(map(repr, a)) == sorted(map(repr, b))
    if dataclasses.is_dataclass(a):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, msgspec.Struct):
        return all(same(getattr(a, f), getattr(b, f)) for f in a.__struct_fields__)
    if isinstance(a, pydantic.BaseModel):
        return a == b and all(same(getattr(a, f), getattr(b, f)) for f in type(a).model_fields)
    if isinstance(a, (dt.datetime, dt.time)):
        return a == b and a.tzinfo == b.tzinfo and a.utcoffset() == b.utcoffset()
    if isinstance(a, (Send, Interrupt, Overwrite)):
        return a == b and all(same(getattr(a, s), getattr(b, s)) for s in ("arg", "value") if hasattr(a, s))
    return bool(a == b)


def write_fixture() -> None:
    """Store every sample's bytes in ``data/serde_v1.msgpack`` (run once, with the
    serializer of its time: ``python -c "import serde_samples as s; s.write_fixture()"``
    from ``tests/``)."""
    from actorgraph.persistence import Serializer

    ser = Serializer()
    out = {name: ser.dumps(value) for name, (value, _) in sorted(SAMPLES.items())}
    target = pathlib.Path(__file__).parent / "data" / FIXTURE_NAME
    target.write_bytes(msgspec.msgpack.encode(out))
    print(f"wrote {len(out)} samples to {target}", file=sys.stderr)
