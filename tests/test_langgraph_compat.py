"""LangGraph programs that must behave as they do on LangGraph: one test per entry of the
compatibility gap list (../shared/compat/known-gaps.md, numbered #N in each test name),
each the smallest program showing the behaviour, asserting LangGraph's result."""

from __future__ import annotations

import operator
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.errors import ParentCommand
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import Command, interrupt


class S(TypedDict):
    x: int


class L(TypedDict):
    log: Annotated[list, operator.add]


def cfg(thread: str = "1") -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


def test_gap_11_a_reducer_key_listed_plain_in_the_output_schema_keeps_its_reducer() -> None:
    out_schema = TypedDict("Out", {"log": list})  # type: ignore[misc]
    g = StateGraph(L, output_schema=out_schema).add_node("a", lambda s: {"log": [1]}).add_edge(START, "a")
    assert g.compile().invoke({"log": [0]}) == {"log": [0, 1]}


def test_gap_15_command_parent_from_a_root_graph_raises_parent_command() -> None:
    g = StateGraph(S).add_node("n", lambda s: Command(graph=Command.PARENT, goto="x")).add_edge(START, "n")
    with pytest.raises(ParentCommand) as info:
        g.compile().invoke({"x": 0})
    assert info.value.command.goto == "x"


def test_gap_19_a_key_the_state_lacks_is_dropped() -> None:
    g = StateGraph(S).add_node("n", lambda s: {"x": 1, "extra": 1}).add_edge(START, "n")
    assert g.compile().invoke({"x": 0}) == {"x": 1}


def test_gap_21_an_unreachable_node_compiles() -> None:
    g = StateGraph(S).add_node("a", lambda s: s).add_node("orphan", lambda s: s).add_edge(START, "a")
    assert g.compile().invoke({"x": 3}) == {"x": 3}


def test_gap_26_one_answer_for_several_pending_interrupts_is_a_runtime_error() -> None:
    class T(TypedDict):
        a: str
        b: str

    g = StateGraph(T).add_node("n1", lambda s: {"a": interrupt("a?")}).add_node("n2", lambda s: {"b": interrupt("b?")})
    g = g.add_edge(START, "n1").add_edge(START, "n2").compile(checkpointer=InMemorySaver())
    g.invoke({"a": "", "b": ""}, cfg())
    with pytest.raises(RuntimeError, match="multiple pending interrupts"):
        g.invoke(Command(resume="one answer"), cfg())


def test_gap_35_a_checkpointer_that_is_not_a_saver_is_a_type_error() -> None:
    g = StateGraph(S).add_node("n", lambda s: s).add_edge(START, "n")
    with pytest.raises(TypeError, match="Invalid checkpointer provided.*Received object"):
        g.compile(checkpointer=object())


class R38(TypedDict):
    x: int


class W38(TypedDict):
    x: int
    y: int


def test_gap_38_a_router_annotated_with_a_narrower_schema_sees_only_its_keys() -> None:
    seen: list[Any] = []

    def router(state: R38) -> str:
        seen.append(state)
        return END

    g = StateGraph(W38).add_node("n", lambda s: {"x": 1, "y": 2}).add_edge(START, "n")
    g.add_conditional_edges("n", router).compile().invoke({"x": 0})
    assert seen == [{"x": 1}]


def test_gap_23_a_graph_invoked_in_a_node_with_its_own_thread_saves_on_that_thread() -> None:
    saver = InMemorySaver()
    child = StateGraph(S).add_node("n", lambda s: {"x": s["x"] + 1}).add_edge(START, "n").compile(checkpointer=saver)
    child_cfg = cfg("child")
    g = StateGraph(S).add_node("p", lambda s: child.invoke(s, child_cfg)).add_edge(START, "p")
    g.compile(checkpointer=saver).invoke({"x": 0}, cfg())
    assert child.get_state(child_cfg).values == {"x": 1}


class F39(TypedDict):
    foo: Annotated[str, operator.add]


def test_gap_39_a_node_may_return_a_list_of_commands_and_updates() -> None:
    g = StateGraph(F39).add_node("n", lambda s: [Command(update={"foo": "a"}), {"foo": "b"}]).add_edge(START, "n")
    assert g.compile().invoke({"foo": ""}) == {"foo": "ab"}


def test_gap_42_with_config_binds_config_defaults() -> None:
    from actorgraph.errors import GraphRecursionError

    g = StateGraph(L).add_sequence([(f"n{i}", lambda s: {"log": ["x"]}) for i in range(4)])
    g = g.add_edge(START, "n0").compile()
    bound = g.with_config(recursion_limit=3)
    assert type(bound) is type(g) and bound.config == {"recursion_limit": 3}
    with pytest.raises(GraphRecursionError):
        bound.invoke({"log": []})
    assert bound.invoke({"log": []}, {"recursion_limit": 10}) == {"log": ["x"] * 4}  # the call's config wins
    assert g.invoke({"log": []}) == {"log": ["x"] * 4}  # the original is unchanged


