"""Which stored classes may be rebuilt when reading: the safe types, the process-wide
allow-list (``register_type`` and the classes graph schemas name), the strict-mode switch,
and the deduplicated warnings and events a blocked or unregistered type produces.

Reading never imports a module that isn't on a list: the safe types' modules (standard
library, LangChain messages, our own types), and modules a serializer was explicitly
given. A class outside every list is rebuilt only when its module is already loaded and
it is plain data (an Enum, dataclass, NamedTuple, msgspec Struct or pydantic model), with
a warning; in strict mode it is never rebuilt and its stored fields are returned instead.

``actorgraph.checkpoint.serde._msgpack`` is this module (LangGraph's tests flip
``STRICT_MSGPACK_ENABLED`` on it).
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import logging
import os
import sys
import threading
import typing
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypedDict, cast

import msgspec
from typing_extensions import NotRequired

__all__ = (
    "SAFE_MSGPACK_METHODS",
    "SAFE_MSGPACK_TYPES",
    "STRICT_MSGPACK_ENABLED",
    "AllowedMsgpackModules",
    "SerdeEvent",
    "SerdeEventListener",
    "emit_serde_event",
    "is_data_class",
    "is_safe",
    "logger",
    "normalize_allowlist",
    "register_schema_types",
    "register_serde_event_listener",
    "register_type",
    "registered",
    "warn_once",
    "written_name",
)

STRICT_MSGPACK_ENABLED = os.getenv("LANGGRAPH_STRICT_MSGPACK", "false").lower() in ("1", "true", "yes")
"""Strict mode for serializers built without an explicit ``allowed_msgpack_modules``:
only safe, registered and explicitly allowed types are rebuilt."""

_SENTINEL = cast(None, object())
"""``allowed_msgpack_modules`` not given: the mode follows ``STRICT_MSGPACK_ENABLED``."""

AllowedMsgpackModules = Iterable[tuple[str, ...] | type]

# the log records keep LangGraph's logger name: log filters written for it keep working
logger = logging.getLogger("langgraph.checkpoint.serde.jsonplus")

_MSG = "langchain_core.messages."
SAFE_MSGPACK_TYPES: frozenset[tuple[str, ...]] = frozenset(
    {
        ("datetime", "datetime"),
        ("datetime", "date"),
        ("datetime", "time"),
        ("datetime", "timedelta"),
        ("datetime", "timezone"),
        ("uuid", "UUID"),
        ("decimal", "Decimal"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("collections", "deque"),
        *(("ipaddress", n) for n in ("IPv4Address", "IPv4Interface", "IPv4Network")),
        *(("ipaddress", n) for n in ("IPv6Address", "IPv6Interface", "IPv6Network")),
        *((m, n) for m in ("pathlib", "pathlib._local") for n in ("Path", "PosixPath", "WindowsPath")),
        ("zoneinfo", "ZoneInfo"),
        ("re", "compile"),
        (_MSG + "base", "BaseMessage"),
        (_MSG + "base", "BaseMessageChunk"),
        *((_MSG + m, n + s) for m, n in (
            ("human", "HumanMessage"), ("ai", "AIMessage"), ("system", "SystemMessage"),
            ("chat", "ChatMessage"), ("tool", "ToolMessage"), ("function", "FunctionMessage"),
        ) for s in ("", "Chunk")),  # fmt: skip
        (_MSG + "modifier", "RemoveMessage"),
        ("langchain_core.documents.base", "Document"),
        *(("langgraph.types", n) for n in (
            "Send", "TimeoutPolicy", "Interrupt", "Command", "StateSnapshot", "PregelTask", "Overwrite",
        )),  # fmt: skip
        ("langgraph.store.base", "Item"),
        ("langgraph.store.base", "GetOp"),
    }
)
"""(module, name) of the classes any serializer rebuilds, in LangGraph's spelling."""

SAFE_MSGPACK_METHODS: frozenset[tuple[str, str, str]] = frozenset({("datetime", "datetime", "fromisoformat")})
"""(module, class, method) triples a stored value may name to be rebuilt by."""

# our own classes, under LangGraph's names where LangGraph has the class (what we write,
# so either library reads the other's data) and under their own module
_OWN_CLASSES: dict[tuple[str, str], tuple[str, str]] = {
    **{("langgraph.types", n): ("actorgraph._types", n) for n in (
        "Send", "TimeoutPolicy", "Interrupt", "Command", "StateSnapshot", "PregelTask", "Overwrite",
    )},  # fmt: skip
    ("langgraph.store.base", "Item"): ("actorgraph.persistence._store", "Item"),
    ("langgraph.store.base", "GetOp"): ("actorgraph.persistence._store", "GetOp"),
    **{("actorgraph._message_types", n): ("actorgraph._message_types", n) for n in (
        "HumanMessage", "AIMessage", "SystemMessage", "ToolMessage", "RemoveMessage",
    )},  # fmt: skip
    ("actorgraph._types", "RetryPolicy"): ("actorgraph._types", "RetryPolicy"),
    ("actorgraph._types", "CachePolicy"): ("actorgraph._types", "CachePolicy"),
}
_written_names: dict[type, tuple[str, str]] | None = None

