"""Import-compatible path: ``from actorgraph.channels.any_value import AnyValue``."""

from actorgraph.channels._value import AnyValue

__all__ = ("AnyValue",)