def test_gap_48_top_level_config_keys_go_into_configurable() -> None:
    g = StateGraph(S).add_node("n", lambda s: {"x": s["x"] + 1}).add_edge(START, "n").compile(checkpointer=InMemorySaver())
    assert g.invoke({"x": 0}, {"thread_id": "t1"}) == {"x": 1}
    assert g.get_state({"configurable": {"thread_id": "t1"}}).values == {"x": 1}


def test_gap_08_input_output_and_context_json_schemas() -> None:
    g = StateGraph(S).add_node("n", lambda s: s).add_edge(START, "n").compile()
    expected = {"properties": {"x": {"title": "X", "type": "integer"}}, "required": ["x"], "title": "S", "type": "object"}
    assert g.get_input_jsonschema() == expected
    assert g.get_output_jsonschema() == expected
    assert g.get_context_jsonschema() is None
    assert g.get_input_schema().__name__ == "LangGraphInput"


def test_gap_08_entrypoint_json_schemas() -> None:
    from actorgraph.func import entrypoint

    @entrypoint()
    def wf(x: int) -> str:
        return str(x)

    assert wf.get_name() == "LangGraph"
    assert wf.get_input_jsonschema() == {"title": "LangGraphInput", "type": "integer"}
    assert wf.get_output_jsonschema() == {"title": "LangGraphOutput", "type": "string"}


def test_gap_12_timeouts_sync_nodes_refused_entrypoint_timeout_works() -> None:
    import asyncio

    from actorgraph.errors import NodeTimeoutError
    from actorgraph.func import entrypoint
    from actorgraph.types import TimeoutPolicy

    tp = TimeoutPolicy(idle_timeout=0.05)
    with pytest.raises(ValueError, match="only supported for async nodes"):
        StateGraph(S).add_node("n", lambda s: s, timeout=tp).add_edge(START, "n").compile()

    async def slow(s: Any) -> None:
        await asyncio.sleep(0.5)

    with pytest.raises(NodeTimeoutError) as info:
        asyncio.run(entrypoint(timeout=tp)(slow).ainvoke(1))
    assert (info.value.kind, info.value.idle_timeout, info.value.run_timeout) == ("idle", 0.05, None)


def test_gap_27_generator_entrypoints_are_refused() -> None:
    from actorgraph.func import entrypoint

    with pytest.raises(NotImplementedError, match="Generators are not supported"):

        @entrypoint()
        def gen(inputs: Any) -> Any:
            yield "a"


def test_gap_28_a_task_of_a_partial_is_named_after_the_function() -> None:
    import functools

    from actorgraph.func import entrypoint, task

    def add(suffix: str, value: str) -> str:
        return value + suffix

    t = task(functools.partial(add, "!"))

    @entrypoint()
    def wf(x: str) -> str:
        return t(x).result()

    assert list(wf.stream("hi", stream_mode="updates")) == [{"add": "hi!"}, {"wf": "hi!"}]


class Item37(__import__("pydantic").BaseModel):
    a: str


def test_gap_37_an_entrypoints_pydantic_input_is_stored() -> None:
    from actorgraph.func import entrypoint

    @entrypoint(checkpointer=InMemorySaver())
    def wf(inputs: Item37) -> dict:
        return {"a": inputs.a + interrupt("more?")}

    wf.invoke(Item37(a="x"), cfg())
    assert wf.invoke(Command(resume="!"), cfg()) == {"a": "x!"}


def test_gap_20_a_task_future_can_be_cancelled_before_it_starts() -> None:
    import asyncio

    from actorgraph.func import entrypoint, task

    @task
    async def slow(i: int) -> int:
        await asyncio.sleep(1)
        return i

    @entrypoint()
    async def main(xs: list[int]) -> list[int]:
        futs = [slow(i) for i in xs]
        last = futs.pop()
        assert last.cancel() and last.cancelled()
        return list(await asyncio.gather(*futs))

    assert asyncio.run(main.ainvoke([1, 2])) == [1]


@pytest.mark.anyio
async def test_gap_20_a_running_async_task_call_can_be_cancelled() -> None:
    import anyio

    from actorgraph.func import entrypoint, task

    started = anyio.Event()

    @task
    async def forever(i: int) -> int:
        started.set()
        await anyio.sleep(30)
        return i

    @task
    async def quick(i: int) -> int:
        return i * 10

    @entrypoint(checkpointer=InMemorySaver())
    async def main(x: int) -> dict:
        fut = forever(x)
        await started.wait()
        assert fut.cancel()
        import concurrent.futures

        # asyncio: asyncio.CancelledError, as a cancelled asyncio future; trio: the
        # concurrent.futures one (trio's own can't be raised outside its cancel scopes)
        with pytest.raises((anyio.get_cancelled_exc_class(), concurrent.futures.CancelledError)):
            await fut
        done = quick(x)
        value = await done
        assert not done.cancel()  # finished already
        return {"cancelled": fut.cancelled(), "value": value}

    with anyio.fail_after(5):
        assert await main.ainvoke(2, cfg("c")) == {"cancelled": True, "value": 20}


