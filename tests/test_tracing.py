"""LangChain callbacks of a run, as LangGraph reports them: the run is a chain run, each
task attempt a child run (routers and task calls nest under their task's run), a node's
``TracePolicy`` changes only what tracers record, ``GraphCallbackHandler``s hear
interrupts and resumes, and a LangChain runnable used as a node runs as the call does."""

from __future__ import annotations

import operator
from typing import Annotated, Any
from uuid import UUID

import pytest
from typing_extensions import TypedDict

pytest.importorskip("langchain_core")

from langchain_core.callbacks import BaseCallbackHandler  # noqa: E402
from langchain_core.runnables import RunnableLambda  # noqa: E402
from langchain_core.tracers.base import BaseTracer  # noqa: E402
from langchain_core.tracers.schemas import Run  # noqa: E402

from actorgraph.callbacks import GraphCallbackHandler, GraphInterruptEvent, GraphResumeEvent  # noqa: E402
from actorgraph.checkpoint.memory import InMemorySaver  # noqa: E402
from actorgraph.func import entrypoint, task  # noqa: E402
from actorgraph.graph import END, START, StateGraph  # noqa: E402
from actorgraph.types import Command, RetryPolicy, Send, TracePolicy, interrupt, omit_payload  # noqa: E402


pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # LangChain's async callback managers need asyncio


class S(TypedDict):
    log: Annotated[list[str], operator.add]


class Tracer(BaseTracer):
    """Keeps the finished root runs."""

    def __init__(self) -> None:
        super().__init__()
        self.roots: list[Run] = []

    def _persist_run(self, run: Run) -> None:
        self.roots.append(run)


def tree(run: Run) -> Any:
    children = sorted(run.child_runs, key=lambda c: c.dotted_order or "")
    return (run.name, [tree(c) for c in children]) if children else run.name


def find(run: Run, name: str) -> Run:
    if run.name == name:
        return run
    for child in run.child_runs:
        try:
            return find(child, name)
        except LookupError:
            pass
    raise LookupError(name)


def _chain() -> Any:
    sub = StateGraph(S).add_node("inner", lambda s: {"log": ["inner"]}).add_edge(START, "inner").compile()
    b = StateGraph(S).add_node("a", lambda s: {"log": ["a"]}).add_node("sub", sub)
    b.add_node("w", lambda s: {"log": ["w"]})
    b.add_edge(START, "a").add_edge("a", "sub")
    b.add_conditional_edges("sub", lambda s: [Send("w", {"log": []})], ["w"])
    return b.compile()


@pytest.mark.parametrize("how", ["invoke", "ainvoke"])
async def test_a_run_is_a_chain_run_with_a_child_run_per_task(how: str) -> None:
    tracer = Tracer()
    config = {"callbacks": [tracer], "tags": ["mine"], "metadata": {"who": "me"}, "run_name": "Top"}
    graph = _chain()
    if how == "invoke":
        out = graph.invoke({"log": []}, config)
    else:
        out = await graph.ainvoke({"log": []}, config)
    assert out == {"log": ["a", "a", "inner", "w"]}  # the subgraph returns its whole state
    (root,) = tracer.roots
    assert tree(root) == ("Top", ["a", ("sub", [("LangGraph", ["inner"]), "<lambda>"]), "w"])
    assert root.inputs == {"log": []} and root.outputs == out
    a = find(root, "a")
    assert a.tags == ["graph:step:1", "mine"]
    md = a.extra["metadata"]
    assert (md["langgraph_node"], md["langgraph_step"], md["who"], md["ls_integration"]) == ("a", 1, "me", "langgraph")
    assert a.inputs == {"log": []} and a.outputs == {"log": ["a"]}
    assert find(root, "w").inputs == {"log": []}


async def test_every_task_of_a_sync_fan_out_is_a_child_run_under_invoke() -> None:
    """Sync fan-out tasks run in worker threads; traced, each is still a child run."""
    tracer = Tracer()
    b = StateGraph(S).add_node("w", lambda s: {"log": ["w"]})
    b.add_conditional_edges(START, lambda s: [Send("w", {"log": []}) for _ in range(3)], ["w"])
    out = b.compile().invoke({"log": []}, {"callbacks": [tracer], "run_name": "Top"})
    assert out == {"log": ["w", "w", "w"]}
    (root,) = tracer.roots
    assert sorted(c.name for c in root.child_runs) == ["w", "w", "w"]


async def test_failed_attempts_are_runs_with_their_error() -> None:
    calls: list[int] = []

    def flaky(state: S) -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("again")
        return {"log": ["ok"]}

    g = StateGraph(S).add_node("f", flaky, retry_policy=RetryPolicy(initial_interval=0.001, jitter=False))
    tracer = Tracer()
    g.add_edge(START, "f").compile().invoke({"log": []}, {"callbacks": [tracer]})
    (root,) = tracer.roots
    first, second = sorted(root.child_runs, key=lambda r: r.dotted_order or "")
    assert "ConnectionError" in (first.error or "") and second.outputs == {"log": ["ok"]}


