"""Import-compatible path: ``from actorgraph.managed.is_last_step import RemainingSteps``."""

from actorgraph.graph._managed import IsLastStep, RemainingSteps, RemainingStepsManager

__all__ = ("IsLastStep", "RemainingSteps", "RemainingStepsManager")