def test_gap_33_step_timeout_fails_a_step_that_runs_too_long() -> None:
    import asyncio

    async def slow(s: Any) -> None:
        await asyncio.sleep(1.5)

    g = StateGraph(S).add_node("slow", slow).add_edge(START, "slow").compile()
    assert g.step_timeout is None
    g.step_timeout = 0.2
    with pytest.raises(TimeoutError):
        asyncio.run(g.ainvoke({"x": 1}))

    async def quick(s: Any) -> dict:
        return {"x": 2}

    g2 = StateGraph(S).add_node("quick", quick).add_edge(START, "quick").compile()
    g2.step_timeout = 5
    assert asyncio.run(g2.ainvoke({"x": 1})) == {"x": 2}  # and doesn't wait out the timeout


def test_gap_43_a_node_raising_cancelled_error_is_a_node_cancelled_error() -> None:
    import asyncio

    from actorgraph.errors import NodeCancelledError

    async def boom(s: Any) -> None:
        raise asyncio.CancelledError("user-raised")

    g = StateGraph(S).add_node("ok", lambda s: {}).add_node("boom", boom)
    g = g.add_edge(START, "ok").add_edge(START, "boom").compile()
    with pytest.raises(NodeCancelledError) as info:
        asyncio.run(g.ainvoke({"x": 0}))
    assert info.value.node == "boom"


def test_gap_45_a_send_tasks_path_has_langgraphs_shape() -> None:
    from actorgraph.types import Send

    g = StateGraph(S).add_node("agent", lambda s: {}).add_node("tool", lambda arg: {}).add_edge(START, "agent")
    g = g.add_conditional_edges("agent", lambda s: [Send("tool", 1)])
    app = g.compile(checkpointer=InMemorySaver(), interrupt_before=["tool"])
    app.invoke({"x": 0}, cfg())
    assert app.get_state(cfg()).tasks[0].path == ("__pregel_push", 0, False)


def test_gap_47_start_and_end_import_from_graph_state() -> None:
    from actorgraph.graph.state import END as E2, START as S2

    assert (S2, E2) == ("__start__", "__end__")


def test_gap_13_29_update_state_as_input_then_as_start() -> None:
    g = StateGraph(S).add_node("d", lambda s: {"x": s["x"] * 2}).add_edge(START, "d").compile(checkpointer=InMemorySaver())
    g.update_state(cfg(), {"x": 1}, as_node="__input__")
    g.update_state(cfg(), {"x": 1}, as_node="__start__")
    history = [(s.metadata["step"], [t.result for t in s.tasks]) for s in g.get_state_history(cfg())]
    assert history == [(0, [None]), (-1, [{"x": 1}])]


def test_gap_24_copy_a_checkpoint_and_update_the_copy() -> None:
    from actorgraph.types import StateUpdate

    g = StateGraph(S).add_node("one", lambda s: {"x": s["x"] + 1}).add_edge(START, "one").compile(checkpointer=InMemorySaver())
    g.invoke({"x": 0}, cfg())
    first = list(g.get_state_history(cfg()))[-1]
    fork = g.update_state(first.config, [StateUpdate({"x": 10}, "__start__")], as_node="__copy__")
    assert g.invoke(None, fork) == {"x": 11}


def test_gap_25_entrypoint_update_state_on_a_new_thread_sets_previous() -> None:
    from actorgraph.func import entrypoint

    @entrypoint(checkpointer=InMemorySaver())
    def foo(inputs: Any, *, previous: Any = None) -> dict:
        return {"previous": previous, "current": inputs}

    foo.update_state(cfg(), {"a": "-1"})
    assert foo.invoke({"a": "1"}, cfg()) == {"previous": {"a": "-1"}, "current": {"a": "1"}}


def test_gap_01_a_checkpointer_true_subgraph_keeps_one_lineage_across_runs() -> None:
    class O(TypedDict):
        r: list

    inner = StateGraph(L).add_node("e", lambda s: {"log": ["e"]}).add_edge(START, "e").compile(checkpointer=True)
    p = StateGraph(O).add_node("c", lambda s: {"r": inner.invoke({"log": ["in"]})["log"]}).add_edge(START, "c")
    app = p.compile(checkpointer=InMemorySaver())
    app.invoke({"r": []}, cfg())
    assert app.invoke({"r": []}, cfg()) == {"r": ["in", "e", "in", "e"]}
    g = StateGraph(L).add_node("inner", inner).add_edge(START, "inner").compile(checkpointer=InMemorySaver())
    assert next(iter(g.stream({"log": []}, cfg("2"), subgraphs=True)))[0] == ("inner",)


