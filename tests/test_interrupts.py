"""Human in the loop: interrupt() and Command(resume=...), resume maps and their errors,
interrupts in parallel nodes and subgraphs, static breakpoints (interrupt_before/after)."""

from __future__ import annotations

import operator
from collections import Counter
from typing import Annotated, Any, TypedDict

import pytest

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.errors import ConfigError, UnknownInterruptError
from actorgraph.graph import START, StateGraph
from actorgraph.types import Command, Interrupt, interrupt


class S(TypedDict):
    x: Annotated[list, operator.add]


def _cfg(thread: str, *, strict: bool = False) -> dict[str, Any]:
    conf: dict[str, Any] = {"thread_id": thread}
    if strict:
        conf["__pregel_strict_resume"] = True  # LangGraph's switch for strict resuming
    return {"configurable": conf}


def _history_len(app: Any, cfg: dict[str, Any]) -> int:
    return len(list(app.get_state_history(cfg)))


def _asker(calls: Counter, checkpointer: Any = "memory") -> Any:
    """START -> a -> ask (interrupts) -> b."""

    def a(state: S) -> dict:
        calls["a"] += 1
        return {"x": ["a"]}

    def ask(state: S) -> dict:
        calls["ask"] += 1
        answer = interrupt({"q": "value?"})
        calls["ask_after"] += 1
        return {"x": [f"ask:{answer}"]}

    def b(state: S) -> dict:
        calls["b"] += 1
        return {"x": ["b"]}

    g = StateGraph(S).add_node("a", a).add_node("ask", ask).add_node("b", b)
    g.add_edge(START, "a").add_edge("a", "ask").add_edge("ask", "b")
    return g.compile(checkpointer=InMemorySaver() if checkpointer == "memory" else checkpointer)


def _parallel(calls: Counter, *, strict: bool = False) -> Any:
    """START -> p1, p2 in parallel; each interrupts."""

    def make(name: str) -> Any:
        def node(state: S) -> dict:
            calls[name] += 1
            return {"x": [f"{name}:{interrupt(name + '?')}"]}

        return node

    g = StateGraph(S).add_node("p1", make("p1")).add_node("p2", make("p2"))
    g.add_edge(START, "p1").add_edge(START, "p2")
    return g.compile(checkpointer=InMemorySaver(), strict=strict)


def _ids_by_value(out: dict[str, Any]) -> dict[str, str]:
    return {i.value: i.id for i in out["__interrupt__"]}


# -- a single interrupt -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_interrupt_pauses_and_invoke_returns_the_interrupts_as_a_list() -> None:
    calls: Counter = Counter()
    app = _asker(calls)
    out = await app.ainvoke({"x": ["in"]}, _cfg("t"))
    assert set(out) == {"x", "__interrupt__"}
    assert out["x"] == ["in", "a"]
    assert isinstance(out["__interrupt__"], list)
    (iv,) = out["__interrupt__"]
    assert isinstance(iv, Interrupt)
    assert (iv.value, iv.response_schema) == ({"q": "value?"}, None)
    assert isinstance(iv.id, str) and len(iv.id) == 32
    assert calls == Counter(a=1, ask=1)


@pytest.mark.anyio
async def test_stream_chunks_carry_the_interrupts_as_a_tuple() -> None:
    app = _asker(Counter())
    updates = [c async for c in app.astream({"x": ["in"]}, _cfg("u"), stream_mode="updates")]
    assert updates[0] == {"a": {"x": ["a"]}}
    (iv,) = updates[1]["__interrupt__"]
    assert updates[1] == {"__interrupt__": (iv,)} and len(updates) == 2
    values = [c async for c in app.astream({"x": ["in"]}, _cfg("v"), stream_mode="values")]
    assert values[:2] == [{"x": ["in"]}, {"x": ["in", "a"]}]
    assert values[2]["x"] == ["in", "a"]
    assert isinstance(values[2]["__interrupt__"], tuple)
    assert [i.value for i in values[2]["__interrupt__"]] == [{"q": "value?"}]


