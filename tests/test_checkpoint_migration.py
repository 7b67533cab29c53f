"""Threads LangGraph saved in its older checkpoint formats load, show and continue here as
they do under LangGraph: old channel names (``start:<node>``, ``branch:<src>:<cond>:<node>``,
``<node>``) read as ``branch:to:<node>``, and format-1 task ids match their saved writes.

The fixtures are what those LangGraph versions stored for the graphs below: a thread that
ran ``first`` and paused in ``second`` (which asks ``interrupt("ok?")``)."""

from __future__ import annotations

import copy
import operator
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from actorgraph.checkpoint.sqlite import SqliteSaver
from actorgraph.graph import START, StateGraph
from actorgraph.types import Command, Interrupt, interrupt


class Log(TypedDict):
    log: Annotated[list, operator.add]


CHECKPOINT_IDS = (
    "1f0a0000-0000-6000-bfff-000000000000",
    "1f0a0000-0000-6001-8000-000000000001",
    "1f0a0000-0000-6002-8001-000000000002",
)
# the ids LangGraph gives the tasks of those checkpoints in format 1 (SHA-1 based)
V1_TASK_IDS = (
    "22a9457f-3507-3e75-8658-d8146f6aa1cc",
    "e729e080-31dd-d402-e282-8fda50769db0",
    "2d9998e0-5547-8b07-b762-9497a49259e5",
)
# ids of tasks of the old layout's graph (their triggers had other names): no task of
# today's graph has them
OLD_TASK_IDS = (
    "aaaaaaaa-0000-4000-8000-000000000000",
    "bbbbbbbb-0000-4000-8000-000000000000",
    "cccccccc-0000-4000-8000-000000000000",
)


def _version(n: int) -> str:
    return f"{n:032}.0.5"


def _thread(v: int, entry: str, edge: str, task_ids: tuple[str, ...]) -> list[dict[str, Any]]:
    """The three checkpoints (input, step 0, step 1) with their writes, ``entry`` the
    channel START wrote for ``first`` and ``edge`` the one ``first`` wrote for ``second``."""
    steps = [
        ({"__start__": {"log": ["in"]}}, {"__start__": 1}, {}, "input", [("log", ["in"]), (entry, "__start__")]),
        (
            {"log": ["in"], entry: "__start__"},
            {"__start__": 2, "log": 2, entry: 2},
            {"__start__": {"__start__": 1}},
            "loop",
            [("log", ["first"]), (edge, "first")],
        ),
        (
            {"log": ["in", "first"], edge: "first"},
            {"__start__": 2, "log": 3, entry: 2, edge: 3},
            {"__start__": {"__start__": 1}, "first": {entry: 2}},
            "loop",
            [("__interrupt__", [Interrupt(value="ok?", id="0" * 32)])],
        ),
    ]
    out = []
    for i, (values, versions, seen, source, writes) in enumerate(steps):
        out.append(
            {
                "checkpoint": {
                    "v": v,
                    "id": CHECKPOINT_IDS[i],
                    "ts": f"2024-06-01T00:00:0{i}+00:00",
                    "channel_values": values,
                    "channel_versions": {k: _version(n) for k, n in versions.items()},
                    "versions_seen": {"__input__": {}, **{k: {c: _version(n) for c, n in s.items()} for k, s in seen.items()}},
                },
                "metadata": {"source": source, "step": i - 1, "parents": {}},
                "task_id": task_ids[i],
                "writes": writes,
            }
        )
    return out


# format 2, plain edges: START wrote start:first, first wrote its own channel "first"
NODE_CHANNELS = _thread(2, "start:first", "first", OLD_TASK_IDS)
# format 1, a conditional edge out of first: its channel named source, condition, target
CONDITIONAL_V1 = _thread(1, "start:first", "branch:first:route:second", V1_TASK_IDS)


