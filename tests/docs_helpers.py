"""Helpers shared by the docs-example tests."""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

import pytest


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


class Tally(TypedDict):
    aggregate: Annotated[list, operator.add]


def _adder(letter: str):
    """A node that reports what it sees, then appends its own letter."""

    def node(state: Tally) -> dict:
        print(f'Adding "{letter}" to {state["aggregate"]}')
        return {"aggregate": [letter]}

    node.__name__ = letter.lower()
    return node


def _seer(letter: str):
    """The loop examples' node: prints ``Node X sees [...]`` and appends ``X``."""

    def node(state: Tally) -> dict:
        print(f"Node {letter} sees {state['aggregate']}")
        return {"aggregate": [letter]}

    node.__name__ = letter.lower()
    return node


def _per_step(lines: list[str]) -> list[object]:
    """Prints of parallel nodes come in thread order: compare those steps as sets."""
    out: list[object] = []
    for line in lines:
        if line.startswith(("Node C", "Node D")) and out and isinstance(out[-1], set):
            out[-1].add(line)
        elif line.startswith(("Node C", "Node D")):
            out.append({line})
        else:
            out.append(line)
    return out
