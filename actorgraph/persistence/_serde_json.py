"""LangGraph's older storage formats read back: LangChain's JSON constructor records
(``{"lc": 2, "type": "constructor", "id": [...], ...}`` in ``("json", ...)`` data), and
the ext hook that turns MessagePack extension records into plain JSON-ready values.

A JSON record is rebuilt only for a safe class or one the serializer's
``allowed_json_modules`` names; its ``method`` field is ignored (only the constructor
runs). LangChain's own records (``lc: 1``) go through LangChain's loader with its core
allow-list.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import msgspec

from actorgraph.persistence import _serde_policy as policy
from actorgraph.persistence._serde import (
    EXT_CONSTRUCTOR_KW_ARGS,
    EXT_CONSTRUCTOR_POS_ARGS,
    EXT_CONSTRUCTOR_SINGLE_ARG,
    EXT_DELTA_SNAPSHOT,
    EXT_METHOD_SINGLE_ARG,
    EXT_NUMPY_ARRAY,
    EXT_PYDANTIC_V1,
    EXT_PYDANTIC_V2,
    EXT_TUPLE,
    _unpack_numpy,
)

if TYPE_CHECKING:
    from actorgraph.persistence._serde import JsonPlusSerializer

__all__ = ("InvalidModuleError", "msgpack_ext_hook_to_json", "revive", "revive_lc2")


class InvalidModuleError(Exception):
    """A JSON record names a class that is not on the serializer's allow-list."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _is_safe_id(id_list: Any) -> bool:
    if not isinstance(id_list, list) or len(id_list) < 2:
        return False
    return policy.is_safe(".".join(id_list[:-1]), id_list[-1])


def revive(serde: JsonPlusSerializer, value: dict[str, Any]) -> Any:
    if value.get("lc") == 2 and value.get("type") == "constructor" and value.get("id") is not None:
        safe = _is_safe_id(value["id"])
        if serde._allowed_json_modules or safe:
            try:
                return revive_lc2(serde, value)
            except InvalidModuleError as exc:
                if not safe:
                    policy.logger.warning(
                        "Object %s is not in the deserialization allowlist.\n%s", value["id"], exc.message
                    )
    return _langchain_revive(value)


def _langchain_revive(value: dict[str, Any]) -> Any:
    if "lc" not in value:
        return value
    try:
        from langchain_core.load.load import Reviver
    except ImportError:
        return value
    return Reviver(allowed_objects="core")(value)


def revive_lc2(serde: JsonPlusSerializer, value: dict[str, Any]) -> Any:
    _check_allowed(serde, value)
    *module, name = value["id"]
    dotted = ".".join(module)
    try:
        if policy.is_safe(dotted, name):
            cls = policy.safe_class(dotted, name)
        else:
            cls = getattr(importlib.import_module(dotted), name)  # explicitly allowed
        if isinstance(cls, type) and issubclass(cls, BaseException):
            return None
        args = value.get("args") or ()
        kwargs = value.get("kwargs") or {}
        return cls(*args, **kwargs)
    except Exception as exc:
        policy.logger.warning(
            "Failed to revive lc:2 envelope %s (legacy_method_field=%s, error=%s); returning None",
            ".".join((*module, name)),
            "method" in value,
            type(exc).__name__,
        )
        return None


def _check_allowed(serde: JsonPlusSerializer, value: dict[str, Any]) -> None:
    needed = tuple(value["id"])
    if _is_safe_id(list(needed)):
        return
    allowed = serde._allowed_json_modules
    dotted = ".".join(needed)
    if not allowed:
        raise InvalidModuleError(
            f"Refused to deserialize JSON constructor: {dotted}. No allowed_json_modules "
            f"configured: pass JsonPlusSerializer(allowed_json_modules=[{needed!r}, ...]) to allow it"
        )
    if allowed is True or needed in allowed:
        return
    raise InvalidModuleError(
        f"Refused to deserialize JSON constructor: {dotted}. It is not in the deserialization "
        f"allowlist: add it with JsonPlusSerializer(allowed_json_modules=[{needed!r}, ...])"
    )


# -- extension records as plain values ---------------------------------------------------------
def msgpack_ext_hook_to_json(code: int, data: Any) -> Any:
    """An ext hook that reads extension records as JSON-ready values (the constructor
    arguments, UUIDs as strings, tuples and arrays as lists) without rebuilding classes."""
    try:
        payload = _json_decoder.decode(data)
    except Exception:
        return None
    if code == EXT_TUPLE:
        return list(payload)
    if code == EXT_DELTA_SNAPSHOT:
        return payload
    if code == EXT_NUMPY_ARRAY:
        arr = _unpack_numpy(payload)
        return arr.tolist() if arr is not None else None
    if code not in (
        EXT_CONSTRUCTOR_SINGLE_ARG, EXT_CONSTRUCTOR_POS_ARGS, EXT_CONSTRUCTOR_KW_ARGS,
        EXT_METHOD_SINGLE_ARG, EXT_PYDANTIC_V1, EXT_PYDANTIC_V2,
    ):  # fmt: skip
        return None
    try:
        module, name, arg = payload[0], payload[1], payload[2]
    except Exception:
        return None
    if code == EXT_CONSTRUCTOR_SINGLE_ARG and (module, name) == ("uuid", "UUID"):
        h = arg
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    if code == EXT_CONSTRUCTOR_POS_ARGS and name == "Send" and module in ("langgraph.types", "actorgraph._types"):
        send = policy.safe_class("langgraph.types", "Send")
        return send(arg[0], arg[1], timeout=arg[2] if len(arg) > 2 else None)
    return list(arg) if isinstance(arg, tuple) else arg


_json_decoder = msgspec.msgpack.Decoder(ext_hook=msgpack_ext_hook_to_json)
