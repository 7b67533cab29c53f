"""Importing this package registers every scenario. Add a module here to add scenarios."""

from benchmarks.scenarios import core, issue6, issue11, postgres  # noqa: F401  (registration side effects)