@pytest.mark.anyio
async def test_resume_reruns_the_node_from_the_top_and_interrupt_returns_the_answer() -> None:
    calls: Counter = Counter()
    app = _asker(calls)
    cfg = _cfg("r")
    await app.ainvoke({"x": ["in"]}, cfg)
    out = await app.ainvoke(Command(resume="yes"), cfg)
    assert out == {"x": ["in", "a", "ask:yes", "b"]}
    assert calls == Counter(a=1, ask=2, ask_after=1, b=1)
    snap = await app.aget_state(cfg)
    assert (snap.next, snap.interrupts) == ((), ())


@pytest.mark.anyio
async def test_resume_values_stream_starts_with_the_saved_state() -> None:
    app = _asker(Counter())
    cfg = _cfg("rv")
    await app.ainvoke({"x": []}, cfg)
    values = [c async for c in app.astream(Command(resume="R"), cfg, stream_mode="values")]
    assert values == [{"x": ["a"]}, {"x": ["a", "ask:R"]}, {"x": ["a", "ask:R", "b"]}]


@pytest.mark.anyio
async def test_two_interrupts_in_one_node_are_answered_one_resume_at_a_time() -> None:
    calls: Counter = Counter()

    def two(state: S) -> dict:
        calls["two"] += 1
        first = interrupt("first?")
        calls["after_first"] += 1
        second = interrupt("second?")
        return {"x": [f"{first}+{second}"]}

    app = StateGraph(S).add_node("two", two).add_edge(START, "two").compile(checkpointer=InMemorySaver())
    cfg = _cfg("two")
    out1 = await app.ainvoke({"x": []}, cfg)
    assert [i.value for i in out1["__interrupt__"]] == ["first?"]
    out2 = await app.ainvoke(Command(resume="R1"), cfg)
    assert out2["x"] == [] and [i.value for i in out2["__interrupt__"]] == ["second?"]
    assert out2["__interrupt__"][0].id != out1["__interrupt__"][0].id
    snap = await app.aget_state(cfg)
    assert snap.next == ("two",) and snap.interrupts == tuple(out2["__interrupt__"])
    assert await app.ainvoke(Command(resume="R2"), cfg) == {"x": ["R1+R2"]}
    assert calls == Counter(two=3, after_first=2)


# -- several interrupts at once -----------------------------------------------------------


@pytest.mark.anyio
async def test_a_single_resume_value_with_two_pending_interrupts_is_a_runtime_error() -> None:
    """As LangGraph: a RuntimeError saying to name the interrupt ids; nothing is written."""
    calls: Counter = Counter()
    app = _parallel(calls)
    cfg = _cfg("amb-default")
    await app.ainvoke({"x": []}, cfg)
    before = await app.aget_state(cfg)
    with pytest.raises(RuntimeError, match="multiple pending interrupts") as info:
        await app.ainvoke(Command(resume="single"), cfg)
    assert not isinstance(info.value, UnknownInterruptError)
    assert await app.aget_state(cfg) == before
    assert calls == Counter(p1=1, p2=1)


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["compile", "config"])
async def test_strict_a_single_resume_value_with_two_pending_interrupts_is_refused(how: str) -> None:
    calls: Counter = Counter()
    app = _parallel(calls, strict=how == "compile")
    cfg = _cfg("amb", strict=how == "config")
    ids = _ids_by_value(await app.ainvoke({"x": []}, cfg))
    before = await app.aget_state(cfg)
    with pytest.raises(UnknownInterruptError) as info:
        await app.ainvoke(Command(resume="single"), cfg)
    assert info.value.reason == "ambiguous"
    assert sorted(info.value.pending_ids) == sorted(ids.values())
    assert await app.aget_state(cfg) == before
    assert _history_len(app, cfg) == 2
    assert calls == Counter(p1=1, p2=1)


