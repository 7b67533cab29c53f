"""``JsonPlusSerializer``: how values are stored, in LangGraph's MessagePack format.

Plain data (None, bool, int, float, str, bytes, list, dict) is MessagePack, encoded by
msgspec in C without a Python call per item (``_route`` decides when that is safe); everything
else is an extension record naming its class by (module, name) with the arguments that
rebuild it, exactly as LangGraph writes it (ext codes 0-7: constructor with one
argument, positional or keyword arguments, a named method, pydantic v1/v2 models, numpy
arrays, delta snapshots). Two additions: tuples are an extension of their own (64), so a
tuple reads back as a tuple, not a list; pandas DataFrames, Series and Indexes are records
of plain data (65, ``_serde_pandas``), where LangGraph can only pickle them.

Reading is where the safety is (``_serde_policy``): a record is rebuilt only for a safe,
registered or explicitly allowed class; otherwise its stored fields are returned. Nothing
is ever pickled, and reading imports no module that isn't on a list.
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import datetime as dt
import decimal
import enum
import gc
import ipaddress
import json
import pickle
import pathlib
import re
import sys
import uuid
import zoneinfo
from collections.abc import Callable, Iterable
from itertools import chain, compress
from typing import Any, Literal

import msgspec

from actorgraph.channels._snapshot import _DeltaSnapshot  # a delta channel's snapshot blob
from actorgraph.errors import SerializationError
from actorgraph.persistence import _serde_policy as policy
from actorgraph.persistence._serde_pandas import EXT_PANDAS, is_pandas_type, pack_pandas, unpack_pandas
from actorgraph.persistence._serde_policy import (
    _warned_blocked_types,
    _warned_unreconstructable_types,
    _warned_unregistered_types,
    emit_serde_event,
    normalize_allowlist,
    normalize_keys,
    register_schema_types,
    register_type,
    warn_once,
)

__all__ = (
    "EXT_CONSTRUCTOR_KW_ARGS",
    "EXT_CONSTRUCTOR_POS_ARGS",
    "EXT_CONSTRUCTOR_SINGLE_ARG",
    "EXT_DELTA_SNAPSHOT",
    "EXT_METHOD_SINGLE_ARG",
    "EXT_NUMPY_ARRAY",
    "EXT_PANDAS",
    "EXT_PYDANTIC_V1",
    "EXT_PYDANTIC_V2",
    "EXT_TUPLE",
    "JsonPlusSerializer",
    "SerializationError",
    "Serializer",
    "_DeltaSnapshot",
    "_msgpack_enc",
    "_warned_blocked_types",
    "_warned_unreconstructable_types",
    "_warned_unregistered_types",
    "create_msgpack_ext_hook",
    "dumps_each",
    "register_schema_types",
    "register_type",
)

EXT_CONSTRUCTOR_SINGLE_ARG = 0
EXT_CONSTRUCTOR_POS_ARGS = 1
EXT_CONSTRUCTOR_KW_ARGS = 2
EXT_METHOD_SINGLE_ARG = 3
EXT_PYDANTIC_V1 = 4
EXT_PYDANTIC_V2 = 5
EXT_NUMPY_ARRAY = 6
EXT_DELTA_SNAPSHOT = 7
EXT_TUPLE = 64


_Ext = msgspec.msgpack.Ext
_encoder = msgspec.msgpack.Encoder()
_encode = _encoder.encode
_SCALARS: frozenset[type] = frozenset({str, int, float, bool, type(None), bytes})
_KEY_SCALARS: frozenset[type] = frozenset({str, int, float, bool, type(None), bytes})
_chain, _compress = chain.from_iterable, compress


# -- writing: the walk in C ------------------------------------------------------------------
# msgspec's encoder walks lists, dicts and scalars natively and calls ``enc_hook`` for a type
# it doesn't know; ``pack`` (below) is that hook. It also knows types we store differently
# (tuples, sets, dataclasses, enums, datetimes, ...: it would write a tuple or a dataclass
# as a plain array or map), so before handing it a value, ``_route`` looks at the types
# inside, one nesting level at a time, with C-level iteration (no Python call per item).
# Only a value holding such a type somewhere is walked in Python, by ``pack``, as before.
_PLAIN: frozenset[type] = _SCALARS | {bytearray}
"""Leaves msgspec writes exactly as ``pack`` does (a bytearray as bytes; it is never a key)."""
_CONTAINERS: frozenset[type] = frozenset({list, dict})
_is_container = _CONTAINERS.__contains__
_PLAIN_OR_CONTAINER = _PLAIN | _CONTAINERS
_NATIVE_BASES: tuple[type, ...] = (
    int, float, str, bytes, bytearray, memoryview, list, tuple, dict, set, frozenset,
    dt.datetime, dt.date, dt.time, dt.timedelta, uuid.UUID, decimal.Decimal, enum.Enum,
    msgspec.Struct, msgspec.Raw, msgspec.msgpack.Ext,
)  # fmt: skip
_hooked: dict[type, bool] = {}
_MAX_LEVELS = 64  # deeper (or a cycle): the Python walk takes it (a cycle is a RecursionError)
_PLAIN_ROUTE, _HOOK_ROUTE, _PYTHON_ROUTE = 0, 1, 2
_children = gc.get_referents
"""The items of lists and the values of dicts (and their keys, unless all keys are exact
str: CPython's dicts don't visit those), in one C call: what a level of the walk looks at."""


def _is_hooked(t: type) -> bool:
    """msgspec calls ``enc_hook`` for instances of ``t`` (it has no encoding of its own)."""
    hooked = _hooked.get(t)
    if hooked is None:
        hooked = not (
            issubclass(t, _NATIVE_BASES) or hasattr(t, "__dataclass_fields__") or hasattr(t, "__attrs_attrs__")
        )
        if len(_hooked) < 10_000:
            _hooked[t] = hooked
    return hooked


def _route(value: Any) -> int:
    """How ``value`` is encoded: natively (plain data only), natively with ``pack`` as the
    hook for the types msgspec doesn't know, or walked by ``pack`` in Python first."""
    t = type(value)
    if t is not list and t is not dict:
        if t in _PLAIN:
            return _PLAIN_ROUTE
        return _HOOK_ROUTE if _is_hooked(t) else _PYTHON_ROUTE
    route = _PLAIN_ROUTE
    level: Any = (value,)
    kids = _children(value)
    for _ in range(_MAX_LEVELS):
        kinds = set(map(type, kids))
        if _PLAIN.issuperset(kinds):
            return route
        if not _PLAIN_OR_CONTAINER.issuperset(kinds):
            for k in kinds - _PLAIN_OR_CONTAINER:
                if not _is_hooked(k):
                    return _PYTHON_ROUTE
            # such a key would be stored as its record; pack refuses it
            if not _KEY_SCALARS.issuperset(map(type, _chain(filter(_is_dict, level)))):
                return _PYTHON_ROUTE
            route = _HOOK_ROUTE
            if list not in kinds and dict not in kinds:
                return route
            # (not into the hooked objects: msgspec hands them to pack)
            kids = list(_compress(kids, map(_is_container, map(type, kids))))
        level = kids
        # the scalars hold no references: the lists' and dicts' children are the next level
        kids = _children(*kids)
    return _PYTHON_ROUTE


