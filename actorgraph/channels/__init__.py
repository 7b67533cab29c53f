"""Channel kinds: how each state key combines the writes of a super-step.

Pure data structures (no I/O, no async); the barrier actor owns a run's instances.
"""

from actorgraph.channels._aggregate import BinaryOperatorAggregate, Topic
from actorgraph.channels._barrier import NamedBarrierValue, NamedBarrierValueAfterFinish
from actorgraph.channels._base import BaseChannel
from actorgraph.channels._delta import DeltaChannel
from actorgraph.channels._value import (
    AnyValue,
    EphemeralValue,
    LastValue,
    LastValueAfterFinish,
    UntrackedValue,
)

__all__ = (
    "AnyValue",
    "BaseChannel",
    "BinaryOperatorAggregate",
    "DeltaChannel",
    "EphemeralValue",
    "LastValue",
    "LastValueAfterFinish",
    "NamedBarrierValue",
    "NamedBarrierValueAfterFinish",
    "Topic",
    "UntrackedValue",
)
