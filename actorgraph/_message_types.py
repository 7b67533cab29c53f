"""Chat message types that need no LangChain, and the rules that turn message-like values
(dicts, ``(role, content)`` tuples, strings) into them. The bottom layer of the messages
feature: ``add_messages`` builds on it, and so will the serializer and ``messages`` stream.

When ``langchain_core`` is installed, message-like values become LangChain messages
instead (see :func:`coerce_messages`), so code written against LangGraph, which hands
``state["messages"]`` straight to a LangChain chat model, keeps working.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from typing import Any, ClassVar, Literal, NotRequired, TypeAlias, TypedDict

import msgspec

from actorgraph.errors import InvalidMessageError

__all__ = (
    "AIMessage",
    "AnyMessage",
    "BaseMessage",
    "HumanMessage",
    "InvalidMessageError",
    "MessageContent",
    "MessageLike",
    "RemoveMessage",
    "SystemMessage",
    "ToolCall",
    "ToolMessage",
    "coerce_message",
    "coerce_messages",
    "is_remove",
    "langchain_installed",
    "short_repr",
    "to_langchain",
)


_REPR_LIMIT = 200


def short_repr(value: Any) -> str:
    """``repr`` cut to a readable length: an error names a value, it doesn't dump it.

    Not ``reprlib``: it sorts dict keys, and the value should read as the user wrote it.
    """
    text = repr(value)
    return text if len(text) <= _REPR_LIMIT else f"{text[:_REPR_LIMIT]}... ({len(text)} chars)"


MessageContent: TypeAlias = str | list[str | dict[str, Any]]
"""A message's content: plain text, or a list of content blocks (text, images, ...)."""


class ToolCall(TypedDict):
    """A tool call requested by an AI message (LangChain's shape, not OpenAI's)."""

    name: str
    args: dict[str, Any]
    id: str | None
    type: NotRequired[Literal["tool_call"]]


