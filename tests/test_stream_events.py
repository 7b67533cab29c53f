"""``stream_events(version="v3")`` / ``astream_events(version="v3")``: run handles whose
projections (values, lifecycle, subgraphs, custom transformers ...) are driven by the
caller's reading, with errors, interrupts and early stops."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import anyio
import pytest

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.config import get_stream_writer
from actorgraph.graph import END, START, StateGraph
from actorgraph.stream import (
    AsyncGraphRunStream,
    CustomTransformer,
    GraphRunStream,
    ProtocolEvent,
    StreamChannel,
    StreamTransformer,
    SubgraphRunStream,
    TasksTransformer,
    UpdatesTransformer,
)
from actorgraph.types import Interrupt, interrupt


class S(TypedDict):
    log: Annotated[list, operator.add]


def _node(name: str, calls: list[str] | None = None) -> Any:
    def node(state: S) -> dict[str, Any]:
        if calls is not None:
            calls.append(name)
        get_stream_writer()({"at": name})
        return {"log": [name]}

    return node


def _chain(*names: str, calls: list[str] | None = None, **compile_kw: Any) -> Any:
    g = StateGraph(S)
    prev = START
    for n in names:
        g.add_node(n, _node(n, calls))
        g.add_edge(prev, n)
        prev = n
    g.add_edge(prev, END)
    return g.compile(**compile_kw)


def _nested() -> Any:
    """outer: a -> child(subgraph: c1 -> c2)."""
    g = StateGraph(S)
    g.add_node("a", _node("a"))
    g.add_node("child", _chain("c1", "c2"))
    g.add_edge(START, "a")
    g.add_edge("a", "child")
    return g.compile()


class Counter(StreamTransformer):
    """Counts the run's ``values`` events on a named channel."""

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self.channel: StreamChannel[int] = StreamChannel("counter")
        self.n = 0

    def init(self) -> dict[str, Any]:
        return {"counter": self.channel}

    def process(self, event: ProtocolEvent) -> bool:
        if event["method"] == "values" and list(self.scope) == event["params"]["namespace"]:
            self.n += 1
            self.channel.push(self.n)
        return True


def test_values_projection_and_output() -> None:
    run = _chain("a", "b").stream_events({"log": []}, version="v3")
    assert isinstance(run, GraphRunStream)
    assert [v["log"] for v in run.values] == [[], ["a"], ["a", "b"]]
    assert run.output == {"log": ["a", "b"]}
    assert run.interrupted is False and run.interrupts == []


@pytest.mark.anyio
async def test_async_run_values_and_output() -> None:
    run = await _chain("a", "b").astream_events({"log": []}, version="v3")
    assert isinstance(run, AsyncGraphRunStream)
    assert [v["log"] async for v in run.values] == [[], ["a"], ["a", "b"]]
    assert await run.output() == {"log": ["a", "b"]}
    assert await run.interrupted() is False


def test_raw_events_are_numbered_protocol_events_without_task_events() -> None:
    events = list(_nested().stream_events({"log": []}, version="v3"))
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["type"] == "event" and isinstance(e["params"]["timestamp"], int) for e in events)
    methods = {e["method"] for e in events}
    # task events are folded into lifecycle events; subgraph values keep their namespace
    assert methods == {"values", "lifecycle"}
    child_ns = {tuple(e["params"]["namespace"]) for e in events if e["params"]["namespace"]}
    assert len(child_ns) == 1 and next(iter(child_ns))[0].startswith("child:")


def test_lifecycle_reports_each_subgraph_start_and_end() -> None:
    payloads = list(_nested().stream_events({"log": []}, version="v3").lifecycle)
    assert [p["event"] for p in payloads] == ["started", "completed"]
    started = payloads[0]
    assert started["graph_name"] == "child"
    assert started["namespace"] == [f"child:{started['trigger_call_id']}"]


def test_subgraph_handles_have_their_own_projections() -> None:
    run = _nested().stream_events({"log": []}, version="v3")
    seen = []
    for handle in run.subgraphs:
        assert isinstance(handle, SubgraphRunStream)
        seen.append((handle.graph_name, [v["log"] for v in handle.values], handle.status))
    # a subgraph is discovered at its first task, after its input snapshot (as in
    # LangGraph); its state starts from the parent's (it has the same key)
    assert seen == [("child", [["a", "c1"], ["a", "c1", "c2"]], "completed")]
    assert run.output == {"log": ["a", "a", "c1", "c2"]}


def test_a_failed_subgraph_fails_its_handle_and_the_run() -> None:
    def boom(state: S) -> dict[str, Any]:
        raise ValueError("child exploded")

    child = StateGraph(S).add_node("boom", boom).add_edge(START, "boom").compile()
    g = StateGraph(S).add_node("child", child).add_edge(START, "child").compile()
    run = g.stream_events({"log": []}, version="v3")
    handle = next(iter(run.subgraphs))
    with pytest.raises(RuntimeError, match="child exploded"):
        handle.output
    assert handle.status == "failed" and handle.error == "child exploded"
    with pytest.raises(ValueError, match="child exploded"):
        run.output


