"""Concurrency: tasks of one step run together, sync nodes' threads, max_concurrency,
large fan-outs, deterministic write order, cancellation, errors in parallel branches,
many runs at once. No timing assertions: ``fail_after`` only guards against hangs."""

from __future__ import annotations

import operator
import threading
import time
from typing import Annotated, Any, TypedDict

import anyio
import pytest

from actorgraph.config import get_stream_writer
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import Send


class S(TypedDict):
    x: int
    log: Annotated[list, operator.add]


class Boom(Exception):
    pass


def _pair(p: Any, q: Any, then: Any = None) -> Any:
    """START -> (p, q) [-> then]."""
    g = StateGraph(S)
    g.add_node("p", p)
    g.add_node("q", q)
    g.add_edge(START, "p")
    g.add_edge(START, "q")
    if then is not None:
        g.add_node("then", then)
        g.add_edge(["p", "q"], "then")
    return g.compile()


def _fan_out(worker: Any, n: int) -> Any:
    """START sends ``n`` packets (0..n-1) to ``worker``, which appends to ``log``."""
    g = StateGraph(S)
    g.add_node("w", worker)
    g.add_conditional_edges(START, lambda s: [Send("w", i) for i in range(n)], ["w"])
    g.add_edge("w", END)
    return g.compile()


# -- tasks of one step run concurrently --------------------------------------------------


@pytest.mark.anyio
async def test_async_branches_of_one_step_run_concurrently() -> None:
    """p and q each wait for the other's event: run one after the other, they'd deadlock."""
    p_ready, q_ready = anyio.Event(), anyio.Event()

    async def p(s: S) -> dict[str, Any]:
        p_ready.set()
        await q_ready.wait()
        return {"log": ["p"]}

    async def q(s: S) -> dict[str, Any]:
        q_ready.set()
        await p_ready.wait()
        return {"log": ["q"]}

    with anyio.fail_after(10):
        assert await _pair(p, q).ainvoke({"x": 0}) == {"x": 0, "log": ["p", "q"]}


def test_sync_branches_of_one_step_run_concurrently_in_worker_threads() -> None:
    """Both sync nodes must reach the barrier together; each runs off the caller's thread."""
    barrier = threading.Barrier(2, timeout=10)  # hang guard: raises BrokenBarrierError
    caller = threading.current_thread().name
    names: dict[str, str] = {}
    idents: dict[str, int] = {}

    def mk(name: str) -> Any:
        def node(s: S) -> dict[str, Any]:
            names[name] = threading.current_thread().name
            idents[name] = threading.get_ident()
            barrier.wait()
            return {"log": [name]}

        return node

    assert _pair(mk("p"), mk("q")).invoke({"x": 0}) == {"x": 0, "log": ["p", "q"]}
    assert caller not in names.values()
    assert idents["p"] != idents["q"]


def test_lone_sync_task_under_sync_invoke_runs_on_the_calling_thread() -> None:
    def where(name: str) -> Any:
        return lambda s: {"log": [(name, threading.current_thread().name)]}

    graph = _pair(where("p"), where("q"), then=where("then"))
    out = graph.invoke({"x": 0})
    caller = threading.current_thread().name
    threads = dict(out["log"])
    assert threads["then"] == caller
    assert threads["p"] != caller and threads["q"] != caller

    from_thread: dict[str, Any] = {}
    t = threading.Thread(target=lambda: from_thread.update(graph.invoke({"x": 0})), name="my-caller")
    t.start()
    t.join(60)
    assert dict(from_thread["log"])["then"] == "my-caller"


def test_blocking_sync_nodes_of_parallel_subgraph_runs_run_in_parallel() -> None:
    """Each subgraph run's node is the lone task of its run, but the runs are siblings:
    the nodes must run side by side (four must meet at the barrier), as in LangGraph."""
    barrier = threading.Barrier(4, timeout=10)  # raises BrokenBarrierError if serialized

    class Sub(TypedDict):
        y: int
        log: Annotated[list, operator.add]

    def blocking(s: Sub) -> dict[str, Any]:
        barrier.wait()
        return {"log": [s["y"]]}

    sub = StateGraph(Sub)
    sub.add_node("blocking", blocking)
    sub.add_edge(START, "blocking")
    g = StateGraph(S)
    g.add_node("sub", sub.compile())
    g.add_conditional_edges(START, lambda s: [Send("sub", {"y": i, "log": []}) for i in range(4)], ["sub"])
    assert g.compile().invoke({"x": 0}) == {"x": 0, "log": [0, 1, 2, 3]}


