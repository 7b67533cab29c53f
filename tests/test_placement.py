"""Where a task runs (``actors._placement.decide``): one answer per node kind and call,
never a timing. Then the same rules seen from the outside: which thread ran the node."""

from __future__ import annotations

import operator
import threading
from typing import Annotated, Any, TypedDict

import pytest

from actorgraph.actors._placement import Placement, decide
from actorgraph.actors._program import NodeSpec
from actorgraph.graph import START, StateGraph
from actorgraph.types import RetryPolicy, Send

NOW, LOOP, WORKER = Placement.NOW, Placement.LOOP, Placement.WORKER


def _node(*, is_async: bool = False, blocking: bool = True, inline_ok: bool = True, run_now: bool = False, **kw: Any) -> NodeSpec:
    return NodeSpec(
        "n", triggers=("a",), call=lambda i, t: i, is_async=is_async, finish=lambda t, r: None,
        blocking=blocking, inline_ok=inline_ok, run_now=run_now, **kw,
    )  # fmt: skip


SYNC = _node()
ASYNC = _node(is_async=True)
NEVER_BLOCKS = _node(blocking=False)
BOOKKEEPING = _node(blocking=False, run_now=True)
ENTRYPOINT = _node(inline_ok=False)
RETRIED = _node(retry_policy=[RetryPolicy()])
SUBGRAPH = _node(is_async=True, is_subgraph=True)


@pytest.mark.parametrize(
    ("node", "call", "where"),
    [
        # the lone task of a sync invoke: the caller's thread, in the barrier's turn
        (SYNC, {"sync_call": True, "alone": True}, NOW),
        # ... or in a job when something async wraps it (a retry policy, streamed messages)
        (RETRIED, {"sync_call": True, "alone": True}, LOOP),
        (SYNC, {"sync_call": True, "alone": True, "plain": False}, LOOP),
        # anything else sync goes to a worker thread
        (SYNC, {"sync_call": True, "alone": False}, WORKER),
        (SYNC, {"sync_call": False, "alone": True}, WORKER),
        (SYNC, {"sync_call": True, "alone": True, "timeout": True}, WORKER),
        (SYNC, {"sync_call": True, "alone": True, "live_stream": True}, WORKER),
        (SYNC, {"sync_call": True, "alone": True, "saver_caught_up": False}, WORKER),
        (ENTRYPOINT, {"sync_call": True, "alone": True}, WORKER),
        # async code and code that never blocks: the loop
        (ASYNC, {"sync_call": True, "alone": True}, LOOP),
        (ASYNC, {"sync_call": False, "alone": False}, LOOP),
        (NEVER_BLOCKS, {"sync_call": True, "alone": False}, LOOP),
        # a subgraph of a sync fan-out: its whole run in a worker thread, on that thread's
        # own loop - unless something of it must stay on the run's loop
        (SUBGRAPH, {"sync_call": True, "alone": False, "isolated": True}, WORKER),
        (SUBGRAPH, {"sync_call": True, "alone": False, "isolated": False}, LOOP),
        (SUBGRAPH, {"sync_call": True, "alone": True, "isolated": True}, LOOP),
        (SUBGRAPH, {"sync_call": False, "alone": False, "isolated": True}, LOOP),
        (SUBGRAPH, {"sync_call": True, "alone": False, "isolated": True, "plain": False}, LOOP),
        # max_concurrency counts jobs on the loop: a bounded fan-out's subgraphs stay there
        (SUBGRAPH, {"sync_call": True, "alone": False, "isolated": True, "bounded": True}, LOOP),
        # bookkeeping (``__start__``): in the turn unless something async wraps it
        (BOOKKEEPING, {"sync_call": False, "alone": False}, NOW),
        (BOOKKEEPING, {"sync_call": False, "alone": False, "plain": False}, LOOP),
    ],
)
def test_decide(node: NodeSpec, call: dict[str, Any], where: Placement) -> None:
    assert decide(node, **call) is where
    assert decide(node, **call) is where  # no state: the same question, the same answer


