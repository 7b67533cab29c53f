"""Stable cache keys for node inputs, without pickle.

The key is a hash of a canonical MessagePack encoding: dict keys sorted, dataclasses,
pydantic models and msgspec Structs encoded by their fields, sets sorted. Two equal inputs
give the same key in any process, and nothing in the key can run code when read.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from typing import Any

import msgspec

__all__ = ("stable_cache_key",)


def _canonical(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool, bytes)):
        return value
    if isinstance(value, dict):
        return ["__dict__", sorted(([_canonical(k), _canonical(v)] for k, v in value.items()), key=repr)]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [_canonical(v) for v in value]]
    if isinstance(value, (set, frozenset)):
        return ["__set__", sorted((_canonical(v) for v in value), key=repr)]
    if isinstance(value, enum.Enum):
        return ["__enum__", type(value).__qualname__, _canonical(value.value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [
            type(value).__qualname__,
            [[f.name, _canonical(getattr(value, f.name))] for f in dataclasses.fields(value)],
        ]
    if isinstance(value, msgspec.Struct):
        return [
            type(value).__qualname__,
            [[f, _canonical(getattr(value, f))] for f in value.__struct_fields__],
        ]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return [type(value).__qualname__, _canonical(dump())]
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return [type(value).__qualname__, _canonical(to_json())]
    return [type(value).__qualname__, repr(value)]


def stable_cache_key(*parts: Any) -> str:
    """A hex digest that is equal for equal inputs across processes."""
    encoded = msgspec.msgpack.encode(_canonical(parts))
    return hashlib.blake2b(encoded, digest_size=16).hexdigest()
