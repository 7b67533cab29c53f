"""The sync API (invoke, stream, batch) from scripts, threads, running event loops and
nodes; async nodes under sync calls; early stream exit; errors; batch/abatch order."""

from __future__ import annotations

import operator
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, TypedDict

import anyio
import pytest

from actorgraph.config import get_stream_writer
from actorgraph.graph import START, StateGraph


class S(TypedDict):
    x: int
    log: Annotated[list, operator.add]


def _inc() -> Any:
    """START -> inc -> double: x becomes (x + 1) * 2."""
    g = StateGraph(S)
    g.add_node("inc", lambda s: {"x": s["x"] + 1, "log": ["inc"]})
    g.add_node("double", lambda s: {"x": s["x"] * 2, "log": ["double"]})
    g.add_edge(START, "inc")
    g.add_edge("inc", "double")
    return g.compile()


def _expected(x: int) -> dict[str, Any]:
    return {"x": (x + 1) * 2, "log": ["inc", "double"]}


class Boom(Exception):
    pass


# -- where the sync API is called from ---------------------------------------------------


def test_invoke_stream_and_batch_from_a_plain_script() -> None:
    script = textwrap.dedent(
        """
        import operator
        from typing import Annotated, TypedDict
        from actorgraph.graph import START, StateGraph

        class S(TypedDict):
            x: int
            log: Annotated[list, operator.add]

        g = StateGraph(S)
        g.add_node("inc", lambda s: {"x": s["x"] + 1, "log": ["inc"]})
        g.add_edge(START, "inc")
        graph = g.compile()
        print(graph.invoke({"x": 1}))
        print(list(graph.stream({"x": 1}, stream_mode="updates")))
        print(graph.batch([{"x": 1}, {"x": 2}]))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.splitlines() == [
        "{'x': 2, 'log': ['inc']}",
        "[{'inc': {'x': 2, 'log': ['inc']}}]",
        "[{'x': 2, 'log': ['inc']}, {'x': 3, 'log': ['inc']}]",
    ]


def test_nodes_see_the_context_variables_set_before_each_sync_call() -> None:
    """Each sync call runs in a copy of the caller's context (asyncio.Runner would keep
    the context of the thread's first call)."""
    import contextvars

    var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")
    seen: list[str] = []
    g = StateGraph(S)
    g.add_node("sync_node", lambda s: seen.append(var.get()) or {"x": s["x"]})

    async def async_node(s: S) -> dict[str, Any]:
        seen.append(var.get())
        return {}

    g.add_node("async_node", async_node)
    g.add_edge(START, "sync_node")
    g.add_edge("sync_node", "async_node")
    graph = g.compile()
    for rid in ("first", "second"):
        var.set(rid)
        graph.invoke({"x": 1})
        list(graph.stream({"x": 1}))
    assert seen == ["first"] * 4 + ["second"] * 4


def test_ctrl_c_during_a_sync_invoke_cancels_the_run_and_the_next_invoke_works() -> None:
    script = textwrap.dedent(
        """
        import os, signal, threading, time
        from typing import TypedDict
        import anyio
        from actorgraph.graph import START, StateGraph

        class S(TypedDict):
            x: int

        cleaned = []

        async def slow(s):
            try:
                threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
                await anyio.sleep(30)
            finally:
                cleaned.append("slow")
            return {"x": 0}

        g = StateGraph(S)
        g.add_node("slow", slow)
        g.add_edge(START, "slow")
        graph = g.compile()
        start = time.monotonic()
        try:
            graph.invoke({"x": 1})
        except KeyboardInterrupt:
            print("interrupted", round(time.monotonic() - start) < 5, cleaned)
        g2 = StateGraph(S)
        g2.add_node("inc", lambda s: {"x": s["x"] + 1})
        g2.add_edge(START, "inc")
        print(g2.compile().invoke({"x": 1}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.splitlines() == ["interrupted True ['slow']", "{'x': 2}"], out.stderr


def test_invoke_stream_batch_on_the_main_thread() -> None:
    g = _inc()
    assert g.invoke({"x": 1}) == _expected(1)
    assert list(g.stream({"x": 1}, stream_mode="updates")) == [
        {"inc": {"x": 2, "log": ["inc"]}},
        {"double": {"x": 4, "log": ["double"]}},
    ]
    assert g.batch([{"x": 1}, {"x": 2}]) == [_expected(1), _expected(2)]


def test_invoke_stream_batch_from_a_threading_thread() -> None:
    g = _inc()
    out: dict[str, Any] = {}

    def body() -> None:
        try:
            out["invoke"] = g.invoke({"x": 3})
            out["stream"] = list(g.stream({"x": 3}, stream_mode="values"))
            out["batch"] = g.batch([{"x": 3}, {"x": 4}])
        except BaseException as exc:
            out["error"] = exc

    t = threading.Thread(target=body)
    t.start()
    t.join(60)
    assert not t.is_alive()
    assert "error" not in out
    assert out["invoke"] == _expected(3)
    assert out["stream"] == [{"x": 3, "log": []}, {"x": 4, "log": ["inc"]}, _expected(3)]
    assert out["batch"] == [_expected(3), _expected(4)]


def test_many_invokes_and_streams_from_a_thread_pool_at_once() -> None:
    g = _inc()

    def job(i: int) -> tuple[Any, Any]:
        return g.invoke({"x": i}), list(g.stream({"x": i}, stream_mode="values"))[-1]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(job, range(40), timeout=120))
    assert results == [(_expected(i), _expected(i)) for i in range(40)]


def _parallel_async() -> Any:
    """START -> (p, q): two async nodes that suspend."""

    async def p(s: S) -> dict[str, Any]:
        await anyio.sleep(0)
        return {"log": ["p"]}

    async def q(s: S) -> dict[str, Any]:
        await anyio.sleep(0)
        return {"log": ["q"]}

    g = StateGraph(S)
    g.add_node("p", p)
    g.add_node("q", q)
    g.add_edge(START, "p")
    g.add_edge(START, "q")
    return g.compile()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_sync_invoke_stream_batch_inside_a_running_event_loop_thread() -> None:
    """No "event loop is already running": the sync API works from async code."""
    g = _parallel_async()
    assert _inc().invoke({"x": 5}) == _expected(5)
    assert g.invoke({"x": 0}) == {"x": 0, "log": ["p", "q"]}
    assert list(g.stream({"x": 0}, stream_mode="values"))[-1] == {"x": 0, "log": ["p", "q"]}
    assert g.batch([{"x": 1}, {"x": 2}]) == [{"x": 1, "log": ["p", "q"]}, {"x": 2, "log": ["p", "q"]}]


_IN_LOOP_SCRIPT = """
import operator, sys
from typing import Annotated, TypedDict
import anyio
from actorgraph.graph import START, StateGraph

class S(TypedDict):
    x: int
    log: Annotated[list, operator.add]

async def p(s):
    await anyio.sleep(0)
    return {"log": ["p"]}

async def q(s):
    await anyio.sleep(0)
    return {"log": ["q"]}

g = StateGraph(S)
g.add_node("p", p)
g.add_node("q", q)
g.add_edge(START, "p")
g.add_edge(START, "q")
graph = g.compile()

async def main():
    print(graph.invoke({"x": 0}))
    print(list(graph.stream({"x": 0}, stream_mode="values"))[-1])
    print(graph.batch([{"x": 1}]))

anyio.run(main, backend=sys.argv[1])
"""


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_sync_invoke_stream_batch_inside_a_running_loop_of_either_backend(backend: str) -> None:
    """Run in a subprocess: a broken bridge can corrupt the host loop's internals."""
    out = subprocess.run(
        [sys.executable, "-c", _IN_LOOP_SCRIPT, backend], capture_output=True, text=True, timeout=120
    )
    assert out.stdout.splitlines() == [
        "{'x': 0, 'log': ['p', 'q']}",
        "{'x': 0, 'log': ['p', 'q']}",
        "[{'x': 1, 'log': ['p', 'q']}]",
    ], out.stderr[-2000:]
    assert out.returncode == 0


# -- nested graphs in sync nodes ---------------------------------------------------------


def _calls(child: Any, how: str) -> Any:
    """A graph whose nodes p and q (one step, so in worker threads) call ``child``."""

    def call(s: S) -> dict[str, Any]:
        if how == "invoke":
            return {"log": [child.invoke({"x": s["x"]})["x"]]}
        return {"log": [list(child.stream({"x": s["x"]}, stream_mode="updates"))]}

    g = StateGraph(S)
    g.add_node("p", call)
    g.add_node("q", call)
    g.add_edge(START, "p")
    g.add_edge(START, "q")
    return g.compile()


def test_sync_node_in_a_worker_thread_invokes_another_graph() -> None:
    assert _calls(_inc(), "invoke").invoke({"x": 1, "log": []}) == {"x": 1, "log": [4, 4]}


def test_sync_node_in_a_worker_thread_streams_another_graph() -> None:
    updates = [{"inc": {"x": 2, "log": ["inc"]}}, {"double": {"x": 4, "log": ["double"]}}]
    assert _calls(_inc(), "stream").invoke({"x": 1, "log": []}) == {"x": 1, "log": [updates, updates]}


@pytest.mark.anyio
async def test_sync_node_invokes_another_graph_under_ainvoke() -> None:
    with anyio.fail_after(30):
        out = await _calls(_inc(), "invoke").ainvoke({"x": 2, "log": []})
    assert out == {"x": 2, "log": [6, 6]}


def test_lone_sync_node_invokes_and_streams_another_graph() -> None:
    child = _inc()

    def w(s: S) -> dict[str, Any]:
        return {"x": child.invoke({"x": s["x"]})["x"], "log": list(child.stream({"x": 0}))}

    g = StateGraph(S)
    g.add_node("w", w)
    g.add_edge(START, "w")
    assert g.compile().invoke({"x": 1}) == {
        "x": 4,
        "log": [{"inc": {"x": 1, "log": ["inc"]}}, {"double": {"x": 2, "log": ["double"]}}],
    }


def test_nested_invoke_from_a_lone_sync_node_inherits_the_run_config() -> None:
    """The child graph's node sees the configurable passed to the parent's invoke."""
    cg = StateGraph(S)
    cg.add_node("c", lambda s, config: {"log": [config["configurable"].get("user")]})
    cg.add_edge(START, "c")
    child = cg.compile()

    g = StateGraph(S)
    g.add_node("w", lambda s: {"log": child.invoke({"x": 0})["log"]})
    g.add_edge(START, "w")
    out = g.compile().invoke({"x": 0}, {"configurable": {"user": "u1"}})
    assert out == {"x": 0, "log": ["u1"]}


# -- async nodes under the sync API (deliberate difference from LangGraph) ---------------


def test_sync_invoke_and_stream_run_async_nodes() -> None:
    async def inc(s: S) -> dict[str, Any]:
        await anyio.sleep(0)
        get_stream_writer()("inc ran")
        return {"x": s["x"] + 1, "log": ["inc"]}

    async def double(s: S) -> dict[str, Any]:
        return {"x": s["x"] * 2, "log": ["double"]}

    g = StateGraph(S)
    g.add_node("inc", inc)
    g.add_node("double", double)
    g.add_edge(START, "inc")
    g.add_edge("inc", "double")
    graph = g.compile()
    assert graph.invoke({"x": 1}) == _expected(1)
    assert list(graph.stream({"x": 1}, stream_mode="custom")) == ["inc ran"]
    assert graph.batch([{"x": 1}, {"x": 2}]) == [_expected(1), _expected(2)]


# -- early exit from a sync stream -------------------------------------------------------


def test_breaking_out_of_a_sync_stream_cancels_the_run_and_the_graph_runs_again() -> None:
    started: list[int] = []
    finalized: list[int] = []
    after: list[int] = []

    async def slow(s: S) -> dict[str, Any]:
        started.append(s["x"])
        try:
            get_stream_writer()("slow started")
            if s["x"] == 0:
                await anyio.sleep_forever()
            return {"log": ["slow"]}
        finally:
            finalized.append(s["x"])

    g = StateGraph(S)
    g.add_node("slow", slow)
    g.add_node("after", lambda s: after.append(s["x"]) or {"log": ["after"]})
    g.add_edge(START, "slow")
    g.add_edge("slow", "after")
    graph = g.compile()

    for chunk in graph.stream({"x": 0}, stream_mode="custom"):
        assert chunk == "slow started"
        break
    assert started == [0]
    assert finalized == [0]  # the abandoned node was cancelled, its finally ran
    assert after == []
    assert graph.invoke({"x": 1}) == {"x": 1, "log": ["slow", "after"]}
    assert after == [1]


def test_closing_a_sync_stream_after_the_first_chunk_stops_later_steps() -> None:
    ran: list[str] = []
    g = StateGraph(S)
    g.add_node("inc", lambda s: ran.append("inc") or {"x": 1})
    g.add_node("double", lambda s: ran.append("double") or {"x": 2})
    g.add_edge(START, "inc")
    g.add_edge("inc", "double")
    graph = g.compile()
    it = graph.stream({"x": 0}, stream_mode="updates")
    assert next(it) == {"inc": {"x": 1}}
    it.close()
    assert ran == ["inc"]
    assert graph.invoke({"x": 0}) == {"x": 2, "log": []}


# -- errors ------------------------------------------------------------------------------


def _failing(raised: list[BaseException]) -> Any:
    def boom(s: S) -> dict[str, Any]:
        exc = Boom(f"bad x={s['x']}")
        raised.append(exc)
        raise exc

    g = StateGraph(S)
    g.add_node("ok", lambda s: {"log": ["ok"]})
    g.add_node("boom", boom)
    g.add_edge(START, "ok")
    g.add_edge("ok", "boom")
    return g.compile()


def test_node_exception_propagates_unchanged_from_invoke() -> None:
    raised: list[BaseException] = []
    with pytest.raises(Boom) as info:
        _failing(raised).invoke({"x": 7})
    assert info.value is raised[0]
    assert str(info.value) == "bad x=7"
    assert info.value.__notes__[0].startswith("During task with name 'boom' and id '")


def test_node_exception_propagates_unchanged_from_stream_after_earlier_chunks() -> None:
    raised: list[BaseException] = []
    seen: list[Any] = []
    with pytest.raises(Boom) as info:
        for chunk in _failing(raised).stream({"x": 7}, stream_mode="updates"):
            seen.append(chunk)
    assert info.value is raised[0]
    assert seen == [{"ok": {"log": ["ok"]}}]


def test_node_exception_propagates_from_invoke_in_a_worker_thread() -> None:
    raised: list[BaseException] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        fut = pool.submit(_failing(raised).invoke, {"x": 1})
        with pytest.raises(Boom) as info:
            fut.result(timeout=60)
    assert info.value is raised[0]


# -- batch / abatch ----------------------------------------------------------------------


def _maybe_fail() -> Any:
    def n(s: S) -> dict[str, Any]:
        if s["x"] % 3 == 2:
            raise Boom(f"bad {s['x']}")
        return {"x": s["x"] * 10}

    g = StateGraph(S)
    g.add_node("n", n)
    g.add_edge(START, "n")
    return g.compile()


def test_batch_returns_results_in_input_order() -> None:
    assert _inc().batch([{"x": i} for i in range(12)]) == [_expected(i) for i in range(12)]
    assert _inc().batch([]) == []


def test_batch_raises_the_node_error_itself_without_return_exceptions() -> None:
    with pytest.raises(Boom, match="bad 2"):
        _maybe_fail().batch([{"x": 0}, {"x": 1}, {"x": 2}])


def test_batch_return_exceptions_puts_exceptions_in_place() -> None:
    out = _maybe_fail().batch([{"x": i} for i in range(6)], return_exceptions=True)
    assert [type(o) for o in out] == [dict, dict, Boom, dict, dict, Boom]
    assert [str(o) if isinstance(o, Boom) else o for o in out] == [
        {"x": 0, "log": []}, {"x": 10, "log": []}, "bad 2",
        {"x": 30, "log": []}, {"x": 40, "log": []}, "bad 5",
    ]  # fmt: skip


def test_batch_with_a_config_per_input() -> None:
    g = StateGraph(S)
    g.add_node("n", lambda s, config: {"x": config["configurable"]["k"]})
    g.add_edge(START, "n")
    out = g.compile().batch([{"x": 0}, {"x": 0}], [{"configurable": {"k": 1}}, {"configurable": {"k": 2}}])
    assert out == [{"x": 1, "log": []}, {"x": 2, "log": []}]


@pytest.mark.anyio
async def test_abatch_returns_results_in_input_order_when_they_finish_in_reverse() -> None:
    """Input i waits for input i + 1 to finish, so the last input finishes first."""
    n = 8
    finished = [anyio.Event() for _ in range(n)]
    order: list[int] = []

    async def node(s: S) -> dict[str, Any]:
        i = s["x"]
        if i + 1 < n:
            await finished[i + 1].wait()
        order.append(i)
        finished[i].set()
        return {"x": i * 10}

    g = StateGraph(S)
    g.add_node("node", node)
    g.add_edge(START, "node")
    with anyio.fail_after(30):
        out = await g.compile().abatch([{"x": i} for i in range(n)])
    assert order == list(reversed(range(n)))
    assert out == [{"x": i * 10, "log": []} for i in range(n)]


@pytest.mark.anyio
async def test_abatch_return_exceptions_puts_exceptions_in_place() -> None:
    out = await _maybe_fail().abatch([{"x": i} for i in range(4)], return_exceptions=True)
    assert out[:2] == [{"x": 0, "log": []}, {"x": 10, "log": []}]
    assert isinstance(out[2], Boom) and str(out[2]) == "bad 2"
    assert out[3] == {"x": 30, "log": []}


@pytest.mark.anyio
async def test_abatch_raises_the_node_error_itself_without_return_exceptions() -> None:
    with pytest.raises(Boom, match="bad 2"):
        await _maybe_fail().abatch([{"x": 1}, {"x": 2}])
