"""Public constants (import-compatible with ``langgraph.constants``).

``Send`` and ``Interrupt`` (now in ``actorgraph.types``) and the reserved names that are
private now (``PREVIOUS``, ``INTERRUPT``, ...) still import from here, with a
deprecation warning, as they do from LangGraph."""

from typing import Any

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


def __getattr__(name: str) -> Any:
    import warnings

    from actorgraph.warnings import LangGraphDeprecatedSinceV10

    if name in ("Send", "Interrupt"):
        warnings.warn(
            f"Importing {name} from langgraph.constants is deprecated. "
            f"Please use 'from langgraph.types import {name}' instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        from actorgraph import _types

        return getattr(_types, name)
    from actorgraph import _constants

    if not name.startswith("_") and hasattr(_constants, name):
        warnings.warn(
            f"Importing {name} from langgraph.constants is deprecated. This constant is now "
            "private and should not be used directly. Please let the LangGraph team know if you "
            "need this value.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        return getattr(_constants, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
