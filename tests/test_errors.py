"""Bad input gets a typed, clear error naming the node, key or value at fault."""

from __future__ import annotations

import operator
import re
from typing import Annotated, Any, TypedDict

import pydantic
import pytest

from actorgraph.errors import (
    ActorGraphError,
    EmptyInputError,
    GraphBubbleUp,
    GraphInterrupt,
    InvalidUpdateError,
    ParentCommand,
)
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import Command, Send, interrupt


class State(TypedDict):
    log: Annotated[list, operator.add]
    x: int


def _single(node: Any, name: str = "n", *, strict: bool = False) -> Any:
    return StateGraph(State).add_node(name, node).add_edge(START, name).compile(strict=strict)


# -- what a node returns --------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("bad", ["oops", ["a", "b"], 42])
async def test_node_returning_a_non_dict_is_an_invalid_update_naming_the_node(bad: Any) -> None:
    g = _single(lambda s: bad, name="bad_node")
    with pytest.raises(InvalidUpdateError) as info:
        await g.ainvoke({"x": 0})
    msg = str(info.value)
    assert "'bad_node'" in msg
    assert repr(bad) in msg


def test_node_returning_a_non_dict_fails_under_sync_invoke_too() -> None:
    with pytest.raises(InvalidUpdateError, match="Node 'n'.*got str: 'oops'"):
        _single(lambda s: "oops").invoke({"x": 0})


@pytest.mark.anyio
async def test_node_writing_an_unknown_key_is_dropped_as_in_langgraph() -> None:
    g = _single(lambda s: {"x": 1, "typo_key": 2}, name="writer")
    assert await g.ainvoke({"x": 0}) == {"x": 1, "log": []}
    g = _single(lambda s: Command(update={"x": 3, "nope": 1}), name="cmd")
    assert await g.ainvoke({"x": 0}) == {"x": 3, "log": []}


@pytest.mark.anyio
async def test_strict_node_writing_an_unknown_key_names_node_and_key() -> None:
    """compile(strict=True): LangGraph drops unknown keys silently; strict refuses them."""
    g = _single(lambda s: {"x": 1, "typo_key": 2}, name="writer", strict=True)
    with pytest.raises(InvalidUpdateError) as info:
        await g.ainvoke({"x": 0})
    msg = str(info.value)
    assert "Node 'writer'" in msg
    assert "typo_key" in msg
    assert "'x'" in msg  # lists the keys the state does have


@pytest.mark.anyio
async def test_strict_command_update_with_an_unknown_key_names_node_and_key() -> None:
    g = _single(lambda s: Command(update={"nope": 1}), name="cmd", strict=True)
    with pytest.raises(InvalidUpdateError, match=r"Node 'cmd'.*\['nope'\]"):
        await g.ainvoke({"x": 0})


# -- routing to something that isn't there --------------------------------------------


def _routed(router: Any, path_map: Any = None, *, strict: bool = True) -> Any:
    g = StateGraph(State).add_node("src", lambda s: {"x": 1}).add_node("b", lambda s: {"log": ["b"]})
    g.add_edge(START, "src").add_conditional_edges("src", router, path_map)
    return g.compile(strict=strict)


@pytest.mark.anyio
async def test_routing_to_nothing_behaves_as_in_langgraph_by_default(caplog: pytest.LogCaptureFixture) -> None:
    """Unknown targets are logged and ignored, a path-map miss is a KeyError, None a ValueError."""
    assert await _routed(lambda s: "ghost", strict=False).ainvoke({"x": 0}) == {"x": 1, "log": []}
    assert "'ghost'" in caplog.text
    assert await _routed(lambda s: [Send("ghost", {})], strict=False).ainvoke({"x": 0}) == {"x": 1, "log": []}
    with pytest.raises(KeyError, match="zzz"):
        await _routed(lambda s: "zzz", {"go": "b"}, strict=False).ainvoke({"x": 0})
    with pytest.raises(ValueError, match="did not return a valid destination"):
        await _routed(lambda s: None, strict=False).ainvoke({"x": 0})
    g = _single(lambda s: Command(goto="ghost", update={"x": 2}), name="jumper")
    assert await g.ainvoke({"x": 0}) == {"x": 2, "log": []}


@pytest.mark.anyio
async def test_strict_router_returning_an_unknown_node_names_node_router_and_value() -> None:
    def pick_next(state: State) -> str:
        return "ghost"

    with pytest.raises(InvalidUpdateError) as info:
        await _routed(pick_next).ainvoke({"x": 0})
    msg = str(info.value)
    assert "'pick_next'" in msg and "'src'" in msg and "'ghost'" in msg