@pytest.mark.anyio
async def test_a_resume_map_answers_each_interrupt_by_id() -> None:
    calls: Counter = Counter()
    app = _parallel(calls)
    cfg = _cfg("map")
    ids = _ids_by_value(await app.ainvoke({"x": []}, cfg))
    out = await app.ainvoke(Command(resume={ids["p1?"]: "V1", ids["p2?"]: "V2"}), cfg)
    assert out == {"x": ["p1:V1", "p2:V2"]}
    assert calls == Counter(p1=2, p2=2)


@pytest.mark.anyio
async def test_a_resume_map_naming_one_interrupt_leaves_the_other_pending() -> None:
    calls: Counter = Counter()
    app = _parallel(calls)
    cfg = _cfg("one")
    ids = _ids_by_value(await app.ainvoke({"x": []}, cfg))
    out = await app.ainvoke(Command(resume={ids["p1?"]: "V1"}), cfg)
    assert out == {"x": ["p1:V1"], "__interrupt__": [Interrupt(value="p2?", id=ids["p2?"])]}
    snap = await app.aget_state(cfg)
    assert snap.next == ("p2",)
    assert snap.interrupts == (Interrupt(value="p2?", id=ids["p2?"]),)
    assert calls == Counter(p1=2, p2=2)
    # one interrupt left: a plain value answers it, and p1 is not run again
    assert await app.ainvoke(Command(resume="V2"), cfg) == {"x": ["p1:V1", "p2:V2"]}
    assert calls == Counter(p1=2, p2=3)


@pytest.mark.anyio
async def test_a_resume_map_with_an_unknown_id_is_ignored_as_in_langgraph() -> None:
    calls: Counter = Counter()
    app = _parallel(calls)
    cfg = _cfg("unknown-default")
    ids = _ids_by_value(await app.ainvoke({"x": []}, cfg))
    out = await app.ainvoke(Command(resume={"0" * 32: "V"}), cfg)
    assert sorted(i.id for i in out["__interrupt__"]) == sorted(ids.values())
    out = await app.ainvoke(Command(resume={}), cfg)
    assert sorted(i.id for i in out["__interrupt__"]) == sorted(ids.values())
    out = await app.ainvoke(Command(resume={ids["p1?"]: "V1", "0" * 32: "V"}), cfg)
    assert [i.id for i in out["__interrupt__"]] == [ids["p2?"]]


@pytest.mark.anyio
async def test_strict_a_resume_map_with_an_unknown_id_is_refused_and_writes_nothing() -> None:
    calls: Counter = Counter()
    app = _parallel(calls, strict=True)
    cfg = _cfg("unknown")
    ids = _ids_by_value(await app.ainvoke({"x": []}, cfg))
    before = await app.aget_state(cfg)
    bogus = "0" * 32
    for resume in ({bogus: "V"}, {ids["p1?"]: "V1", bogus: "V"}):  # LangGraph ignores bogus ids
        with pytest.raises(UnknownInterruptError) as info:
            await app.ainvoke(Command(resume=resume), cfg)
        assert info.value.reason == "not_pending"
        assert list(info.value.interrupt_ids) == [bogus]
        assert sorted(info.value.pending_ids) == sorted(ids.values())
    assert await app.aget_state(cfg) == before
    assert _history_len(app, cfg) == 2
    assert calls == Counter(p1=1, p2=1)


@pytest.mark.anyio
async def test_strict_an_empty_resume_map_is_refused() -> None:
    calls: Counter = Counter()
    app = _parallel(calls, strict=True)
    cfg = _cfg("empty")
    await app.ainvoke({"x": []}, cfg)
    with pytest.raises(UnknownInterruptError) as info:
        await app.ainvoke(Command(resume={}), cfg)
    assert info.value.reason == "empty_map"
    assert calls == Counter(p1=1, p2=1)


