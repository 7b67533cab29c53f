"""Import-compatible path: ``from actorgraph.channels.named_barrier_value import NamedBarrierValue``."""

from actorgraph.channels._barrier import NamedBarrierValue, NamedBarrierValueAfterFinish

__all__ = ("NamedBarrierValue", "NamedBarrierValueAfterFinish")
