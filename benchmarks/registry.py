"""The scenario registry: name -> how to build, run and check one benchmark.

A scenario is a function ``build(api, n) -> Case`` registered with ``@scenario(...)``. It builds
and compiles its graphs (untimed) and returns a ``Case``: ``run`` is the timed work (sync or
async), ``check`` asserts the result is exactly right, so a wrong answer never scores.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks.shim import FEATURES, Api

__all__ = ("Case", "CheckFailed", "Scenario", "REGISTRY", "scenario", "expect", "select")


class CheckFailed(AssertionError):
    """The scenario's result is not what it should be."""


@dataclass
class Case:
    """One prepared run. ``run()`` is timed; ``check(result)`` raises ``CheckFailed``."""

    run: Callable[[], Any]
    check: Callable[[Any], None]
    #: units of work done by ``run`` (defaults to the scenario's ``n``)
    units: int | None = None
    #: called after the check, untimed (close a database, remove a temp dir)
    close: Callable[[], None] | None = None
    #: the compiled graphs ``run`` uses: on actorgraph the worker reads their (and their
    #: subgraphs') ``statistics()`` after the timed run, for the report's engine section
    graphs: tuple[Any, ...] = ()

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.run)


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    #: what one unit is: "step", "invoke", "task", "subgraph run", ...
    unit: str
    #: size of a full run and of a --quick run
    n: int
    quick_n: int
    build: Callable[[Api, int], Case]
    #: feature tags from ``shim.FEATURES`` this scenario imports
    requires: tuple[str, ...] = ("graph",)
    #: the issue that asked for it; ``--scenarios`` accepts a group name as well as a name
    group: str = "core"
    #: size of the untimed warm-up instance built and run before the timed one
    warm_n: int = 10
    notes: str = ""


REGISTRY: dict[str, Scenario] = {}


def scenario(
    name: str,
    *,
    title: str,
    unit: str,
    n: int,
    quick_n: int,
    requires: tuple[str, ...] = (),
    group: str = "core",
    warm_n: int = 10,
    notes: str = "",
) -> Callable[[Callable[[Api, int], Case]], Callable[[Api, int], Case]]:
    """Register ``build(api, n) -> Case`` under ``name``. ``graph`` is always required."""
    needs = ("graph", *(r for r in requires if r != "graph"))
    unknown = [r for r in needs if r not in FEATURES]
    if unknown:
        raise ValueError(f"scenario {name!r}: unknown feature tags {unknown}")

    def register(build: Callable[[Api, int], Case]) -> Callable[[Api, int], Case]:
        if name in REGISTRY:
            raise ValueError(f"scenario {name!r} is registered twice")
        REGISTRY[name] = Scenario(
            name=name, title=title, unit=unit, n=n, quick_n=quick_n, build=build,
            requires=needs, group=group, warm_n=min(warm_n, quick_n), notes=notes,
        )
        return build

    return register


def expect(actual: Any, expected: Any, what: str = "result") -> None:
    """Raise ``CheckFailed`` unless ``actual == expected``, with a short, readable diff."""
    if actual == expected:
        return
    raise CheckFailed(f"{what}: {_describe_diff(actual, expected)}")


def _describe_diff(actual: Any, expected: Any) -> str:
    if isinstance(actual, dict) and isinstance(expected, dict):
        if actual.keys() != expected.keys():
            extra = sorted(map(str, actual.keys() - expected.keys()))
            missing = sorted(map(str, expected.keys() - actual.keys()))
            return f"keys differ: extra {extra[:5]}, missing {missing[:5]}"
        for key in expected:
            if actual[key] != expected[key]:
                return f"[{key!r}] " + _describe_diff(actual[key], expected[key])
    if isinstance(actual, list) and isinstance(expected, list):
        if len(actual) != len(expected):
            return f"length {len(actual)} != expected {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            if a != e:
                return f"first difference at [{i}]: " + _describe_diff(a, e)
    return f"{_short(actual)} != expected {_short(expected)}"


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def select(patterns: list[str] | None) -> list[Scenario]:
    """Scenarios matching names, fnmatch patterns or group names (all when ``patterns`` is empty)."""
    from fnmatch import fnmatchcase

    if not patterns:
        return list(REGISTRY.values())
    chosen: list[Scenario] = []
    for pattern in patterns:
        hits = [
            s for s in REGISTRY.values()
            if fnmatchcase(s.name, pattern) or s.group == pattern
        ]
        if not hits:
            raise KeyError(
                f"no scenario or group matches {pattern!r}; "
                f"try --list (groups: {sorted({s.group for s in REGISTRY.values()})})"
            )
        chosen.extend(s for s in hits if s not in chosen)
    return chosen
