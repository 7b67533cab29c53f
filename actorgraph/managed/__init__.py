"""Import-compatible path: managed state values."""

from actorgraph.graph._managed import IsLastStep, RemainingSteps

__all__ = ("IsLastStep", "RemainingSteps")