def test_gap_02_invoking_with_a_subgraph_checkpoints_config_replays_it() -> None:
    sub = StateGraph(L).add_node("ask", lambda s: {"log": [interrupt("q")]}).add_edge(START, "ask").compile()
    g = StateGraph(L).add_node("sub", sub).add_edge(START, "sub").compile(checkpointer=InMemorySaver())
    g.invoke({"log": []}, cfg())
    sub_cfg = g.get_state(cfg(), subgraphs=True).tasks[0].state.config
    out = g.invoke(None, sub_cfg)
    assert [i.value for i in out["__interrupt__"]] == ["q"]
    assert g.invoke(Command(resume="a"), cfg()) == {"log": ["a"]}


def test_gap_07_debug_checkpoint_events_and_history_name_a_subgraphs_namespace() -> None:
    child = StateGraph(S).add_node("c", lambda s: {"x": 1}).add_edge(START, "c").compile()
    g = StateGraph(S).add_node("p", child).add_edge(START, "p").compile(checkpointer=InMemorySaver())
    events = [e["payload"] for e in g.stream({"x": 0}, cfg(), stream_mode="debug") if e["type"] == "checkpoint"]
    state = events[1]["tasks"][0]["state"]
    assert state["configurable"]["checkpoint_ns"].startswith("p:")
    assert list(g.get_state_history(cfg()))[1].tasks[0].state == state


def test_gap_10_a_graph_invoked_inside_a_node_shows_in_get_state_subgraphs() -> None:
    sub = StateGraph(S).add_node("ask", lambda s: {"x": interrupt("q")}).add_edge(START, "ask").compile()
    g = StateGraph(S).add_node("n", lambda s: sub.invoke(s)).add_edge(START, "n").compile(checkpointer=InMemorySaver())
    g.invoke({"x": 0}, cfg())
    sub_state = g.get_state(cfg(), subgraphs=True).tasks[0].state
    assert sub_state.values == {"x": 0} and sub_state.next == ("ask",)


class F17(TypedDict):
    foo: Annotated[str, operator.add]


def _two_step_with_breakpoint(breakpoint: bool = True) -> Any:
    g = StateGraph(F17).add_node("n1", lambda s: {"foo": "1"}).add_node("n2", lambda s: {"foo": "2"})
    g = g.add_edge(START, "n1").add_edge("n1", "n2")
    return g.compile(checkpointer=InMemorySaver(), interrupt_before=["n1"] if breakpoint else None)


def test_gap_17_command_update_or_goto_at_a_breakpoint_applies_then_resumes() -> None:
    g = _two_step_with_breakpoint()
    g.invoke({"foo": "a"}, cfg())
    assert g.invoke(Command(update={"foo": "u"}), cfg()) == {"foo": "au12"}
    g.invoke({"foo": "a"}, cfg("2"))
    assert g.invoke(Command(goto=["n2"]), cfg("2")) == {"foo": "a122"}


def test_gap_17_command_on_a_finished_thread_runs_only_what_it_triggers() -> None:
    g = _two_step_with_breakpoint(breakpoint=False)
    g.invoke({"foo": "a"}, cfg())
    assert g.invoke(Command(update={"foo": "v"}), cfg()) == {"foo": "a12v"}
    assert g.invoke(Command(goto="n2"), cfg()) == {"foo": "a12v2"}


def test_gap_18_resume_and_update_in_one_command() -> None:
    g = StateGraph(F17).add_node("n", lambda s: {"foo": interrupt("q")}).add_edge(START, "n")
    app = g.compile(checkpointer=InMemorySaver())
    app.invoke({"foo": "a"}, cfg())
    assert app.invoke(Command(resume="r", update={"foo": "u"}), cfg()) == {"foo": "aur"}


class T04(TypedDict):
    x: int
    log: Annotated[list, operator.add]


def test_gap_04_a_node_error_handler_replaces_the_failure_in_the_same_step() -> None:
    from actorgraph.errors import NodeError

    def fail(s: Any) -> None:
        raise ValueError("boom")

    def on_error(s: Any, error: NodeError) -> Any:
        return {"log": [f"handled {error.node}: {error.error}"]}

    g = StateGraph(T04).add_node("f", fail, error_handler=on_error).add_node("g", lambda s: {"log": ["g"]})
    app = g.add_edge(START, "f").add_edge("f", "g").compile(checkpointer=InMemorySaver())
    assert app.invoke({"x": 0, "log": []}, cfg()) == {"x": 0, "log": ["handled f: boom"]}
    assert list(app.nodes) == ["__start__", "__error_handler__f", "f", "g"]
    history = list(app.get_state_history(cfg()))
    assert [t.error for t in history[1].tasks] == ["ValueError('boom')"]

    def set_x(s: Any, error: NodeError) -> Any:
        return Command(update={"x": 1})

    g2 = StateGraph(S).add_node("f", fail, error_handler=set_x).add_edge(START, "f")
    assert g2.compile().invoke({"x": 0}) == {"x": 1}


