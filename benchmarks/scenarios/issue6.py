"""Issue 6 scenarios: persistence, Command-routed Sends, bigger subgraph fan-outs, the
functional API.

They are written in full against the shim. A scenario whose ``requires`` names a feature that
actorgraph cannot import yet (``checkpointer``, ``sqlite``, ``func``) is skipped, not failed,
and starts running by itself the day the feature lands. Until issue 6 is done, treat their
numbers as provisional: the scenario shapes may still be tuned there.
"""

from __future__ import annotations

import asyncio
import contextlib
import operator
import os
import shutil
import tempfile
from typing import Annotated, Any, TypedDict

from benchmarks.registry import Case, expect, scenario
from benchmarks.scenarios.core import (
    FanOut,
    _double,
    _fanout_expected,
    build_chain,
    build_subgraph_fanout,
    subgraph_expected,
)
from benchmarks.shim import Api

GROUP = "issue6"


def _thread(name: str, recursion_limit: int = 25) -> dict[str, Any]:
    return {"configurable": {"thread_id": name}, "recursion_limit": recursion_limit}


def _check_saved(graph: Any, config: dict[str, Any], expected: Any) -> None:
    """The checkpointer holds the final state too (untimed, part of the check)."""
    expect(graph.get_state(config).values, expected, "saved state")


# --------------------------------------------------------------------------- chain + saver


@scenario(
    "chain_1000_memsaver",
    title="1,000-node chain with InMemorySaver, one sync invoke",
    unit="step", n=1000, quick_n=100, requires=("checkpointer",), group=GROUP,
)
def chain_memsaver(api: Api, n: int) -> Case:
    graph = build_chain(api, n, checkpointer=api.InMemorySaver())
    config = _thread("chain", n + 10)

    def check(out: Any) -> None:
        expect(out, {"count": n})
        _check_saved(graph, config, {"count": n})

    return Case(run=lambda: graph.invoke({"count": 0}, config), check=check, graphs=(graph,))


# --------------------------------------------------------------------------- Command(goto=[Send])


@scenario(
    "command_send_1000",
    title="Command(goto=[Send x 1,000]) from a node to trivial async workers (ainvoke)",
    unit="task", n=1000, quick_n=100, group=GROUP,
)
def command_send(api: Api, n: int) -> Case:
    def dispatch(s: FanOut) -> Any:
        return api.Command(goto=[api.Send("worker", {"i": i}) for i in range(s["n"])])

    g = api.StateGraph(FanOut)
    g.add_node("dispatch", dispatch)
    g.add_node("worker", _double)
    g.add_edge(api.START, "dispatch")
    g.add_edge("worker", api.END)
    graph = g.compile()

    async def run() -> Any:
        return await graph.ainvoke({"n": n, "results": []})

    return Case(run=run, check=lambda out: expect(out, _fanout_expected(n)), graphs=(graph,))


# --------------------------------------------------------------------------- subgraph fan-out


def _subgraph_case(api: Api, n: int, saver: bool) -> Case:
    graph = build_subgraph_fanout(api, api.InMemorySaver() if saver else None)
    config = _thread("sub") if saver else {}

    def check(out: Any) -> None:
        expect(out, subgraph_expected(n))
        if saver:
            _check_saved(graph, config, subgraph_expected(n))

    return Case(run=lambda: graph.invoke({"n": n, "results": []}, config), check=check, graphs=(graph,))


@scenario(
    "subgraph_send_1000",
    title="Send fan-out to a compiled 2-node subgraph, 1,000 runs (sync invoke)",
    unit="subgraph run", n=1000, quick_n=100, warm_n=3, group=GROUP,
)
def subgraph_1000(api: Api, n: int) -> Case:
    return _subgraph_case(api, n, saver=False)


@scenario(
    "subgraph_send_100_memsaver",
    title="Send fan-out to a compiled 2-node subgraph, 100 runs, InMemorySaver",
    unit="subgraph run", n=100, quick_n=20, warm_n=3, requires=("checkpointer",), group=GROUP,
)
def subgraph_100_saver(api: Api, n: int) -> Case:
    return _subgraph_case(api, n, saver=True)


@scenario(
    "subgraph_send_1000_memsaver",
    title="Send fan-out to a compiled 2-node subgraph, 1,000 runs, InMemorySaver",
    unit="subgraph run", n=1000, quick_n=100, warm_n=3, requires=("checkpointer",), group=GROUP,
)
def subgraph_1000_saver(api: Api, n: int) -> Case:
    return _subgraph_case(api, n, saver=True)


# --------------------------------------------------------------------------- wide state

WIDE_KEYS = 51  # plus the step counter "i": a 52-key state
Wide = TypedDict("Wide", {"i": int, **{f"k{j}": int for j in range(WIDE_KEYS)}})  # type: ignore[misc]


