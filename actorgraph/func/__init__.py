"""The functional API: ``@entrypoint`` and ``@task`` (import-compatible with
``langgraph.func``)."""

from actorgraph.func._entrypoint import entrypoint
from actorgraph.func._task import task

__all__ = ("entrypoint", "task")