def test_gap_67_a_join_target_is_not_left_pending_after_the_run() -> None:
    b = StateGraph(L)
    for n in "abc":
        b.add_node(n, lambda s, n=n: {"log": [n]})
    b.add_edge(START, "a").add_edge(START, "b").add_edge(["a", "b"], "c")
    g = b.compile(checkpointer=InMemorySaver())
    g.invoke({"log": []}, cfg())
    assert g.get_state(cfg()).next == ()
    assert g.invoke(None, cfg()) == {"log": ["a", "b", "c"]}


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # trio shuffles which runs first
async def test_gap_68_a_finished_sibling_of_a_failing_task_keeps_its_work(anyio_backend: str) -> None:
    import anyio

    async def a(s: Any) -> None:
        await anyio.sleep(0)
        raise ValueError("a fails")

    async def b(s: Any) -> dict:
        await anyio.sleep(0)
        return {"log": ["b"]}

    g = StateGraph(L).add_node("a", a).add_node("b", b).add_edge(START, "a").add_edge(START, "b")
    app = g.compile(checkpointer=InMemorySaver())
    out = []
    with pytest.raises(ValueError, match="a fails"):
        async for c in app.astream({"log": []}, cfg(), stream_mode="updates"):
            out.append(c)
    assert out == [{"b": {"log": ["b"]}}]
    st = await app.aget_state(cfg())
    assert (st.values, st.next) == ({"log": ["b"]}, ("a",))


def test_gap_71_the_recursion_limit_of_a_resumed_run() -> None:
    from actorgraph.errors import GraphRecursionError

    class C(TypedDict):
        n: int

    def ask(s: Any) -> dict:
        interrupt("q")
        return {"n": 0}

    g = StateGraph(C).add_node("ask", ask).add_node("loop", lambda s: {"n": s["n"] + 1})
    g = g.add_edge(START, "ask").add_edge("ask", "loop").add_edge("loop", "loop").compile(checkpointer=InMemorySaver())
    g.invoke({"n": 0}, cfg())
    with pytest.raises(GraphRecursionError):
        g.invoke(Command(resume="x"), {**cfg(), "recursion_limit": 5})
    state = g.get_state(cfg())
    assert (state.values, state.metadata["step"]) == ({"n": 6}, 7)


def test_gap_72_an_async_router_from_start_works_under_sync_invoke() -> None:
    async def router(s: Any) -> str:
        return "b"

    g = StateGraph(L).add_node("b", lambda s: {"log": ["b"]}).add_conditional_edges(START, router).compile()
    assert g.invoke({"log": []}) == {"log": ["b"]}


def test_gap_73_get_state_after_a_write_conflict_raises_the_conflict() -> None:
    from actorgraph.errors import InvalidUpdateError

    g = StateGraph(S).add_node("a", lambda s: {"x": 1}).add_node("b", lambda s: {"x": 2})
    app = g.add_edge(START, "a").add_edge(START, "b").compile(checkpointer=InMemorySaver())
    with pytest.raises(InvalidUpdateError):
        app.invoke({"x": 0}, cfg())
    with pytest.raises(InvalidUpdateError):
        app.get_state(cfg())


def test_gap_40_a_key_written_twice_shows_as_writes_in_task_results() -> None:
    g = StateGraph(F17).add_node("one", lambda s: Command(update=[("foo", "0"), ("foo", "1")])).add_edge(START, "one")
    app = g.compile(checkpointer=InMemorySaver())
    results = [e["result"] for e in app.stream({"foo": ""}, cfg(), stream_mode="tasks") if "result" in e]
    assert results == [{"foo": {"$writes": ["0", "1"]}}]
    assert [t.result for s in app.get_state_history(cfg()) for t in s.tasks if t.name == "one"] == results


def test_gap_49_a_store_passed_to_a_task_is_not_stored() -> None:
    from actorgraph.func import entrypoint, task
    from actorgraph.store.memory import InMemoryStore

    store = InMemoryStore()

    @task
    def t(x: int, s: Any) -> int:
        s.put(("ns",), "k", {"v": x})
        return x + 1

    @entrypoint(checkpointer=InMemorySaver(), store=store)
    def wf(x: int, *, store: Any) -> int:
        return t(x, store).result()

    assert wf.invoke(1, cfg()) == 2
    assert store.get(("ns",), "k").value == {"v": 1}