def _is_dict(obj: Any) -> bool:
    return type(obj) is dict


def _dump(value: Any) -> bytes:
    """``value`` as MessagePack bytes, walked in C wherever its types allow."""
    if _route(value) == _PYTHON_ROUTE:
        return _encode_hooked(pack(value))
    return _encode_hooked(value)


def _ext(code: int, payload: Any) -> msgspec.msgpack.Ext:
    """An extension record of ``payload`` (not yet packed: it is routed like a value)."""
    return _Ext(code, _dump(payload))


# -- writing: the Python walk, and the records of the types msgspec doesn't write our way ----
def pack(value: Any) -> Any:
    """``value`` as data msgspec encodes natively: extension records for non-plain types
    (containers of plain data are returned as they are, for msgspec to walk)."""
    t = type(value)
    if t in _SCALARS:
        return value
    packer = _packers.get(t)
    if packer is None:
        packer = _packer_for(t)
    return packer(value)


_encode_hooked = msgspec.msgpack.Encoder(enc_hook=pack).encode


def _plain_ext(code: int, payload: Any) -> msgspec.msgpack.Ext:
    """An extension record of a payload that is plain data already."""
    return _Ext(code, _encode(payload))


def _pack_list(value: list[Any]) -> list[Any]:
    return [x if type(x) in _SCALARS else pack(x) for x in value]


