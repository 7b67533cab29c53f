"""Coercing ``context=`` to the graph's ``context_schema``, decided once at compile."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

__all__ = ("context_coercer",)


def _identity(value: Any) -> Any:
    return value


def context_coercer(schema: Any) -> Callable[[Any], Any]:
    """A dict becomes an instance when the schema is a dataclass or pydantic model; with a
    TypedDict (or no schema) the dict is passed as is."""
    if schema is None or not isinstance(schema, type):
        return _identity
    name = schema.__name__
    if dataclasses.is_dataclass(schema):
        def to_dataclass(value: Any) -> Any:
            if isinstance(value, dict):
                try:
                    return schema(**value)
                except TypeError as exc:
                    exc.add_note(f"While building the run's context_schema '{name}' from {value!r}")
                    raise
            return value

        return to_dataclass
    validate = getattr(schema, "model_validate", None)
    if validate is not None:
        def to_model(value: Any) -> Any:
            if isinstance(value, dict):
                try:
                    return validate(value)
                except Exception as exc:
                    exc.add_note(f"While building the run's context_schema '{name}' from {value!r}")
                    raise
            return value

        return to_model
    return _identity
