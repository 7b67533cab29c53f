"""``langgraph._internal._typing`` for libraries built on LangGraph (see the package doc)."""

from __future__ import annotations

from typing_extensions import TypedDict

__all__ = ("DeprecatedKwargs",)


class DeprecatedKwargs(TypedDict):
    """The type of ``**kwargs`` that a function accepts only to warn about removed
    parameters (langgraph-supervisor's and langgraph-swarm's factories annotate theirs
    with it): no key is declared."""
