"""Behaviours LangGraph's own test suite pins down (found running it with ``python -m
compat``), checked through our public API: each test states what LangGraph does."""

from __future__ import annotations

import json
import operator
import threading
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from actorgraph.channels import DeltaChannel, UntrackedValue
from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.graph import END, START, MessagesState, StateGraph
from actorgraph.types import Command, Interrupt, Send, interrupt


class Log(TypedDict):
    log: Annotated[list, operator.add]


def cfg(thread: str = "1", **extra: Any) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread, **extra}}


# -- checkpoints LangGraph wrote -------------------------------------------------------------

# Two checkpoints real LangGraph 1.2 saved for the graph below (nodes a and b from START;
# b interrupts): the input checkpoint, and step 0 with a's write and b's interrupt
_LG_CHECKPOINTS: list[dict[str, Any]] = [
    {
        "checkpoint": {
            "v": 4,
            "ts": "2026-12-06T00:26:59.797242+00:00",
            "id": "1f1f10bc-0467-622e-bfff-5ea525438423",
            "channel_versions": {"__start__": "00000000000000000000000000000001.0.6570936178804913"},
            "versions_seen": {"__input__": {}},
            "updated_channels": ["__start__"],
            "channel_values": {"__start__": {"log": []}},
        },
        "metadata": {"source": "input", "step": -1, "parents": {}},
        "parent": None,
        "writes": [
            ("67927814-94a6-4890-b459-46b7302fb3bf", "log", []),
            ("67927814-94a6-4890-b459-46b7302fb3bf", "branch:to:a", None),
            ("67927814-94a6-4890-b459-46b7302fb3bf", "branch:to:b", None),
        ],
    },
    {
        "checkpoint": {
            "v": 4,
            "ts": "2026-12-06T00:26:59.798460+00:00",
            "id": "1f1f10bc-046a-61fc-8000-fc1fa8ae6fd8",
            "channel_versions": {
                "__start__": "00000000000000000000000000000002.0.31146467433988834",
                "log": "00000000000000000000000000000002.0.31146467433988834",
                "branch:to:a": "00000000000000000000000000000002.0.31146467433988834",
                "branch:to:b": "00000000000000000000000000000002.0.31146467433988834",
            },
            "versions_seen": {
                "__input__": {},
                "__start__": {"__start__": "00000000000000000000000000000001.0.6570936178804913"},
            },
            "updated_channels": ["branch:to:a", "branch:to:b", "log"],
            "channel_values": {"log": [], "branch:to:a": None, "branch:to:b": None},
        },
        "metadata": {"source": "loop", "step": 0, "parents": {}},
        "parent": "1f1f10bc-0467-622e-bfff-5ea525438423",
        "writes": [
            ("813b60ac-bee3-8a63-2a21-0bf67e78f099", "log", ["a"]),
            ("7bdb3a31-4350-b6d3-729d-9531d00c4896", "__interrupt__", [Interrupt(value="q", id="3d12837ddc146077dbb3fe594dbf12db")]),
        ],
    },
]


def test_a_thread_langgraph_saved_resumes_here_with_its_pending_writes() -> None:
    """Task ids are LangGraph's, so the writes LangGraph saved reach their tasks: the
    finished node isn't run again, the interrupted one gets the answer."""
    calls: list[str] = []

    def a(s: Log) -> dict[str, Any]:
        calls.append("a")
        return {"log": ["a"]}

    def b(s: Log) -> dict[str, Any]:
        calls.append("b")
        return {"log": ["b:" + interrupt("q")]}

    saver = InMemorySaver()
    for saved in _LG_CHECKPOINTS:
        ckpt = saved["checkpoint"]
        config = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": saved["parent"]}}
        at = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": ckpt["id"]}}
        saver.put(config, json.loads(json.dumps(ckpt)), saved["metadata"], ckpt["channel_versions"])
        by_task: dict[str, list[tuple[str, Any]]] = {}
        for tid, chan, value in saved["writes"]:
            by_task.setdefault(tid, []).append((chan, value))
        for tid, writes in by_task.items():
            saver.put_writes(at, writes, tid)

    app = StateGraph(Log).add_node(a).add_node(b).add_edge(START, "a").add_edge(START, "b").compile(checkpointer=saver)
    state = app.get_state(cfg("t"))
    assert state.next == ("b",)  # a finished
    tasks = {t.name: t for t in state.tasks}
    assert tasks["a"].id == "813b60ac-bee3-8a63-2a21-0bf67e78f099"
    assert tasks["b"].id == "7bdb3a31-4350-b6d3-729d-9531d00c4896"
    assert tasks["a"].result == {"log": ["a"]}
    assert [i.value for i in tasks["b"].interrupts] == ["q"]
    assert app.invoke(Command(resume="x"), cfg("t")) == {"log": ["a", "b:x"]}
    assert calls == ["b"]