def test_gap_03_a_bare_value_can_be_the_whole_state() -> None:
    g = StateGraph(Annotated[list, operator.add]).add_node("a", lambda s: ["a"]).add_edge(START, "a")
    assert g.compile().invoke(["x"]) == ["x", "a"]
    g2 = StateGraph(int).add_node("inc", lambda s: s + 1).add_edge(START, "inc").compile()
    assert list(g2.stream(1, stream_mode=["values", "updates"])) == [("values", 1), ("updates", {"inc": 2}), ("values", 2)]
    app = StateGraph(int).add_node("inc", lambda s: s + 1).add_edge(START, "inc").compile(checkpointer=InMemorySaver())
    app.invoke(1, cfg())
    assert app.get_state(cfg()).values == 2


def test_gap_14_error_texts_users_match_on_are_langgraphs() -> None:
    from actorgraph.graph.message import add_messages
    from actorgraph.messages import HumanMessage, RemoveMessage

    with pytest.raises(ValueError, match="Attempting to delete a message with an ID that doesn't exist"):
        add_messages([HumanMessage("Hello", id="1")], RemoveMessage(id="2"))
    with pytest.raises(ValueError, match="Unrecognized format="):
        add_messages([], [], format="invalid")  # type: ignore[arg-type]

    class Bad(TypedDict):
        x: Annotated[list, lambda a: a]

    with pytest.raises(ValueError, match="Invalid reducer signature. Expected \\(a, b\\) -> c"):
        StateGraph(Bad)
    g = StateGraph(S).add_node("n", lambda s: s).add_edge(START, "n").compile(checkpointer=InMemorySaver())
    with pytest.raises(ValueError, match="No supersteps provided"):
        g.bulk_update_state(cfg(), [])


def test_gap_06_a_subgraph_breakpoint_shows_as_one_interrupt_of_the_parent() -> None:
    inner = StateGraph(S).add_node("i1", lambda s: {"x": 1}).add_node("i2", lambda s: {"x": 2})
    inner_app = inner.add_edge(START, "i1").add_edge("i1", "i2").compile(interrupt_before=["i2"])
    g = StateGraph(S).add_node("inner", inner_app).add_edge(START, "inner").compile(checkpointer=InMemorySaver())
    chunks = [(len(ns), c) for ns, c in g.stream({"x": 0}, cfg(), subgraphs=True)]
    assert chunks == [(1, {"i1": {"x": 1}}), (0, {"__interrupt__": ()})]


def test_gap_09_a_drain_requested_in_a_node_stops_the_run_at_the_step_boundary() -> None:
    from actorgraph.errors import GraphDrained
    from actorgraph.runtime import RunControl

    control = RunControl()

    def first(s: Any) -> dict:
        control.request_drain("sigterm")
        return {"x": 1}

    g = StateGraph(S).add_node("first", first).add_node("second", lambda s: {"x": 2})
    app = g.add_edge(START, "first").add_edge("first", "second").compile(checkpointer=InMemorySaver())
    with pytest.raises(GraphDrained, match="Graph drained: sigterm") as info:
        app.invoke({"x": 0}, cfg(), control=control)
    assert info.value.reason == "sigterm"
    state = app.get_state(cfg())
    assert (state.values, state.next) == ({"x": 1}, ("second",))
    assert app.invoke(None, cfg()) == {"x": 2}


def test_gap_16_22_runtime_execution_info_and_server_info() -> None:
    import time

    from actorgraph.runtime import Runtime

    seen: list[Runtime] = []

    def n(s: Any, runtime: Runtime) -> dict:
        seen.append(runtime)
        return {"x": 1}

    app = StateGraph(S).add_node("n", n).add_edge(START, "n").compile(checkpointer=InMemorySaver())
    before = time.time()
    app.invoke({"x": 0}, {"configurable": {"thread_id": "1", "assistant_id": "a", "graph_id": "g"}})
    info = seen[0].execution_info
    assert before <= info.node_first_attempt_time <= time.time()
    history = list(app.get_state_history(cfg()))
    # the checkpoint the node's step started from, and the task as history records it
    assert info.checkpoint_id == history[1].config["configurable"]["checkpoint_id"]
    assert info.task_id == history[1].tasks[0].id
    assert (info.thread_id, info.node_attempt) == ("1", 1)
    server = seen[0].server_info
    assert (server.assistant_id, server.graph_id, server.user) == ("a", "g", None)

    seen.clear()
    StateGraph(S).add_node("n", n).add_edge(START, "n").compile().invoke({"x": 0})
    assert seen[0].server_info is None
    assert seen[0].execution_info.thread_id is None


def test_gap_31_messages_stream_metadata_carries_the_configurable_keys() -> None:
    from actorgraph.graph import MessagesState
    from actorgraph.messages import AIMessage

    g = StateGraph(MessagesState).add_node("n", lambda s: {"messages": AIMessage("hi")}).add_edge(START, "n")
    c = {"configurable": {"thread_id": "t", "run_id": "r", "assistant_id": "a"}}
    _, meta = next(iter(g.compile().stream({"messages": []}, c, stream_mode="messages")))
    assert (meta["thread_id"], meta["run_id"], meta["assistant_id"]) == ("t", "r", "a")
    assert meta["langgraph_node"] == "n"


