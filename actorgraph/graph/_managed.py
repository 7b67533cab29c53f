"""Managed values: state keys computed by the runtime for each task, never stored.

``remaining_steps: RemainingSteps`` is how many super-steps the run may still take before
the recursion limit; ``is_last_step: IsLastStep`` is true one step before that, which is
when an agent loop should answer instead of calling another tool.
"""

from __future__ import annotations

from typing import Annotated, Any

__all__ = (
    "IsLastStep",
    "IsLastStepManager",
    "ManagedValueMapping",
    "ManagedValueSpec",
    "RemainingSteps",
    "RemainingStepsManager",
    "is_managed",
    "managed_getter",
)


class ManagedValueSpec:
    """Marker base: ``Annotated[T, <subclass>]`` declares a managed state key."""

    @staticmethod
    def get(step: int, stop: int) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


class RemainingStepsManager(ManagedValueSpec):
    @staticmethod
    def get(step: int, stop: int) -> int:
        return stop - step


class IsLastStepManager(ManagedValueSpec):
    @staticmethod
    def get(step: int, stop: int) -> bool:
        return step == stop - 1


RemainingSteps = Annotated[int, RemainingStepsManager]
IsLastStep = Annotated[bool, IsLastStepManager]

ManagedValueMapping = dict[str, type[ManagedValueSpec]]
"""A schema's managed keys: key -> its manager class."""


def is_managed(meta: Any) -> bool:
    return isinstance(meta, type) and issubclass(meta, ManagedValueSpec)


def managed_getter(meta: type[ManagedValueSpec]) -> Any:
    return meta.get