def test_answering_an_interrupt_of_a_checkpoint_the_thread_moved_past_runs_there() -> None:
    """Command(resume=...) at an older checkpoint: no fork - the run continues that
    checkpoint, its task runs again (with the answer it was given there)."""
    runs: list[str] = []

    def ask(s: Log) -> dict[str, Any]:
        runs.append("ask")
        return {"log": [interrupt("q")]}

    app = StateGraph(Log).add_node(ask).add_edge(START, "ask").compile(checkpointer=InMemorySaver())
    app.invoke({"log": []}, cfg())
    paused = app.get_state(cfg())
    assert app.invoke(Command(resume="first"), cfg()) == {"log": ["first"]}
    assert app.invoke(Command(resume="second"), paused.config) == {"log": ["first"]}
    assert runs == ["ask", "ask", "ask"]
    history = list(app.get_state_history(cfg()))
    assert [s.metadata["source"] for s in history] == ["loop", "loop", "loop", "input"]
    assert history[0].parent_config == history[1].parent_config == paused.config


def test_a_plain_answer_at_a_static_breakpoint_answers_the_next_interrupt_of_that_step() -> None:
    """Command(resume=value) with no interrupt pending (paused by interrupt_before): the
    first interrupt() of the resumed step gets the value; one in a later step asks."""

    class S(TypedDict):
        a: str

    def ask(s: S) -> dict[str, Any]:
        return {"a": "ans=" + interrupt("q?")}

    def later(s: S) -> dict[str, Any]:
        return {"a": s["a"] + " later=" + interrupt("again?")}

    builder = StateGraph(S).add_node(ask).add_node(later).add_edge(START, "ask").add_edge("ask", "later")
    app = builder.compile(checkpointer=InMemorySaver(), interrupt_before=["ask"])
    assert app.invoke({"a": ""}, cfg()) == {"a": ""}
    out = app.invoke(Command(resume="x"), cfg())
    assert out["a"] == "ans=x"
    assert [i.value for i in out["__interrupt__"]] == ["again?"]
    assert app.invoke(Command(resume="y"), cfg()) == {"a": "ans=x later=y"}


# -- durability="exit" -------------------------------------------------------------------------


def test_exit_durability_stores_nothing_of_a_finished_per_task_subgraph() -> None:
    inner = StateGraph(Log).add_node("x", lambda s: {"log": ["x"]}).add_edge(START, "x").compile()
    saver = InMemorySaver()
    app = StateGraph(Log).add_node("sub", inner).add_edge(START, "sub").compile(checkpointer=saver)
    app.invoke({"log": []}, cfg(), durability="exit")
    namespaces = {c.config["configurable"]["checkpoint_ns"] for c in saver.list(cfg())}
    assert namespaces == {""}
    assert app.get_state(cfg()).values == {"log": ["x"]}