def test_node_error_reaches_every_reader_after_the_items_before_it() -> None:
    def bad(state: S) -> dict[str, Any]:
        raise KeyError("missing")

    g = StateGraph(S).add_node("a", _node("a")).add_node("bad", bad).add_edge(START, "a").add_edge("a", "bad").compile()
    run = g.stream_events({"log": []}, version="v3")
    got = []
    with pytest.raises(KeyError, match="missing"):
        for v in run.values:
            got.append(v["log"])
    assert got == [[], ["a"]]
    with pytest.raises(KeyError):
        run.output


def test_interrupts_are_reported() -> None:
    def ask(state: S) -> dict[str, Any]:
        return {"log": [interrupt("approve?")]}

    g = StateGraph(S).add_node("ask", ask).add_edge(START, "ask").compile(checkpointer=InMemorySaver())
    run = g.stream_events({"log": []}, {"configurable": {"thread_id": "t"}}, version="v3")
    assert run.output == {"log": []}
    assert run.interrupted is True
    assert [i.value for i in run.interrupts] == ["approve?"]
    assert all(isinstance(i, Interrupt) for i in run.interrupts)


def test_leaving_the_block_stops_the_run() -> None:
    calls: list[str] = []
    with _chain("a", "b", "c", calls=calls).stream_events({"log": []}, version="v3") as run:
        assert next(iter(run.values)) == {"log": []}
    assert run._exhausted
    # the run is pulled by the reader: nothing ran past what was read
    assert calls == []
    run.abort()  # idempotent


@pytest.mark.anyio
async def test_async_abort_stops_the_run() -> None:
    calls: list[str] = []
    run = await _chain("a", "b", "c", calls=calls).astream_events({"log": []}, version="v3")
    async with run:
        values = aiter(run.values)
        assert (await anext(values))["log"] == []
        assert (await anext(values))["log"] == ["a"]
    assert calls == ["a"]
    assert [v async for v in values] == []


@pytest.mark.anyio
async def test_async_abort_cancels_a_node_in_flight() -> None:
    started = anyio.Event()
    cancelled: list[bool] = []

    async def slow(state: S) -> dict[str, Any]:
        started.set()
        try:
            await anyio.sleep(10)
        except anyio.get_cancelled_exc_class():
            cancelled.append(True)
            raise
        return {}

    g = StateGraph(S).add_node("slow", slow).add_edge(START, "slow").compile()
    run = await g.astream_events({"log": []}, version="v3")

    async def read() -> None:
        async for _ in run:
            pass

    async with anyio.create_task_group() as tg:
        tg.start_soon(read)
        await started.wait()
        await run.abort()
    assert cancelled == [True]


def test_opt_in_transformers_add_projections() -> None:
    run = _chain("a").stream_events(
        {"log": []}, version="v3", transformers=[CustomTransformer, UpdatesTransformer, TasksTransformer]
    )
    got: dict[str, list[Any]] = {"custom": [], "updates": [], "tasks": []}
    for name, item in run.interleave("custom", "updates", "tasks"):
        got[name].append(item)
    assert got["custom"] == [{"at": "a"}]
    assert got["updates"] == [{"a": {"log": ["a"]}}]
    assert [t["name"] for t in got["tasks"]] == ["a", "a"]
    assert "triggers" in got["tasks"][0] and "result" in got["tasks"][1]


def test_compile_time_transformers_and_named_channels() -> None:
    g = _chain("a", "b", transformers=[Counter])
    run = g.stream_events({"log": []}, version="v3")
    counts = iter(run.extensions["counter"])
    assert not hasattr(run, "counter")  # not native: only in extensions
    events = list(run)
    assert list(counts) == [1, 2, 3]
    forwarded = [e["params"]["data"] for e in events if e["method"] == "custom:counter"]
    assert forwarded == [1, 2, 3]


def test_custom_events_flow_only_when_a_transformer_asks_for_them() -> None:
    assert [e for e in _chain("a").stream_events({"log": []}, version="v3") if e["method"] == "custom"] == []
    events = list(_chain("a").stream_events({"log": []}, version="v3", transformers=[CustomTransformer]))
    assert [e["params"]["data"] for e in events if e["method"] == "custom"] == [{"at": "a"}]


