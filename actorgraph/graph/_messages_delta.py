"""``_messages_delta_reducer``: chat history as a ``DeltaChannel`` reducer (beta).

It folds a whole batch of writes in one pass - a message whose id is already there
replaces it in place, ``RemoveMessage(id)`` drops it, ``RemoveMessage(id=
REMOVE_ALL_MESSAGES)`` empties the history - and is batching-invariant, as a delta
channel's reducer must be: folding ``xs`` then ``ys`` equals folding ``xs + ys``.
Unlike ``add_messages`` it never assigns ids and ignores removals of unknown ids.
"""

from __future__ import annotations

from typing import Any

from actorgraph._message_types import coerce_messages, is_remove
from actorgraph.graph._messages import REMOVE_ALL_MESSAGES

__all__ = ("_messages_delta_reducer",)


def _messages_delta_reducer(state: list[Any], writes: list[Any]) -> list[Any]:
    """The history ``state`` with ``writes`` applied (each a message-like value or a list
    of them; a tuple is one ``(role, content)`` message)."""
    flat: list[Any] = []
    for w in writes:
        if isinstance(w, list):
            flat.extend(w)
        else:
            flat.append(w)
    history = coerce_messages(list(state)) if state else []
    new = coerce_messages(flat)
    for i in range(len(new) - 1, -1, -1):
        m = new[i]
        if is_remove(m) and m.id == REMOVE_ALL_MESSAGES:
            history = []
            new = new[i + 1 :]
            break
    where: dict[Any, int] = {m.id: i for i, m in enumerate(history) if m.id is not None}
    out: list[Any] = list(history)
    for m in new:
        mid = m.id
        if mid is None:
            out.append(m)
        elif is_remove(m):
            if mid in where:
                out[where.pop(mid)] = None
        elif mid in where:
            out[where[mid]] = m
        else:
            where[mid] = len(out)
            out.append(m)
    return [m for m in out if m is not None]


# what's written to a delta channel with this reducer is messages: the engine gives every
# message-like write an id before it is saved (see actors/_delta.py, ensure_message_ids)
_messages_delta_reducer.reads_messages = True  # type: ignore[attr-defined]