async def test_a_failing_run_records_the_error_at_every_level() -> None:
    async def boom(state: S) -> dict[str, Any]:
        raise ValueError("boom")

    tracer = Tracer()
    with pytest.raises(ValueError):
        await StateGraph(S).add_node("b", boom).add_edge(START, "b").compile().ainvoke({"log": []}, {"callbacks": [tracer]})
    (root,) = tracer.roots
    assert "boom" in (root.error or "") and "boom" in (root.child_runs[0].error or "")


async def test_task_calls_nest_under_their_caller_with_arguments_by_name() -> None:
    @task
    def double(x: int) -> int:
        return x * 2

    @entrypoint()
    def wf(x: int) -> int:
        return double(x).result() + 1

    tracer = Tracer()
    assert wf.invoke(3, {"callbacks": [tracer]}) == 7
    (root,) = tracer.roots
    assert tree(root) == ("LangGraph", [("wf", ["double"])])
    assert find(root, "double").inputs == {"x": 3}


async def test_models_called_in_a_node_nest_under_its_run() -> None:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    model = GenericFakeChatModel(messages=iter([AIMessage("hi")]))

    def chat(state: S) -> dict[str, Any]:
        return {"log": [model.invoke("q").content]}  # no config passed: LangChain's context

    tracer = Tracer()
    StateGraph(S).add_node("chat", chat).add_edge(START, "chat").compile().invoke({"log": []}, {"callbacks": [tracer]})
    assert tree(tracer.roots[0]) == ("LangGraph", [("chat", ["GenericFakeChatModel"])])


async def test_trace_policy_changes_what_tracers_record_only() -> None:
    seen: list[tuple[str, Any]] = []

    class Handler(BaseCallbackHandler):
        def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
            if kwargs.get("name") == "n":
                seen.append(("start", inputs))

    policy = TracePolicy(process_inputs=lambda v: {"in": "hidden"}, process_outputs=omit_payload)
    g = StateGraph(S).add_node("n", lambda s: {"log": ["n"]}, trace_policy=policy).add_edge(START, "n").compile()
    tracer = Tracer()
    assert await g.ainvoke({"log": ["x"]}, {"callbacks": [Handler(), tracer]}) == {"log": ["x", "n"]}
    node = find(tracer.roots[0], "n")
    assert (node.inputs, node.outputs) == ({"in": "hidden"}, {})
    assert seen == [("start", {"log": ["x"]})]


async def test_a_failing_trace_policy_records_the_real_payload() -> None:
    def broken(_: Any) -> Any:
        raise RuntimeError("processor")

    g = StateGraph(S).add_node("n", lambda s: {"log": ["n"]}, trace_policy=TracePolicy(process_inputs=broken))
    tracer = Tracer()
    assert g.add_edge(START, "n").compile().invoke({"log": []}, {"callbacks": [tracer]}) == {"log": ["n"]}
    assert find(tracer.roots[0], "n").inputs == {"log": []}


async def test_callbacks_bound_with_with_config_join_the_calls_own() -> None:
    bound, given = Tracer(), Tracer()
    g = StateGraph(S).add_node("n", lambda s: {"log": ["n"]}).add_edge(START, "n").compile()
    g.with_config(callbacks=[bound]).invoke({"log": []}, {"callbacks": [given]})
    assert len(bound.roots) == len(given.roots) == 1


async def test_astream_events_v2_has_the_graph_and_node_runs() -> None:
    g = StateGraph(S).add_node("n", lambda s: {"log": ["n"]}).add_edge(START, "n").compile()
    events = [(e["event"], e["name"]) async for e in g.astream_events({"log": []}, version="v2")]
    assert events[0] == ("on_chain_start", "LangGraph") and events[-1] == ("on_chain_end", "LangGraph")
    assert ("on_chain_start", "n") in events and ("on_chain_end", "n") in events


class Lifecycle(GraphCallbackHandler):
    def __init__(self) -> None:
        self.events: list[Any] = []

    def on_interrupt(self, event: GraphInterruptEvent) -> None:
        self.events.append(event)

    def on_resume(self, event: GraphResumeEvent) -> None:
        self.events.append(event)