def test_gap_32_a_deferred_node_is_drawn_with_dashed_edges_from_the_last_step_before_it() -> None:
    def nothing(s: Any) -> dict:
        return {}

    b = StateGraph(S).add_node("a", nothing).add_node("dead_end", nothing).add_node("final", nothing, defer=True)
    b.add_edge(START, "a").add_edge("a", "dead_end").add_edge("a", "final").add_edge("final", END)
    edges = [line.strip() for line in b.compile().get_graph().draw_mermaid(with_styles=False).splitlines() if "->" in line]
    assert edges == ["__start__ --> a;", "a --> dead_end;", "a --> final;", "dead_end -.-> final;", "final --> __end__;"]

    # a join into the deferred node, a chain after it, and a router's loop (taken once)
    b = StateGraph(S).add_node("a", nothing).add_node("b", nothing).add_node("x", nothing).add_node("y", nothing)
    b.add_node("f", nothing, defer=True).add_node("g", nothing)
    b.add_edge(START, "a").add_edge(START, "b").add_edge("a", "x").add_edge("x", "y").add_edge(["a", "b"], "f")
    b.add_edge("f", "g").add_conditional_edges("y", lambda s: END, ["y", END])
    drawn = sorted((e.source, e.target, e.conditional) for e in b.compile().get_graph().edges)
    assert drawn == [
        (START, "a", False), (START, "b", False), ("a", "f", False), ("a", "x", False), ("b", "f", False),
        ("f", "g", False), ("g", END, False), ("x", "y", False), ("y", END, True), ("y", "f", True), ("y", "y", True),
    ]  # fmt: skip


def test_gap_36_interrupt_fields_and_debug_payload() -> None:
    import dataclasses

    from actorgraph.types import Interrupt

    assert [f.name for f in dataclasses.fields(Interrupt)] == ["value", "id", "response_schema"]
    g = StateGraph(S).add_node("n", lambda s: {"x": interrupt("q")}).add_edge(START, "n").compile(checkpointer=InMemorySaver())
    results = [e["payload"] for e in g.stream({"x": 0}, cfg(), stream_mode="debug") if e["type"] == "task_result"]
    assert [sorted(i) for i in results[0]["interrupts"]] == [["id", "response_schema", "value"]]
    assert results[0]["interrupts"][0]["value"] == "q"


def test_gap_41_custom_stream_chunks_reach_the_caller_while_the_node_runs() -> None:
    import threading

    from actorgraph.types import StreamWriter

    seen_before = threading.Event()

    def node(s: Any, writer: StreamWriter) -> dict:
        writer("before")
        writer(seen_before.wait(5))  # True only if the caller got "before" meanwhile
        return {}

    g = StateGraph(S).add_node("n", node).add_edge(START, "n").compile()
    out = []
    for chunk in g.stream({"x": 0}, stream_mode="custom"):
        out.append(chunk)
        seen_before.set()
    assert out == ["before", True]


def test_gap_46_langgraph_prebuilt_names_import() -> None:
    from actorgraph.prebuilt import InjectedState, ToolNode, create_react_agent, tools_condition

    assert callable(create_react_agent) and callable(tools_condition)
    assert isinstance(ToolNode, type) and InjectedState is not None


def test_gap_51_messages_stream_metadata_carries_the_models_tags() -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

    class T(TypedDict):
        t: str

    m = GenericFakeChatModel(messages=iter(["a b"]), tags=["joke"])
    g = StateGraph(T).add_node("n", lambda s: {"t": m.invoke("hi").content}).add_edge(START, "n").compile()
    out = [(msg.content, md.get("tags")) for msg, md in g.stream({"t": ""}, stream_mode="messages")]
    assert out == [("a", ["joke"]), (" ", ["joke"]), ("b", ["joke"])]


def test_gap_52_checkpoint_metadata_leaves_out_reserved_keys_and_objects() -> None:
    g = StateGraph(S).add_node("n", lambda s: {"x": 1}).add_edge(START, "n").compile(checkpointer=InMemorySaver())
    config = {
        "configurable": {"thread_id": "t1", "num": 3, "obj": [1], "__secret": 1},
        "metadata": {"foo": "bar", "thread_id": "x", "lst": [1], "d": {"a": 1}, "none": None, "f": 1.5},
    }
    g.invoke({"x": 0}, config)
    meta = g.get_state(cfg("t1")).metadata
    assert meta == {"foo": "bar", "f": 1.5, "num": 3, "parents": {}, "source": "loop", "step": 1}


