"""Node error handlers (``add_node(..., error_handler=)``, ``set_node_defaults``): the
handler's node names, and a thread resumed after a handler failed."""

from __future__ import annotations

import operator
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.errors import NodeError
from actorgraph.graph import START, StateGraph


class S(TypedDict):
    foo: str


class L(TypedDict):
    log: Annotated[list, operator.add]


def cfg(thread: str = "1") -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


class Handler:
    """An error handler that fails while ``failing`` is set, recording what it got."""

    def __init__(self, update: Any) -> None:
        self.update = update
        self.failing = True
        self.got: list[NodeError] = []

    def __call__(self, state: Any, error: NodeError) -> Any:
        self.got.append(error)
        if self.failing:
            raise RuntimeError(f"handler of {error.node} crashed")
        return self.update(error)


@pytest.mark.anyio
async def test_resuming_after_the_handler_failed_runs_the_handler_again_not_the_node() -> None:
    calls: list[str] = []

    def fail(state: S) -> S:
        calls.append("fail")
        raise RuntimeError("boom")

    handler = Handler(lambda e: {"foo": "recovered"})
    graph = (
        StateGraph(S)
        .set_node_defaults(error_handler=handler)
        .add_node("fail", fail)
        .add_edge(START, "fail")
        .compile(checkpointer=InMemorySaver())
    )
    with pytest.raises(RuntimeError, match="handler of fail crashed"):
        await graph.ainvoke({"foo": ""}, cfg())
    assert isinstance(handler.got[0].error, RuntimeError)
    assert graph.get_state(cfg()).next == ("fail",)

    handler.failing = False
    assert await graph.ainvoke(None, cfg()) == {"foo": "recovered"}
    assert calls == ["fail"]  # the node didn't run again
    assert [e.node for e in handler.got] == ["fail", "fail"]
    # the error was saved: the handler gets its text, as in LangGraph
    assert handler.got[1].error == "RuntimeError('boom')"
    assert graph.get_state(cfg()).next == ()


def test_each_failed_node_of_a_step_resumes_into_its_own_handler() -> None:
    calls: list[str] = []

    def node(name: str) -> Any:
        def run(state: L) -> L:
            calls.append(name)
            raise RuntimeError(f"{name} failed")

        return run

    handlers = {n: Handler(lambda e: {"log": [f"recovered {e.node}"]}) for n in "ab"}
    graph = (
        StateGraph(L)
        .add_node("a", node("a"), error_handler=handlers["a"])
        .add_node("b", node("b"), error_handler=handlers["b"])
        .add_node("ok", lambda s: {"log": ["ok"]})
        .add_edge(START, "a")
        .add_edge(START, "b")
        .add_edge(START, "ok")
        .compile(checkpointer=InMemorySaver())
    )
    with pytest.raises(RuntimeError, match="handler of . crashed"):
        graph.invoke({"log": []}, cfg())
    for h in handlers.values():
        h.failing = False
    out = graph.invoke(None, cfg())
    assert sorted(out["log"]) == ["ok", "recovered a", "recovered b"]
    assert sorted(calls) == ["a", "b"]


def test_a_handled_failure_is_saved_with_langgraphs_marker() -> None:
    saver = InMemorySaver()
    handler = Handler(lambda e: {"foo": "x"})
    graph = (
        StateGraph(S)
        .add_node("f", lambda s: 1 / 0, error_handler=handler)
        .add_edge(START, "f")
        .compile(checkpointer=saver)
    )
    with pytest.raises(RuntimeError):
        graph.invoke({"foo": ""}, cfg())
    writes = saver.get_tuple(cfg()).pending_writes
    failed_id = next(t for t, c, _ in writes if c == "__error_source_node__")
    assert (failed_id, "__error_source_node__", "f") in writes
    assert (failed_id, "__error__", "ZeroDivisionError('division by zero')") in writes


def test_a_handler_node_name_taken_by_a_node_is_refused() -> None:
    def handler(state: S, error: NodeError) -> S:
        return {"foo": "handled"}

    with pytest.raises(ValueError, match="`__default_error_handler__` already exists"):
        (
            StateGraph(S)
            .set_node_defaults(error_handler=handler)
            .add_node("__default_error_handler__", lambda s: s)
            .add_edge(START, "__default_error_handler__")
            .compile()
        )
    builder = StateGraph(S).add_node("__error_handler__x", lambda s: s)
    with pytest.raises(ValueError, match="`__error_handler__x` already exists"):
        builder.add_node("x", lambda s: s, error_handler=handler)
    builder = StateGraph(S).add_node("x", lambda s: s, error_handler=handler)
    with pytest.raises(ValueError, match="`__error_handler__x` already present"):
        builder.add_node("__error_handler__x", lambda s: s)


def test_breakpoints_may_name_an_error_handler_node() -> None:
    """As in LangGraph: accepted, and the handler (which runs in its node's step) runs."""

    def handler(state: S, error: NodeError) -> S:
        return {"foo": f"handled {error.node}"}

    def fail(state: S) -> S:
        raise RuntimeError("boom")

    graph = (
        StateGraph(S)
        .add_node("f", fail, error_handler=handler)
        .add_edge(START, "f")
        .compile(checkpointer=InMemorySaver(), interrupt_before=["__error_handler__f"])
    )
    assert graph.invoke({"foo": ""}, cfg()) == {"foo": "handled f"}
    with pytest.raises(ValueError, match="Interrupt node `__error_handler__g` not found"):
        StateGraph(S).add_node("f", fail, error_handler=handler).add_edge(START, "f").compile(
            interrupt_after=["__error_handler__g"]
        )