@pytest.mark.parametrize("how", ["invoke", "ainvoke"])
async def test_graph_callbacks_hear_interrupts_and_resumes(how: str) -> None:
    def ask(state: S) -> dict[str, Any]:
        return {"log": [interrupt("q?")]}

    b = StateGraph(S).add_node("pre", lambda s: {"log": ["pre"]}).add_node("ask", ask)
    g = b.add_edge(START, "pre").add_edge("pre", "ask").add_edge("ask", END).compile(
        checkpointer=InMemorySaver(), interrupt_after=["pre"]
    )
    handler, tracer = Lifecycle(), Tracer()
    config = {"configurable": {"thread_id": "1"}, "callbacks": [handler, tracer]}

    async def call(inp: Any) -> Any:
        return g.invoke(inp, config) if how == "invoke" else await g.ainvoke(inp, config)

    await call({"log": []})
    await call(None)
    assert await call(Command(resume="yes")) == {"log": ["pre", "yes"]}
    kinds = [(type(e).__name__, e.status, len(getattr(e, "interrupts", ()))) for e in handler.events]
    assert kinds == [
        ("GraphInterruptEvent", "interrupt_after", 0),
        ("GraphResumeEvent", "pending", 0),
        ("GraphInterruptEvent", "pending", 1),
        ("GraphResumeEvent", "pending", 0),
    ]
    assert all(e.checkpoint_ns == () for e in handler.events)
    # each event names the run it belongs to
    assert [e.run_id for e in handler.events] == [
        tracer.roots[0].id, tracer.roots[1].id, tracer.roots[1].id, tracer.roots[2].id
    ]


async def test_a_raising_graph_handler_is_logged_unless_it_asks_to_raise() -> None:
    class Raising(GraphCallbackHandler):
        def __init__(self, raise_error: bool) -> None:
            self.raise_error = raise_error

        def on_interrupt(self, event: GraphInterruptEvent) -> None:
            raise ValueError("handler")

    g = StateGraph(S).add_node("ask", lambda s: {"log": [interrupt("q")]}).add_edge(START, "ask")
    app = g.compile(checkpointer=InMemorySaver())
    out = app.invoke({"log": []}, {"configurable": {"thread_id": "1"}, "callbacks": [Raising(False)]})
    assert "__interrupt__" in out
    with pytest.raises(ValueError, match="handler"):
        app.invoke({"log": []}, {"configurable": {"thread_id": "2"}, "callbacks": [Raising(True)]})


async def test_no_callbacks_means_no_langchain_import() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from typing_extensions import TypedDict\n"
        "from actorgraph.graph import StateGraph, START\n"
        "class S(TypedDict):\n    x: int\n"
        "g = StateGraph(S).add_node('n', lambda s: {'x': 1}).add_edge(START, 'n').compile()\n"
        "assert g.invoke({'x': 0}) == {'x': 1}\n"
        "print(sorted(m for m in sys.modules if m.startswith(('langchain', 'langsmith'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_a_langchain_runnable_node_runs_invoke_under_invoke_and_ainvoke_under_ainvoke() -> None:
    class X(TypedDict):
        x: str

    async def afunc(state: X) -> dict[str, str]:
        return {"x": "async"}

    node = RunnableLambda(lambda state: {"x": "sync"}, afunc=afunc)
    g = StateGraph(X).add_node("n", node).add_edge(START, "n").compile()
    assert g.invoke({"x": ""}) == {"x": "sync"}
    assert await g.ainvoke({"x": ""}) == {"x": "async"}


def test_traced_runs_work_under_trio() -> None:
    import anyio

    tracer = Tracer()
    g = StateGraph(S).add_node("n", lambda s: {"log": ["n"]}).add_edge(START, "n").compile()

    async def main() -> Any:
        return await g.ainvoke({"log": []}, {"callbacks": [tracer]})

    assert anyio.run(main, backend="trio") == {"log": ["n"]}
    assert tree(tracer.roots[0]) == ("LangGraph", ["n"])


async def test_astream_events_streams_each_task_output_under_an_async_run() -> None:
    @task
    async def double(x: int) -> int:
        return x * 2

    @entrypoint()
    async def wf(x: int) -> int:
        return await double(x) + 1

    events = [(e["event"], e["name"]) async for e in wf.astream_events(3, version="v2")]
    assert [e for e in events if e[1] in ("wf", "double")] == [
        ("on_chain_start", "wf"),
        ("on_chain_start", "double"),
        ("on_chain_stream", "double"),
        ("on_chain_end", "double"),
        ("on_chain_stream", "wf"),
        ("on_chain_end", "wf"),
    ]


async def test_astream_log_has_each_nodes_final_output() -> None:
    g = StateGraph(S).add_node("n", lambda s: {"log": ["n"]}).add_edge(START, "n").compile()
    patches = [p async for p in g.astream_log({"log": []})]
    finals = [op["value"] for p in patches for op in p.ops if op["path"] == "/logs/n/final_output"]
    assert finals == [{"log": ["n"]}]


async def test_a_dict_of_runnables_is_a_node() -> None:
    from langchain_core.runnables import RunnableLambda

    class X(TypedDict):
        a: int
        b: int

    g = StateGraph(X).add_node("both", {"a": RunnableLambda(lambda s: s["a"] + 1), "b": RunnableLambda(lambda s: 7)})
    assert g.add_edge(START, "both").compile().invoke({"a": 1, "b": 0}) == {"a": 2, "b": 7}
