"""Issue 2 scenarios: the engine's per-step, per-invoke and per-task overhead, no persistence.

Every builder here takes ``api`` from the import shim, so the same graph code runs on both
libraries. Builders that issue 6 reuses with a checkpointer take it as a keyword.
"""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

from benchmarks.registry import Case, expect, scenario
from benchmarks.shim import Api

# --------------------------------------------------------------------------- chain


class Count(TypedDict):
    count: int


def _inc(state: Count) -> dict[str, int]:
    return {"count": state["count"] + 1}


def build_chain(api: Api, n: int, checkpointer: Any = None) -> Any:
    """``n`` nodes in a line, each adding 1 to ``count``."""
    g = api.StateGraph(Count)
    names = [f"n{i}" for i in range(n)]
    for name in names:
        g.add_node(name, _inc)
    g.add_edge(api.START, names[0])
    for a, b in zip(names, names[1:]):
        g.add_edge(a, b)
    g.add_edge(names[-1], api.END)
    return g.compile(checkpointer=checkpointer)


@scenario(
    "chain_1000",
    title="1,000-node chain, one sync invoke",
    unit="step", n=1000, quick_n=100,
)
def chain(api: Api, n: int) -> Case:
    graph = build_chain(api, n)
    config = {"recursion_limit": n + 10}
    return Case(
        run=lambda: graph.invoke({"count": 0}, config),
        check=lambda out: expect(out, {"count": n}),
        graphs=(graph,),
    )


# --------------------------------------------------------------------------- 3-node line


class X(TypedDict):
    x: int