@pytest.mark.anyio
async def test_strict_router_returning_a_value_missing_from_its_path_map() -> None:
    def pick_next(state: State) -> str:
        return "zzz"

    with pytest.raises(InvalidUpdateError) as info:
        await _routed(pick_next, {"go": "b"}).ainvoke({"x": 0})
    msg = str(info.value)
    assert "'pick_next'" in msg and "'src'" in msg and "'zzz'" in msg
    assert "'go'" in msg  # says what it expected


@pytest.mark.anyio
async def test_strict_router_returning_end_missing_from_a_list_path_map() -> None:
    def pick_next(state: State) -> str:
        return END

    with pytest.raises(InvalidUpdateError, match="'pick_next'.*'__end__'.*not in its path map"):
        await _routed(pick_next, ["b"]).ainvoke({"x": 0})


@pytest.mark.anyio
async def test_strict_router_returning_none_names_node_and_router() -> None:
    def pick_next(state: State) -> None:
        return None

    with pytest.raises(InvalidUpdateError) as info:
        await _routed(pick_next).ainvoke({"x": 0})
    msg = str(info.value)
    assert "'pick_next'" in msg and "'src'" in msg and "None" in msg


@pytest.mark.anyio
async def test_strict_router_returning_a_non_string_names_the_value() -> None:
    def pick_next(state: State) -> int:
        return 5

    with pytest.raises(InvalidUpdateError, match="'pick_next'.*routed to 5"):
        await _routed(pick_next).ainvoke({"x": 0})


@pytest.mark.anyio
@pytest.mark.parametrize("target", ["ghost", END])
async def test_strict_send_to_an_unknown_node_or_end(target: str) -> None:
    def fan_out(state: State) -> list:
        return [Send(target, {"x": 1})]

    with pytest.raises(InvalidUpdateError) as info:
        await _routed(fan_out).ainvoke({"x": 0})
    msg = str(info.value)
    assert "'src'" in msg
    assert ("Send('ghost'" in msg) if target == "ghost" else ("END node" in msg)


@pytest.mark.anyio
async def test_strict_command_goto_an_unknown_node() -> None:
    g = _single(lambda s: Command(goto="ghost"), name="jumper", strict=True)
    with pytest.raises(InvalidUpdateError, match="Node 'jumper'.*goto='ghost'"):
        await g.ainvoke({"x": 0})


@pytest.mark.anyio
async def test_strict_command_goto_send_to_an_unknown_node() -> None:
    g = _single(lambda s: Command(goto=[Send("ghost", 1)]), name="jumper", strict=True)
    with pytest.raises(InvalidUpdateError, match="Node 'jumper'.*'ghost'"):
        await g.ainvoke({"x": 0})


@pytest.mark.anyio
async def test_command_parent_from_a_top_level_graph_raises_parent_command_as_in_langgraph() -> None:
    g = _single(lambda s: Command(graph=Command.PARENT, goto="b"), name="lonely")
    with pytest.raises(ParentCommand) as info:
        await g.ainvoke({"x": 0})
    assert info.value.command.goto == "b"


@pytest.mark.anyio
async def test_strict_command_parent_from_a_top_level_graph() -> None:
    g = _single(lambda s: Command(graph=Command.PARENT, goto="b"), name="lonely", strict=True)
    with pytest.raises(InvalidUpdateError) as info:
        await g.ainvoke({"x": 0})
    msg = str(info.value)
    assert "'lonely'" in msg and "Command.PARENT" in msg


# -- concurrent writes ----------------------------------------------------------------


@pytest.mark.anyio
async def test_two_writes_to_a_plain_key_in_one_step_name_the_key_and_writers() -> None:
    g = StateGraph(State)
    g.add_node("left", lambda s: {"x": 1}).add_node("right", lambda s: {"x": 2})
    g.add_node("bystander", lambda s: {"log": ["ok"]})
    g.add_edge(START, "left").add_edge(START, "right").add_edge(START, "bystander")
    with pytest.raises(InvalidUpdateError) as info:
        await g.compile().ainvoke({"x": 0})
    msg = str(info.value)
    assert "At key 'x': Can receive only one value per step" in msg
    assert "'left'" in msg and "'right'" in msg
    assert "'bystander'" not in msg


def test_one_node_writing_a_plain_key_twice_via_command_tuples() -> None:
    g = _single(lambda s: Command(update=[("x", 1), ("x", 2)]), name="twice")
    with pytest.raises(InvalidUpdateError, match="At key 'x'"):
        g.invoke({"x": 0})


# -- graph input ----------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("bad", ["text", 3, ["x", 1]])
async def test_graph_input_that_is_not_a_dict(bad: Any) -> None:
    g = _single(lambda s: None)
    with pytest.raises(InvalidUpdateError) as info:
        await g.ainvoke(bad)
    assert repr(bad) in str(info.value)


