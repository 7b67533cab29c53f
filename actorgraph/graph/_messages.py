"""Chat history as state: the ``add_messages`` reducer, ``MessagesState``, and the legacy
``MessageGraph`` name. The message types and coercion rules live in
``actorgraph._message_types``; this module only merges lists of messages.
"""

# No ``from __future__ import annotations``: MessagesState's annotation stays a real
# object, so schema readers need not resolve names from this module to find the reducer.
import functools
import inspect
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeAlias, overload

from typing_extensions import TypedDict  # pydantic reads it (JSON schemas) on Python < 3.12

from actorgraph.errors import InvalidMessageError
from actorgraph._message_types import (
    AnyMessage,
    MessageLike,
    coerce_messages,
    is_remove,
    langchain_installed,
    short_repr,
    to_langchain,
)

__all__ = (
    "REMOVE_ALL_MESSAGES",
    "Messages",
    "MessagesState",
    "add_messages",
    "push_message",
)

REMOVE_ALL_MESSAGES = "__remove_all__"
"""``RemoveMessage(id=REMOVE_ALL_MESSAGES)`` in an update clears the messages before it."""

Messages: TypeAlias = list[MessageLike] | MessageLike
"""One message-like value or a list of them (either side of ``add_messages``)."""

MessageFormat: TypeAlias = Literal["langchain-openai"]

_UNSET: Any = object()


@overload
def add_messages(
    left: Messages, right: Messages, *, format: MessageFormat | None = None
) -> list[Any]: ...


@overload
def add_messages(
    *, format: MessageFormat | None = None
) -> Callable[[Messages, Messages], list[Any]]: ...


def add_messages(
    left: Any = _UNSET, right: Any = _UNSET, *, format: MessageFormat | None = None
) -> Any:
    """Merge messages into a chat history: the reducer of ``MessagesState["messages"]``.

    ``left`` is the current history and ``right`` the update; each may be one message-like
    value or a list (messages, dicts with ``role``/``type`` and ``content``,
    ``(role, content)`` tuples, strings). The result is a new list, so a history already
    saved in a checkpoint is never changed:

    - a message whose id is new is appended; one whose id is already there replaces that
      message where it stands, so an edited message keeps its place;
    - ``RemoveMessage(id=...)`` deletes the message with that id (an id that isn't there
      raises ``InvalidMessageError``, naming it); ``RemoveMessage(id=REMOVE_ALL_MESSAGES)``
      drops the whole history and whatever came before it in ``right``;
    - a message without an id gets a uuid4 string, assigned on the object itself, so a node
      that keeps a reference to its output sees the id the state stores.

    Called with only ``format`` it returns the reducer configured with it:
    ``Annotated[list, add_messages(format="langchain-openai")]`` stores messages as
    LangChain messages whose content is in OpenAI's shape (needs ``langchain_core``).

    Example::

        class State(TypedDict):
            messages: Annotated[list[AnyMessage], add_messages]

        add_messages([HumanMessage("hi", id="1")], {"role": "assistant", "content": "hey"})
        # [HumanMessage(content='hi', id='1'), AIMessage(content='hey', id='...')]
    """
    if format is not None:
        _check_format(format)
    if left is _UNSET or right is _UNSET:
        if left is _UNSET and right is _UNSET:
            return functools.partial(add_messages, format=format)
        raise TypeError(
            "add_messages takes both 'left' (the current messages) and 'right' (the update), "
            "or neither, to configure it: add_messages(format='langchain-openai')."
        )
    if format is None:
        coerce: Callable[[list[Any]], list[Any]] = coerce_messages
    else:
        coerce = _all_langchain
    merged = _merge(
        coerce(left if isinstance(left, list) else [left]),
        coerce(right if isinstance(right, list) else [right]),
    )
    return merged if format is None else _openai_format(merged)


# The engine (like LangGraph) recognises a reducer by its two positional parameters; the
# defaults above only exist for the configure-with-``format`` form, so show the reducer's
# signature to introspection.
add_messages.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [
        inspect.Parameter("left", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="Messages"),
        inspect.Parameter("right", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="Messages"),
        inspect.Parameter(
            "format",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation="MessageFormat | None",
        ),
    ],
    return_annotation="list[AnyMessage]",
)

# the result is a new list that keeps the saved messages as they are (a replacement by id
# is a new object): checkpoints may store just the messages a step added
add_messages.delta_storable = True  # type: ignore[attr-defined]


