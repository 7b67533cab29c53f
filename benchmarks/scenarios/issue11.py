"""Issue 11 scenarios: a state whose values are big, so saving is mostly serializing.

``state52_big_200_memsaver`` is ``state52_200_memsaver`` with weight: 50 of its 52 keys are
reducer lists holding 10,000 items in all, and each step appends to 4 of them. A saver that
serializes only the channels a step changed, and walks those values in C, does ~4 lists of
work per step; one that walks every value in Python does much more.

``ainvoke_sync_nodes_1000`` is ``sync_invoke_1000`` through ``ainvoke``: what an async web
service (or the server) does with a graph of plain sync functions. The loop is shared, so
every node's call hops to a worker thread and back (user code never blocks the loop); the
hop is what it measures.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from benchmarks.registry import Case, expect, scenario
from benchmarks.scenarios.core import build_small, small_expected
from benchmarks.shim import Api

GROUP = "issue11"

BIG_KEYS = 50  # reducer lists; plus the step counter "i" and a label "tag": 52 keys
ITEMS_PER_KEY = 200  # 10,000 items in all at the start
CHANGED_PER_STEP = 4
APPENDED = 3  # items appended to each changed key per step

BigWide = TypedDict(  # type: ignore[misc]
    "BigWide",
    {"i": int, "tag": str, **{f"l{j}": Annotated[list, operator.add] for j in range(BIG_KEYS)}},
)


def _item(key: int, m: int) -> Any:
    kind = m % 3
    if kind == 0:
        return f"item-{key}-{m}"
    if kind == 1:
        return key * 1000 + m
    return {"key": key, "m": m, "label": f"k{key}", "ok": m % 2 == 0}


def _changed(i: int) -> list[int]:
    return [(CHANGED_PER_STEP * i + c) % BIG_KEYS for c in range(CHANGED_PER_STEP)]


def _appended(i: int, key: int) -> list[Any]:
    return [_item(key, 10_000 + i * APPENDED + a) for a in range(APPENDED)]


@scenario(
    "state52_big_200_memsaver",
    title="52-key state, 50 reducer lists of 10,000 items in all, 200 steps each appending to 4, InMemorySaver",
    unit="step", n=200, quick_n=50, requires=("checkpointer",), group=GROUP,
)
def big_wide_state(api: Api, n: int) -> Case:
    def step(s: Any) -> dict[str, Any]:
        i = s["i"]
        update: dict[str, Any] = {"i": i + 1}
        for key in _changed(i):
            update[f"l{key}"] = _appended(i, key)
        return update

    g = api.StateGraph(BigWide)
    g.add_node("step", step)
    g.add_edge(api.START, "step")
    g.add_conditional_edges("step", lambda s: "step" if s["i"] < n else api.END, ["step", api.END])
    graph = g.compile(checkpointer=api.InMemorySaver())
    config = {"configurable": {"thread_id": "big-wide"}, "recursion_limit": n + 10}
    start: dict[str, Any] = {"i": 0, "tag": "big"}
    for j in range(BIG_KEYS):
        start[f"l{j}"] = [_item(j, m) for m in range(ITEMS_PER_KEY)]
    expected = {k: (list(v) if isinstance(v, list) else v) for k, v in start.items()}
    expected["i"] = n
    for i in range(n):
        for key in _changed(i):
            expected[f"l{key}"].extend(_appended(i, key))

    def check(out: Any) -> None:
        expect(out, expected)
        expect(graph.get_state(config).values, expected, "saved state")

    return Case(run=lambda: graph.invoke(start, config), check=check)


@scenario(
    "ainvoke_sync_nodes_1000",
    title="1,000 sequential ainvokes of the same small graph, sync nodes (each hops to a thread)",
    unit="invoke", n=1000, quick_n=100, group=GROUP,
)
def ainvoke_sync_nodes(api: Api, n: int) -> Case:
    graph = build_small(api, use_async=False)

    async def run() -> list[Any]:
        return [await graph.ainvoke({"x": i}) for i in range(n)]

    return Case(run=run, check=lambda out: expect(out, small_expected(n)), graphs=(graph,))