def test_invoke_none_is_an_empty_input_error() -> None:
    with pytest.raises(EmptyInputError, match="no input"):
        _single(lambda s: None).invoke(None)


class PState(pydantic.BaseModel):
    a: str


def test_pydantic_invalid_input_raises_validation_error() -> None:
    g = StateGraph(PState).add_node("n", lambda s: {"a": s.a}).add_edge(START, "n").compile()
    with pytest.raises(pydantic.ValidationError):
        g.invoke({"a": 123})


@pytest.mark.anyio
async def test_unknown_stream_mode_streams_nothing_as_in_langgraph() -> None:
    g = _single(lambda s: None)
    assert [c async for c in g.astream({"x": 0}, stream_mode="bogus")] == []
    assert {m for m, _ in g.stream({"x": 0}, stream_mode=["values", "bogus"])} == {"values"}


@pytest.mark.anyio
async def test_strict_unknown_stream_mode_is_a_value_error_naming_it() -> None:
    g = _single(lambda s: None, strict=True)
    with pytest.raises(ValueError, match="'bogus'"):
        [c async for c in g.astream({"x": 0}, stream_mode="bogus")]
    with pytest.raises(ValueError, match="'bogus'"):
        list(g.stream({"x": 0}, stream_mode=["values", "bogus"]))


# -- exceptions from user code --------------------------------------------------------


class Boom(Exception):
    pass


@pytest.mark.anyio
async def test_node_exception_propagates_unchanged_with_a_note() -> None:
    raised: list[Boom] = []

    async def explode(state: State) -> dict:
        exc = Boom("kaboom")
        raised.append(exc)
        raise exc

    with pytest.raises(Boom) as info:
        await _single(explode, name="explode").ainvoke({"x": 0})
    assert info.value is raised[0]
    assert str(info.value) == "kaboom"
    notes = info.value.__notes__
    assert len(notes) == 1
    assert re.fullmatch(r"During task with name 'explode' and id '[0-9a-f-]{36}'", notes[0])


def test_sync_node_exception_in_a_parallel_step_propagates() -> None:
    def fine(state: State) -> dict:
        return {"log": ["fine"]}

    def broken(state: State) -> dict:
        raise KeyError("missing")

    g = StateGraph(State).add_node("fine", fine).add_node("broken", broken)
    g.add_edge(START, "fine").add_edge(START, "broken")
    with pytest.raises(KeyError) as info:
        g.compile().invoke({"x": 0})
    assert any("'broken'" in n for n in info.value.__notes__)


def _add_ints(current: int, new: int) -> int:
    if new < 0:
        raise ValueError("negative")
    return current + new


class Counted(TypedDict):
    total: Annotated[int, _add_ints]


@pytest.mark.anyio
async def test_reducer_exception_propagates_with_a_note_naming_the_key() -> None:
    g = StateGraph(Counted).add_node("n", lambda s: {"total": -1}).add_edge(START, "n").compile()
    with pytest.raises(ValueError, match="negative") as info:
        await g.ainvoke({"total": 1})
    assert any("'total'" in n for n in info.value.__notes__)


# -- control-flow signals -------------------------------------------------------------


def test_control_flow_signals_are_base_exceptions_not_exceptions() -> None:
    for cls in (GraphBubbleUp, GraphInterrupt, ParentCommand):
        assert issubclass(cls, BaseException)
        assert not issubclass(cls, Exception)
    assert issubclass(InvalidUpdateError, ActorGraphError)
    assert issubclass(ActorGraphError, Exception)


@pytest.mark.anyio
async def test_except_exception_in_a_node_does_not_swallow_an_interrupt() -> None:
    swallowed: list = []

    def ask(state: State) -> dict:
        try:
            interrupt("need input")
        except Exception as exc:  # the user's over-broad handler
            swallowed.append(exc)
        return {"x": 99}

    out = await _single(ask, name="ask").ainvoke({"x": 0})
    assert swallowed == []
    assert out["x"] == 0
    assert [i.value for i in out["__interrupt__"]] == ["need input"]


@pytest.mark.anyio
async def test_except_exception_does_not_swallow_a_parent_command() -> None:
    def jump(state: State) -> Command:
        return Command(graph=Command.PARENT, goto="target", update={"log": ["jumped"]})

    child = StateGraph(State).add_node("jump", jump).add_edge(START, "jump").compile()

    async def wrapper(state: State) -> dict:
        try:
            await child.ainvoke({"x": 0})
        except Exception:
            return {"log": ["swallowed"]}
        return {"log": ["fell through"]}

    g = StateGraph(State).add_node("w", wrapper, destinations=("target",))
    g.add_node("target", lambda s: {"log": ["target"]}).add_edge(START, "w")
    assert await g.compile().ainvoke({"x": 0}) == {"log": ["jumped", "target"], "x": 0}
