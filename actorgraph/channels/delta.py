"""Import-compatible path: ``from actorgraph.channels.delta import DeltaChannel`` (beta)."""

from actorgraph.channels._delta import DeltaChannel

__all__ = ("DeltaChannel",)