def _pack_tuple(value: tuple[Any, ...]) -> msgspec.msgpack.Ext:
    return _ext(EXT_TUPLE, list(value))


def _pack_dict(value: dict[Any, Any]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for k, v in value.items():
        if type(k) not in _KEY_SCALARS:
            k = _pack_key(k)
        out[k] = v if type(v) in _SCALARS else pack(v)
    return out


def _pack_key(key: Any) -> Any:
    # MessagePack keeps non-string keys; tuples of scalars read back as tuples
    if isinstance(key, tuple) and all(type(k) in _KEY_SCALARS or isinstance(k, tuple) for k in key):
        return tuple(key)
    for base in (str, int, float):
        if isinstance(key, base) and not isinstance(key, enum.Enum):
            return base(key)
    raise SerializationError(
        f"dict keys must be str, int, float, bool, bytes, None or tuples of them to be stored; "
        f"got a key of type {type(key).__name__}: {key!r}",
        value=key,
    )


def _args(module: str, name: str, code: int, payload: Any) -> msgspec.msgpack.Ext:
    return _ext(code, [module, name, payload])


def _named(obj: Any) -> tuple[str, str]:
    return policy.written_name(type(obj))


def _pack_single(value: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def packer(obj: Any) -> Any:
        module, name = _named(obj)
        return _args(module, name, EXT_CONSTRUCTOR_SINGLE_ARG, value(obj))

    return packer


def _pack_positional(args: Callable[[Any], Iterable[Any]]) -> Callable[[Any], Any]:
    def packer(obj: Any) -> Any:
        module, name = _named(obj)
        return _args(module, name, EXT_CONSTRUCTOR_POS_ARGS, list(args(obj)))

    return packer


def _pack_keywords(fields: Callable[[Any], dict[str, Any]]) -> Callable[[Any], Any]:
    def packer(obj: Any) -> Any:
        module, name = _named(obj)
        return _args(module, name, EXT_CONSTRUCTOR_KW_ARGS, fields(obj))

    return packer


def _pack_datetime(obj: dt.datetime) -> Any:
    return _plain_ext(EXT_METHOD_SINGLE_ARG, [type(obj).__module__, type(obj).__name__, obj.isoformat(), "fromisoformat"])


def _time_fields(obj: dt.time) -> dict[str, Any]:
    return {
        "hour": obj.hour,
        "minute": obj.minute,
        "second": obj.second,
        "microsecond": obj.microsecond,
        "tzinfo": obj.tzinfo,
        "fold": obj.fold,
    }


def _pack_pattern(obj: re.Pattern[Any]) -> Any:
    return _args("re", "compile", EXT_CONSTRUCTOR_POS_ARGS, [obj.pattern, obj.flags])


def _pack_delta(obj: _DeltaSnapshot) -> Any:
    return _ext(EXT_DELTA_SNAPSHOT, obj.value)


def _pack_pydantic_v2(obj: Any) -> Any:
    module, name = _named(obj)
    return _ext(EXT_PYDANTIC_V2, [module, name, obj.model_dump(), "model_validate_json"])


def _pack_pydantic_v1(obj: Any) -> Any:
    module, name = _named(obj)
    return _ext(EXT_PYDANTIC_V1, [module, name, obj.dict()])


def _pack_send(obj: Any) -> Any:
    args = [obj.node, obj.arg]
    timeout = getattr(obj, "timeout", None)
    if timeout is not None:
        args.append(timeout)
    module, name = _named(obj)
    return _args(module, name, EXT_CONSTRUCTOR_POS_ARGS, args)


def _dataclass_fields(obj: Any) -> dict[str, Any]:
    # init=False fields are recomputed by the constructor, so they are not stored
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init}


def _pack_numpy(obj: Any) -> Any:
    order = "F" if obj.flags.f_contiguous and not obj.flags.c_contiguous else "C"
    return _plain_ext(EXT_NUMPY_ARRAY, [obj.dtype.str, list(obj.shape), order, obj.tobytes(order=order)])


def _pack_exception(obj: BaseException) -> str:
    return repr(obj)


def _pack_pandas(obj: Any) -> Any:
    return _ext(EXT_PANDAS, pack_pandas(obj))


def _is_send(obj_type: type) -> bool:
    return all(hasattr(obj_type, a) for a in ("node", "arg")) and obj_type.__hash__ is not None


_packers: dict[type, Callable[[Any], Any]] = {
    list: _pack_list,
    tuple: _pack_tuple,
    dict: _pack_dict,
    bytearray: bytes,
    memoryview: bytes,
    set: _pack_single(list),
    frozenset: _pack_single(list),
    collections.deque: _pack_single(list),
    dt.datetime: _pack_datetime,
    dt.date: _pack_positional(lambda d: (d.year, d.month, d.day)),
    dt.time: _pack_keywords(_time_fields),
    dt.timedelta: _pack_positional(lambda d: (d.days, d.seconds, d.microseconds)),
    dt.timezone: _pack_positional(lambda z: z.__getinitargs__()),  # type: ignore[attr-defined]
    uuid.UUID: _pack_single(lambda u: u.hex),
    decimal.Decimal: _pack_single(str),
    zoneinfo.ZoneInfo: _pack_single(lambda z: z.key),
    re.Pattern: _pack_pattern,
    _DeltaSnapshot: _pack_delta,
}


def _packer_for(t: type) -> Callable[[Any], Any]:
    """Classify a type once (the order follows LangGraph's encoder) and remember it."""
    packer = _classify(t)
    if len(_packers) < 10_000:  # generated classes can't grow it without bound
        _packers[t] = packer
    return packer


def _classify(t: type) -> Callable[[Any], Any]:
    if issubclass(t, _DeltaSnapshot):
        return _pack_delta
    if is_pandas_type(t):
        return _pack_pandas
    if issubclass(t, msgspec.Struct):
        return _pack_keywords(lambda o: {f: getattr(o, f) for f in o.__struct_fields__})
    if callable(getattr(t, "model_dump", None)):
        return _pack_pydantic_v2
    if callable(getattr(t, "get_secret_value", None)):
        return _pack_single(lambda o: o.get_secret_value())
    if callable(getattr(t, "dict", None)):
        return _pack_pydantic_v1
    if callable(getattr(t, "_asdict", None)):
        return _pack_keywords(lambda o: o._asdict())
    if issubclass(t, pathlib.PurePath):
        return _pack_positional(lambda p: p.parts)
    if issubclass(t, uuid.UUID):
        return _pack_single(lambda u: u.hex)
    if issubclass(t, decimal.Decimal):
        return _pack_single(str)
    if issubclass(t, (set, frozenset, collections.deque)):
        return _pack_single(list)
    ip_types = (
        ipaddress.IPv4Address, ipaddress.IPv4Interface, ipaddress.IPv4Network,
        ipaddress.IPv6Address, ipaddress.IPv6Interface, ipaddress.IPv6Network,
    )  # fmt: skip
    if issubclass(t, ip_types):
        return _pack_single(str)
    if issubclass(t, dt.datetime):
        return _pack_datetime
    if issubclass(t, dt.timedelta):
        return _packers[dt.timedelta]
    if issubclass(t, dt.date):
        return _packers[dt.date]
    if issubclass(t, dt.time):
        return _packers[dt.time]
    if issubclass(t, dt.timezone):
        return _packers[dt.timezone]
    if issubclass(t, zoneinfo.ZoneInfo):
        return _packers[zoneinfo.ZoneInfo]
    if issubclass(t, enum.Enum):
        return _pack_single(lambda e: e.value)
    if _is_send(t) and not issubclass(t, (dict, list, tuple, str)):
        return _pack_send
    if dataclasses.is_dataclass(t):
        return _pack_keywords(_dataclass_fields)
    np = sys.modules.get("numpy")
    if np is not None and issubclass(t, np.ndarray):
        return _pack_numpy
    if issubclass(t, BaseException):
        return _pack_exception
    # subclasses of builtins are stored as the builtin, as MessagePack encoders do
    for base, packer in ((dict, _pack_dict), (list, _pack_list), (tuple, _pack_tuple)):
        if issubclass(t, base):
            return lambda v, b=base, p=packer: p(b(v))  # type: ignore[misc]
    for scalar in (str, bool, int, float, bytes):
        if issubclass(t, scalar):
            return scalar
    return _refuse


def _refuse(value: Any) -> Any:
    t = type(value)
    raise SerializationError(
        f"Object of type {t.__module__}.{t.__qualname__} is not serializable: actorgraph stores "
        "plain data, collections, dates, enums, dataclasses, NamedTuples, msgspec Structs and "
        "pydantic models (it never pickles)",
        value=value,
    )


def _replace_surrogates(value: Any) -> Any:
    # strings with lone surrogates can't be UTF-8: each one is stored as '?'
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_replace_surrogates(v) for v in value)
    return value


