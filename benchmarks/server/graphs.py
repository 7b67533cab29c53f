"""The graph both servers serve, written once with ``langgraph`` imports.

``app_source(lib)`` gives the file for one side: for actorgraph the import lines are swapped
(``langgraph`` -> ``actorgraph``), nothing else changes, which is the migration the project
promises. ``write_app`` lays out a folder with ``langgraph.json`` for ``<lib> dev``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

__all__ = (
    "GRAPH_ID", "GRAPH_SOURCE", "INPUT", "EXPECTED", "STEPS_GRAPH_ID", "STEPS", "STEPS_SOURCE",
    "swap_imports", "app_source", "write_app",
)  # fmt: skip

GRAPH_ID = "bench"
STEPS_GRAPH_ID = "steps"

#: three nodes in a line, a reducer key and a custom-stream write: the shape of a small agent
#: step without the model call
GRAPH_SOURCE = '''\
import operator
from typing import Annotated, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    x: int
    log: Annotated[list, operator.add]


def plan(state: State):
    return {"x": state["x"] + 1, "log": ["plan"]}


def act(state: State):
    get_stream_writer()({"acting": state["x"]})
    return {"x": state["x"] * 10, "log": ["act"]}


def report(state: State):
    return {"log": ["report"]}


builder = StateGraph(State)
builder.add_node("plan", plan)
builder.add_node("act", act)
builder.add_node("report", report)
builder.add_edge(START, "plan")
builder.add_edge("plan", "act")
builder.add_edge("act", "report")
builder.add_edge("report", END)
graph = builder.compile()
'''

#: nodes of the ``steps`` graph: one checkpoint each
STEPS = 4

#: ``STEPS`` nodes in a line, each a super-step (a checkpoint), appending ``"<run>:<i>"`` to
#: ``log`` and 1 to ``count``: a thread's final state tells which steps of which run were kept,
#: so a lost or doubled step shows (the load of ``benchmarks.server.scale``). ``sleep`` (seconds
#: per step, from the input) keeps runs in flight long enough for double-texting to collide.
STEPS_SOURCE = f'''\
import asyncio
import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    run: str
    sleep: float
    log: Annotated[list, operator.add]
    count: Annotated[int, operator.add]


def make_step(i: int):
    async def step(state: State):
        await asyncio.sleep(state.get("sleep", 0.0))
        return {{"log": [f"{{state['run']}}:{{i}}"], "count": 1}}

    return step


builder = StateGraph(State)
previous = START
for i in range({STEPS}):
    builder.add_node(f"s{{i}}", make_step(i))
    builder.add_edge(previous, f"s{{i}}")
    previous = f"s{{i}}"
builder.add_edge(previous, END)
graph = builder.compile()
'''

INPUT = {"x": 1}
#: the final state of one run from INPUT: a run that ends with anything else does not count
EXPECTED = {"x": 20, "log": ["plan", "act", "report"]}

_IMPORT = re.compile(r"^(\s*)(from|import)(\s+)langgraph(?=[.\s])", re.M)


def swap_imports(source: str, lib: str) -> str:
    """The source with ``import langgraph...`` / ``from langgraph... import`` lines rewritten to
    ``lib``; other occurrences of the word (strings, comments, names) are left alone."""
    if lib == "langgraph":
        return source
    return _IMPORT.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}{lib}", source)


def app_source(lib: str) -> str:
    """The graph module for ``lib`` (``"langgraph"`` or ``"actorgraph"``)."""
    return swap_imports(GRAPH_SOURCE, lib)


def write_app(folder: Path, lib: str) -> Path:
    """``folder/graph.py``, ``folder/steps.py`` and ``folder/langgraph.json`` serving them as
    ``GRAPH_ID`` and ``STEPS_GRAPH_ID``; returns the config path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "graph.py").write_text(app_source(lib))
    (folder / "steps.py").write_text(swap_imports(STEPS_SOURCE, lib))
    config = folder / "langgraph.json"
    graphs = {GRAPH_ID: "./graph.py:graph", STEPS_GRAPH_ID: "./steps.py:graph"}
    config.write_text(json.dumps({"dependencies": ["."], "graphs": graphs}))
    return config
