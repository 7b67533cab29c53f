"""Safe serialization of state values: msgspec MessagePack with extension types.

What can be stored: msgpack's own types (None, bool, int, float, str, bytes, list, dict)
plus, as extension records, tuple, set, frozenset, datetime/date/time/timedelta, UUID,
Decimal, and instances of classes on the *allow-list*: Enums, dataclasses, msgspec
Structs, pydantic models, actorgraph's messages and control objects (Send, Interrupt,
Overwrite), and LangChain messages when langchain-core is installed.

A class is on the allow-list when a compiled graph's state schemas name it (directly or
nested: ``list[Item]``, ``Item | None``), or when it is registered with
``register_type``. Stored data names a class only by a key looked up in that registry:
reading never imports a module or calls a constructor that isn't allowed, and a value of
a class that isn't allowed fails when it is *written*, with an error naming it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import threading
import typing
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from actorgraph.errors import SerializationError

__all__ = (
    "Serializer",
    "SerializationError",
    "register_type",
    "register_schema_types",
    "allowed_type_name",
)


# extension codes
_TUPLE, _SET, _FROZENSET = 1, 2, 3
_DATETIME, _DATE, _TIME, _TIMEDELTA = 4, 5, 6, 7
_UUID, _DECIMAL = 8, 9
_ENUM, _DATACLASS, _STRUCT, _PYDANTIC = 10, 11, 12, 13
_LANGCHAIN = 14
_ERROR = 15

_SCALARS: frozenset[type] = frozenset({str, int, float, bool, type(None), bytes})

_lock = threading.Lock()
_registry: dict[str, type] = {}
_names: dict[type, str] = {}


def allowed_type_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _kind(cls: type) -> int | None:
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return _ENUM
    if dataclasses.is_dataclass(cls):
        return _DATACLASS
    if isinstance(cls, type) and issubclass(cls, msgspec.Struct):
        return _STRUCT
    if hasattr(cls, "model_validate") and hasattr(cls, "model_dump"):
        return _PYDANTIC
    return None


def register_type(*classes: type) -> None:
    """Allow instances of ``classes`` (Enums, dataclasses, msgspec Structs, pydantic
    models) to be stored in checkpoints, stores and caches."""
    with _lock:
        for cls in classes:
            if _kind(cls) is None:
                raise TypeError(
                    f"{cls!r} can't be registered for storage: only Enum, dataclass, "
                    "msgspec.Struct and pydantic model classes can be rebuilt safely"
                )
            name = allowed_type_name(cls)
            existing = _registry.get(name)
            if existing is not None and existing is not cls:
                # a class redefined under the same name (a reloaded module, a test):
                # the newest definition wins
                _names.pop(existing, None)
            _registry[name] = cls
            _names[cls] = name


def _walk_annotation(ann: Any, found: set[type], depth: int = 0) -> None:
    if depth > 8 or ann is None:
        return
    origin = typing.get_origin(ann)
    if origin is not None:
        for arg in typing.get_args(ann):
            _walk_annotation(arg, found, depth + 1)
        return
    if isinstance(ann, type) and _kind(ann) is not None and ann not in found:
        found.add(ann)
        try:
            hints = typing.get_type_hints(ann)
        except Exception:
            return
        for sub in hints.values():
            _walk_annotation(sub, found, depth + 1)


def register_schema_types(*schemas: Any) -> None:
    """Allow the classes named by state schemas (and nested in their fields)."""
    found: set[type] = set()
    for schema in schemas:
        if not isinstance(schema, type):
            # an annotation such as list[Item] or Item | None (an entrypoint's signature)
            _walk_annotation(schema, found)
            continue
        if _kind(schema) is not None:
            _walk_annotation(schema, found)
        else:
            try:
                hints = typing.get_type_hints(schema, include_extras=True)
            except Exception:
                continue
            for ann in hints.values():
                _walk_annotation(ann, found)
    if found:
        register_type(*found)


def _builtin_types() -> None:
    from actorgraph._message_types import (
        AIMessage,
        HumanMessage,
        RemoveMessage,
        SystemMessage,
        ToolCall,
        ToolMessage,
    )
    from actorgraph._types import Interrupt, Overwrite

    register_type(HumanMessage, AIMessage, SystemMessage, ToolMessage, RemoveMessage, Interrupt, Overwrite)
    if _kind(ToolCall) is not None:
        register_type(ToolCall)


class Serializer:
    """Encodes values to bytes and back. One instance can be shared by threads."""

    __slots__ = ("_encoder", "_decoder", "_pack_table", "_unpack_table")

    def __init__(self) -> None:
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder(ext_hook=self._ext_hook)
        self._pack_table: dict[type, Callable[[Any], Any]] = {
            list: self._pack_list,
            dict: self._pack_dict,
            tuple: lambda v: self._ext(_TUPLE, [self.pack(x) for x in v]),
            set: lambda v: self._ext(_SET, [self.pack(x) for x in v]),
            frozenset: lambda v: self._ext(_FROZENSET, [self.pack(x) for x in v]),
            dt.datetime: lambda v: self._ext(_DATETIME, v.isoformat()),
            dt.date: lambda v: self._ext(_DATE, v.isoformat()),
            dt.time: lambda v: self._ext(_TIME, v.isoformat()),
            dt.timedelta: lambda v: self._ext(_TIMEDELTA, [v.days, v.seconds, v.microseconds]),
            uuid.UUID: lambda v: self._ext(_UUID, v.bytes),
            decimal.Decimal: lambda v: self._ext(_DECIMAL, str(v)),
        }
        _builtin_types()

    # -- writing ----------------------------------------------------------------------
    def dumps(self, value: Any) -> bytes:
        """Bytes for ``value``; raises ``SerializationError`` naming a type that can't be
        stored safely."""
        packed = self.pack(value)
        try:
            return self._encoder.encode(packed)
        except (OverflowError, TypeError, ValueError) as exc:
            raise SerializationError(f"Can't store {_short(value)}: {exc}") from exc

    def dumps_typed(self, value: Any) -> tuple[str, bytes]:
        """LangGraph's ``SerializerProtocol`` spelling of ``dumps``."""
        return "msgpack", self.dumps(value)

    def pack(self, value: Any) -> Any:
        t = type(value)
        if t in _SCALARS:
            return value
        fn = self._pack_table.get(t)
        if fn is not None:
            return fn(value)
        return self._pack_object(value, t)

    def _pack_list(self, value: list[Any]) -> list[Any]:
        pack = self.pack
        return [x if type(x) in _SCALARS else pack(x) for x in value]

    def _pack_dict(self, value: dict[Any, Any]) -> dict[Any, Any]:
        pack = self.pack
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if type(k) not in _SCALARS:
                key = k
                k = pack(k)
                if isinstance(k, msgspec.msgpack.Ext):
                    k = key
                    raise SerializationError(
                        f"dict keys must be str, int, float, bool, bytes or None to be stored; "
                        f"got a key of type {type(k).__name__}: {k!r}"
                    )
            out[k] = v if type(v) in _SCALARS else pack(v)
        return out

    def _ext(self, code: int, payload: Any) -> msgspec.msgpack.Ext:
        return msgspec.msgpack.Ext(code, self._encoder.encode(payload))

    def _pack_object(self, value: Any, t: type) -> Any:
        if isinstance(value, BaseException):
            return self._ext(_ERROR, [type(value).__name__, str(value)])
        name = _names.get(t)
        if name is None:
            lc = _langchain_pack(value)
            if lc is not None:
                return self._ext(_LANGCHAIN, [lc[0], self.pack(lc[1])])
            # subclasses of supported builtins lose their subclass, as msgspec does
            for base in (dict, list, tuple, str, int, float):
                if isinstance(value, base):
                    return self.pack(base(value))  # type: ignore[arg-type]
            raise SerializationError(
                f"Can't store a value of type {t.__module__}.{t.__qualname__}: it is not on the "
                "allow-list of types actorgraph rebuilds when reading. Name the class in the "
                "state schema's annotations, or call "
                "actorgraph.persistence.register_type(<the class>) before running."
            )
        kind = _kind(t)
        if kind == _ENUM:
            return self._ext(_ENUM, [name, self.pack(value.value)])
        if kind == _DATACLASS:
            fields = {f.name: self.pack(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
            return self._ext(_DATACLASS, [name, fields])
        if kind == _STRUCT:
            fields = {f: self.pack(getattr(value, f)) for f in value.__struct_fields__}
            return self._ext(_STRUCT, [name, fields])
        return self._ext(_PYDANTIC, [name, self.pack(value.model_dump(mode="python"))])

    # -- reading ----------------------------------------------------------------------
    def loads(self, data: bytes) -> Any:
        try:
            return self._decoder.decode(data)
        except SerializationError:
            raise
        except Exception as exc:
            raise SerializationError(f"Stored data can't be read: {exc}") from exc

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        kind, raw = data
        if kind != "msgpack":
            raise SerializationError(f"Stored data has format {kind!r}; actorgraph reads 'msgpack' only")
        return self.loads(raw)

    def _ext_hook(self, code: int, data: memoryview) -> Any:
        payload = self._decoder.decode(data)
        if code == _TUPLE:
            return tuple(payload)
        if code == _SET:
            return set(payload)
        if code == _FROZENSET:
            return frozenset(payload)
        if code == _DATETIME:
            return dt.datetime.fromisoformat(payload)
        if code == _DATE:
            return dt.date.fromisoformat(payload)
        if code == _TIME:
            return dt.time.fromisoformat(payload)
        if code == _TIMEDELTA:
            return dt.timedelta(days=payload[0], seconds=payload[1], microseconds=payload[2])
        if code == _UUID:
            return uuid.UUID(bytes=bytes(payload))
        if code == _DECIMAL:
            return decimal.Decimal(payload)
        if code == _ERROR:
            return StoredError(payload[0], payload[1])
        if code == _LANGCHAIN:
            return _langchain_unpack(payload[0], payload[1])
        if code in (_ENUM, _DATACLASS, _STRUCT, _PYDANTIC):
            name, body = payload
            cls = _registry.get(name)
            if cls is None:
                raise SerializationError(
                    f"Stored data names type {name!r}, which is not on this process's allow-list: "
                    "compile the graph that uses it (its schema registers it) or call "
                    "actorgraph.persistence.register_type for it before reading."
                )
            try:
                if code == _ENUM:
                    return cls(body)
                if code == _PYDANTIC:
                    return cls.model_validate(body)  # type: ignore[attr-defined]
                return cls(**body)
            except Exception as exc:
                raise SerializationError(f"Stored {name} can't be rebuilt: {exc}") from exc
        raise SerializationError(f"Stored data has an unknown extension code {code}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:120] + "..."


class StoredError(Exception):
    """An exception as it was saved (its class name and message); exceptions are not
    rebuilt as their own class, which could run arbitrary code."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message


_LANGCHAIN_TYPES = ("human", "ai", "system", "tool", "function", "chat", "remove")


def _langchain_pack(value: Any) -> tuple[str, dict[str, Any]] | None:
    mod = type(value).__module__
    if not mod.startswith("langchain_core.messages"):
        return None
    to_dict = getattr(value, "model_dump", None)
    kind = getattr(value, "type", None)
    if to_dict is None or kind is None:
        return None
    chunk = type(value).__name__.endswith("Chunk")
    return (f"{kind}{'-chunk' if chunk else ''}", to_dict())


def _langchain_unpack(kind: str, body: dict[str, Any]) -> Any:
    try:
        from langchain_core import messages as lc
    except ImportError as exc:
        raise SerializationError(
            "Stored data holds LangChain messages: install langchain-core to read it"
        ) from exc
    base, _, chunk = kind.partition("-")
    classes = {
        "human": ("HumanMessage", "HumanMessageChunk"),
        "ai": ("AIMessage", "AIMessageChunk"),
        "system": ("SystemMessage", "SystemMessageChunk"),
        "tool": ("ToolMessage", "ToolMessageChunk"),
        "function": ("FunctionMessage", "FunctionMessageChunk"),
        "chat": ("ChatMessage", "ChatMessageChunk"),
        "remove": ("RemoveMessage", "RemoveMessage"),
    }
    names = classes.get(base)
    if names is None:
        raise SerializationError(f"Stored LangChain message has an unknown type {kind!r}")
    cls = getattr(lc, names[1] if chunk else names[0])
    body = {k: v for k, v in body.items() if k != "type"}
    return cls(**body)
