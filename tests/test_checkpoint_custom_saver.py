"""A saver written for LangGraph plugs in (known-gaps #55): a ``BaseCheckpointSaver``
subclass implementing ``get_tuple``, ``list``, ``put`` and ``put_writes`` - the way
LangGraph's docs show - runs graphs with interrupts, Sends, time travel (replay and fork),
failed-step recovery and subgraphs; the runtime calls it in LangGraph's protocol. A
subclass of our own saver that overrides ``put`` is called through its override too."""

from __future__ import annotations

import operator
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, TypedDict

import anyio
import pytest

from actorgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple, get_checkpoint_id
from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.checkpoint.sqlite import SqliteSaver
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import Command, Send, interrupt


class DictSaver(BaseCheckpointSaver):
    """A minimal custom saver: checkpoints and writes in dicts, serialized with ``serde``."""

    def __init__(self) -> None:
        super().__init__()
        self.checkpoints: dict[tuple[str, str], dict[str, tuple[Any, Any, str | None]]] = {}
        self.stored_writes: dict[tuple[str, str, str], list[tuple[str, str, Any]]] = {}
        self.calls: list[str] = []

    @staticmethod
    def _key(config: Any) -> tuple[str, str]:
        conf = config["configurable"]
        return conf["thread_id"], conf.get("checkpoint_ns", "")

    def get_tuple(self, config: Any) -> CheckpointTuple | None:
        self.calls.append("get_tuple")
        thread, ns = self._key(config)
        saved = self.checkpoints.get((thread, ns), {})
        cid = get_checkpoint_id(config) or (max(saved) if saved else None)
        if cid is None or cid not in saved:
            return None
        checkpoint, metadata, parent = saved[cid]
        conf = {"thread_id": thread, "checkpoint_ns": ns}
        return CheckpointTuple(
            config={"configurable": {**conf, "checkpoint_id": cid}},
            checkpoint=self.serde.loads_typed(checkpoint),
            metadata=self.serde.loads_typed(metadata),
            parent_config={"configurable": {**conf, "checkpoint_id": parent}} if parent else None,
            pending_writes=[(t, c, self.serde.loads_typed(v)) for t, c, v in self.stored_writes.get((thread, ns, cid), [])],
        )

    def list(
        self, config: Any, *, filter: dict[str, Any] | None = None, before: Any = None, limit: int | None = None
    ) -> Iterator[CheckpointTuple]:
        thread, ns = self._key(config)
        found = 0
        for cid in sorted(self.checkpoints.get((thread, ns), {}), reverse=True):
            if before is not None and cid >= get_checkpoint_id(before):
                continue
            tup = self.get_tuple({"configurable": {"thread_id": thread, "checkpoint_ns": ns, "checkpoint_id": cid}})
            assert tup is not None
            if filter and any(tup.metadata.get(k) != v for k, v in filter.items()):
                continue
            yield tup
            found += 1
            if limit is not None and found >= limit:
                return

    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        self.calls.append("put")
        thread, ns = self._key(config)
        parent = config["configurable"].get("checkpoint_id")
        self.checkpoints.setdefault((thread, ns), {})[checkpoint["id"]] = (
            self.serde.dumps_typed(checkpoint),
            self.serde.dumps_typed(metadata),
            parent,
        )
        return {"configurable": {"thread_id": thread, "checkpoint_ns": ns, "checkpoint_id": checkpoint["id"]}}

    def put_writes(self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = "") -> None:
        self.calls.append("put_writes")
        thread, ns = self._key(config)
        bucket = self.stored_writes.setdefault((thread, ns, config["configurable"]["checkpoint_id"]), [])
        bucket.extend((task_id, c, self.serde.dumps_typed(v)) for c, v in writes)


class AsyncDictSaver(DictSaver):
    """The same, with the async methods LangGraph's async runs call."""

    async def aget_tuple(self, config: Any) -> CheckpointTuple | None:
        self.calls.append("aget_tuple")
        return self.get_tuple(config)

    async def alist(
        self, config: Any, *, filter: dict[str, Any] | None = None, before: Any = None, limit: int | None = None
    ) -> AsyncIterator[CheckpointTuple]:
        for tup in self.list(config, filter=filter, before=before, limit=limit):
            yield tup

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        self.calls.append("aput")
        return self.put(config, checkpoint, metadata, new_versions)

    async def aput_writes(self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = "") -> None:
        self.calls.append("aput_writes")
        self.put_writes(config, writes, task_id, task_path)


class S(TypedDict):
    log: Annotated[list, operator.add]


def cfg(thread: str = "1") -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


def ask_then_fan_out(saver: Any) -> Any:
    """a -> ask (interrupt) -> three Sends to w."""

    def ask(s: S) -> S:
        return {"log": ["ask:" + interrupt("q?")]}

    b = StateGraph(S)
    b.add_node("a", lambda s: {"log": ["a"]})
    b.add_node("ask", ask)
    b.add_node("w", lambda s: {"log": [f"w{s['i']}"]})
    b.add_edge(START, "a")
    b.add_edge("a", "ask")
    b.add_conditional_edges("ask", lambda s: [Send("w", {"i": i}) for i in range(3)])
    return b.compile(checkpointer=saver)


