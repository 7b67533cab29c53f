"""A three-node graph runs through invoke, stream and ainvoke."""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

import pytest

from actorgraph.graph import END, START, StateGraph


class State(TypedDict):
    log: Annotated[list, operator.add]
    n: int


def _graph():
    g = StateGraph(State)
    g.add_node("a", lambda s: {"log": ["a"], "n": 1})
    g.add_node("b", lambda s: {"log": ["b"]})
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", END)
    return g.compile()


def test_invoke_runs_nodes_in_order() -> None:
    assert _graph().invoke({"log": [], "n": 0}) == {"log": ["a", "b"], "n": 1}


@pytest.mark.anyio
async def test_ainvoke_and_astream_agree() -> None:
    g = _graph()
    out = await g.ainvoke({"log": [], "n": 0})
    chunks = [c async for c in g.astream({"log": [], "n": 0}, stream_mode="values")]
    assert chunks[-1] == out == {"log": ["a", "b"], "n": 1}
