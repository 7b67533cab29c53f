"""Public constants (import-compatible with ``langgraph.constants``)."""

from actorgraph._constants import (
    CONF,
    CONFIG_KEY_CHECKPOINTER,
    END,
    START,
    TAG_HIDDEN,
    TAG_NOSTREAM,
    TASKS,
)

__all__ = (
    "TAG_NOSTREAM",
    "TAG_HIDDEN",
    "START",
    "END",
    "CONF",
    "TASKS",
    "CONFIG_KEY_CHECKPOINTER",
)