class S(TypedDict):
    log: Annotated[list, operator.add]


@pytest.mark.parametrize("how", ["invoke", "ainvoke"])
def test_which_thread_runs_a_sync_node(how: str) -> None:
    """Lone sync task of invoke: the caller's thread. A fan-out's tasks, and every sync
    node under ainvoke: worker threads, never the loop's."""
    seen: dict[str, set[int]] = {"lone": set(), "fan": set()}

    def lone(s: S) -> dict[str, Any]:
        seen["lone"].add(threading.get_ident())
        return {"log": ["lone"]}

    def fan(arg: Any) -> dict[str, Any]:
        seen["fan"].add(threading.get_ident())
        return {"log": ["fan"]}

    g = StateGraph(S).add_node("lone", lone).add_node("fan", fan).add_edge(START, "lone")
    g.add_conditional_edges("lone", lambda s: [Send("fan", {}) for _ in range(8)], ["fan"])
    graph = g.compile()
    loop_thread: list[int] = []
    if how == "invoke":
        loop_thread.append(threading.get_ident())
        assert graph.invoke({"log": []}) == {"log": ["lone"] + ["fan"] * 8}
        assert seen["lone"] == set(loop_thread)
    else:
        import asyncio

        async def main() -> Any:
            loop_thread.append(threading.get_ident())
            return await graph.ainvoke({"log": []})

        assert asyncio.run(main()) == {"log": ["lone"] + ["fan"] * 8}
        assert loop_thread[0] not in seen["lone"]
    assert loop_thread[0] not in seen["fan"]


def test_a_subgraph_of_a_sync_fan_out_runs_on_a_worker_thread_with_its_nodes() -> None:
    """As in LangGraph: each subgraph run of a fan-out runs in a worker thread, and its
    lone sync nodes run on that thread, never on the loop's."""
    seen: dict[int, set[int]] = {}

    class Sub(TypedDict):
        i: int
        log: Annotated[list, operator.add]

    def inner(name: str) -> Any:
        def node(s: Sub) -> dict[str, Any]:
            seen.setdefault(s["i"], set()).add(threading.get_ident())
            return {"log": [f"{name}{s['i']}"]}

        return node

    sub = StateGraph(Sub).add_node("a", inner("a")).add_node("b", inner("b"))
    sub.add_edge(START, "a").add_edge("a", "b")
    g = StateGraph(S).add_node("sub", sub.compile())
    g.add_conditional_edges(START, lambda s: [Send("sub", {"i": i, "log": []}) for i in range(6)], ["sub"])
    out = g.compile().invoke({"log": []})
    assert sorted(out["log"]) == sorted(f"{n}{i}" for i in range(6) for n in "ab")
    caller = threading.get_ident()
    for i, threads in seen.items():
        assert len(threads) == 1 and caller not in threads, (i, threads)


def test_max_concurrency_bounds_the_subgraph_runs_of_a_sync_fan_out() -> None:
    """Subgraph runs of a fan-out count against ``max_concurrency`` like any task, even
    though unbounded ones each run on a worker thread."""
    import time

    lock = threading.Lock()
    counts = {"now": 0, "peak": 0}

    class Sub(TypedDict):
        i: int
        log: Annotated[list, operator.add]

    def slow(s: Sub) -> dict[str, Any]:
        with lock:
            counts["now"] += 1
            counts["peak"] = max(counts["peak"], counts["now"])
        time.sleep(0.05)
        with lock:
            counts["now"] -= 1
        return {"log": [s["i"]]}

    sub = StateGraph(Sub).add_node("slow", slow).add_edge(START, "slow").compile()
    g = StateGraph(S).add_node("sub", sub)
    g.add_conditional_edges(START, lambda s: [Send("sub", {"i": i, "log": []}) for i in range(6)], ["sub"])
    graph = g.compile()
    assert sorted(graph.invoke({"log": []}, {"max_concurrency": 2})["log"]) == list(range(6))
    assert counts["peak"] == 2