def test_exit_durability_keeps_only_writes_of_the_checkpoint_it_stores() -> None:
    attempts = {"n": 0}

    def flaky(s: Log) -> dict[str, Any]:
        attempts["n"] += 1
        if attempts["n"] < 3:
            raise ConnectionError("down")
        return {"log": ["flaky"]}

    saver = InMemorySaver()
    app = (
        StateGraph(Log)
        .add_node("one", lambda s: {"log": ["one"]})
        .add_node("flaky", flaky)
        .add_edge(START, "one")
        .add_edge(START, "flaky")
        .compile(checkpointer=saver)
    )
    for _ in range(2):
        with pytest.raises(ConnectionError):
            app.invoke(None if attempts["n"] else {"log": []}, cfg(), durability="exit")
    assert sorted(app.invoke(None, cfg(), durability="exit")["log"]) == ["flaky", "one"]
    latest, before = list(saver.list(cfg()))
    assert latest.pending_writes == []
    # the write of the resumed task belongs to a checkpoint this run moved past: not kept
    assert sorted(w[1] for w in before.pending_writes) == ["__error__", "log"]


# -- new input on a thread with tasks left -------------------------------------------------


def test_new_input_discards_the_tasks_the_last_step_left() -> None:
    """As LangGraph: the input checkpoint's next holds only what the input triggers."""
    from actorgraph.channels import LastValue
    from actorgraph.pregel import NodeBuilder, Pregel

    one = NodeBuilder().subscribe_only("input").do(lambda x: x + 1).write_to("inbox")
    two = NodeBuilder().subscribe_only("inbox").do(lambda x: x + 1).write_to("output")
    app = Pregel(
        nodes={"one": one, "two": two},
        channels={"inbox": LastValue(int), "output": LastValue(int), "input": LastValue(int)},
        input_channels="input",
        output_channels="output",
        checkpointer=InMemorySaver(),
        interrupt_after_nodes=["one"],
    )
    assert app.invoke(20, cfg()) is None  # paused after "one", "two" left pending
    assert app.invoke(3, cfg()) is None  # new input: the pending "two" is dropped
    input_checkpoint = [s for s in app.get_state_history(cfg()) if s.metadata["source"] == "input"][0]
    assert input_checkpoint.next == ("one",)
    assert app.invoke(None, cfg()) == 5


# -- graph shapes ---------------------------------------------------------------------------------


def test_keys_a_node_returns_beyond_the_state_reach_its_conditional_edges() -> None:
    seen: list[Any] = []

    def route(data: dict) -> str:
        seen.append(data.get("extra"))
        return END

    app = (
        StateGraph(Log)
        .add_node("n", lambda s: {"log": ["n"], "extra": "hi"})
        .add_edge(START, "n")
        .add_conditional_edges("n", route)
        .compile()
    )
    assert app.invoke({"log": []}) == {"log": ["n"]}
    assert seen == ["hi"]


class _Overall(TypedDict):
    foo: Annotated[int, operator.add]
    bar: str


class _Private(TypedDict):
    baz: str


@pytest.mark.parametrize(
    ("annotation", "seen_state", "output"),
    [
        # a router annotated with the state schema reads its channels only
        (_Overall, {"foo": 2, "bar": "bar"}, {"foo": 3, "bar": "bar"}),
        # one annotated with another schema reads that schema's channels
        (_Private, {"baz": "bar"}, {"foo": 2, "bar": "bar"}),
        # an unannotated one reads its node's input schema (here _Private), under what
        # the node returned: foo is the node's 1, not the state's 2
        (None, {"foo": 1, "bar": "bar", "other": "meow", "baz": "bar"}, {"foo": 2, "bar": "bar"}),
    ],
)
def test_a_router_reads_the_channels_of_its_schema_or_of_its_nodes_input(
    annotation: Any, seen_state: dict[str, Any], output: dict[str, Any]
) -> None:
    seen: list[Any] = []

    def route(state):  # type: ignore[no-untyped-def]
        seen.append(dict(state))
        return "n3" if state.get("foo") == 2 else END

    if annotation is not None:
        route.__annotations__["state"] = annotation

    def n2(state: _Private) -> dict[str, Any]:
        return {"foo": 1, "bar": state["baz"], "other": "meow"}

    app = (
        StateGraph(_Overall)
        .add_node("n1", lambda s: {"foo": 1, "baz": "bar"})
        .add_node("n2", n2)
        .add_node("n3", lambda s: {"foo": 1})
        .add_edge(START, "n1")
        .add_edge("n1", "n2")
        .add_conditional_edges("n2", route, ["n3", END])
        .compile()
    )
    assert app.invoke({"foo": 0}) == output
    assert seen == [seen_state]