class BaseMessage(
    msgspec.Struct,
    kw_only=True,
    tag_field="type",
    omit_defaults=True,
    repr_omit_defaults=True,
):
    """Base of the chat messages. Subclasses set ``type`` and take ``content`` first.

    msgspec Structs rather than dataclasses: they are cheap to build and compare, print
    only the fields that were set, and encode (``type`` is the tag of the tagged union
    ``AnyMessage``) without a custom serializer. Not frozen: ``add_messages`` gives a
    message without an id one, in place, as LangGraph does, so the id a node sees in its
    output is the one stored in the state. Fields other than ``content`` are keyword-only,
    as in LangChain.
    """

    type: ClassVar[str]
    id: str | None = None
    name: str | None = None
    additional_kwargs: dict[str, Any] = {}
    response_metadata: dict[str, Any] = {}

    @property
    def text(self) -> str:
        """The text of the content: the string itself, or its text blocks joined."""
        content: Any = getattr(self, "content", "")
        if isinstance(content, str):
            return content
        return "".join(
            block if isinstance(block, str) else str(block.get("text", ""))
            for block in content
            if isinstance(block, str) or block.get("type") == "text"
        )

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """Let a pydantic state model hold messages (``list[AnyMessage]``) without
        ``arbitrary_types_allowed``: instances pass through, dicts are coerced."""
        from pydantic_core import core_schema

        def validate(value: Any) -> Any:
            if isinstance(value, cls):
                return value
            if isinstance(value, dict):
                message = coerce_message(value)
                if isinstance(message, cls):
                    return message
            raise ValueError(f"expected a {cls.__name__}, got {short_repr(value)}")

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(msgspec.to_builtins),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        """The message's JSON Schema (its fields, ``type`` fixed to its tag), inlined."""
        return _inline_refs(msgspec.json.schema(cls))


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$ref``s to its own ``$defs`` replaced by what they name."""
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref[len("#/$defs/"):]])
            return {k: walk(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


class HumanMessage(BaseMessage, tag="human"):
    """A message from the user."""

    type: ClassVar[Literal["human"]] = "human"
    content: MessageContent


class AIMessage(BaseMessage, tag="ai"):
    """A message from the model, possibly asking for tool calls."""

    type: ClassVar[Literal["ai"]] = "ai"
    content: MessageContent
    tool_calls: list[ToolCall] = []
    usage_metadata: dict[str, Any] | None = None


class SystemMessage(BaseMessage, tag="system"):
    """Instructions for the model (also what a ``developer`` role becomes)."""

    type: ClassVar[Literal["system"]] = "system"
    content: MessageContent


class ToolMessage(BaseMessage, tag="tool"):
    """The result of one tool call; ``tool_call_id`` names the call it answers."""

    type: ClassVar[Literal["tool"]] = "tool"
    content: MessageContent
    tool_call_id: str
    status: Literal["success", "error"] = "success"
    artifact: Any = None


class RemoveMessage(BaseMessage, tag="remove"):
    """Written to a messages key, deletes the message with this id (``add_messages``);
    the id ``REMOVE_ALL_MESSAGES`` clears everything written before it."""

    type: ClassVar[Literal["remove"]] = "remove"
    id: str  # type: ignore[assignment]  # required here: it names what to delete
    content: MessageContent = ""


AnyMessage: TypeAlias = HumanMessage | AIMessage | SystemMessage | ToolMessage | RemoveMessage
"""Any actorgraph message; a tagged union, so ``msgspec`` decodes it by ``type``."""

MessageLike: TypeAlias = Any
"""What ``add_messages`` accepts as one message: a message object (actorgraph's or
LangChain's), a dict with ``role``/``type`` and ``content``, a ``(role, content)`` tuple,
or a string (a human message). ``Any`` because LangChain's classes are optional."""


# -- coercion without LangChain --------------------------------------------------------

_ROLES: dict[str, type[BaseMessage]] = {
    "human": HumanMessage,
    "user": HumanMessage,
    "ai": AIMessage,
    "assistant": AIMessage,
    "system": SystemMessage,
    "developer": SystemMessage,
    "tool": ToolMessage,
    "remove": RemoveMessage,
}
_ROLE_NAMES = "'user'/'human', 'assistant'/'ai', 'system', 'developer', 'tool' or 'remove'"

# Class names in LangChain's serialized envelope ({"lc": 1, "type": "constructor", "id":
# [..., "HumanMessage"], "kwargs": {...}}): read by name from an allow-list, never imported.
_ENVELOPE_ROLES: dict[str, str] = {
    f"{name}{suffix}": role
    for name, role in (
        ("HumanMessage", "human"),
        ("AIMessage", "ai"),
        ("SystemMessage", "system"),
        ("ToolMessage", "tool"),
    )
    for suffix in ("", "Chunk")
} | {"RemoveMessage": "remove"}

_FIELDS: dict[type[BaseMessage], frozenset[str]] = {
    cls: frozenset(cls.__struct_fields__) - {"content"} for cls in set(_ROLES.values())
}


def coerce_message(value: Any) -> BaseMessage:
    """One message-like value as an actorgraph message (message objects pass through).

    Follows LangChain's conventions so the same inputs mean the same thing: ``role`` is
    read before ``type``; ``developer`` becomes a system message tagged in
    ``additional_kwargs``; keys that are not fields of the message go to
    ``additional_kwargs``; OpenAI-style tool calls become ``ToolCall`` dicts.
    """
    if isinstance(value, BaseMessage):
        return value
    if isinstance(value, str):
        return HumanMessage(value)
    if isinstance(value, dict):
        return _from_dict(value)
    if isinstance(value, (tuple, list)):
        if len(value) == 2 and isinstance(value[0], str):
            return _build(value[0], value[1], {}, value)
        raise InvalidMessageError(
            f"Can't make a message from {short_repr(value)}: a tuple must be "
            "(role, content), e.g. ('user', 'hi').",
            value,
        )
    raise InvalidMessageError(
        f"Can't make a message from {short_repr(value)} (of type {type(value).__name__}): pass a "
        "message object, a dict with 'role' and 'content', a (role, content) tuple or a "
        "string.",
        value,
    )


def _from_dict(value: dict[str, Any]) -> BaseMessage:
    if (
        value.get("lc") == 1
        and value.get("type") == "constructor"
        and isinstance(value.get("id"), list)
        and value["id"]
        and isinstance(value.get("kwargs"), dict)
    ):
        role = _ENVELOPE_ROLES.get(str(value["id"][-1]))
        if role is None:
            raise InvalidMessageError(
                f"Can't make a message from {short_repr(value)}: serialized class "
                f"{value['id'][-1]!r} is not a message class actorgraph knows.",
                value,
            )
        return _build_checked({**value["kwargs"], "type": role}, value)
    return _build_checked(dict(value), value)


def _build_checked(fields: dict[str, Any], original: Any) -> BaseMessage:
    role = fields.pop("role", None)
    kind = fields.pop("type", None)  # an alias of role; with both, role wins (LangChain)
    if role is None:
        role = kind
    if not isinstance(role, str):
        raise InvalidMessageError(
            f"Can't make a message from {short_repr(original)}: a message dict needs a "
            "'role' (or 'type') key naming who speaks, e.g. {'role': 'user', 'content': 'hi'}.",
            original,
        )
    if "content" in fields:
        content = fields.pop("content")
    elif role == "remove":
        content = ""  # a removal carries no content; LangChain insists on the key anyway
    else:
        raise InvalidMessageError(
            f"Can't make a message from {short_repr(original)}: a message dict needs a "
            "'content' key, e.g. {'role': 'user', 'content': 'hi'}.",
            original,
        )
    return _build(role, content, fields, original)


def _build(role: str, content: Any, extra: dict[str, Any], original: Any) -> BaseMessage:
    cls = _ROLES.get(role)
    if cls is None:
        raise InvalidMessageError(
            f"Can't make a message from {short_repr(original)}: unknown role {role!r}; use "
            f"{_ROLE_NAMES}.",
            original,
        )
    if content is None:
        content = ""
    if not isinstance(content, (str, list)):
        raise InvalidMessageError(
            f"Can't make a message from {short_repr(original)}: content must be a string "
            f"or a list of content blocks, not {type(content).__name__}.",
            original,
        )
    fields = _FIELDS[cls]
    kwargs: dict[str, Any] = {}
    additional = dict(extra.pop("additional_kwargs", None) or {})
    for key, item in extra.items():
        if key in fields:
            if item is not None:  # None means "not set": keep the field's default
                kwargs[key] = item
        else:
            additional[key] = item
    if role == "developer":
        additional["__openai_role__"] = "developer"
    if additional:
        kwargs["additional_kwargs"] = additional
    if "tool_calls" in kwargs:
        kwargs["tool_calls"] = _tool_calls(kwargs["tool_calls"], original)
    if cls is ToolMessage and not isinstance(kwargs.get("tool_call_id"), str):
        raise InvalidMessageError(
            f"Can't make a tool message from {short_repr(original)}: it needs a "
            "'tool_call_id' naming the tool call it answers.",
            original,
        )
    if cls is RemoveMessage:
        if not isinstance(kwargs.get("id"), str):
            raise InvalidMessageError(
                f"Can't make a RemoveMessage from {short_repr(original)}: it needs the 'id' "
                "of the message to remove.",
                original,
            )
        return RemoveMessage(**kwargs)
    build: Callable[..., BaseMessage] = cls  # every concrete class takes content first
    return build(content, **kwargs)


def _tool_calls(calls: Any, original: Any) -> list[ToolCall]:
    if not isinstance(calls, list):
        raise InvalidMessageError(
            f"Can't make a message from {short_repr(original)}: 'tool_calls' must be a list.",
            original,
        )
    out: list[ToolCall] = []
    for call in calls:
        if not isinstance(call, dict):
            raise InvalidMessageError(
                f"Can't make a message from {short_repr(original)}: tool call "
                f"{short_repr(call)} is not a dict.",
                original,
            )
        function = call.get("function")
        if isinstance(function, dict):  # OpenAI: {"id", "function": {"name", "arguments"}}
            name, args = function.get("name"), function.get("arguments") or {}
            if isinstance(args, str):
                try:
                    args = json.loads(args, strict=False)
                except ValueError as exc:
                    raise InvalidMessageError(
                        f"Can't make a message from {short_repr(original)}: the arguments "
                        f"of tool call {name!r} are not valid JSON ({exc}).",
                        original,
                    ) from exc
            call = {"name": name, "args": args, "id": call.get("id")}
        if not isinstance(call.get("name"), str):
            raise InvalidMessageError(
                f"Can't make a message from {short_repr(original)}: tool call "
                f"{short_repr(call)} has no 'name'.",
                original,
            )
        out.append({**call, "type": "tool_call"})  # type: ignore[typeddict-item]
    return out


# -- LangChain interop ----------------------------------------------------------------

_langchain_found: bool | None = None


def langchain_installed() -> bool:
    """Whether ``langchain_core`` can be imported (looked up once; not imported here)."""
    global _langchain_found
    if _langchain_found is None:
        try:
            _langchain_found = importlib.util.find_spec("langchain_core") is not None
        except (ImportError, ValueError):
            _langchain_found = False
    return _langchain_found


def _lc() -> Any:
    import langchain_core.messages as lc_messages

    return lc_messages


_KEEP, _CHUNK, _COERCE = 0, 1, 2
# type -> what to do with its instances. Classified once per type, so a long history of
# messages costs one set() of types, not an isinstance ladder per message.
_KINDS: dict[type, int] = {cls: _KEEP for cls in _FIELDS}


def _kind(tp: type) -> int:
    kind = _KINDS.get(tp)
    if kind is not None:
        return kind
    kind = _COERCE
    if issubclass(tp, BaseMessage):
        kind = _KEEP
    else:
        # An instance of a LangChain class means its module is loaded: no import needed.
        lc = sys.modules.get("langchain_core.messages")
        if lc is not None and issubclass(tp, lc.BaseMessageChunk):
            kind = _CHUNK
        elif lc is not None and issubclass(tp, lc.BaseMessage):
            kind = _KEEP
    _KINDS[tp] = kind
    return kind


def coerce_messages(values: list[Any]) -> list[Any]:
    """Message-like values as message objects; ``values`` itself when all are messages.

    Message objects are kept as they are, actorgraph's and LangChain's alike; LangChain
    chunks become whole messages. Anything else becomes a LangChain message when
    ``langchain_core`` is installed (what LangGraph does, and what a LangChain chat model
    needs to read the list back), else an actorgraph message.
    """
    if all(_kind(tp) == _KEEP for tp in set(map(type, values))):
        return values
    return [_coerce_one(value) for value in values]


def _coerce_one(value: Any) -> Any:
    kind = _kind(type(value))
    if kind == _KEEP:
        return value
    if kind == _CHUNK:
        return _lc().message_chunk_to_message(value)
    if langchain_installed():
        return _langchain_coerce(value)
    return coerce_message(value)


def _langchain_coerce(value: Any) -> Any:
    lc = _lc()
    if (
        isinstance(value, dict)
        and "content" not in value
        and value.get("role", value.get("type")) == "remove"
    ):
        value = {**value, "content": ""}
    try:
        (message,) = lc.convert_to_messages([value])
    except (ValueError, TypeError, KeyError, NotImplementedError) as exc:
        # Our own rules mostly reject the same values, with a message that says what to
        # fix and reads the same with or without LangChain: prefer it when it applies.
        try:
            coerce_message(value)
        except InvalidMessageError as ours:
            raise ours from exc
        reason = str(exc).splitlines()[0].rstrip(".") if str(exc) else type(exc).__name__
        if isinstance(exc, KeyError):
            reason = f"missing key {reason}"
        raise InvalidMessageError(
            f"Can't make a LangChain message from {short_repr(value)}: {reason}.", value
        ) from exc
    if isinstance(message, lc.BaseMessageChunk):
        message = lc.message_chunk_to_message(message)
    return message


_LC_CLASS_NAMES: dict[str, str] = {
    "human": "HumanMessage",
    "ai": "AIMessage",
    "system": "SystemMessage",
    "tool": "ToolMessage",
    "remove": "RemoveMessage",
}


def to_langchain(message: Any) -> Any:
    """Any message-like value as a LangChain message (``langchain_core`` must be installed).

    For code paths that hand messages to LangChain's own converters, which don't know
    actorgraph's classes.
    """
    if not isinstance(message, BaseMessage):
        lc = sys.modules.get("langchain_core.messages")
        if lc is not None and isinstance(message, lc.BaseMessage):
            return _coerce_one(message)
        return _langchain_coerce(message)
    cls: Callable[..., Any] = getattr(_lc(), _LC_CLASS_NAMES[message.type])
    fields = msgspec.structs.asdict(message)
    if message.type == "remove":
        fields.pop("content", None)
    return cls(**fields)


def is_remove(message: Any) -> bool:
    """Whether ``message`` is a removal, actorgraph's or LangChain's."""
    return getattr(message, "type", None) == "remove"
