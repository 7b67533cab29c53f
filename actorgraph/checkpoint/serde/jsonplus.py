"""Import-compatible path: ``JsonPlusSerializer``, its extension codes, and the hooks and
warning records LangGraph's tests reach for."""

from actorgraph.persistence._serde import (
    EXT_CONSTRUCTOR_KW_ARGS,
    EXT_CONSTRUCTOR_POS_ARGS,
    EXT_CONSTRUCTOR_SINGLE_ARG,
    EXT_DELTA_SNAPSHOT,
    EXT_METHOD_SINGLE_ARG,
    EXT_NUMPY_ARRAY,
    EXT_PYDANTIC_V1,
    EXT_PYDANTIC_V2,
    JsonPlusSerializer,
    _msgpack_enc,
    _warned_blocked_types,
    _warned_unreconstructable_types,
    _warned_unregistered_types,
)
from actorgraph.persistence._serde import create_msgpack_ext_hook as _create_msgpack_ext_hook
from actorgraph.persistence._serde_json import InvalidModuleError
from actorgraph.persistence._serde_json import msgpack_ext_hook_to_json as _msgpack_ext_hook_to_json

_msgpack_ext_hook = _create_msgpack_ext_hook(None)
EMPTY_BYTES = b""

__all__ = (
    "EXT_CONSTRUCTOR_KW_ARGS",
    "EXT_CONSTRUCTOR_POS_ARGS",
    "EXT_CONSTRUCTOR_SINGLE_ARG",
    "EXT_DELTA_SNAPSHOT",
    "EXT_METHOD_SINGLE_ARG",
    "EXT_NUMPY_ARRAY",
    "EXT_PYDANTIC_V1",
    "EXT_PYDANTIC_V2",
    "InvalidModuleError",
    "JsonPlusSerializer",
)