def build_line3(api: Api) -> Any:
    g = api.StateGraph(X)
    g.add_node("a", lambda s: {"x": s["x"] + 1})
    g.add_node("b", lambda s: {"x": s["x"] * 2})
    g.add_node("c", lambda s: {"x": s["x"] - 3})
    g.add_edge(api.START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", "c")
    g.add_edge("c", api.END)
    return g.compile()


@scenario(
    "invoke_3node_2000",
    title="2,000 sequential sync invokes of a 3-node line graph",
    unit="invoke", n=2000, quick_n=200,
)
def invoke_3node(api: Api, n: int) -> Case:
    graph = build_line3(api)

    def run() -> list[Any]:
        return [graph.invoke({"x": i}) for i in range(n)]

    return Case(
        run=run, check=lambda out: expect(out, [{"x": (i + 1) * 2 - 3} for i in range(n)]), graphs=(graph,)
    )


# --------------------------------------------------------------------------- Send fan-out


class FanOut(TypedDict):
    n: int
    results: Annotated[list, operator.add]


async def _double(arg: dict[str, int]) -> dict[str, list[int]]:
    return {"results": [arg["i"] * 2]}


async def _nap_then_double(arg: dict[str, int]) -> dict[str, list[int]]:
    await asyncio.sleep(0.05)
    return {"results": [arg["i"] * 2]}


def build_send_fanout(api: Api, worker: Any) -> Any:
    """START routes ``Send("worker", {"i": i})`` for i in range(n); workers append to results."""
    g = api.StateGraph(FanOut)
    g.add_node("worker", worker)
    g.add_conditional_edges(
        api.START, lambda s: [api.Send("worker", {"i": i}) for i in range(s["n"])]
    )
    g.add_edge("worker", api.END)
    return g.compile()


def _fanout_expected(n: int) -> dict[str, Any]:
    # Results are applied in task (Send) order, never completion order: exact list, not a set.
    return {"n": n, "results": [2 * i for i in range(n)]}


def _send_case(api: Api, n: int, worker: Any) -> Case:
    graph = build_send_fanout(api, worker)

    async def run() -> Any:
        return await graph.ainvoke({"n": n, "results": []})

    return Case(run=run, check=lambda out: expect(out, _fanout_expected(n)), graphs=(graph,))


@scenario(
    "send_1000",
    title="Send fan-out to 1,000 trivial async workers (ainvoke)",
    unit="task", n=1000, quick_n=100,
)
def send_1000(api: Api, n: int) -> Case:
    return _send_case(api, n, _double)


@scenario(
    "send_10000",
    title="Send fan-out to 10,000 trivial async workers (ainvoke)",
    unit="task", n=10_000, quick_n=1000,
)
def send_10000(api: Api, n: int) -> Case:
    return _send_case(api, n, _double)


@scenario(
    "send_sleep_1000",
    title="Send fan-out to 1,000 async workers each awaiting asyncio.sleep(0.05) (ideal: 50 ms)",
    unit="task", n=1000, quick_n=100, warm_n=2,
)
def send_sleep_1000(api: Api, n: int) -> Case:
    return _send_case(api, n, _nap_then_double)


# --------------------------------------------------------------------------- subgraph fan-out


class Sub(TypedDict):
    x: int
    results: Annotated[list, operator.add]


def build_subgraph_fanout(api: Api, checkpointer: Any = None) -> Any:
    """``Send("sub", {"x": i})`` to a compiled 2-node subgraph; each run appends ``(i+1)*10``.

    The subgraph's ``x`` is not a parent key, so only its ``results`` reach the parent.
    """
    s = api.StateGraph(Sub)
    s.add_node("inc", lambda st: {"x": st["x"] + 1})
    s.add_node("emit", lambda st: {"results": [st["x"] * 10]})
    s.add_edge(api.START, "inc")
    s.add_edge("inc", "emit")
    s.add_edge("emit", api.END)
    sub = s.compile()

    g = api.StateGraph(FanOut)
    g.add_node("sub", sub)
    g.add_conditional_edges(
        api.START, lambda st: [api.Send("sub", {"x": i}) for i in range(st["n"])]
    )
    g.add_edge("sub", api.END)
    return g.compile(checkpointer=checkpointer)


def subgraph_expected(n: int) -> dict[str, Any]:
    return {"n": n, "results": [(i + 1) * 10 for i in range(n)]}


@scenario(
    "subgraph_send_100",
    title="Send fan-out to a compiled 2-node subgraph, 100 subgraph runs (sync invoke)",
    unit="subgraph run", n=100, quick_n=20, warm_n=3,
)
def subgraph_send_100(api: Api, n: int) -> Case:
    graph = build_subgraph_fanout(api)
    return Case(
        run=lambda: graph.invoke({"n": n, "results": []}),
        check=lambda out: expect(out, subgraph_expected(n)),
        graphs=(graph,),
    )


# --------------------------------------------------------------------------- small branching graph


class Collatz(TypedDict, total=False):
    x: int
    kind: str
    y: int


def _kind(x: int) -> str:
    return "even" if x % 2 == 0 else "odd"


def _classify(s: Collatz) -> Collatz:
    return {"kind": _kind(s["x"])}


def _even(s: Collatz) -> Collatz:
    return {"y": s["x"] // 2}


def _odd(s: Collatz) -> Collatz:
    return {"y": 3 * s["x"] + 1}


async def _aclassify(s: Collatz) -> Collatz:
    return _classify(s)


async def _aeven(s: Collatz) -> Collatz:
    return _even(s)


async def _aodd(s: Collatz) -> Collatz:
    return _odd(s)


def build_small(api: Api, use_async: bool) -> Any:
    """classify -> (even | odd) -> END: a router, a conditional edge and a leaf."""
    g = api.StateGraph(Collatz)
    classify, even, odd = (_aclassify, _aeven, _aodd) if use_async else (_classify, _even, _odd)
    g.add_node("classify", classify)
    g.add_node("even", even)
    g.add_node("odd", odd)
    g.add_edge(api.START, "classify")
    g.add_conditional_edges("classify", lambda s: s["kind"], ["even", "odd"])
    g.add_edge("even", api.END)
    g.add_edge("odd", api.END)
    return g.compile()


def small_expected(n: int) -> list[dict[str, Any]]:
    return [
        {"x": i, "kind": _kind(i), "y": i // 2 if i % 2 == 0 else 3 * i + 1} for i in range(n)
    ]


@scenario(
    "concurrent_ainvoke_500",
    title="500 concurrent ainvokes (asyncio.gather) of a small async branching graph",
    unit="invoke", n=500, quick_n=50,
)
def concurrent_ainvoke(api: Api, n: int) -> Case:
    graph = build_small(api, use_async=True)

    async def run() -> list[Any]:
        return list(await asyncio.gather(*(graph.ainvoke({"x": i}) for i in range(n))))

    return Case(run=run, check=lambda out: expect(out, small_expected(n)), graphs=(graph,))


@scenario(
    "sync_invoke_1000",
    title="1,000 sequential sync invokes of the same small graph, sync nodes",
    unit="invoke", n=1000, quick_n=100,
)
def sync_invoke(api: Api, n: int) -> Case:
    graph = build_small(api, use_async=False)

    def run() -> list[Any]:
        return [graph.invoke({"x": i}) for i in range(n)]

    return Case(run=run, check=lambda out: expect(out, small_expected(n)), graphs=(graph,))
