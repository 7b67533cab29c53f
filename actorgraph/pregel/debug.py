"""Import-compatible path: the ``debug`` stream's payload helpers."""

from actorgraph.pregel._debug import (
    COLOR_MAPPING,
    TASK_NAMESPACE,
    get_bolded_text,
    get_colored_text,
    is_multiple_channel_write,
    map_task_result_writes,
    rm_pregel_keys,
)
from actorgraph.pregel._sinks import map_debug_tasks

__all__ = (
    "COLOR_MAPPING",
    "TASK_NAMESPACE",
    "get_bolded_text",
    "get_colored_text",
    "is_multiple_channel_write",
    "map_debug_tasks",
    "map_task_result_writes",
    "rm_pregel_keys",
)