def _store(saver: Any, thread: list[dict[str, Any]]) -> None:
    """Save ``thread`` as LangGraph did: each checkpoint with the versions it changed."""
    parent: str | None = None
    before: dict[str, str] = {}
    for saved in copy.deepcopy(thread):
        ckpt = saved["checkpoint"]
        versions = ckpt["channel_versions"]
        saver.put(
            {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": parent}},
            ckpt,
            saved["metadata"],
            {k: v for k, v in versions.items() if before.get(k) != v},
        )
        at = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": ckpt["id"]}}
        saver.put_writes(at, saved["writes"], saved["task_id"])
        parent, before = ckpt["id"], versions


def _graph(saver: Any, conditional: bool, calls: list[str]) -> Any:
    def first(s: Log) -> dict[str, Any]:
        calls.append("first")
        return {"log": ["first"]}

    def second(s: Log) -> dict[str, Any]:
        calls.append("second")
        return {"log": ["second:" + interrupt("ok?")]}

    def route(s: Log) -> str:
        return "second"

    builder = StateGraph(Log).add_node(first).add_node(second).add_edge(START, "first")
    if conditional:
        builder.add_conditional_edges("first", route)
    else:
        builder.add_edge("first", "second")
    return builder.compile(checkpointer=saver)


@pytest.fixture
def saver(tmp_path: Path) -> Iterator[SqliteSaver]:
    with SqliteSaver.from_conn_string(str(tmp_path / "state.db")) as s:
        yield s


def cfg() -> dict[str, Any]:
    return {"configurable": {"thread_id": "t"}}


def _summary(state: Any) -> tuple[Any, ...]:
    tasks = [(t.name, t.result, [i.value for i in t.interrupts]) for t in state.tasks]
    return state.next, state.values, tasks


def test_node_named_channels_read_as_trigger_channels(saver: SqliteSaver) -> None:
    """A format-2 thread whose edges wrote ``start:first`` and ``first``: each checkpoint
    shows the node it was about to run, and the resumed run finishes the thread. Saved
    writes keep their old task ids, which no task has now: no results show (as LangGraph)."""
    calls: list[str] = []
    _store(saver, NODE_CHANNELS)
    app = _graph(saver, conditional=False, calls=calls)
    history = [_summary(s) for s in app.get_state_history(cfg())]
    assert history == [
        (("second",), {"log": ["in", "first"]}, [("second", None, [])]),
        (("first",), {"log": ["in"]}, [("first", None, [])]),
        (("__start__",), {"log": []}, [("__start__", None, [])]),
    ]
    assert app.invoke(Command(resume="yes"), cfg()) == {"log": ["in", "first", "second:yes"]}
    assert calls == ["second"]
    assert app.get_state(cfg()).next == ()


def test_a_format_1_thread_matches_its_saved_writes_and_conditional_channels(saver: SqliteSaver) -> None:
    """Format 1: ``branch:first:route:second`` triggers second, and task ids are computed
    as LangGraph computed them then, so saved results and the pending interrupt show, and
    the run resumes the interrupted task."""
    calls: list[str] = []
    _store(saver, CONDITIONAL_V1)
    app = _graph(saver, conditional=True, calls=calls)
    history = [_summary(s) for s in app.get_state_history(cfg())]
    assert history == [
        (("second",), {"log": ["in", "first"]}, [("second", None, ["ok?"])]),
        (("first",), {"log": ["in"]}, [("first", {"log": ["first"]}, [])]),
        (("__start__",), {"log": []}, [("__start__", {"log": ["in"]}, [])]),
    ]
    (task,) = app.get_state(cfg()).tasks
    assert task.id == V1_TASK_IDS[2]
    assert app.invoke(Command(resume="yes"), cfg()) == {"log": ["in", "first", "second:yes"]}
    assert calls == ["second"]


def test_time_travel_to_an_old_checkpoint_reruns_from_it(saver: SqliteSaver) -> None:
    """Running from a migrated checkpoint by id continues the thread from there in
    today's layout: the nodes after it run again."""
    calls: list[str] = []
    _store(saver, NODE_CHANNELS)
    app = _graph(saver, conditional=False, calls=calls)
    at_first = {"configurable": {"thread_id": "t", "checkpoint_id": CHECKPOINT_IDS[1]}}
    out = app.invoke(None, at_first)
    assert out["log"] == ["in", "first"] and [i.value for i in out["__interrupt__"]] == ["ok?"]
    assert calls == ["first", "second"]
    assert app.invoke(Command(resume="again"), cfg()) == {"log": ["in", "first", "second:again"]}


@pytest.mark.anyio
async def test_the_async_api_reads_and_continues_an_old_thread(saver: SqliteSaver) -> None:
    calls: list[str] = []
    _store(saver, NODE_CHANNELS)
    app = _graph(saver, conditional=False, calls=calls)
    state = await app.aget_state(cfg())
    assert state.next == ("second",)
    assert [s.next async for s in app.aget_state_history(cfg())] == [("second",), ("first",), ("__start__",)]
    assert await app.ainvoke(Command(resume="yes"), cfg()) == {"log": ["in", "first", "second:yes"]}


def test_the_stored_checkpoints_are_left_in_their_format(saver: SqliteSaver) -> None:
    """Reading migrates a copy: the saver still returns what LangGraph stored."""
    _store(saver, NODE_CHANNELS)
    app = _graph(saver, conditional=False, calls=[])
    app.get_state(cfg())
    list(app.get_state_history(cfg()))
    stored = saver.get_tuple(cfg()).checkpoint
    assert set(stored["channel_versions"]) == {"__start__", "log", "start:first", "first"}
    assert stored["versions_seen"]["first"] == {"start:first": _version(2)}


def test_migrate_checkpoint_renames_old_channels_in_place() -> None:
    """``graph._migrate_checkpoint(checkpoint)`` (private; LangGraph's code and tests call
    it) rewrites a format-1/2 checkpoint dict to today's channel names."""
    app = _graph(None, conditional=True, calls=[])
    ckpt = copy.deepcopy(CONDITIONAL_V1[2]["checkpoint"])
    assert app._migrate_checkpoint(ckpt) is None
    assert ckpt["channel_versions"] == {
        "__start__": _version(2),
        "log": _version(3),
        "branch:to:first": _version(2),
        "branch:to:second": _version(3),
    }
    assert ckpt["versions_seen"]["first"] == {"branch:to:first": _version(2)}
    assert ckpt["channel_values"] == {"log": ["in", "first"], "branch:to:second": "first"}

    plain = _graph(None, conditional=False, calls=[])
    ckpt = copy.deepcopy(NODE_CHANNELS[2]["checkpoint"])
    plain._migrate_checkpoint(ckpt)
    assert set(ckpt["channel_versions"]) == {"__start__", "log", "branch:to:first", "branch:to:second"}
    assert ckpt["channel_values"] == {"log": ["in", "first"], "branch:to:second": "first"}
    # a checkpoint already in today's layout is left alone
    current = copy.deepcopy(ckpt)
    plain._migrate_checkpoint(ckpt)
    assert ckpt == current