@pytest.mark.anyio
async def test_a_sibling_that_finished_is_not_rerun_on_resume() -> None:
    calls: Counter = Counter()

    def i1(state: S) -> dict:
        calls["i1"] += 1
        return {"x": [f"i1:{interrupt('i1?')}"]}

    def sib(state: S) -> dict:
        calls["sib"] += 1
        return {"x": ["sib"]}

    g = StateGraph(S).add_node("i1", i1).add_node("sib", sib).add_node("join", lambda s: {"x": ["join"]})
    g.add_edge(START, "i1").add_edge(START, "sib").add_edge(["i1", "sib"], "join")
    app = g.compile(checkpointer=InMemorySaver())
    cfg = _cfg("sib")
    out = await app.ainvoke({"x": []}, cfg)
    assert out["x"] == ["sib"]
    snap = await app.aget_state(cfg)
    assert snap.next == ("i1",) and snap.values == {"x": ["sib"]}
    assert await app.ainvoke(Command(resume="ok"), cfg) == {"x": ["i1:ok", "sib", "join"]}
    assert calls == Counter(i1=2, sib=1)


@pytest.mark.anyio
async def test_interrupt_ids_are_stable_across_reruns_and_unique_per_task_and_index() -> None:
    calls: Counter = Counter()
    app = _parallel(calls)
    cfg = _cfg("ids")
    ids = _ids_by_value(await app.ainvoke({"x": []}, cfg))
    assert len(set(ids.values())) == 2
    # answering p1 re-runs p2 too (it interrupts again): its id doesn't change
    out = await app.ainvoke(Command(resume={ids["p1?"]: "V1"}), cfg)
    assert _ids_by_value(out) == {"p2?": ids["p2?"]}
    # the same graph on another thread: other tasks, other ids
    other = _ids_by_value(await app.ainvoke({"x": []}, _cfg("ids2")))
    assert set(other.values()).isdisjoint(ids.values())


@pytest.mark.anyio
async def test_an_interrupt_in_a_subgraph_pauses_the_parent_and_resumes_inside_it() -> None:
    calls: Counter = Counter()

    def ask(state: S) -> dict:
        calls["sub_ask"] += 1
        return {"x": [f"sub:{interrupt('sub?')}"]}

    def post(state: S) -> dict:
        calls["sub_post"] += 1
        return {"x": ["post"]}

    def pre(state: S) -> dict:
        calls["pre"] += 1
        return {"x": ["pre"]}

    sub = StateGraph(S).add_node("ask", ask).add_node("post", post)
    sub.add_edge(START, "ask").add_edge("ask", "post")
    g = StateGraph(S).add_node("pre", pre).add_node("child", sub.compile())
    g.add_edge(START, "pre").add_edge("pre", "child")
    app = g.compile(checkpointer=InMemorySaver())
    cfg = _cfg("sub")
    out = await app.ainvoke({"x": []}, cfg)
    assert out["x"] == ["pre"] and [i.value for i in out["__interrupt__"]] == ["sub?"]
    assert (await app.aget_state(cfg)).next == ("child",)
    out = await app.ainvoke(Command(resume="S"), cfg)
    # the child returns its whole state, which the parent's reducer appends ("pre" twice)
    assert out == {"x": ["pre", "pre", "sub:S", "post"]}
    assert calls == Counter(pre=1, sub_ask=2, sub_post=1)


# -- resume errors ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_resume_without_a_checkpointer_is_a_config_error() -> None:
    calls: Counter = Counter()
    app = _asker(calls, checkpointer=None)
    out = await app.ainvoke({"x": []})
    assert [i.value for i in out["__interrupt__"]] == [{"q": "value?"}]
    with pytest.raises(ConfigError, match="checkpointer"):
        await app.ainvoke(Command(resume="x"))


@pytest.mark.anyio
async def test_resume_on_a_brand_new_thread_is_refused() -> None:
    calls: Counter = Counter()
    app = _asker(calls)
    cfg = _cfg("brand-new")
    with pytest.raises(UnknownInterruptError) as info:  # LangGraph runs from START instead
        await app.ainvoke(Command(resume="x"), cfg)
    assert info.value.reason == "not_pending"
    assert calls == Counter()
    assert _history_len(app, cfg) == 0