def _merge(left: list[Any], right: list[Any]) -> list[Any]:
    # Ids first: a message's id decides whether it appends, replaces or deletes.
    cut = -1
    for i, message in enumerate(right):
        if message.id is None:
            message.id = str(uuid.uuid4())
        elif message.id == REMOVE_ALL_MESSAGES and is_remove(message):
            cut = i
    if cut >= 0:
        # Unlike LangGraph, which returns what follows the marker as it is, merge it into
        # the empty history: duplicate ids still replace and removals still apply, so the
        # state never holds two messages with one id or a stray RemoveMessage.
        left, right = [], right[cut + 1 :]
    merged = list(left)
    position: dict[Any, int] = {}
    for i, message in enumerate(merged):
        if message.id is None:
            message.id = str(uuid.uuid4())
        position[message.id] = i
    removed: set[Any] = set()
    for message in right:
        at = position.get(message.id)
        if is_remove(message):
            if at is None:
                raise InvalidMessageError(
                    f"Attempting to delete a message with an ID that doesn't exist ('{message.id}'): "
                    f"RemoveMessage(id={message.id!r}) names a message that is not in the list (it "
                    f"holds {_ids_preview(merged)}). Remove only ids that are in the state, or use "
                    "RemoveMessage(id=REMOVE_ALL_MESSAGES) to clear it.",
                    message,
                )
            removed.add(message.id)
        elif at is None:
            position[message.id] = len(merged)
            merged.append(message)
        else:
            removed.discard(message.id)  # removed then re-added in one update: keep it
            merged[at] = message
    if removed:
        merged = [message for message in merged if message.id not in removed]
    return merged


def _ids_preview(messages: list[Any]) -> str:
    if not messages:
        return "no messages"
    ids = [m.id for m in messages[-5:]]
    more = f"{len(messages) - 5} more, then " if len(messages) > 5 else ""
    return f"{len(messages)} message(s): {more}ids {short_repr(ids)}"


@functools.cache
def _check_format(format: str) -> None:
    # Cached: a configured reducer checks its format on every call, for free after once.
    if format != "langchain-openai":
        raise ValueError(
            f"Unrecognized format={format!r}: add_messages supports 'langchain-openai' (or None, "
            "to keep messages as they are)."
        )
    if not langchain_installed():
        raise ImportError(
            "add_messages(format='langchain-openai') converts messages with langchain-core, "
            "which is not installed: `pip install langchain-core`, or drop the format."
        )
    from langchain_core.messages import convert_to_openai_messages

    if "include_id" not in inspect.signature(convert_to_openai_messages).parameters:
        raise ImportError(
            "add_messages(format='langchain-openai') needs a langchain-core whose "
            "convert_to_openai_messages() keeps message ids (include_id): upgrade it."
        )


def _all_langchain(values: list[Any]) -> list[Any]:
    return [to_langchain(value) for value in values]


def _openai_format(messages: list[Any]) -> list[Any]:
    from langchain_core.messages import convert_to_messages, convert_to_openai_messages

    # LangGraph drops ids here, so with this format a later update can never replace or
    # remove a message by id. Keep them; a message split off during the conversion (a
    # tool result inside a user message) gets a fresh one.
    out = convert_to_messages(convert_to_openai_messages(messages, include_id=True))
    for message in out:
        if message.id is None:
            message.id = str(uuid.uuid4())
    return out


class MessagesState(TypedDict):
    """A state with one key, ``messages``, merged by ``add_messages``; subclass it to add
    keys."""

    messages: Annotated[list[AnyMessage], add_messages]


def push_message(message: Any, *, state_key: str | None = "messages") -> Any:
    """Send a message (or a token chunk) to the ``messages`` stream from inside a node,
    and append it to the state key ``state_key`` unless that is ``None``.

    This is the way to stream a model's tokens without LangChain: push each chunk with
    ``state_key=None`` as it arrives, then return (or push) the whole message. The message
    needs an id (chunks of one reply share it): one without is a ``ValueError``.
    """
    from actorgraph.actors._context import current_task
    from actorgraph.errors import InvalidUpdateError

    tctx = current_task()
    if tctx is None:
        raise RuntimeError(
            "Called push_message() outside of a running graph: call it from inside a node."
        )
    msg = coerce_messages([message])[0]
    if not getattr(msg, "id", None):
        raise ValueError(
            f"Message ID is required: push_message() in node '{tctx.spec.name}' got a message "
            "without an id (give each message, or the chunks of one reply, an id)"
        )
    if state_key is not None:
        keys = tctx.run.cfg.program.state_key_set
        if state_key not in keys:
            raise InvalidUpdateError(
                f"push_message(state_key={state_key!r}) in node '{tctx.spec.name}': the state has "
                f"no such key (state keys: {sorted(keys)}); pass state_key=None to only stream it.",
                node=tctx.spec.name,
                key=state_key,
            )
    streamer = tctx.run.messages
    if streamer is not None:
        streamer.emit(tctx, msg, dedupe=False)
    if state_key is not None:
        tctx.writes.append((state_key, msg))
    return msg