def test_v3_owns_stream_mode_and_subgraphs() -> None:
    g = _chain("a")
    with pytest.raises(TypeError, match="stream_mode"):
        g.stream_events({"log": []}, version="v3", stream_mode="values")
    with pytest.raises(TypeError, match="subgraphs"):
        g.stream_events({"log": []}, version="v3", subgraphs=True)
    with pytest.raises(TypeError, match="pre-built instance Counter"):
        g.stream_events({"log": []}, version="v3", transformers=[Counter()])
    with pytest.raises(NotImplementedError, match="astream_events"):
        g.stream_events({"log": []}, version="v2")


def test_conflicting_projection_names_name_the_owner() -> None:
    class Values(StreamTransformer):
        def init(self) -> dict[str, Any]:
            return {"values": StreamChannel()}

        def process(self, event: ProtocolEvent) -> bool:
            return True

    with pytest.raises(ValueError, match="'values' \\(owned by ValuesTransformer\\)"):
        _chain("a").stream_events({"log": []}, version="v3", transformers=[Values])


def test_async_only_transformers_are_refused_on_a_sync_run() -> None:
    class Slow(StreamTransformer):
        def init(self) -> dict[str, Any]:
            return {}

        async def aprocess(self, event: ProtocolEvent) -> bool:
            return True

    with pytest.raises(RuntimeError, match="Slow requires an async run"):
        _chain("a").stream_events({"log": []}, version="v3", transformers=[Slow])


@pytest.mark.anyio
async def test_async_transformers_run_on_an_async_run() -> None:
    class Tagger(StreamTransformer):
        def __init__(self, scope: tuple[str, ...] = ()) -> None:
            super().__init__(scope)
            self.channel: StreamChannel[str] = StreamChannel()

        def init(self) -> dict[str, Any]:
            return {"tags": self.channel}

        async def aprocess(self, event: ProtocolEvent) -> bool:
            await anyio.sleep(0)
            if event["method"] == "values" and not event["params"]["namespace"]:
                self.channel.push("v")
            return True

    run = await _chain("a").astream_events({"log": []}, version="v3", transformers=[Tagger])
    tags = aiter(run.extensions["tags"])
    await run.output()
    assert [t async for t in tags] == ["v", "v"]


def test_kwargs_reach_stream() -> None:
    g = _chain("a", "b", checkpointer=InMemorySaver())
    cfg = {"configurable": {"thread_id": "t"}}
    run = g.stream_events({"log": []}, cfg, version="v3", interrupt_before=["b"])
    assert run.output == {"log": ["a"]}
    assert g.get_state(cfg).next == ("b",)


def test_unknown_projection_names_the_registered_ones() -> None:
    run = _chain("a").stream_events({"log": []}, version="v3")
    with pytest.raises(AttributeError, match="'nope'.*lifecycle, messages, subgraphs, values"):
        run.nope  # noqa: B018


def test_run_inside_a_node_sees_its_own_values() -> None:
    inner = _chain("i")

    def node(state: S) -> dict[str, Any]:
        run = inner.stream_events({"log": []}, version="v3")
        return {"log": [v["log"] for v in run.values]}

    out = StateGraph(S).add_node("n", node).add_edge(START, "n").compile().invoke({"log": []})
    assert out == {"log": [[], ["i"]]}


# -- StreamChannel / StreamMux as building blocks ------------------------------------------


def test_channel_keeps_items_only_once_subscribed() -> None:
    ch: StreamChannel[int] = StreamChannel()
    with pytest.raises(TypeError, match="not been bound"):
        iter(ch)
    ch._bind(is_async=False)
    ch.push(1)  # nobody listens yet: dropped
    it = iter(ch)
    ch.push(2)
    ch.push(3)
    ch.close()
    assert list(it) == [2, 3]
    with pytest.raises(RuntimeError, match="already has a subscriber"):
        iter(ch)


def test_channel_tee_and_failure() -> None:
    ch: StreamChannel[int] = StreamChannel()
    ch._bind(is_async=False)
    a, b = ch.tee(2)
    ch.push(1)
    ch.fail(ValueError("broke"))
    with pytest.raises(ValueError, match="broke"):
        list(a)
    assert next(b) == 1
    with pytest.raises(RuntimeError, match="closed"):
        ch.push(2)


def test_before_builtins_transformers_see_events_first() -> None:
    from actorgraph.stream._mux import StreamMux

    order: list[str] = []

    def tap(label: str, early: bool) -> Any:
        class Tap(StreamTransformer):
            before_builtins = early

            def init(self) -> dict[str, Any]:
                return {}

            def process(self, event: ProtocolEvent) -> bool:
                order.append(label)
                return label != "drop"

        return Tap

    mux = StreamMux(factories=[tap("late", False), tap("drop", False), tap("early", True)])
    events = iter(mux._events)
    mux.push({"type": "event", "method": "values", "params": {"namespace": [], "timestamp": 0, "data": {}}})
    mux.close()
    assert order == ["early", "late", "drop"]
    assert list(events) == []  # one transformer said no: not in the main log