def test_sync_tasks_of_a_fan_out_never_run_on_the_loop_thread_however_fast() -> None:
    """A sync node's tasks in a fan-out run in worker threads, every time: however fast its
    earlier calls were, a call that blocks must not hold up the loop that saves and
    streams (no timing heuristic decides this)."""
    caller = threading.get_ident()
    seen: list[int] = []

    def tiny(i: int) -> dict[str, Any]:
        seen.append(threading.get_ident())
        return {"log": [i]}

    graph = _fan_out(tiny, 20)
    for _ in range(5):
        assert graph.invoke({"x": 0})["log"] == list(range(20))
    assert len(seen) == 100 and caller not in seen


def test_the_lone_sync_task_of_a_sync_invoke_runs_on_the_callers_thread() -> None:
    """As in LangGraph: the caller waits for it anyway, so it costs no thread hop."""
    caller = threading.get_ident()
    seen: list[int] = []

    def solo(s: S) -> dict[str, Any]:
        seen.append(threading.get_ident())
        return {"log": [s["x"]]}

    g = StateGraph(S)
    g.add_node("solo", solo)
    g.add_edge(START, "solo")
    assert g.compile().invoke({"x": 1}) == {"x": 1, "log": [1]}
    assert seen == [caller]


@pytest.mark.anyio
async def test_sync_nodes_under_ainvoke_run_off_the_event_loop_thread() -> None:
    loop_thread = threading.current_thread().name

    def solo(s: S) -> dict[str, Any]:
        return {"log": [threading.current_thread().name]}

    g = StateGraph(S)
    g.add_node("solo", solo)
    g.add_edge(START, "solo")
    out = await g.compile().ainvoke({"x": 0})
    assert len(out["log"]) == 1 and out["log"][0] != loop_thread


# -- max_concurrency ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_max_concurrency_bounds_async_tasks_in_flight() -> None:
    lock = threading.Lock()
    counts = {"cur": 0, "max": 0}
    three_in = anyio.Event()

    async def w(i: int) -> dict[str, Any]:
        with lock:
            counts["cur"] += 1
            counts["max"] = max(counts["max"], counts["cur"])
            if counts["cur"] == 3:
                three_in.set()
        await three_in.wait()  # the first three overlap for sure
        for _ in range(5):
            await anyio.sleep(0)  # give extra tasks every chance to start if unbounded
        with lock:
            counts["cur"] -= 1
        return {"log": [i]}

    with anyio.fail_after(30):
        out = await _fan_out(w, 20).ainvoke({"x": 0}, {"max_concurrency": 3})
    assert out == {"x": 0, "log": list(range(20))}
    assert counts == {"cur": 0, "max": 3}


@pytest.mark.parametrize("call", ["invoke", "ainvoke"])
def test_max_concurrency_bounds_sync_tasks_in_flight(call: str) -> None:
    lock = threading.Lock()
    counts = {"cur": 0, "max": 0}
    three_in = threading.Event()

    def w(i: int) -> dict[str, Any]:
        with lock:
            counts["cur"] += 1
            counts["max"] = max(counts["max"], counts["cur"])
            if counts["cur"] == 3:
                three_in.set()
        assert three_in.wait(10)  # hang guard
        time.sleep(0.002)  # give extra threads a chance to start if unbounded
        with lock:
            counts["cur"] -= 1
        return {"log": [i]}

    graph = _fan_out(w, 20)
    cfg = {"max_concurrency": 3}
    if call == "invoke":
        out = graph.invoke({"x": 0}, cfg)
    else:
        out = anyio.run(graph.ainvoke, {"x": 0}, cfg)
    assert out == {"x": 0, "log": list(range(20))}
    assert counts == {"cur": 0, "max": 3}


# -- big fan-outs and write order --------------------------------------------------------


@pytest.mark.anyio
async def test_fan_out_of_1000_sleeping_async_workers_completes() -> None:
    async def w(i: int) -> dict[str, Any]:
        await anyio.sleep(0.05)
        return {"log": [i * 2]}

    with anyio.fail_after(60):
        out = await _fan_out(w, 1000).ainvoke({"x": 0})
    assert out == {"x": 0, "log": [i * 2 for i in range(1000)]}


