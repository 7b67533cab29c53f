"""The LangGraph test suites the compat run executes: which sdist, which pytest options.

Versions are pinned: a new LangGraph release is a deliberate bump here (and a new
reference run), never a silent drift in CI.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ("SUITES", "Suite", "pinned_version", "suite_named")


@dataclass(frozen=True)
class Suite:
    name: str
    """Our name for the suite (file names under compat/lists and compat/overlays)."""
    dist: str
    """The PyPI project whose sdist carries the tests."""
    version: str
    ini: dict[str, str] = field(default_factory=dict)
    """pytest ini options the suite's own pyproject sets (markers we register, asyncio mode)."""
    passthrough: tuple[tuple[str, str], ...] = ()
    """(langgraph.* package, dist) pairs: test tools that live in LangGraph's namespace
    without being part of its runtime, loaded from that dist's sdist as they are instead of
    being aliased to actorgraph."""

    overlay_always: bool = False
    """The overlay only points the suite at a service here (its conftest's database
    address): laid in the reference run on real LangGraph too."""

    library: bool = False
    """The sdist is a library built on LangGraph: its own code (the pinned version, not
    whatever the environment has installed) goes first on the path of its test run."""

    @property
    def sdist_prefix(self) -> str:
        return f"{self.dist.replace('-', '_')}-{self.version}"


_CONFORMANCE = ("langgraph.checkpoint.conformance", "langgraph-checkpoint-conformance")
_ASYNCIO_AUTO = {"asyncio_mode": "auto", "asyncio_default_fixture_loop_scope": "function"}

SUITES: tuple[Suite, ...] = (
    Suite("langgraph", "langgraph", "1.2.24", ini={"asyncio_mode": "strict"}),
    Suite("prebuilt", "langgraph-prebuilt", "1.1.3", ini=_ASYNCIO_AUTO),
    Suite("checkpoint", "langgraph-checkpoint", "4.3.2", ini=_ASYNCIO_AUTO),
    Suite(
        "checkpoint-sqlite",
        "langgraph-checkpoint-sqlite",
        "3.1.2",
        ini=_ASYNCIO_AUTO,
        passthrough=(_CONFORMANCE,),
    ),
    Suite(
        "checkpoint-postgres",
        "langgraph-checkpoint-postgres",
        "3.2.0",
        ini=_ASYNCIO_AUTO,
        passthrough=(_CONFORMANCE,),
        overlay_always=True,
    ),
    Suite(
        "conformance",
        "langgraph-checkpoint-conformance",
        "0.0.2",
        ini=_ASYNCIO_AUTO,
        passthrough=(_CONFORMANCE,),
    ),
    # libraries built on LangGraph (they import it unmodified, through the alias)
    Suite("supervisor", "langgraph-supervisor", "0.0.31", library=True),
    Suite("swarm", "langgraph-swarm", "0.1.0", library=True),
)


def pinned_version(dist: str) -> str:
    for suite in SUITES:
        if suite.dist == dist:
            return suite.version
    raise KeyError(dist)


def suite_named(name: str) -> Suite:
    for suite in SUITES:
        if suite.name == name:
            return suite
    raise SystemExit(f"compat: no suite named {name!r} (have: {', '.join(s.name for s in SUITES)})")
