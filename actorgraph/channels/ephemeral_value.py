"""Import-compatible path: ``from actorgraph.channels.ephemeral_value import EphemeralValue``."""

from actorgraph.channels._value import EphemeralValue

__all__ = ("EphemeralValue",)
