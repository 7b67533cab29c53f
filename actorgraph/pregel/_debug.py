"""Helpers for the ``debug`` stream's payloads and console output (``pregel.debug``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from actorgraph._constants import CONF

__all__ = (
    "COLOR_MAPPING",
    "TASK_NAMESPACE",
    "get_bolded_text",
    "get_colored_text",
    "is_multiple_channel_write",
    "map_task_result_writes",
    "rm_pregel_keys",
)

TASK_NAMESPACE = UUID("6ba7b831-9dad-11d1-80b4-00c04fd430c8")

COLOR_MAPPING = {
    "black": "0;30",
    "red": "0;31",
    "green": "0;32",
    "yellow": "0;33",
    "blue": "0;34",
    "magenta": "0;35",
    "cyan": "0;36",
    "white": "0;37",
    "gray": "1;30",
}


def is_multiple_channel_write(value: Any) -> bool:
    """Whether a task result entry already holds several writes to one channel."""
    return isinstance(value, dict) and isinstance(value.get("$writes"), list)


def map_task_result_writes(writes: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """A task's writes as a result dict: ``{channel: value}``, or ``{channel: {"$writes":
    [...]}}`` for a channel written more than once."""
    result: dict[str, Any] = {}
    for channel, value in writes:
        if channel in result:
            before = result[channel]
            many = before["$writes"] if is_multiple_channel_write(before) else [before]
            result[channel] = {"$writes": [*many, value]}
        else:
            result[channel] = value
    return result


def rm_pregel_keys(config: Any) -> Any:
    """``config`` without the engine's ``__pregel_*`` configurable keys."""
    if config is None:
        return None
    return {CONF: {k: v for k, v in (config.get(CONF) or {}).items() if not k.startswith("__pregel_")}}


def get_colored_text(text: str, color: str) -> str:
    return f"\033[1;3{COLOR_MAPPING[color]}m{text}\033[0m"


def get_bolded_text(text: str) -> str:
    return f"\033[1m{text}\033[0m"