@pytest.mark.anyio
async def test_send_results_are_applied_in_send_order_not_completion_order() -> None:
    """Worker i waits for worker i + 1, so they finish in reverse."""
    n = 10
    done = [anyio.Event() for _ in range(n)]
    finished: list[int] = []

    async def w(i: int) -> dict[str, Any]:
        if i + 1 < n:
            await done[i + 1].wait()
        finished.append(i)
        done[i].set()
        return {"log": [i]}

    with anyio.fail_after(10):
        out = await _fan_out(w, n).ainvoke({"x": 0})
    assert finished == list(reversed(range(n)))
    assert out == {"x": 0, "log": list(range(n))}


@pytest.mark.anyio
async def test_parallel_node_writes_are_applied_in_name_order_not_completion_order() -> None:
    """z finishes first, a second: the state still lists a's write first."""
    z_done = anyio.Event()

    async def a(s: S) -> dict[str, Any]:
        await z_done.wait()
        return {"log": ["a"]}

    async def z(s: S) -> dict[str, Any]:
        z_done.set()
        return {"log": ["z"]}

    g = StateGraph(S)
    g.add_node("z", z)
    g.add_node("a", a)
    g.add_edge(START, "z")
    g.add_edge(START, "a")
    graph = g.compile()
    with anyio.fail_after(10):
        updates = [c async for c in graph.astream({"x": 0}, stream_mode="updates")]
    assert updates == [{"z": {"log": ["z"]}}, {"a": {"log": ["a"]}}]  # completion order
    z_done = anyio.Event()  # a fresh event for the second run (the nodes read it by closure)
    with anyio.fail_after(10):
        assert await graph.ainvoke({"x": 0}) == {"x": 0, "log": ["a", "z"]}


# -- cancellation ------------------------------------------------------------------------


def _blocking_pair(started: list[str], finalized: list[str], both_started: anyio.Event) -> Any:
    """p and q block forever when x == 0 (recording start and finally), else return."""

    def mk(name: str) -> Any:
        async def node(s: S) -> dict[str, Any]:
            started.append(name)
            if len(started) == 2:
                both_started.set()
            try:
                if s["x"] == 0:
                    await anyio.sleep_forever()
                return {"log": [name]}
            finally:
                finalized.append(name)

        return node

    return _pair(mk("p"), mk("q"))


@pytest.mark.anyio
async def test_cancelling_ainvoke_cancels_running_nodes_and_the_graph_runs_again() -> None:
    started: list[str] = []
    finalized: list[str] = []
    both = anyio.Event()
    graph = _blocking_pair(started, finalized, both)

    scope = anyio.CancelScope()

    async def run() -> None:
        with scope:
            await graph.ainvoke({"x": 0})

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await both.wait()
            scope.cancel()
    assert scope.cancelled_caught
    assert sorted(finalized) == ["p", "q"]
    started.clear()
    finalized.clear()
    with anyio.fail_after(10):
        assert await graph.ainvoke({"x": 1}) == {"x": 1, "log": ["p", "q"]}
    assert sorted(finalized) == ["p", "q"]


@pytest.mark.anyio
async def test_move_on_after_stops_ainvoke_and_runs_the_nodes_finally_blocks() -> None:
    started: list[str] = []
    finalized: list[str] = []
    both = anyio.Event()
    graph = _blocking_pair(started, finalized, both)
    result: list[Any] = []
    with anyio.move_on_after(1) as scope:  # the nodes block forever: this always fires
        result.append(await graph.ainvoke({"x": 0}))
    assert scope.cancelled_caught and result == []
    assert sorted(started) == ["p", "q"]
    assert sorted(finalized) == ["p", "q"]
    with anyio.fail_after(10):
        assert await graph.ainvoke({"x": 2}) == {"x": 2, "log": ["p", "q"]}