@scenario(
    "state52_200_memsaver",
    title="52-key state, 200 steps each changing 2 keys, InMemorySaver",
    unit="step", n=200, quick_n=50, requires=("checkpointer",), group=GROUP,
)
def wide_state(api: Api, n: int) -> Case:
    def step(s: Any) -> dict[str, int]:
        i = s["i"]
        return {"i": i + 1, f"k{i % WIDE_KEYS}": i}

    g = api.StateGraph(Wide)
    g.add_node("step", step)
    g.add_edge(api.START, "step")
    g.add_conditional_edges("step", lambda s: "step" if s["i"] < n else api.END, ["step", api.END])
    graph = g.compile(checkpointer=api.InMemorySaver())
    config = _thread("wide", n + 10)
    start = {"i": 0, **{f"k{j}": -1 for j in range(WIDE_KEYS)}}
    expected = dict(start, i=n)
    for i in range(n):
        expected[f"k{i % WIDE_KEYS}"] = i

    def check(out: Any) -> None:
        expect(out, expected)
        _check_saved(graph, config, expected)

    return Case(run=lambda: graph.invoke(start, config), check=check, graphs=(graph,))


# --------------------------------------------------------------------------- agent loop


class Chat(TypedDict):
    messages: Annotated[list, operator.add]
    turn: int


def build_agent_loop(api: Api, turns: int, checkpointer: Any) -> Any:
    """agent <-> tools for ``turns`` turns; the message list grows by 2 per turn."""

    def agent(s: Chat) -> Chat:
        t = s["turn"]
        return {"messages": [{"role": "ai", "turn": t, "tool_call": f"lookup-{t}"}], "turn": t + 1}

    def tools(s: Chat) -> dict[str, Any]:
        call = s["messages"][-1]["tool_call"]
        return {"messages": [{"role": "tool", "turn": s["turn"] - 1, "content": call.upper()}]}

    g = api.StateGraph(Chat)
    g.add_node("agent", agent)
    g.add_node("tools", tools)
    g.add_edge(api.START, "agent")
    g.add_conditional_edges(
        "agent", lambda s: "tools" if s["turn"] < turns else api.END, ["tools", api.END]
    )
    g.add_edge("tools", "agent")
    return g.compile(checkpointer=checkpointer)


def agent_expected(turns: int) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    for t in range(turns):
        messages.append({"role": "ai", "turn": t, "tool_call": f"lookup-{t}"})
        if t + 1 < turns:
            messages.append({"role": "tool", "turn": t, "content": f"LOOKUP-{t}"})
    return {"messages": messages, "turn": turns}


def _agent_case(api: Api, turns: int, checkpointer: Any, close: Any = None) -> Case:
    graph = build_agent_loop(api, turns, checkpointer)
    config = _thread("agent", 2 * turns + 10)
    expected = agent_expected(turns)

    def check(out: Any) -> None:
        expect(out, expected)
        _check_saved(graph, config, expected)

    return Case(
        run=lambda: graph.invoke({"messages": [], "turn": 0}, config), check=check, close=close,
        graphs=(graph,),
    )


@scenario(
    "agent_loop_200_memsaver",
    title="agent/tools loop, 200 turns, InMemorySaver (sync invoke)",
    unit="turn", n=200, quick_n=30, requires=("checkpointer",), group=GROUP,
)
def agent_memsaver(api: Api, n: int) -> Case:
    return _agent_case(api, n, api.InMemorySaver())


@scenario(
    "agent_loop_200_sqlite",
    title="agent/tools loop, 200 turns, SqliteSaver on a temp file (sync invoke)",
    unit="turn", n=200, quick_n=30, requires=("sqlite",), group=GROUP,
)
def agent_sqlite(api: Api, n: int) -> Case:
    tmp = tempfile.mkdtemp(prefix="agbench-")
    stack = contextlib.ExitStack()
    stack.callback(shutil.rmtree, tmp, ignore_errors=True)
    saver = stack.enter_context(api.SqliteSaver.from_conn_string(os.path.join(tmp, "cp.sqlite")))
    return _agent_case(api, n, saver, close=stack.close)


# --------------------------------------------------------------------------- functional API


def _entrypoint_case(api: Api, n: int) -> Case:
    @api.task
    async def double(i: int) -> int:
        return i * 2

    @api.entrypoint()
    async def fan_out(count: int) -> list[int]:
        return list(await asyncio.gather(*(double(i) for i in range(count))))

    async def run() -> Any:
        return await fan_out.ainvoke(n)

    return Case(run=run, check=lambda out: expect(out, [2 * i for i in range(n)]), graphs=(fan_out,))


@scenario(
    "entrypoint_tasks_1000",
    title="@entrypoint fanning out 1,000 @task calls, gathered (ainvoke)",
    unit="task", n=1000, quick_n=100, requires=("func",), group=GROUP,
)
def entrypoint_1000(api: Api, n: int) -> Case:
    return _entrypoint_case(api, n)


@scenario(
    "entrypoint_tasks_4000",
    title="@entrypoint fanning out 4,000 @task calls, gathered (ainvoke)",
    unit="task", n=4000, quick_n=400, requires=("func",), group=GROUP,
)
def entrypoint_4000(api: Api, n: int) -> Case:
    return _entrypoint_case(api, n)