_lock = threading.Lock()
_registry: dict[tuple[str, str], type] = {}
"""The process-wide allow-list: (module, __name__) -> class."""


class SerdeEvent(TypedDict):
    kind: str
    module: str
    name: str
    method: NotRequired[str]


SerdeEventListener = Callable[[SerdeEvent], None]

_listeners: list[SerdeEventListener] = []
_listeners_lock = threading.Lock()


def register_serde_event_listener(listener: SerdeEventListener) -> Callable[[], None]:
    """Call ``listener`` with every allow-list event (a blocked or unregistered type read
    back); returns the function that unregisters it."""
    with _listeners_lock:
        _listeners.append(listener)

    def unregister() -> None:
        with _listeners_lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unregister


def emit_serde_event(event: SerdeEvent) -> None:
    with _listeners_lock:
        listeners = tuple(_listeners)
    for listener in listeners:
        try:
            listener(event)
        except Exception:  # a listener's bug must not break reading a checkpoint
            logger.warning("Serde event listener failed", exc_info=True)


_MAX_WARNED = 1000
_warned_unregistered_types: set[tuple[str, str]] = set()
_warned_blocked_types: set[tuple[str, str]] = set()
_warned_unreconstructable_types: set[tuple[str, str]] = set()


def warn_once(seen: set[tuple[str, str]], key: tuple[str, str], msg: str, *args: object) -> None:
    """Log ``msg`` once per ``key`` (bounded, so generated classes can't flood the log)."""
    if key in seen or len(seen) >= _MAX_WARNED:
        return
    seen.add(key)
    logger.warning(msg, *args)


# -- the allow-list -----------------------------------------------------------------------
def is_data_class(cls: Any) -> bool:
    """Plain data whose rebuilding only assigns fields: Enum, dataclass, NamedTuple,
    msgspec Struct, pydantic model (v1 or v2)."""
    if not isinstance(cls, type):
        return False
    if issubclass(cls, (enum.Enum, msgspec.Struct)) or dataclasses.is_dataclass(cls):
        return True
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return True
    if hasattr(cls, "model_validate") and hasattr(cls, "model_dump"):
        return True
    return hasattr(cls, "__fields__") and hasattr(cls, "construct") and hasattr(cls, "dict")


def register_type(*classes: type) -> None:
    """Allow instances of ``classes`` (Enums, dataclasses, NamedTuples, msgspec Structs,
    pydantic models) to be rebuilt from checkpoints, stores and caches, in every mode."""
    with _lock:
        for cls in classes:
            if not is_data_class(cls):
                raise TypeError(
                    f"{cls!r} can't be registered for storage: only Enum, dataclass, NamedTuple, "
                    "msgspec.Struct and pydantic model classes can be rebuilt safely"
                )
            # a class redefined under the same name (a reloaded module, a test): the newest wins
            _registry[(cls.__module__, cls.__name__)] = cls


def registered(module: str, name: str) -> type | None:
    return _registry.get((module, name))


def _walk_annotation(ann: Any, found: set[type], depth: int = 0) -> None:
    if depth > 8 or ann is None:
        return
    if typing.get_origin(ann) is not None:
        for arg in typing.get_args(ann):
            _walk_annotation(arg, found, depth + 1)
        return
    if isinstance(ann, type) and is_data_class(ann) and ann not in found:
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
        if is_data_class(schema):
            _walk_annotation(schema, found)
            continue
        try:
            hints = typing.get_type_hints(schema, include_extras=True)
        except Exception:
            continue
        for ann in hints.values():
            _walk_annotation(ann, found)
    if found:
        register_type(*found)


def normalize_allowlist(allowlist: Any) -> set[tuple[str, ...]] | Literal[True] | None:
    if allowlist is True:
        return True
    if not allowlist:
        return None
    return normalize_keys(allowlist)


def normalize_keys(modules: Iterable[Any]) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for entry in modules:
        if isinstance(entry, type):
            out.add((entry.__module__, entry.__name__))
        else:
            out.add(tuple(entry))
    return out


def is_safe(module: str, name: str) -> bool:
    return (module, name) in SAFE_MSGPACK_TYPES or (module, name) in _OWN_CLASSES


def safe_class(module: str, name: str) -> Any:
    """The object a safe (module, name) names; imports only modules of the safe list."""
    where = _OWN_CLASSES.get((module, name), (module, name))
    return getattr(importlib.import_module(where[0]), where[1])


def written_name(cls: type) -> tuple[str, str]:
    """The (module, name) stored data names ``cls`` by: LangGraph's name for our classes
    that LangGraph has, the class's own otherwise."""
    global _written_names
    names = _written_names
    if names is None:
        names = {}
        for (module, name), where in _OWN_CLASSES.items():
            try:
                names[getattr(importlib.import_module(where[0]), where[1])] = (module, name)
            except (ImportError, AttributeError):
                continue
        _written_names = names
    return names.get(cls) or (cls.__module__, cls.__name__)


def loaded_data_class(module: str, name: str) -> type | None:
    """A data class of an already imported module (nothing is imported here)."""
    mod = sys.modules.get(module)
    cls = getattr(mod, name, None) if mod is not None else None
    return cls if is_data_class(cls) else None