@pytest.mark.anyio
async def test_breaking_out_of_astream_cancels_the_abandoned_run() -> None:
    cancelled = anyio.Event()
    ran_after: list[int] = []

    async def b(s: S) -> dict[str, Any]:
        get_stream_writer()("b started")
        try:
            if s["x"] == 0:
                await anyio.sleep_forever()
            return {"log": ["b"]}
        finally:
            if s["x"] == 0:
                cancelled.set()

    g = StateGraph(S)
    g.add_node("b", b)
    g.add_node("after", lambda s: ran_after.append(s["x"]) or {"log": ["after"]})
    g.add_edge(START, "b")
    g.add_edge("b", "after")
    graph = g.compile()

    with anyio.fail_after(10):
        async for chunk in graph.astream({"x": 0}, stream_mode="custom"):
            assert chunk == "b started"
            break
        await cancelled.wait()  # the abandoned run is closed and its node cancelled
    assert ran_after == []
    with anyio.fail_after(10):
        assert await graph.ainvoke({"x": 1}) == {"x": 1, "log": ["b", "after"]}
    assert ran_after == [1]


@pytest.mark.anyio
async def test_closing_astream_explicitly_cancels_the_running_node() -> None:
    finalized: list[str] = []

    async def b(s: S) -> dict[str, Any]:
        get_stream_writer()("b started")
        try:
            await anyio.sleep_forever()
        finally:
            finalized.append("b")
        return {}

    g = StateGraph(S)
    g.add_node("b", b)
    g.add_edge(START, "b")
    stream = g.compile().astream({"x": 0}, stream_mode="custom")
    with anyio.fail_after(10):
        assert await stream.__anext__() == "b started"
        await stream.aclose()  # type: ignore[attr-defined]
    assert finalized == ["b"]


# -- errors in parallel branches ---------------------------------------------------------


@pytest.mark.anyio
async def test_error_in_one_branch_cancels_the_running_sibling_and_propagates() -> None:
    q_started = anyio.Event()
    q_finalized: list[bool] = []
    q_finished: list[bool] = []

    async def p(s: S) -> dict[str, Any]:
        await q_started.wait()
        raise Boom("p failed")

    async def q(s: S) -> dict[str, Any]:
        q_started.set()
        try:
            await anyio.sleep_forever()
            q_finished.append(True)
            return {}
        finally:
            q_finalized.append(True)

    with anyio.fail_after(10):
        with pytest.raises(Boom, match="p failed"):
            await _pair(p, q).ainvoke({"x": 0})
    assert q_finalized == [True] and q_finished == []


def test_error_in_one_branch_propagates_from_sync_invoke_and_cancels_async_sibling() -> None:
    finalized: list[str] = []

    async def p(s: S) -> dict[str, Any]:
        await anyio.sleep(0)
        raise Boom("p failed")

    async def q(s: S) -> dict[str, Any]:
        try:
            await anyio.sleep_forever()
        finally:
            finalized.append("q")
        return {}

    graph = _pair(p, q)
    with pytest.raises(Boom, match="p failed"):
        graph.invoke({"x": 0})
    assert finalized == ["q"]


def test_error_in_one_branch_waits_for_a_running_sync_sibling_before_invoke_raises() -> None:
    """A sync node in a worker thread can't be stopped: the failed run waits for it, so
    no node code of the run is still running when invoke raises."""
    started = threading.Event()
    done: list[str] = []

    def p(s: S) -> dict[str, Any]:
        assert started.wait(10)  # hang guard
        raise Boom("p failed")

    def q(s: S) -> dict[str, Any]:
        started.set()
        time.sleep(0.2)
        done.append("q")
        return {}

    with pytest.raises(Boom, match="p failed"):
        _pair(p, q).invoke({"x": 0})
    assert done == ["q"]


# -- many runs at once -------------------------------------------------------------------


@pytest.mark.anyio
async def test_200_concurrent_ainvokes_return_independent_results() -> None:
    async def p(s: S) -> dict[str, Any]:
        await anyio.sleep(0)
        return {"log": [("p", s["x"])]}

    def q(s: S) -> dict[str, Any]:
        return {"log": [("q", s["x"])]}

    async def then(s: S) -> dict[str, Any]:
        await anyio.sleep(0)
        return {"x": s["x"] * 2}

    graph = _pair(p, q, then=then)
    results: dict[int, Any] = {}

    async def one(i: int) -> None:
        results[i] = await graph.ainvoke({"x": i}, {"configurable": {"thread_id": str(i)}})

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for i in range(200):
                tg.start_soon(one, i)
    assert results == {i: {"x": i * 2, "log": [("p", i), ("q", i)]} for i in range(200)}
