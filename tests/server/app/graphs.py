"""Small graphs the server tests serve (written as a user would, against actorgraph)."""

import asyncio
import operator
import os
import time
from typing import Annotated, TypedDict

from actorgraph.config import get_stream_writer
from actorgraph.func import entrypoint
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import interrupt


class S(TypedDict, total=False):
    x: int
    sleep: float
    log: Annotated[list, operator.add]


def a(state: S) -> dict:
    return {"x": state.get("x", 0) + 1, "log": ["a"]}


def b(state: S) -> dict:
    get_stream_writer()({"custom": "from b"})
    return {"x": state["x"] * 10, "log": ["b"]}


def c(state: S) -> dict:
    return {"log": ["c"]}


simple_builder = StateGraph(S)
simple_builder.add_node("a", a)
simple_builder.add_node("b", b)
simple_builder.add_node("c", c)
simple_builder.add_edge(START, "a")
simple_builder.add_edge("a", "b")
simple_builder.add_edge("b", "c")
simple_builder.add_edge("c", END)
simple = simple_builder.compile()


def ask(state: S) -> dict:
    answer = interrupt({"question": "what is x?"})
    return {"x": int(answer), "log": ["ask"]}


def after(state: S) -> dict:
    return {"log": ["after"]}


_hitl = StateGraph(S)
_hitl.add_node("ask", ask)
_hitl.add_node("after", after)
_hitl.add_edge(START, "ask")
_hitl.add_edge("ask", "after")
hitl = _hitl.compile()


def inner_step(state: S) -> dict:
    get_stream_writer()({"inner": True})
    return {"x": state.get("x", 0) + 100, "log": ["inner"]}


_inner = StateGraph(S)
_inner.add_node("inner_step", inner_step)
_inner.add_edge(START, "inner_step")
inner = _inner.compile()

_parent = StateGraph(S)
_parent.add_node("pre", a)
_parent.add_node("sub", inner)
_parent.add_edge(START, "pre")
_parent.add_edge("pre", "sub")
parent = _parent.compile()


def slow_step(state: S) -> dict:
    time.sleep(state.get("sleep", 0.3))
    return {"x": state.get("x", 0) + 1, "log": [f"s{state.get('x', 0)}"]}


def route(state: S) -> str:
    return "slow_step" if state["x"] < 4 else END


_slow = StateGraph(S)
_slow.add_node("slow_step", slow_step)
_slow.add_edge(START, "slow_step")
_slow.add_conditional_edges("slow_step", route)
slow = _slow.compile()


class Until(S, total=False):
    until: int  # the x that ends the loop


async def aslow_step(state: Until) -> dict:
    await asyncio.sleep(state.get("sleep", 0.3))
    return {"x": state.get("x", 0) + 1, "log": [f"s{state.get('x', 0)}"]}


_aslow = StateGraph(Until)
_aslow.add_node("aslow_step", aslow_step)
_aslow.add_edge(START, "aslow_step")
_aslow.add_conditional_edges("aslow_step", lambda s: "aslow_step" if s["x"] < s.get("until", 4) else END)
aslow = _aslow.compile()


def counted_step(state: S) -> dict:
    """Like slow_step, and notes each finished run of itself in a file (the crash test
    counts them)."""
    time.sleep(state.get("sleep", 0.3))
    with open(os.environ["ACTORGRAPH_TEST_COUNT_FILE"], "a") as f:
        f.write(f"{state.get('x', 0)}\n")
    return {"x": state.get("x", 0) + 1, "log": [f"s{state.get('x', 0)}"]}


_counted = StateGraph(S)
_counted.add_node("counted_step", counted_step)
_counted.add_edge(START, "counted_step")
_counted.add_conditional_edges("counted_step", lambda s: "counted_step" if s["x"] < 4 else END)
counted = _counted.compile()


def boom(state: S) -> dict:
    raise ValueError(f"boom: x was {state.get('x')!r}")


_failing = StateGraph(S)
_failing.add_node("a", a)
_failing.add_node("boom", boom)
_failing.add_edge(START, "a")
_failing.add_edge("a", "boom")
failing = _failing.compile()


def make_graph(config: dict):
    """A factory: the graph depends on the run's config."""
    step = (config.get("configurable") or {}).get("step", 1)

    def add(state: S) -> dict:
        return {"x": state.get("x", 0) + step, "log": ["add"]}

    g = StateGraph(S)
    g.add_node("add", add)
    g.add_edge(START, "add")
    return g.compile()


@entrypoint()
def func(inputs: dict) -> dict:
    return {"doubled": inputs.get("x", 0) * 2}


class Where(Until, total=False):
    pids: Annotated[list, operator.add]  # the server process each step ran in


async def where_step(state: Where) -> dict:
    """Says which server process runs it (a custom event, then in the state)."""
    get_stream_writer()({"pid": os.getpid(), "x": state.get("x", 0)})
    await asyncio.sleep(state.get("sleep", 0.3))
    return {"x": state.get("x", 0) + 1, "pids": [os.getpid()]}


_where = StateGraph(Where)
_where.add_node("where_step", where_step)
_where.add_edge(START, "where_step")
_where.add_conditional_edges("where_step", lambda s: "where_step" if s["x"] < s.get("until", 4) else END)
where = _where.compile()
