"""JSON in and out of the server: msgspec, with a hook for what graphs put in their state
(pydantic models such as LangChain messages, dataclasses, enums, sets, exceptions)."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import msgspec

__all__ = ("dumps", "loads", "to_jsonable")


def _enc_hook(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump()
    as_dict = getattr(obj, "_asdict", None)
    if callable(as_dict):
        return as_dict()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    if isinstance(obj, BaseException):
        return {"error": type(obj).__name__, "message": str(obj)}
    legacy = getattr(obj, "dict", None)
    if callable(legacy) and hasattr(obj, "__fields__"):
        return legacy()
    return str(obj)


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
_decoder = msgspec.json.Decoder()


def dumps(obj: Any) -> bytes:
    return _encoder.encode(obj)


def loads(data: bytes | str) -> Any:
    return _decoder.decode(data)


def to_jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON values (dicts, lists, str, numbers, bool, None)."""
    return _decoder.decode(_encoder.encode(obj))
