"""Import-compatible path: ``from actorgraph.channels.binop import BinaryOperatorAggregate``."""

from actorgraph.channels._aggregate import BinaryOperatorAggregate
from actorgraph.channels._aggregate import overwrite_value as _get_overwrite  # noqa: F401 - LangGraph's private name

__all__ = ("BinaryOperatorAggregate",)
