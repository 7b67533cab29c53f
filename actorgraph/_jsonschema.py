"""Input, output and context schemas as pydantic models and JSON Schema, as LangGraph
builds them (``get_input_jsonschema()`` and friends of compiled graphs and entrypoints;
the server's assistant schemas). ``info`` is a graph schema's ``SchemaInfo``.

pydantic is imported only when one of these is asked for: a graph runs without it.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, get_args, get_origin


__all__ = ("context_jsonschema", "model_jsonschema", "schema_model", "value_model")


def is_typeddict(schema: Any) -> bool:
    return isinstance(schema, type) and issubclass(schema, dict) and hasattr(schema, "__total__")


def _pydantic() -> Any:
    try:
        import pydantic
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "JSON schemas of a graph's input, output and context are built with pydantic: "
            "pip install pydantic"
        ) from None
    return pydantic


def _is_model(typ: Any) -> bool:
    if not isinstance(typ, type):
        return False
    base = getattr(_pydantic(), "BaseModel")
    return issubclass(typ, base)


def _optional(typ: Any) -> bool:
    return get_origin(typ) in (typing.Union, getattr(__import__("types"), "UnionType", None)) and type(
        None
    ) in get_args(typ)


def _default(schema: Any, key: str, typ: Any) -> Any:
    """A field's default: the class's own default, ``None`` for an optional type, else
    required."""
    if dataclasses.is_dataclass(schema):
        for f in dataclasses.fields(schema):
            if f.name == key:
                if f.default is not dataclasses.MISSING:
                    return f.default
                if f.default_factory is not dataclasses.MISSING:
                    return f.default_factory()
                break
    elif isinstance(schema, type) and key in vars(schema) and not callable(vars(schema)[key]):
        return vars(schema)[key]
    return None if _optional(typ) else ...


def value_model(name: str, typ: Any) -> Any:
    """A pydantic root model of one value (a graph whose state is a bare value, or an
    entrypoint's input or output)."""
    pydantic = _pydantic()
    return type(name, (pydantic.RootModel[typ],), {"__module__": __name__})  # type: ignore[name-defined]


def _defaulted_value_model(name: str, typ: Any) -> Any:
    """``value_model`` defaulting to None: a StateGraph's bare-value state, as LangGraph
    gives it."""
    pydantic = _pydantic()
    namespace = {"__module__": __name__, "__annotations__": {"root": typ}, "root": None}
    return type(name, (pydantic.RootModel[typ],), namespace)  # type: ignore[name-defined]


def schema_model(schema: Any, info: Any, channels: dict[str, Any], name: str) -> Any:
    """The pydantic model of one of a graph's schemas: the schema itself when it is a
    model; otherwise a model named ``name`` with a field per channel of the schema."""
    pydantic = _pydantic()
    if _is_model(schema):
        return schema
    keys = [k for k in info.channels if k in channels]
    if keys == ["__root__"]:
        return _defaulted_value_model(name, channels["__root__"].UpdateType)
    fields = {k: (channels[k].UpdateType, _default(schema, k, channels[k].UpdateType)) for k in keys}
    return pydantic.create_model(name, **fields)


def model_jsonschema(schema: Any, info: Any, channels: dict[str, Any], name: str) -> dict[str, Any]:
    """JSON Schema of one of a graph's schemas, as LangGraph gives it: a pydantic model's
    own, a TypedDict's as pydantic reads it (titled with its name), else the model
    ``schema_model`` builds."""
    pydantic = _pydantic()
    if _is_model(schema):
        return schema.model_json_schema()
    if is_typeddict(schema):
        try:
            return pydantic.TypeAdapter(schema).json_schema()
        except pydantic.errors.PydanticUserError:
            # a typing.TypedDict on Python < 3.12, which pydantic won't read (LangGraph
            # fails here): the model of its channels, under its name
            return schema_model(schema, info, channels, schema.__name__).model_json_schema()
    return schema_model(schema, info, channels, name).model_json_schema()


def context_jsonschema(context_schema: Any) -> dict[str, Any] | None:
    """JSON Schema of a graph's ``context_schema`` (``None`` when it has none)."""
    if context_schema is None:
        return None
    pydantic = _pydantic()
    if _is_model(context_schema):
        return context_schema.model_json_schema()
    if is_typeddict(context_schema) or dataclasses.is_dataclass(context_schema):
        return pydantic.TypeAdapter(context_schema).json_schema()
    raise ValueError(
        f"Invalid context schema type: {context_schema}. Must be a BaseModel, TypedDict or dataclass."
    )
