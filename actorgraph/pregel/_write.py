"""What a Pregel node writes: ``ChannelWrite`` and its entries, as declared data.

A node's writers are read once, when its program is built: each entry says which
channel gets the node's output (or a fixed value, or a mapped one). The engine never
runs a writer as code of its own; ``writes_of`` turns one output into ``(channel,
value)`` pairs and Sends, in declaration order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from actorgraph._constants import TASKS
from actorgraph._types import Send
from actorgraph.errors import InvalidUpdateError

__all__ = (
    "PASSTHROUGH",
    "SKIP_WRITE",
    "ChannelWrite",
    "ChannelWriteEntry",
    "ChannelWriteTupleEntry",
    "writes_of",
)


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


PASSTHROUGH: Any = _Marker("PASSTHROUGH")
"""An entry's value is the node's output."""

SKIP_WRITE: Any = _Marker("SKIP_WRITE")
"""Returned by an entry's mapper: write nothing."""


class ChannelWriteEntry(NamedTuple):
    """Write to ``channel`` the node's output (``value=PASSTHROUGH``) or a fixed value,
    through ``mapper`` if given; ``skip_none`` leaves ``None`` unwritten."""

    channel: str
    value: Any = PASSTHROUGH
    skip_none: bool = False
    mapper: Callable[..., Any] | None = None


class ChannelWriteTupleEntry(NamedTuple):
    """``mapper(output)`` returns the ``(channel, value)`` pairs to write (or None)."""

    mapper: Callable[[Any], Sequence[tuple[str, Any]] | None]
    value: Any = PASSTHROUGH
    static: Sequence[tuple[str, Any, str | None]] | None = None


WriteEntry = ChannelWriteEntry | ChannelWriteTupleEntry | Send


class ChannelWrite:
    """A node's writer: the entries its output is written through."""

    __slots__ = ("writes", "tags")

    def __init__(self, writes: Sequence[WriteEntry], *, tags: Sequence[str] | None = None) -> None:
        for w in writes:
            if not isinstance(w, (ChannelWriteEntry, ChannelWriteTupleEntry, Send)):
                raise TypeError(f"ChannelWrite takes ChannelWriteEntry, ChannelWriteTupleEntry or Send items, got {w!r}")
            if isinstance(w, ChannelWriteEntry) and w.channel == TASKS:
                raise InvalidUpdateError("Cannot write to the reserved channel TASKS", key=TASKS)
        self.writes: list[WriteEntry] = list(writes)
        self.tags = list(tags) if tags else None

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        if not name:
            parts = [
                w.channel if isinstance(w, ChannelWriteEntry) else "..." if isinstance(w, ChannelWriteTupleEntry) else w.node
                for w in self.writes
            ]
            name = f"ChannelWrite<{','.join(parts)}>"
        return f"{name}{suffix}" if suffix else name

    def __repr__(self) -> str:
        return f"ChannelWrite(writes={self.writes!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ChannelWrite) and other.writes == self.writes

    __hash__ = None  # type: ignore[assignment]


def writes_of(
    entries: Sequence[WriteEntry], output: Any, writes: list[tuple[str, Any]], sends: list[Send]
) -> None:
    """Append what ``entries`` write for a node's ``output`` to ``writes`` / ``sends``."""
    for w in entries:
        if isinstance(w, ChannelWriteEntry):
            value = output if w.value is PASSTHROUGH else w.value
            if w.mapper is not None:
                value = w.mapper(value)
            if value is SKIP_WRITE or (w.skip_none and value is None):
                continue
            writes.append((w.channel, value))
        elif isinstance(w, ChannelWriteTupleEntry):
            pairs = w.mapper(output if w.value is PASSTHROUGH else w.value)
            for chan, value in pairs or ():
                if chan == TASKS:
                    if not isinstance(value, Send):
                        raise InvalidUpdateError(f"A write to {TASKS} must be a Send, got {value!r}", key=TASKS, value=value)
                    sends.append(value)
                else:
                    writes.append((chan, value))
        else:
            sends.append(w)
