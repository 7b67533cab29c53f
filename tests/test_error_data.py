"""Errors carry what they are about as attributes (``node``, ``key``, ``value``,
``thread_id``, ``checkpoint_id``...), filled by every raise site, so no code has to read
a message; each error here is raised by a real misuse through the public API. Config
mistakes are ``ConfigError``; a save that fails while a run is cancelled is logged."""

from __future__ import annotations

import contextlib
import operator
import pickle
import sqlite3
from pathlib import Path
from typing import Annotated, Any, TypedDict

import anyio
import pytest
import structlog

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.checkpoint.sqlite import SqliteSaver
from actorgraph.errors import (
    CheckpointError,
    ConfigError,
    EmptyInputError,
    GraphRecursionError,
    GraphValidationError,
    InvalidMessageError,
    InvalidNamespaceError,
    InvalidUpdateError,
    NodeCancelledError,
    NodeTimeoutError,
    SerializationError,
    UnknownInterruptError,
)
from actorgraph.graph import END, START, StateGraph
from actorgraph.graph.message import add_messages
from actorgraph.store.memory import InMemoryStore
from actorgraph.types import Command, Send, interrupt


class State(TypedDict, total=False):
    x: int
    log: Annotated[list[str], operator.add]


def _cfg(thread: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


def _one_node(fn: Any, **compile_kw: Any) -> Any:
    g = StateGraph(State)
    g.add_node("n", fn)
    g.add_edge(START, "n")
    return g.compile(**compile_kw)


# -- InvalidUpdateError -------------------------------------------------------------------


def test_a_node_returning_a_non_dict_names_the_node_and_value() -> None:
    with pytest.raises(InvalidUpdateError) as info:
        _one_node(lambda s: 42).invoke({"x": 1})
    assert (info.value.node, info.value.value, info.value.key) == ("n", 42, None)


def test_an_unknown_key_in_strict_mode_names_node_and_key() -> None:
    with pytest.raises(InvalidUpdateError) as info:
        _one_node(lambda s: {"nope": 1}, strict=True).invoke({"x": 1})
    assert (info.value.node, info.value.key) == ("n", "nope")


def test_two_writers_of_a_plain_key_name_the_key() -> None:
    g = StateGraph(State)
    g.add_node("a", lambda s: {"x": 1})
    g.add_node("b", lambda s: {"x": 2})
    g.add_edge(START, "a")
    g.add_edge(START, "b")
    with pytest.raises(InvalidUpdateError) as info:
        g.compile().invoke({"x": 0})
    assert info.value.key == "x"
    assert info.value.node is None  # two nodes wrote it: the message names both


def test_two_writes_by_one_node_name_the_node_too() -> None:
    g = StateGraph(State)
    g.add_node("fan", lambda s: {})
    g.add_node("w", lambda s: {"x": s["x"]})
    g.add_edge(START, "fan")
    g.add_conditional_edges("fan", lambda s: [Send("w", {"x": 1}), Send("w", {"x": 2})])
    with pytest.raises(InvalidUpdateError) as info:
        g.compile().invoke({"x": 0})
    assert (info.value.key, info.value.node) == ("x", "w")


def test_command_goto_an_unknown_node_in_strict_mode_names_node_and_target() -> None:
    with pytest.raises(InvalidUpdateError) as info:
        _one_node(lambda s: Command(goto="ghost"), strict=True).invoke({"x": 1})
    assert (info.value.node, info.value.value) == ("n", "ghost")


def test_a_router_to_an_unknown_node_in_strict_mode_names_its_source() -> None:
    g = StateGraph(State)
    g.add_node("n", lambda s: {"x": 2})
    g.add_edge(START, "n")
    g.add_conditional_edges("n", lambda s: "ghost")
    with pytest.raises(InvalidUpdateError) as info:
        g.compile(strict=True).invoke({"x": 1})
    assert (info.value.node, info.value.value) == ("n", "ghost")


def test_update_state_as_an_unknown_node_names_it() -> None:
    app = _one_node(lambda s: {"x": 2}, checkpointer=InMemorySaver())
    app.invoke({"x": 1}, _cfg("t"))
    with pytest.raises(InvalidUpdateError) as info:
        app.update_state(_cfg("t"), {"x": 5}, as_node="ghost")
    assert info.value.node == "ghost"


def test_a_bad_remove_message_names_the_key_and_message() -> None:
    from actorgraph.messages import RemoveMessage

    class Chat(TypedDict):
        messages: Annotated[list[Any], add_messages]

    g = StateGraph(Chat)
    g.add_node("n", lambda s: {"messages": [RemoveMessage(id="missing")]})
    g.add_edge(START, "n")
    with pytest.raises(InvalidMessageError) as info:
        g.compile().invoke({"messages": [("user", "hi")]})
    assert info.value.key == "messages"
    assert isinstance(info.value.value, RemoveMessage) and info.value.value.id == "missing"


# -- GraphValidationError -----------------------------------------------------------------


def test_builder_errors_name_the_node() -> None:
    g = StateGraph(State)
    g.add_node("n", lambda s: {})
    with pytest.raises(GraphValidationError) as dup:
        g.add_node("n", lambda s: {})
    with pytest.raises(GraphValidationError) as reserved:
        g.add_node("a:b", lambda s: {})
    g.add_edge(START, "n")
    g.add_edge("n", "ghost")
    with pytest.raises(GraphValidationError) as unknown:
        g.compile()
    assert (dup.value.node, reserved.value.node, unknown.value.node) == ("n", "a:b", "ghost")


def test_a_reducer_with_a_bad_signature_names_the_key() -> None:
    class Bad(TypedDict):
        y: Annotated[int, lambda a: a]

    with pytest.raises(GraphValidationError) as info:
        StateGraph(Bad)
    assert info.value.key == "y"


# -- ConfigError --------------------------------------------------------------------------


def test_a_missing_thread_id_is_a_config_error_naming_the_key() -> None:
    app = _one_node(lambda s: {"x": 2}, checkpointer=InMemorySaver())
    with pytest.raises(ConfigError) as run:
        app.invoke({"x": 1})
    with pytest.raises(ConfigError) as read:
        app.get_state({})
    assert run.value.key == read.value.key == "thread_id"


def test_bad_run_options_are_config_errors_naming_the_key_and_value() -> None:
    app = _one_node(lambda s: {"x": 2}, checkpointer=InMemorySaver(), strict=True)
    cases = [
        (lambda: app.invoke({"x": 1}, _cfg("t"), durability="sometimes"), "durability", "sometimes"),
        (lambda: list(app.stream({"x": 1}, _cfg("t"), stream_mode="everything")), "stream_mode", "everything"),
        (lambda: app.invoke({"x": 1}, {**_cfg("t"), "recursion_limit": 0}), "recursion_limit", 0),
        (lambda: app.invoke({"x": 1}, {**_cfg("t"), "max_concurrency": -1}), "max_concurrency", -1),
    ]
    for call, key, value in cases:
        with pytest.raises(ConfigError) as info:
            call()
        assert (info.value.key, info.value.value) == (key, value)
        assert isinstance(info.value, ValueError)  # what LangGraph raises


def test_a_saver_given_a_config_without_a_checkpoint_is_a_config_error() -> None:
    saver = InMemorySaver()
    with pytest.raises(ConfigError) as info:
        saver.put_writes(_cfg("t"), [("x", 1)], "task-1")
    assert (info.value.key, info.value.thread_id) == ("checkpoint_id", "t")
    with pytest.raises(ConfigError) as bad:
        saver.get_tuple({"configurable": ["not", "a", "dict"]})
    assert bad.value.key == "configurable"


# -- run and thread errors ----------------------------------------------------------------


def test_the_recursion_limit_error_carries_the_limit_and_thread() -> None:
    g = StateGraph(State)
    g.add_node("n", lambda s: {"x": s["x"] + 1})
    g.add_edge(START, "n")
    g.add_edge("n", "n")
    app = g.compile(checkpointer=InMemorySaver())
    with pytest.raises(GraphRecursionError) as info:
        app.invoke({"x": 0}, {**_cfg("loop"), "recursion_limit": 3})
    assert (info.value.limit, info.value.thread_id) == (3, "loop")


def test_no_input_on_a_new_thread_names_the_thread() -> None:
    app = _one_node(lambda s: {"x": 2}, checkpointer=InMemorySaver())
    with pytest.raises(EmptyInputError) as info:
        app.invoke(None, _cfg("fresh"))
    assert info.value.thread_id == "fresh"


def test_an_unknown_interrupt_id_names_the_thread_and_ids() -> None:
    app = _one_node(lambda s: {"x": interrupt("?")}, checkpointer=InMemorySaver(), strict=True)
    app.invoke({"x": 1}, _cfg("p"))
    with pytest.raises(UnknownInterruptError) as info:
        app.invoke(Command(resume={"0123456789abcdef0123456789abcdef": 1}), _cfg("p"))
    assert info.value.thread_id == "p"
    assert info.value.interrupt_ids == ("0123456789abcdef0123456789abcdef",)


def test_a_value_that_cant_be_saved_names_channel_thread_and_value() -> None:
    class Opaque:
        pass

    class Loose(TypedDict, total=False):
        x: Any

    g = StateGraph(Loose)
    thing = Opaque()
    g.add_node("n", lambda s: {"x": thing})
    g.add_edge(START, "n")
    with pytest.raises(SerializationError) as info:
        g.compile(checkpointer=InMemorySaver()).invoke({"x": 1}, _cfg("s"))
    assert (info.value.key, info.value.thread_id) == ("x", "s")
    assert info.value.value is thing


def test_a_corrupt_checkpoint_names_thread_and_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        _one_node(lambda s: {"x": 2}, checkpointer=saver).invoke({"x": 1}, _cfg("bad"))
        cid = saver.get_tuple(_cfg("bad")).config["configurable"]["checkpoint_id"]
    with contextlib.closing(sqlite3.connect(str(path), isolation_level=None)) as conn:
        conn.execute("UPDATE checkpoints SET checkpoint = ? WHERE checkpoint_id = ?", (b"\xc1garbage", cid))
    with SqliteSaver.from_conn_string(str(path)) as saver:
        with pytest.raises(CheckpointError) as info:
            saver.get_tuple(_cfg("bad"))
    assert (info.value.thread_id, info.value.checkpoint_id, info.value.checkpoint_ns) == ("bad", cid, "")


def test_a_bad_store_namespace_names_namespace_and_label() -> None:
    store = InMemoryStore()
    with pytest.raises(InvalidNamespaceError) as info:
        store.put(("users", "a.b"), "k", {"v": 1})
    assert (info.value.namespace, info.value.label) == (("users", "a.b"), "a.b")
    with pytest.raises(InvalidNamespaceError) as reserved:
        store.put(("langgraph", "x"), "k", {"v": 1})
    assert reserved.value.label == "langgraph"


# -- old spellings, pickling --------------------------------------------------------------


def test_errors_still_take_a_bare_message_as_in_langgraph() -> None:
    err = InvalidUpdateError("boom")
    assert (str(err), err.node, err.key, err.value) == ("boom", None, None, None)
    assert str(ConfigError("bad")) == "bad" and ConfigError("bad").key is None
    assert str(InvalidMessageError("m", 5)) == "m" and InvalidMessageError("m", 5).value == 5


@pytest.mark.parametrize(
    "error",
    [
        InvalidUpdateError("m", node="n", key="k", value=[1], thread_id="t", checkpoint_id="c"),
        InvalidMessageError("m", 5, key="messages"),
        GraphValidationError("m", node="n", key="k"),
        ConfigError("m", key="durability", value="x", thread_id="t"),
        SerializationError("m", key="k", value=3, thread_id="t", node="n"),
        CheckpointError("m", thread_id="t", checkpoint_ns="", checkpoint_id="c", task_id="i", key="k"),
        GraphRecursionError("m", limit=3, thread_id="t"),
        NodeTimeoutError("n", 1.5, kind="run", run_timeout=1.0),
        NodeCancelledError("n"),
        UnknownInterruptError("m", reason="ambiguous", pending_ids=["a", "b"], thread_id="t"),
        InvalidNamespaceError("m", namespace=("a",), label="a"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_error_pickles_with_its_data(error: Exception) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert back.__dict__ == error.__dict__


# -- a save lost while cancelling is logged ------------------------------------------------


class FullDiskSaver(InMemorySaver):
    """An in-memory saver whose disk fills up when ``full`` is set."""

    full = False

    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        if self.full:
            raise OSError("disk full")
        return super().put(config, checkpoint, metadata, new_versions)

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        return self.put(config, checkpoint, metadata, new_versions)


@pytest.mark.anyio
async def test_a_save_that_fails_while_a_run_is_cancelled_is_logged() -> None:
    """durability="exit" keeps step 'a' to store when the run ends; the run is cancelled
    while 'b' waits and the store fails: the cancellation goes on, and an error log names
    the thread, the checkpoint and the exception."""
    saver = FullDiskSaver()
    waiting = anyio.Event()

    async def b(state: State) -> State:
        saver.full = True
        waiting.set()
        await anyio.sleep_forever()
        return {}

    g = StateGraph(State)
    g.add_node("a", lambda s: {"x": 1})
    g.add_node("b", b)
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", END)
    app = g.compile(checkpointer=saver)
    with structlog.testing.capture_logs() as logs:
        with anyio.fail_after(10):  # a bound against a hang, not a timing assert
            async with anyio.create_task_group() as tg:
                tg.start_soon(lambda: app.ainvoke({"x": 0}, _cfg("c"), durability="exit"))
                await waiting.wait()
                tg.cancel_scope.cancel()
    lost = [e for e in logs if e["event"] == "save.failed_on_cancel"]
    assert len(lost) == 1, logs
    assert lost[0]["log_level"] == "error"
    assert lost[0]["thread_id"] == "c" and isinstance(lost[0]["checkpoint_id"], str)
    assert "disk full" in lost[0]["error"]
    assert saver.get_tuple(_cfg("c")) is None  # nothing was stored, and we said so
