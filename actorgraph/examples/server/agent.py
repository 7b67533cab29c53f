"""The graph ``actorgraph dev`` serves in the README's "Serve it" section: it writes a short
story one sentence per step, so a stream shows each step as it happens."""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

from actorgraph.graph import END, START, StateGraph


class Story(TypedDict, total=False):
    topic: str
    sentences: Annotated[list[str], operator.add]


def opening(state: Story) -> Story:
    return {"sentences": [f"Once upon a time there was a {state.get('topic', 'graph')}."]}


def middle(state: Story) -> Story:
    return {"sentences": ["It ran one super-step after another."]}


def ending(state: Story) -> Story:
    return {"sentences": ["And every checkpoint was saved."]}


builder = StateGraph(Story)
builder.add_node("opening", opening)
builder.add_node("middle", middle)
builder.add_node("ending", ending)
builder.add_edge(START, "opening")
builder.add_edge("opening", "middle")
builder.add_edge("middle", "ending")
builder.add_edge("ending", END)
graph = builder.compile()