def _msgpack_enc(data: Any) -> bytes:
    """``data`` as MessagePack bytes (LangGraph's extension records for non-plain data)."""
    try:
        if type(data) in _PLAIN:
            return _encode(data)
        return _dump(data)
    except UnicodeEncodeError:
        return _dump(_replace_surrogates(data))
    except SerializationError:
        raise
    except (OverflowError, TypeError, ValueError) as exc:
        raise SerializationError(f"Can't store {_short(data)}: {exc}", value=data) from exc


def dumps_each(serde: Any, values: list[Any]) -> list[bytes] | None:
    """``[serde.dumps(v) for v in values]`` with one look at the types of them all, when
    ``serde`` is the default serializer (or a saver's codec of it) and they are plain (or
    hooked) data; else None (dump them one by one: that also names the one that can't be
    stored)."""
    if type(serde) is not JsonPlusSerializer and getattr(serde, "dumps", None) is not _msgpack_enc:
        return None
    if _CONTAINERS.isdisjoint(map(type, values)) or _route(values) == _PYTHON_ROUTE:
        return None  # (scalars alone are as cheap one by one)
    try:
        return [_encode_hooked(v) for v in values]
    except Exception:
        return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:120] + "..."


# -- reading -------------------------------------------------------------------------------
class _Reader:
    """Rebuilds extension records under one allow-list setting."""

    def __init__(self, allowed: set[tuple[str, ...]] | Literal[True] | None) -> None:
        self.allowed = allowed
        self.decoder = msgspec.msgpack.Decoder(ext_hook=self.hook)
        self.safe: dict[tuple[str, str], Any] = {}

    def resolve(self, module: str, name: str) -> Any:
        """The class a record may be rebuilt as, or None (blocked: its fields are used)."""
        key = (module, name)
        cls = self.safe.get(key)
        if cls is not None:
            return cls
        if policy.is_safe(module, name):
            cls = self.safe[key] = policy.safe_class(module, name)
            return cls
        cls = policy.registered(module, name)
        if cls is not None:
            return cls
        allowed = self.allowed
        if allowed is True:
            cls = policy.loaded_data_class(module, name)
            if cls is not None:
                emit_serde_event({"kind": "msgpack_unregistered_allowed", "module": module, "name": name})
                warn_once(
                    _warned_unregistered_types,
                    key,
                    "Deserializing unregistered type %s.%s from checkpoint. Register it with "
                    "actorgraph.persistence.register_type, name it in a state schema, or add it to "
                    "allowed_msgpack_modules: [(%r, %r)]",
                    module, name, module, name,
                )  # fmt: skip
                return cls
        elif allowed is not None and key in allowed:
            mod = sys.modules.get(module)
            if mod is None:
                import importlib

                mod = importlib.import_module(module)  # explicitly allowed by the user
            return getattr(mod, name)
        emit_serde_event({"kind": "msgpack_blocked", "module": module, "name": name})
        warn_once(
            _warned_blocked_types,
            key,
            "Blocked deserialization of %s.%s - not in allowed_msgpack_modules (nor registered, "
            "nor a loaded data class). Add to allowed_msgpack_modules to allow: [(%r, %r)]",
            module, name, module, name,
        )  # fmt: skip
        return None

    def hook(self, code: int, data: memoryview) -> Any:
        decode = self.decoder.decode
        if code == EXT_TUPLE:
            return tuple(decode(data))
        if code == EXT_DELTA_SNAPSHOT:
            return _DeltaSnapshot(decode(data))
        if code == EXT_NUMPY_ARRAY:
            return _unpack_numpy(decode(data))
        if code > EXT_PYDANTIC_V2:
            if code == EXT_PANDAS:
                return unpack_pandas(decode(data))
            raise SerializationError(f"Stored data has an unknown extension code {code}")
        tup: Any = None
        try:
            tup = decode(data)
            module, name = tup[0], tup[1]
            if code == EXT_METHOD_SINGLE_ARG:
                method = tup[3]
                if (module, name, method) not in policy.SAFE_MSGPACK_METHODS:
                    emit_serde_event(
                        {"kind": "msgpack_method_blocked", "module": module, "name": name, "method": method}
                    )
                    policy.logger.warning(
                        "Blocked deserialization of method call %s.%s.%s - not in allowed methods set.",
                        module, name, method,
                    )  # fmt: skip
                    return tup[2]
                return getattr(policy.safe_class(module, name), method)(tup[2])
            cls = self.resolve(module, name)
            if cls is None:
                return tup[2]
            return _construct(code, cls, module, name, tup[2])
        except Exception as exc:
            return _reconstruction_fallback(tup, exc)