def test_a_typeddict_whose_one_key_is_root_is_a_bare_value_state() -> None:
    class Root(TypedDict):
        __root__: Annotated[list, operator.add]

    app = StateGraph(Root).add_node("n", lambda xs: ["n"]).add_edge(START, "n").compile()
    assert app.invoke(["start"]) == ["start", "n"]


def test_a_langchain_runnable_routes_and_graphs_compose_into_chains() -> None:
    runnables = pytest.importorskip("langchain_core.runnables")
    route = runnables.RunnableLambda(lambda s: END)
    app = StateGraph(Log).add_node("n", lambda s: {"log": ["n"]}).add_edge(START, "n").add_conditional_edges("n", route).compile()
    chain = app | runnables.RunnablePassthrough()
    assert chain.invoke({"log": []}) == {"log": ["n"]}
    assert list(chain.stream({"log": []})) == [{"n": {"log": ["n"]}}]
    before = (lambda x: {"log": [x]}) | app
    assert before.invoke("x") == {"log": ["x", "n"]}


def test_an_untracked_value_in_a_send_is_not_stored() -> None:
    class Lock:
        def __init__(self) -> None:
            self.lock = threading.Lock()

    class S(TypedDict):
        log: Annotated[list, operator.add]
        res: Annotated[Any, UntrackedValue]

    def tool(s: S) -> dict[str, Any]:
        assert isinstance(s["res"], Lock)
        return {"log": ["tool"]}

    app = (
        StateGraph(S)
        .add_node("setup", lambda s: {"log": ["setup"], "res": Lock()})
        .add_node("tool", tool)
        .add_edge(START, "setup")
        .add_conditional_edges("setup", lambda s: [Send("tool", s)])
        .compile(checkpointer=InMemorySaver())
    )
    assert app.invoke({"log": []}, cfg())["log"] == ["setup", "tool"]
    assert "res" not in app.get_state(cfg()).values


def test_node_finished_hook_hears_finished_nodes_of_the_graph_and_its_subgraphs() -> None:
    inner = (
        StateGraph(Log)
        .add_node("i1", lambda s: {"log": ["i1"]})
        .add_node("i2", lambda s: {"log": ["i2"]})
        .add_edge(START, "i1")
        .add_edge("i1", "i2")
        .compile(interrupt_before=["i2"])
    )
    app = (
        StateGraph(Log)
        .add_node("p", lambda s: {"log": ["p"]})
        .add_node("sub", inner)
        .add_edge(START, "p")
        .add_edge("p", "sub")
        .compile(checkpointer=InMemorySaver())
    )
    finished: list[str] = []
    app.invoke({"log": []}, cfg(__pregel_node_finished=finished.append))
    assert finished == ["p", "i1"]  # "sub" paused in its subgraph: not finished


def test_messages_a_node_returns_carry_its_node_runs_metadata() -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.messages import HumanMessage

    app = StateGraph(MessagesState).add_node("n", lambda s: {"messages": HumanMessage("hi", id="m1")}).add_edge(START, "n").compile()
    [(message, meta)] = list(app.stream({"messages": []}, cfg(), stream_mode="messages"))
    assert message.id == "m1"
    assert meta["ls_integration"] == "langgraph"
    assert "checkpoint_ns" not in meta  # the root graph's own namespace is ""
    assert meta["langgraph_node"] == "n" and meta["thread_id"] == "1"