def test_a_custom_saver_instantiates_and_is_called_through_langgraphs_protocol() -> None:
    saver = DictSaver()
    app = ask_then_fan_out(saver)
    out = app.invoke({"log": ["in"]}, cfg())
    assert out["log"] == ["in", "a"] and [i.value for i in out["__interrupt__"]] == ["q?"]
    assert {"put", "get_tuple"} <= set(saver.calls)
    # the saver holds LangGraph-shaped checkpoints: values inline, metadata as LangGraph's
    latest = saver.get_tuple(cfg())
    assert latest is not None and latest.checkpoint["channel_values"]["log"] == ["in", "a"]
    assert latest.metadata["source"] == "loop" and latest.parent_config is not None


def test_interrupt_resume_and_pending_sends_on_a_custom_saver() -> None:
    app = ask_then_fan_out(DictSaver())
    app.invoke({"log": ["in"]}, cfg())
    assert app.get_state(cfg()).next == ("ask",)
    assert app.invoke(Command(resume="yes"), cfg()) == {"log": ["in", "a", "ask:yes", "w0", "w1", "w2"]}
    assert app.get_state(cfg()).next == ()


def test_time_travel_replays_and_forks_on_a_custom_saver() -> None:
    app = ask_then_fan_out(DictSaver())
    app.invoke({"log": ["in"]}, cfg())
    app.invoke(Command(resume="yes"), cfg())
    history = list(app.get_state_history(cfg()))
    assert [h.metadata["step"] for h in history] == [3, 2, 1, 0, -1]
    before_ask = next(h for h in history if h.next == ("ask",))
    # replay from the past checkpoint: the interrupt fires again
    assert app.invoke(None, before_ask.config)["__interrupt__"][0].value == "q?"
    assert app.invoke(Command(resume="no"), cfg())["log"] == ["in", "a", "ask:no", "w0", "w1", "w2"]
    # fork: an update on the past checkpoint starts a new branch
    forked = app.update_state(before_ask.config, {"log": ["edited"]})
    assert app.get_state(forked).values["log"] == ["in", "a", "edited"]
    assert app.get_state(forked).next == ("ask",)


def test_a_failed_step_resumes_without_rerunning_finished_tasks_on_a_custom_saver() -> None:
    runs: list[str] = []
    failing = {"on": True}

    async def ok(s: S) -> S:
        runs.append("ok")
        return {"log": ["ok"]}

    async def flaky(s: S) -> S:
        runs.append("flaky")
        await anyio.sleep(0.05)  # ok finishes (and is saved) before this fails
        if failing["on"]:
            raise RuntimeError("boom")
        return {"log": ["flaky"]}

    b = StateGraph(S)
    b.add_node("ok", ok)
    b.add_node("flaky", flaky)
    b.add_edge(START, "ok")
    b.add_edge(START, "flaky")
    saver = DictSaver()
    app = b.compile(checkpointer=saver)
    with pytest.raises(RuntimeError, match="boom"):
        app.invoke({"log": []}, cfg())
    assert "put_writes" in saver.calls  # ok's writes were saved as pending writes
    failing["on"] = False
    assert sorted(app.invoke(None, cfg())["log"]) == ["flaky", "ok"]
    assert runs.count("ok") == 1 and runs.count("flaky") == 2


def test_subgraph_interrupts_resume_on_a_custom_saver() -> None:
    def ask(s: S) -> S:
        return {"log": ["inner:" + interrupt("inner?")]}

    inner = StateGraph(S).add_node("ask", ask).add_edge(START, "ask").compile()
    outer = StateGraph(S).add_node("sub", inner).add_node("after", lambda s: {"log": ["after"]})
    app = outer.add_edge(START, "sub").add_edge("sub", "after").compile(checkpointer=DictSaver())
    assert app.invoke({"log": ["in"]}, cfg())["__interrupt__"][0].value == "inner?"
    assert app.invoke(Command(resume="R"), cfg())["log"] == ["in", "in", "inner:R", "after"]


@pytest.mark.anyio
async def test_async_runs_call_the_async_methods_and_sync_only_savers_still_work() -> None:
    async_saver = AsyncDictSaver()
    app = ask_then_fan_out(async_saver)
    await app.ainvoke({"log": ["in"]}, cfg())
    assert (await app.ainvoke(Command(resume="y"), cfg()))["log"][-3:] == ["w0", "w1", "w2"]
    assert {"aput", "aget_tuple"} <= set(async_saver.calls) and "put" in async_saver.calls
    assert "aput_writes" in async_saver.calls or "put_writes" not in async_saver.calls
    # a saver with only the sync methods is called from a worker thread in async runs
    sync_app = ask_then_fan_out(DictSaver())
    await sync_app.ainvoke({"log": ["in"]}, cfg("s"))
    assert (await sync_app.ainvoke(Command(resume="y"), cfg("s")))["log"][-1] == "w2"