def _construct(code: int, cls: Any, module: str, name: str, payload: Any) -> Any:
    if code == EXT_CONSTRUCTOR_SINGLE_ARG:
        return cls(payload)
    if code == EXT_CONSTRUCTOR_POS_ARGS:
        if name == "Send" and module in ("langgraph.types", "actorgraph._types"):
            return cls(payload[0], payload[1], timeout=payload[2] if len(payload) > 2 else None)
        return cls(*payload)
    if code == EXT_CONSTRUCTOR_KW_ARGS:
        if dataclasses.is_dataclass(cls):
            # fields the constructor computes (init=False) are not arguments
            computed = {f.name for f in dataclasses.fields(cls) if not f.init}
            payload = {k: v for k, v in payload.items() if k not in computed}
        return cls(**payload)
    try:
        return cls(**payload)
    except Exception:
        build = getattr(cls, "model_construct" if code == EXT_PYDANTIC_V2 else "construct")
        return build(**payload)


def _reconstruction_fallback(tup: Any, exc: Exception) -> Any:
    """The stored data of a record that couldn't be rebuilt (never silently None)."""
    try:
        module, name, payload = tup[0], tup[1], tup[2]
    except Exception:
        return None
    warn_once(
        _warned_unreconstructable_types,
        (str(module), str(name)),
        "Could not reconstruct %s.%s from checkpoint (%s); returning its serialized data instead.",
        module, name, type(exc).__name__,
    )  # fmt: skip
    return payload