@pytest.mark.anyio
async def test_new_input_on_a_paused_thread_starts_over_from_start() -> None:
    calls: Counter = Counter()
    app = _asker(calls)
    cfg = _cfg("restart")
    await app.ainvoke({"x": ["in"]}, cfg)
    out = await app.ainvoke({"x": ["new"]}, cfg)
    assert out["x"] == ["in", "a", "new", "a"]
    assert [i.value for i in out["__interrupt__"]] == [{"q": "value?"}]
    snap = await app.aget_state(cfg)
    assert snap.next == ("ask",) and snap.metadata["step"] == 4
    assert calls == Counter(a=2, ask=2)


# -- static breakpoints ----------------------------------------------------------------------


def _abc(calls: Counter, **compile_kw: Any) -> Any:
    def make(name: str) -> Any:
        def node(state: S) -> dict:
            calls[name] += 1
            return {"x": [name]}

        return node

    g = StateGraph(S).add_node("a", make("a")).add_node("b", make("b")).add_node("c", make("c"))
    g.add_edge(START, "a").add_edge("a", "b").add_edge("b", "c")
    return g.compile(checkpointer=InMemorySaver(), **compile_kw)


@pytest.mark.anyio
@pytest.mark.parametrize("where", ["compile", "invoke"])
@pytest.mark.parametrize("kind", ["interrupt_before", "interrupt_after"])
async def test_a_static_breakpoint_pauses_without_an_interrupt_key(kind: str, where: str) -> None:
    node = "b" if kind == "interrupt_before" else "a"
    calls: Counter = Counter()
    app = _abc(calls, **({kind: [node]} if where == "compile" else {}))
    call_kw = {kind: [node]} if where == "invoke" else {}
    cfg = _cfg("bp")
    assert await app.ainvoke({"x": []}, cfg, **call_kw) == {"x": ["a"]}
    snap = await app.aget_state(cfg)
    assert (snap.next, snap.values, snap.interrupts) == (("b",), {"x": ["a"]}, ())
    assert [(t.name, t.interrupts) for t in snap.tasks] == [("b", ())]
    assert snap.metadata == {"source": "loop", "step": 1, "parents": {}}
    # continuing runs past the breakpoint and doesn't pause there again
    assert await app.ainvoke(None, cfg, **call_kw) == {"x": ["a", "b", "c"]}
    assert calls == Counter(a=1, b=1, c=1)
    updates = [c async for c in app.astream({"x": []}, _cfg("bp2"), stream_mode="updates", **call_kw)]
    assert updates == [{"a": {"x": ["a"]}}, {"__interrupt__": ()}]


@pytest.mark.anyio
async def test_a_resume_command_continues_past_a_static_breakpoint() -> None:
    calls: Counter = Counter()
    app = _abc(calls, interrupt_before=["b"])
    cfg = _cfg("bpres")
    await app.ainvoke({"x": []}, cfg)
    assert await app.ainvoke(Command(resume="ignored"), cfg) == {"x": ["a", "b", "c"]}
    assert calls == Counter(a=1, b=1, c=1)


@pytest.mark.anyio
async def test_interrupt_before_star_pauses_before_every_node() -> None:
    calls: Counter = Counter()
    app = _abc(calls, interrupt_before="*")
    cfg = _cfg("star")
    seen = []
    out = await app.ainvoke({"x": []}, cfg)
    while (snap := await app.aget_state(cfg)).next:
        seen.append((snap.next, out))
        out = await app.ainvoke(None, cfg)
    assert seen == [(("a",), {"x": []}), (("b",), {"x": ["a"]}), (("c",), {"x": ["a", "b"]})]
    assert out == {"x": ["a", "b", "c"]}
    assert calls == Counter(a=1, b=1, c=1)


@pytest.mark.anyio
async def test_new_input_at_a_static_breakpoint_starts_over_from_start() -> None:
    calls: Counter = Counter()
    app = _abc(calls, interrupt_before=["b"])
    cfg = _cfg("bpnew")
    await app.ainvoke({"x": []}, cfg)
    assert await app.ainvoke({"x": ["new"]}, cfg) == {"x": ["a", "new", "a"]}
    snap = await app.aget_state(cfg)
    assert snap.next == ("b",) and snap.metadata["step"] == 4
    assert calls == Counter(a=2)