def test_to_json_names_function_nodes_as_langgraph_does() -> None:
    app = StateGraph(Log).add_node("n", lambda s: s).add_edge(START, "n").compile()
    nodes = {n["id"]: n for n in app.get_graph().to_json()["nodes"]}
    runnable_callable = ["langgraph", "_internal", "_runnable", "RunnableCallable"]
    assert nodes["__start__"]["data"] == {"id": runnable_callable, "name": "__start__"}
    assert nodes["n"]["data"] == {"id": runnable_callable, "name": "n"}
    assert "data" not in nodes["__end__"]


def test_a_typing_typeddict_state_has_a_json_schema_on_any_python() -> None:
    import typing

    class S(typing.TypedDict):  # pydantic refuses these before Python 3.12
        x: int

    app = StateGraph(S).add_node("n", lambda s: s).add_edge(START, "n").compile()
    schema = app.get_input_jsonschema()
    assert schema["title"] == "S"
    assert schema["properties"]["x"]["type"] == "integer"
    messages = StateGraph(MessagesState).add_node("n", lambda s: s).add_edge(START, "n").compile()
    items = messages.get_input_jsonschema()["properties"]["messages"]["items"]["anyOf"]
    assert {m["title"] for m in items} >= {"HumanMessage", "AIMessage", "ToolMessage"}


def test_a_task_call_reports_langgraphs_path_and_the_run_its_thread() -> None:
    import anyio

    from actorgraph.config import get_config
    from actorgraph.func import entrypoint, task

    paths: list[Any] = []

    @task
    def double(x: int) -> int:
        paths.append(get_config()["metadata"]["langgraph_path"])
        return 2 * x

    @entrypoint(checkpointer=InMemorySaver())
    def wf(x: int) -> int:
        return double(x).result() + double(x + 1).result()

    assert wf.invoke(1, cfg()) == 6
    # a call's path is (PUSH, its caller's path, its index, True), as LangGraph's
    assert paths == [
        ("__pregel_push", ("__pregel_pull", "wf"), 0, True),
        ("__pregel_push", ("__pregel_pull", "wf"), 1, True),
    ]

    async def events() -> list[dict[str, Any]]:
        return [e async for e in wf.astream_events(1, cfg("2"), version="v2")]

    root = [e for e in anyio.run(events) if e["name"] == "LangGraph"]
    assert root and all(e["metadata"]["thread_id"] == "2" for e in root)


def _append(current: list | None, writes: list[list]) -> list:
    # a delta channel's reducer folds a step's writes in at once
    return [*(current or []), *(item for write in writes for item in write)]


class _Logs(TypedDict):
    log: Annotated[list, operator.add]
    delta: Annotated[list, DeltaChannel(_append, snapshot_frequency=1000)]


@pytest.mark.anyio
async def test_sends_of_a_resume_command_replace_the_pending_sends() -> None:
    asked: list[Any] = []

    def q(state: _Logs) -> dict[str, Any]:
        asked.append(state["log"])
        answer = interrupt("continue?")
        return {"log": [f"q:{answer}"], "delta": [f"q:{answer}"]}

    app = (
        StateGraph(_Logs)
        .add_node("p", lambda s: {"log": ["p"], "delta": ["p"]})
        .add_node("q", q)
        .add_conditional_edges(START, lambda s: [Send("p", s), Send("q", s)], ["p", "q"])
        .compile(checkpointer=InMemorySaver())
    )
    first = await app.ainvoke({"log": ["in"], "delta": ["in"]}, cfg())
    assert first["log"] == ["in", "p"] and len(first["__interrupt__"]) == 1
    # the Command's Send replaces the step's pending Sends: p's saved write is dropped
    # (also from what a delta channel replays), the old q doesn't run again, and the
    # new q's interrupt takes the answer
    live = await app.ainvoke(Command(resume="yes", goto=[Send("q", {"log": ["other"]})]), cfg())
    assert live == {"log": ["in", "q:yes"], "delta": ["in", "q:yes"]}
    state = await app.aget_state(cfg())
    assert state.values == live and state.next == ()
    assert asked == [["in"], ["other"]]