def _unpack_numpy(meta: Any) -> Any:
    try:
        import numpy as np

        dtype, shape, order, buf = meta
        return np.frombuffer(buf, dtype=np.dtype(dtype)).reshape(shape, order=order)
    except Exception:
        return None


def create_msgpack_ext_hook(
    allowed_modules: set[tuple[str, ...]] | Literal[True] | None,
) -> Callable[[int, Any], Any]:
    """An ext hook that rebuilds records under ``allowed_modules`` (``True``: also loaded
    data classes, with a warning; ``None``: only safe and registered classes)."""
    return _Reader(allowed_modules).hook


class JsonPlusSerializer:
    """LangGraph's serializer: ``dumps_typed(obj) -> (type, bytes)`` and back.

    ``allowed_msgpack_modules``: classes (or (module, name) pairs) that may be rebuilt
    besides the safe and registered ones; ``True`` (the default unless
    ``LANGGRAPH_STRICT_MSGPACK`` is set) also rebuilds data classes of loaded modules with
    a warning; ``None`` rebuilds nothing else. ``allowed_json_modules``: the same for
    LangChain's JSON constructor records (``("json", ...)`` data). ``dumps``/``loads`` are
    the MessagePack bytes alone.

    ``pickle_fallback=True`` is the caller's explicit choice, as in LangGraph: what
    MessagePack can't hold - and a pandas value, which LangGraph can only pickle - is
    pickled, and ``"pickle"`` data is unpickled (which runs whatever code the data names:
    only for data this program wrote). Without it (the default) nothing is ever pickled,
    and pickled data is refused naming its class.
    """

    def __init__(
        self,
        *,
        pickle_fallback: bool = False,
        allowed_json_modules: Iterable[tuple[str, ...]] | Literal[True] | None = None,
        allowed_msgpack_modules: policy.AllowedMsgpackModules | Literal[True] | None = policy._SENTINEL,
        __unpack_ext_hook__: Callable[[int, bytes], Any] | None = None,
    ) -> None:
        if allowed_msgpack_modules is policy._SENTINEL:
            allowed_msgpack_modules = None if policy.STRICT_MSGPACK_ENABLED else True
        self.pickle_fallback = pickle_fallback
        self._allowed_json_modules = normalize_allowlist(allowed_json_modules)
        self._allowed_msgpack_modules = normalize_allowlist(allowed_msgpack_modules)
        self._custom_unpack_ext_hook = __unpack_ext_hook__ is not None
        self._unpack_ext_hook: Callable[[int, Any], Any] = (
            __unpack_ext_hook__
            if __unpack_ext_hook__ is not None
            else create_msgpack_ext_hook(self._allowed_msgpack_modules)
        )
        self._set_decoder()

    def _set_decoder(self) -> None:
        hook = self._unpack_ext_hook
        reader = getattr(hook, "__self__", None)
        if isinstance(reader, _Reader):
            self._decoder = reader.decoder
        else:
            self._decoder = msgspec.msgpack.Decoder(ext_hook=lambda code, data: hook(code, bytes(data)))

    def __copy__(self) -> JsonPlusSerializer:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def with_msgpack_allowlist(self, extra_allowlist: Iterable[tuple[str, ...] | type]) -> JsonPlusSerializer:
        """A copy that also rebuilds ``extra_allowlist`` (self when nothing changes)."""
        base = self._allowed_msgpack_modules
        if base is True:
            return self
        current = set(base) if base else set()
        merged = current | normalize_keys(tuple(extra_allowlist))
        if merged == current:
            return self
        clone = copy.copy(self)
        clone._allowed_msgpack_modules = merged
        if not clone._custom_unpack_ext_hook:
            clone._unpack_ext_hook = create_msgpack_ext_hook(merged)
            clone._set_decoder()
        return clone

    # -- bytes --------------------------------------------------------------------------
    def dumps(self, obj: Any) -> bytes:
        """MessagePack bytes of ``obj``; ``SerializationError`` (a ``TypeError``) names a
        value that can't be stored."""
        return _msgpack_enc(obj)

    def loads(self, data: bytes) -> Any:
        try:
            return self._decoder.decode(data)
        except SerializationError:
            raise
        except Exception as exc:
            raise SerializationError(f"Stored data can't be read: {exc}") from exc

    # -- typed ---------------------------------------------------------------------------
    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        if obj is None:
            return "null", b""
        if isinstance(obj, bytes):
            return "bytes", obj
        if isinstance(obj, bytearray):
            return "bytearray", obj  # type: ignore[return-value]
        if self.pickle_fallback:
            if type(obj).__module__.partition(".")[0] == "pandas":
                return "pickle", pickle.dumps(obj)  # as LangGraph stores them
            try:
                return "msgpack", _msgpack_enc(obj)
            except SerializationError:
                return "pickle", pickle.dumps(obj)
        return "msgpack", _msgpack_enc(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        type_, raw = data
        if type_ == "msgpack":
            return self.loads(raw)
        if type_ == "null":
            return None
        if type_ == "bytes":
            return bytes(raw)
        if type_ == "bytearray":
            return bytearray(raw)
        if type_ == "json":
            return json.loads(raw, object_hook=self._reviver)
        if type_ == "pickle":
            if self.pickle_fallback:
                return pickle.loads(raw)  # the caller chose to trust its pickles
            raise SerializationError(
                f"Stored data is a pickle{_pickled_type(raw)}: actorgraph unpickles only for a "
                "serializer made with JsonPlusSerializer(pickle_fallback=True) (unpickling runs "
                "whatever code the data names: only for data you wrote). LangGraph writes values "
                "it can't store otherwise (e.g. pandas DataFrames with pickle_fallback=True) this way"
            )
        raise NotImplementedError(f"Unknown serialization type: {type_}")

    # -- LangChain's JSON records ---------------------------------------------------------
    def _reviver(self, value: dict[str, Any]) -> Any:
        from actorgraph.persistence._serde_json import revive

        return revive(self, value)

    def _revive_lc2(self, value: dict[str, Any]) -> Any:
        from actorgraph.persistence._serde_json import revive_lc2

        return revive_lc2(self, value)


def _pickled_type(raw: bytes) -> str:
    """' of <module>.<name>' for the first class a pickle names, read from its opcodes
    without running them ('' when it can't be told)."""
    import pickletools

    strings: list[Any] = []
    try:
        for op, arg, _ in pickletools.genops(raw):
            if op.name == "GLOBAL":
                return " of " + str(arg).replace(" ", ".")
            if op.name == "STACK_GLOBAL" and len(strings) >= 2:
                return f" of {strings[-2]}.{strings[-1]}"
            if isinstance(arg, str):
                strings.append(arg)
    except Exception:
        pass
    return ""


Serializer = JsonPlusSerializer
"""actorgraph's earlier name for the serializer."""
