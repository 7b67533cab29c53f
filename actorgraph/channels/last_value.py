"""Import-compatible path: ``from actorgraph.channels.last_value import LastValue``."""

from actorgraph.channels._value import LastValue, LastValueAfterFinish

__all__ = ("LastValue", "LastValueAfterFinish")