def test_gap_53_an_object_in_configurable_is_not_stored() -> None:
    import sqlite3

    from actorgraph.checkpoint.sqlite import SqliteSaver

    class Client:
        pass

    for saver in (InMemorySaver(), SqliteSaver(sqlite3.connect(":memory:", check_same_thread=False))):
        g = StateGraph(S).add_node("n", lambda s: {"x": 1}).add_edge(START, "n").compile(checkpointer=saver)
        assert g.invoke({"x": 0}, {"configurable": {"thread_id": "t", "llm": Client()}}) == {"x": 1}
        assert g.get_state(cfg("t")).metadata == {"source": "loop", "step": 1, "parents": {}}


def test_gap_57_a_graph_streamed_inside_a_node_is_a_subgraph_of_the_stream() -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

    from actorgraph.config import RunnableConfig
    from actorgraph.graph import MessagesState

    models: list[Any] = []

    def llm(s: Any) -> dict:
        return {"messages": [models[-1].invoke(s["messages"])]}

    inner = StateGraph(MessagesState).add_node("llm", llm).add_edge(START, "llm").compile()

    def agent(s: Any, config: RunnableConfig) -> dict:
        for _ in inner.stream({"messages": s["messages"]}, config, stream_mode="messages"):
            pass
        return {"messages": []}

    g = StateGraph(MessagesState).add_node("agent", agent).add_edge(START, "agent").compile()
    models.append(GenericFakeChatModel(messages=iter(["a b"])))
    assert list(g.stream({"messages": [("user", "hi")]}, stream_mode="messages")) == []
    models.append(GenericFakeChatModel(messages=iter(["a b"])))
    events = list(g.stream({"messages": [("user", "hi")]}, stream_mode="messages", subgraphs=True))
    assert [c[0].content for _, c in events] == ["a", " ", "b"]
    assert all(len(ns) == 1 and ns[0].startswith("agent:") and c[1]["langgraph_node"] == "llm" for ns, c in events)


def test_gap_69_an_interrupt_answered_by_a_failed_resume_is_no_longer_pending() -> None:
    def b(s: Any) -> None:
        raise ValueError("b fails")

    g = StateGraph(L).add_node("a", lambda s: {"log": [interrupt("q")]}).add_node("b", b)
    app = g.add_edge(START, "a").add_edge(START, "b").compile(checkpointer=InMemorySaver())
    with pytest.raises(ValueError, match="b fails"):
        app.invoke({"log": []}, cfg())
    pending = app.get_state(cfg()).interrupts
    assert [i.value for i in pending] == ["q"]
    for _ in range(2):  # resuming by id twice: b fails again, a's answer is kept
        with pytest.raises(ValueError, match="b fails"):
            app.invoke(Command(resume={pending[0].id: "ans"}), cfg())
        state = app.get_state(cfg())
        assert (state.interrupts, state.next, state.values) == ((), ("b",), {"log": ["ans"]})


def _interrupting_pair() -> Any:
    g = StateGraph(L).add_node("a", lambda s: {"log": [interrupt("q")]}).add_node("b", lambda s: {"log": ["b"]})
    return g.add_edge(START, "a").add_edge(START, "b").compile(checkpointer=InMemorySaver())


def test_gap_70_debug_stream_of_a_resumed_run_starts_with_its_checkpoint() -> None:
    g = StateGraph(L).add_node("a", lambda s: {"log": [interrupt("q")]}).add_edge(START, "a")
    app = g.compile(checkpointer=InMemorySaver())
    app.invoke({"log": []}, cfg())
    events = [f"{e['type']}@{e['step']}" for e in app.stream(Command(resume="r"), cfg(), stream_mode="debug")]
    assert events == ["checkpoint@0", "task@1", "task_result@1", "checkpoint@1"]


def test_gap_70_a_resumed_step_reports_only_the_tasks_that_run_again() -> None:
    app = _interrupting_pair()
    app.invoke({"log": []}, cfg())
    tasks = [("result" if "result" in e else "start", e["name"]) for e in app.stream(Command(resume="r"), cfg(), stream_mode="tasks")]
    assert tasks == [("start", "a"), ("start", "b"), ("result", "a")]
    app = _interrupting_pair()
    app.invoke({"log": []}, cfg())
    debug = [
        f"checkpoint@{e['step']}" if e["type"] == "checkpoint" else f"{e['type']}:{e['payload']['name']}"
        for e in app.stream(Command(resume="r"), cfg(), stream_mode="debug")
    ]
    assert debug == ["checkpoint@0", "task:a", "task:b", "task_result:a", "checkpoint@1"]


def test_gap_70_values_stream_of_an_interrupted_step_ends_with_the_finished_writes() -> None:
    chunks = list(_interrupting_pair().stream({"log": []}, cfg(), stream_mode="values"))
    assert [c["log"] for c in chunks] == [[], [], ["b"]]
    assert [i.value for i in chunks[1]["__interrupt__"]] == ["q"]
