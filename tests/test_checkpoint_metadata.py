"""Checkpoint metadata and config as LangGraph: only scalar config values are copied into
metadata, reserved keys never (#52); objects in ``configurable`` are never stored and
never break a run (#53); ``durability="exit"`` stores one readable checkpoint whose parent
is the last stored one (#5, #60)."""

from __future__ import annotations

import operator
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from actorgraph.config import RunnableConfig
from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.checkpoint.sqlite import SqliteSaver
from pg_helpers import open_postgres_saver, pg_schema
from actorgraph.graph import START, StateGraph
from actorgraph.types import Send


class S(TypedDict):
    x: int


class L(TypedDict):
    log: Annotated[list, operator.add]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield InMemorySaver()
    elif request.param == "postgres":
        with pg_schema() as uri, open_postgres_saver("postgres", uri) as s:
            yield s
    else:
        with SqliteSaver.from_conn_string(str(tmp_path / "m.db")) as s:
            yield s


def two_steps(saver: Any, **compile_kw: Any) -> Any:
    g = StateGraph(S).add_node("a", lambda s: {"x": s["x"] + 1}).add_node("b", lambda s: {"x": s["x"] * 10})
    return g.add_edge(START, "a").add_edge("a", "b").compile(checkpointer=saver, **compile_kw)


def test_only_scalar_config_values_become_metadata_and_reserved_keys_never(saver: Any) -> None:
    """#52: metadata gets str/int/float/bool values of config["metadata"] then
    config["configurable"] (metadata wins); thread_id, checkpoint_*, langgraph_* and
    __-prefixed keys are dropped."""
    config = {
        "configurable": {"thread_id": "t1", "user": "from-configurable", "n": 3, "lst": [1], "__private": "p"},
        "metadata": {"foo": "bar", "user": "from-metadata", "thread_id": "x", "langgraph_step": 9, "obj": {"a": 1}},
    }
    two_steps(saver).invoke({"x": 1}, config)
    metas = [t.metadata for t in saver.list({"configurable": {"thread_id": "t1"}})]
    assert [m["step"] for m in metas] == [2, 1, 0, -1]
    for m in metas:
        assert {k: v for k, v in m.items() if k not in ("source", "step")} == {
            "parents": {},
            "foo": "bar",
            "user": "from-metadata",
            "n": 3,
        }


def test_objects_in_configurable_are_not_stored_and_do_not_break_the_run(saver: Any) -> None:
    """#53: an LLM client (any object) in configurable: the run works, nothing of it is
    saved, and nodes still see it in their config."""

    class Client:
        lock = threading.Lock()

    seen: list[Any] = []

    def node(s: S, config: RunnableConfig) -> S:
        seen.append(config["configurable"]["llm"])
        return {"x": s["x"] + 1}

    app = StateGraph(S).add_node("n", node).add_edge(START, "n").compile(checkpointer=saver)
    client = Client()
    assert app.invoke({"x": 1}, {"configurable": {"thread_id": "t", "llm": client}}) == {"x": 2}
    assert seen == [client]
    assert all("llm" not in t.metadata for t in saver.list({"configurable": {"thread_id": "t"}}))


@pytest.mark.parametrize("update", [True, False], ids=["node-writes", "node-writes-nothing"])
def test_exit_durability_stores_a_checkpoint_without_a_dangling_parent(saver: Any, update: bool) -> None:
    """#5: with durability="exit" the stored checkpoint's parent_config is None on a new
    thread (LangGraph's), get_state works, and the next run's checkpoint has it as parent."""
    g = StateGraph(S).add_node("a", (lambda s: {"x": 1}) if update else (lambda s: None)).add_node("b", lambda s: None)
    app = g.add_edge(START, "a").add_edge("a", "b").compile(checkpointer=saver, interrupt_before=["b"])
    cfg = {"configurable": {"thread_id": "1"}}
    app.invoke({"x": 0}, cfg, durability="exit")
    first = app.get_state(cfg)
    assert first.parent_config is None
    assert first.next == ("b",) and first.values == {"x": 1 if update else 0}
    assert len(list(saver.list(cfg))) == 1
    app.invoke(None, cfg, durability="exit")
    second = app.get_state(cfg)
    assert second.next == () and second.parent_config == first.config


def test_exit_durability_thread_stays_readable_and_runnable(saver: Any) -> None:
    """#60: after an exit-mode run every read works and later runs on the thread too."""

    class S2(TypedDict):
        x: int
        y: int

    app = (
        StateGraph(S2).add_node("inc", lambda s: {"x": s["x"] + 1}).add_edge(START, "inc")
        .compile(checkpointer=saver)
    )  # fmt: skip
    cfg = {"configurable": {"thread_id": "1"}}
    app.invoke({"x": 1, "y": 5}, cfg, durability="exit")
    assert app.get_state(cfg).values == {"x": 2, "y": 5}
    assert app.invoke({"x": 10}, cfg) == {"x": 11, "y": 5}
    assert app.invoke({"x": 20}, cfg, durability="exit") == {"x": 21, "y": 5}
    assert [s.values for s in app.get_state_history(cfg)][0] == {"x": 21, "y": 5}


def test_exit_durability_after_a_fan_out_and_a_failure(saver: Any) -> None:
    """#5: also after Send fan-outs and failed runs the stored checkpoint reads back."""
    fail = {"on": True}

    def work(arg: dict[str, Any]) -> L:
        if arg["i"] == 2 and fail["on"]:
            raise ValueError("boom")
        return {"log": [arg["i"]]}

    b = StateGraph(L).add_node("w", work).add_node("start", lambda s: {"log": ["s"]})
    b.add_edge(START, "start").add_conditional_edges("start", lambda s: [Send("w", {"i": i}) for i in range(3)])
    app = b.compile(checkpointer=saver)
    cfg = {"configurable": {"thread_id": "f"}}
    with pytest.raises(ValueError, match="boom"):
        app.invoke({"log": []}, cfg, durability="exit")
    snap = app.get_state(cfg)
    assert snap.values["log"][0] == "s" and snap.parent_config is None and "w" in snap.next
    fail["on"] = False
    assert sorted(app.invoke(None, cfg, durability="exit")["log"], key=str) == [0, 1, 2, "s"]
