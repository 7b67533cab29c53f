"""``durability="exit"``: the run's last checkpoint is stored alone, on the checkpoint the
run started from (known gaps #5 and #60), and a delta channel's writes are kept for it
to replay (on that checkpoint, or on an empty stub on a new thread)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from actorgraph.channels.delta import DeltaChannel
from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.graph import START, StateGraph
from actorgraph.types import interrupt

pytestmark = pytest.mark.anyio

CFG = {"configurable": {"thread_id": "t"}}


def _extend(state: list[Any], writes: Sequence[Any]) -> list[Any]:
    out = list(state)
    for w in writes:
        out.extend(w if isinstance(w, list) else [w])
    return out


class _Two(TypedDict):
    x: int
    y: int


async def test_the_stored_checkpoint_reads_back_and_has_no_missing_parent() -> None:
    """Known gap #60 (and #5): exit used to store a checkpoint whose parent never was."""
    graph = StateGraph(_Two).add_node("inc", lambda s: {"x": s["x"] + 1}).add_edge(START, "inc")
    app = graph.compile(checkpointer=InMemorySaver())
    await app.ainvoke({"x": 1, "y": 5}, CFG, durability="exit")
    state = await app.aget_state(CFG)
    assert state.values == {"x": 2, "y": 5}
    assert state.parent_config is None
    await app.ainvoke({"x": 1, "y": 6}, CFG, durability="exit")
    history = [s async for s in app.aget_state_history(CFG)]
    assert [s.values for s in history] == [{"x": 2, "y": 6}, {"x": 2, "y": 5}]
    assert history[0].parent_config == history[1].config


class _Log(TypedDict):
    log: Annotated[list, DeltaChannel(_extend)]
    n: int


def _log_graph(saver: InMemorySaver) -> Any:
    def node(state: _Log) -> dict[str, Any]:
        return {"log": [f"out{len(state['log'])}"], "n": state["n"] + 1}

    return StateGraph(_Log).add_node("a", node).add_edge(START, "a").compile(checkpointer=saver)


async def test_delta_writes_of_a_first_exit_run_hang_on_a_stub() -> None:
    saver = InMemorySaver()
    app = _log_graph(saver)
    out = await app.ainvoke({"log": ["in"], "n": 0}, CFG, durability="exit")
    assert out["log"] == ["in", "out1"]
    history = [s async for s in app.aget_state_history(CFG)]
    assert [s.metadata["step"] for s in history] == [1, -2]
    assert history[0].values["log"] == ["in", "out1"]
    assert history[1].values.get("log", []) == []
    # the next exit run anchors on the last checkpoint: no second stub
    await app.ainvoke({"log": ["again"], "n": 0}, CFG, durability="exit")
    history = [s async for s in app.aget_state_history(CFG)]
    assert [s.metadata["step"] for s in history] == [4, 1, -2]
    assert history[0].values["log"] == ["in", "out1", "again", "out3"]


async def test_an_exit_run_that_snapshots_needs_no_stub() -> None:
    class S(TypedDict):
        log: Annotated[list, DeltaChannel(_extend, snapshot_frequency=1)]

    app = StateGraph(S).add_node("a", lambda s: {"log": ["x"]}).add_edge(START, "a").compile(checkpointer=InMemorySaver())
    await app.ainvoke({"log": ["in"]}, CFG, durability="exit")
    history = [s async for s in app.aget_state_history(CFG)]
    assert len(history) == 1 and history[0].values == {"log": ["in", "x"]}
    assert "counters_since_delta_snapshot" not in history[0].metadata


async def test_an_interrupted_exit_run_resumes_with_its_delta_history() -> None:
    class S(TypedDict):
        log: Annotated[list, DeltaChannel(_extend)]

    def ask(state: S) -> dict[str, Any]:
        return {"log": [interrupt("ok?")]}

    graph = StateGraph(S).add_node("first", lambda s: {"log": ["first"]}).add_node("ask", ask)
    app = graph.add_edge(START, "first").add_edge("first", "ask").compile(checkpointer=InMemorySaver())
    out = await app.ainvoke({"log": ["in"]}, CFG, durability="exit")
    assert "__interrupt__" in out
    assert (await app.aget_state(CFG)).values["log"] == ["in", "first"]
    from actorgraph.types import Command

    assert (await app.ainvoke(Command(resume="yes"), CFG, durability="exit"))["log"] == ["in", "first", "yes"]
    assert (await app.aget_state(CFG)).values["log"] == ["in", "first", "yes"]
