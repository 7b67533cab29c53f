"""State schemas -> channels, managed values and input coercion, analysed once at compile.

A schema is a TypedDict, a dataclass, a pydantic model, a msgspec Struct or any class
with annotations. Each annotated key becomes a channel: ``Annotated[T, reducer]`` a
``BinaryOperatorAggregate``, ``Annotated[T, SomeChannel]`` that channel,
``RemainingSteps``/``IsLastStep`` a managed value, anything else a ``LastValue``.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
import typing
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any, ClassVar, NotRequired, Required, get_args, get_origin, get_type_hints

from actorgraph.channels import BaseChannel, BinaryOperatorAggregate, DeltaChannel, LastValue
from actorgraph.errors import GraphValidationError
from actorgraph.graph._managed import is_managed, managed_getter

__all__ = (
    "ROOT",
    "SchemaInfo",
    "analyze_schema",
    "field_channel",
    "get_channel",
    "inferred_input_schema",
    "is_typeddict",
    "warn_invalid_state_schema",
)


def is_typeddict(schema: Any) -> bool:
    return isinstance(schema, type) and issubclass(schema, dict) and hasattr(schema, "__total__")


def _is_pydantic(schema: Any) -> bool:
    return isinstance(schema, type) and hasattr(schema, "model_fields") and hasattr(
        schema, "model_validate"
    )


def _is_msgspec(schema: Any) -> bool:
    return isinstance(schema, type) and hasattr(schema, "__struct_fields__")


def _hints(schema: type) -> dict[str, Any]:
    module = sys.modules.get(getattr(schema, "__module__", ""), None)
    globalns = dict(vars(module)) if module is not None else None
    try:
        return typing.get_type_hints(schema, globalns=globalns, include_extras=True)
    except NameError as exc:
        # a guess would silently turn reducer keys into plain keys: refuse instead
        raise GraphValidationError(
            f"Can't read the annotations of state schema '{schema.__name__}': {exc}. A type "
            "or reducer named in a string annotation (e.g. under `from __future__ import "
            "annotations`) must be importable from the schema's module, not local to a function."
        ) from exc


ROOT = "__root__"
"""The channel of a state that is a bare value rather than a set of keys."""


def _has_annotations(schema: type) -> bool:
    try:
        return bool(typing.get_type_hints(schema))
    except Exception:
        return bool(getattr(schema, "__annotations__", None))


def _strip(ann: Any) -> Any:
    while get_origin(ann) in (Required, NotRequired, ClassVar):
        ann = get_args(ann)[0]
    return ann


def _signature_text(fn: Callable[..., Any]) -> str:
    try:
        return str(inspect.signature(fn))
    except (TypeError, ValueError):
        return "?"


def _reducer_arity_ok(fn: Callable[..., Any]) -> bool:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return True  # builtins without signatures (operator.add)
    params = list(sig.parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 2 or any(p.kind is p.VAR_POSITIONAL for p in params)


def channel_for(key: str, ann: Any, schema_name: str) -> tuple[BaseChannel[Any, Any, Any] | None, Any]:
    """(channel, managed getter): exactly one is not None."""
    ann = _strip(ann)
    if get_origin(ann) is Annotated:
        base, *metas = get_args(ann)
        for meta in reversed(metas):
            if is_managed(meta):
                return None, managed_getter(meta)
            if isinstance(meta, DeltaChannel):
                # its value type comes from the annotation: Annotated[dict, DeltaChannel(f)]
                return meta.with_type(base).from_checkpoint(_missing()), None
            if isinstance(meta, BaseChannel):
                return meta.from_checkpoint(_missing()), None
            if isinstance(meta, type) and issubclass(meta, BaseChannel):
                return meta(base), None
            if callable(meta) and not isinstance(meta, type):
                if not _reducer_arity_ok(meta):
                    raise GraphValidationError(
                        f"Invalid reducer signature. Expected (a, b) -> c. Got {_signature_text(meta)}: "
                        f"the reducer {getattr(meta, '__name__', meta)!r} of key '{key}' of schema "
                        f"'{schema_name}' must take two arguments (current value, update) and return "
                        "the new value.",
                        key=key,
                    )
                return BinaryOperatorAggregate(base, meta), None
        return LastValue(base), None
    return LastValue(ann), None


def field_channel(annotation: Any) -> BaseChannel[Any, Any, Any] | None:
    """The channel an ``Annotated[T, ...]`` annotation names in its metadata (an instance
    as given, or a channel class made for ``T``); ``None`` when it names none."""
    if get_origin(annotation) is not Annotated:
        return None
    base, *metas = get_args(annotation)
    for meta in metas:
        if isinstance(meta, DeltaChannel):
            return meta.with_type(base)
        if isinstance(meta, BaseChannel):
            return meta
        if isinstance(meta, type) and issubclass(meta, BaseChannel):
            return meta(base)
    return None


def warn_invalid_state_schema(schema: Any) -> None:
    """Warn about a state schema that is neither a type nor ``Annotated[type, reducer]``
    (a value passed by mistake), as LangGraph does."""
    if isinstance(schema, type) or get_args(schema):
        return
    warnings.warn(
        f"Invalid state_schema: {schema}. Expected a type or Annotated[type, reducer]. Please "
        "provide a valid schema to ensure correct updates.",
        stacklevel=3,
    )


def get_channel(name: str, annotation: Any, *, allow_managed: bool = True) -> Any:
    """The channel (or managed value) a state key declared as ``annotation`` gets."""
    chan, getter = channel_for(name, annotation, name)
    if chan is None:
        if not allow_managed:
            raise ValueError(f"This {annotation} not allowed in this position")
        return getter
    chan.key = name
    return chan


def _missing() -> Any:
    from actorgraph.channels._base import MISSING

    return MISSING


@dataclasses.dataclass(slots=True, eq=False)
class SchemaInfo(Mapping[str, Any]):
    """One schema's channels and managed values. As a mapping it is what LangGraph's
    ``builder.schemas[schema]`` is, key -> channel or managed value (libraries read it:
    langgraph-swarm checks ``"active_agent" in builder.schemas[builder.state_schema]``)."""

    schema: Any
    kind: str
    channels: dict[str, BaseChannel[Any, Any, Any]]
    managed: dict[str, Any]
    mapper: Callable[[dict[str, Any]], Any] | None

    def __getitem__(self, key: str) -> Any:
        if key in self.channels:
            return self.channels[key]
        return self.managed[key]

    def __iter__(self) -> Iterator[str]:
        yield from self.channels
        yield from self.managed

    def __len__(self) -> int:
        return len(self.channels) + len(self.managed)


def analyze_schema(schema: Any) -> SchemaInfo:
    """Channels, managed values and the dict -> object mapper of one schema."""
    name = getattr(schema, "__name__", repr(schema))
    if schema is dict or schema is Any or schema is None:
        return SchemaInfo(schema, "dict", {}, {}, None)
    if not isinstance(schema, type) or (
        not is_typeddict(schema) and not _is_pydantic(schema) and not dataclasses.is_dataclass(schema)
        and not _is_msgspec(schema) and not _has_annotations(schema)
    ):
        # a bare value is the whole state (``Annotated[list, operator.add]``, ``int``):
        # one channel, ``__root__``, that nodes read and update directly
        chan, getter = channel_for(ROOT, schema, name)
        if getter is not None:
            raise GraphValidationError(f"A managed value can't be a graph's whole state: {schema!r}")
        assert chan is not None
        return SchemaInfo(schema, "root", {ROOT: chan}, {}, None)
    hints = _hints(schema)
    if dataclasses.is_dataclass(schema):
        kind = "dataclass"
        names = [f.name for f in dataclasses.fields(schema)]
        init_names = [f.name for f in dataclasses.fields(schema) if f.init]
    elif _is_pydantic(schema):
        kind = "pydantic"
        names = list(schema.model_fields)  # type: ignore[attr-defined]
        init_names = names
    elif _is_msgspec(schema):
        kind = "msgspec"
        names = list(schema.__struct_fields__)  # type: ignore[attr-defined]
        init_names = names
    elif is_typeddict(schema):
        kind = "typeddict"
        names = list(hints)
        init_names = names
    else:
        kind = "class"
        names = [k for k, v in hints.items() if get_origin(v) is not ClassVar]
        init_names = names
    channels: dict[str, BaseChannel[Any, Any, Any]] = {}
    managed: dict[str, Any] = {}
    for key in names:
        ann = hints.get(key, Any)
        if get_origin(ann) is ClassVar:
            continue
        chan, getter = channel_for(key, ann, name)
        if getter is not None:
            managed[key] = getter
        else:
            assert chan is not None
            channels[key] = chan
    if list(channels) == [ROOT] and not managed:
        # a schema whose one key is ``__root__`` (LangGraph's spelling of a bare-value
        # state with a reducer): the value is the whole state
        return SchemaInfo(schema, "root", channels, {}, None)
    mapper = _mapper(schema, kind, tuple(init_names))
    return SchemaInfo(schema, kind, channels, managed, mapper)


def _mapper(schema: Any, kind: str, init_names: tuple[str, ...]) -> Callable[[dict[str, Any]], Any] | None:
    if kind in ("typeddict", "dict"):
        return None
    if kind == "pydantic":
        validate = schema.model_validate

        def to_model(values: dict[str, Any]) -> Any:
            return validate(values)

        return to_model
    if kind == "dataclass":
        allowed = frozenset(init_names)

        def to_dataclass(values: dict[str, Any]) -> Any:
            return schema(**{k: v for k, v in values.items() if k in allowed})

        return to_dataclass

    def to_object(values: dict[str, Any]) -> Any:
        return schema(**values)

    return to_object


def inferred_input_schema(action: Any) -> Any:
    """The class in a node's first parameter annotation, when it is a state schema."""
    target = action
    if not (inspect.isfunction(target) or inspect.ismethod(target)):
        call = getattr(action, "__call__", None)  # noqa: B004
        if call is None or not inspect.ismethod(call):
            return None
        target = call
    try:
        hints = get_type_hints(target)
        params = list(inspect.signature(target).parameters)
    except Exception:
        return None
    if not params:
        return None
    hint = hints.get(params[0])
    if isinstance(hint, type):
        try:
            if get_type_hints(hint):
                return hint
        except Exception:
            return None
    return None
