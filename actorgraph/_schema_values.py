"""Reading state updates out of schema objects (dataclass, pydantic model, msgspec Struct,
annotated class). Shared by the graph builder and ``Command``; no engine logic here."""

from __future__ import annotations

import types
import typing
import weakref
from typing import Any

__all__ = ("annotated_keys", "object_to_pairs")

_KEYS: weakref.WeakKeyDictionary[type, tuple[str, ...]] = weakref.WeakKeyDictionary()
_MISSING = object()


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar", "t.ClassVar"))
    return typing.get_origin(annotation) is typing.ClassVar or annotation is typing.ClassVar


def annotated_keys(cls: type) -> tuple[str, ...]:
    """The annotated attribute names of ``cls`` and its bases, base classes first."""
    try:
        return _KEYS[cls]
    except KeyError:
        pass
    except TypeError:
        return ()
    keys: list[str] = []
    for base in reversed(cls.__mro__):
        ann = base.__dict__.get("__annotations__")
        if ann is None or isinstance(ann, types.GetSetDescriptorType):
            continue
        for k, a in ann.items():
            if k not in keys and not k.startswith("__") and not _is_classvar(a):
                keys.append(k)
    result = tuple(keys)
    try:
        _KEYS[cls] = result
    except TypeError:
        pass
    return result


def _pydantic_defaults(obj: Any) -> tuple[set[str] | None, dict[str, Any]]:
    fields = getattr(type(obj), "model_fields", None)
    if fields is None or not hasattr(obj, "model_fields_set"):
        return None, {}
    return set(obj.model_fields_set), {k: f.default for k, f in fields.items()}


def object_to_pairs(obj: Any) -> list[tuple[str, Any]] | None:
    """``(key, value)`` pairs of a schema object used as a state update, or ``None`` when
    ``obj`` is not such an object.

    A ``None`` attribute counts as "not updated" unless its default isn't ``None`` or (for
    pydantic) it was set explicitly, so a partially filled model updates only what it set.
    """
    if obj is None or isinstance(obj, (dict, str, bytes, int, float, bool, list, tuple)):
        return None
    keys = annotated_keys(type(obj))
    if not keys:
        return None
    explicitly_set, defaults = _pydantic_defaults(obj)
    pairs: list[tuple[str, Any]] = []
    for k in keys:
        value = getattr(obj, k, _MISSING)
        if value is _MISSING:
            continue
        if (
            value is not None
            or defaults.get(k, _MISSING) is not None
            or (explicitly_set is not None and k in explicitly_set)
        ):
            pairs.append((k, value))
    return pairs