def test_a_subclass_of_our_saver_that_overrides_put_is_called_through_it() -> None:
    class CountingSaver(InMemorySaver):
        def __init__(self) -> None:
            super().__init__()
            self.puts = 0

        def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
            self.puts += 1
            return super().put(config, checkpoint, metadata, new_versions)

    saver = CountingSaver()
    app = ask_then_fan_out(saver)
    app.invoke({"log": ["in"]}, cfg())
    assert saver.puts == 3  # input, a, ask (paused)
    assert app.invoke(Command(resume="y"), cfg())["log"][-1] == "w2"
    assert [h.metadata["step"] for h in app.get_state_history(cfg())] == [3, 2, 1, 0, -1]


def test_a_saver_implementing_nothing_fails_with_not_implemented_error() -> None:
    class Empty(BaseCheckpointSaver):
        pass

    app = StateGraph(S).add_node("n", lambda s: {}).add_edge(START, "n").add_edge("n", END).compile(checkpointer=Empty())
    with pytest.raises(NotImplementedError, match="get_tuple"):
        app.invoke({"log": []}, cfg())


def test_branches_do_not_overwrite_each_other_in_a_saver_that_keys_values_by_version() -> None:
    """InMemorySaver.put keys stored values by (channel, version); a fork counts the same
    versions as the branch it left, and must not change that branch's history."""

    class Subclassed(InMemorySaver):
        def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
            return super().put(config, checkpoint, metadata, new_versions)

    app = ask_then_fan_out(Subclassed())
    app.invoke({"log": ["in"]}, cfg())
    app.invoke(Command(resume="old"), cfg())
    old_final = app.get_state(cfg())
    before_ask = next(h for h in app.get_state_history(cfg()) if h.next == ("ask",))
    app.invoke(None, before_ask.config)
    assert app.invoke(Command(resume="new"), cfg())["log"] == ["in", "a", "ask:new", "w0", "w1", "w2"]
    assert app.get_state(old_final.config).values["log"] == ["in", "a", "ask:old", "w0", "w1", "w2"]


# -- a saver's own get_next_version and a put_writes without task_path ------------------------


class _TensSaver(SqliteSaver):
    """Numbers versions 10, 20, 30, ... (its own get_next_version)."""

    def get_next_version(self, current: Any, channel: Any = None) -> Any:
        return 10 if current is None else int(str(current).split(".")[0]) + 10


class _FaultyVersionSaver(SqliteSaver):
    def get_next_version(self, current: Any, channel: Any = None) -> Any:
        raise ValueError("no versions today")


def _sqlite(cls: type[SqliteSaver], tmp_path: Path) -> Any:
    return cls(sqlite3.connect(str(tmp_path / "state.db"), check_same_thread=False))


def test_a_savers_own_get_next_version_numbers_the_channel_versions(tmp_path: Path) -> None:
    """A saver subclass that overrides get_next_version decides the versions saved; the
    graph runs, pauses and resumes as with the default numbering."""
    saver = _sqlite(_TensSaver, tmp_path)
    app = ask_then_fan_out(saver)
    app.invoke({"log": ["in"]}, cfg())
    assert app.invoke(Command(resume="y"), cfg())["log"] == ["in", "a", "ask:y", "w0", "w1", "w2"]
    for tup in saver.list(cfg()):
        # (the pending Sends' channel is versioned by checkpoint id, not counted)
        versions = {c: v for c, v in tup.checkpoint["channel_versions"].items() if c != "__pregel_tasks"}
        assert versions and all(int(str(v).split(".")[0]) % 10 == 0 for v in versions.values()), versions


def test_a_get_next_version_that_raises_fails_the_run(tmp_path: Path) -> None:
    app = ask_then_fan_out(_sqlite(_FaultyVersionSaver, tmp_path))
    with pytest.raises(ValueError, match="no versions today"):
        app.invoke({"log": ["in"]}, cfg())


@pytest.mark.anyio
async def test_a_get_next_version_that_raises_fails_an_async_run(tmp_path: Path) -> None:
    app = ask_then_fan_out(_sqlite(_FaultyVersionSaver, tmp_path))
    with pytest.raises(ValueError, match="no versions today"):
        await app.ainvoke({"log": ["in"]}, cfg())


def test_a_put_writes_override_without_task_path_is_called_without_it(tmp_path: Path) -> None:
    """Savers written before LangGraph added ``task_path`` to put_writes still work: the
    argument is passed only to a put_writes that takes it (as LangGraph does)."""

    class OldStyle(SqliteSaver):
        tasks: list[str] = []

        def put_writes(self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str) -> None:  # type: ignore[override]
            self.tasks.append(task_id)
            super().put_writes(config, writes, task_id)

    saver = _sqlite(OldStyle, tmp_path)
    app = ask_then_fan_out(saver)
    app.invoke({"log": ["in"]}, cfg())
    assert app.invoke(Command(resume="y"), cfg())["log"] == ["in", "a", "ask:y", "w0", "w1", "w2"]
    assert len(saver.tasks) >= 5  # a, ask's interrupt, ask, three Sends
