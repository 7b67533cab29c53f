"""JSON schemas of a graph's input, output and context - the runnable-facing helpers
``Pregel`` shares with every compiled graph. pydantic is imported only when a schema is
asked for."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

__all__ = ("context_jsonschema", "fields_model", "root_model")


def root_model(name: str, typ: Any) -> Any:
    """A pydantic model whose schema is ``typ`` itself (a graph that takes one value)."""
    from pydantic import RootModel, create_model

    return create_model(name, __base__=RootModel[typ])  # type: ignore[valid-type]


def fields_model(name: str, fields: Mapping[str, Any]) -> Any:
    """A pydantic model with one optional field per channel."""
    from pydantic import create_model

    return create_model(name, **{k: (typ, None) for k, typ in fields.items()})  # type: ignore[call-overload]


def context_jsonschema(schema: Any) -> dict[str, Any] | None:
    """The JSON schema of a ``context_schema``: a pydantic model, TypedDict or dataclass."""
    if schema is None:
        return None
    model_json_schema = getattr(schema, "model_json_schema", None)
    if isinstance(schema, type) and callable(model_json_schema):
        return model_json_schema()  # type: ignore[no-any-return]
    from typing_extensions import is_typeddict

    if is_typeddict(schema) or dataclasses.is_dataclass(schema):
        from pydantic import TypeAdapter

        return TypeAdapter(schema).json_schema()
    raise ValueError(
        f"Invalid context schema type: {schema}. Must be a BaseModel, TypedDict or dataclass."
    )
