"""Chat history as state: the ``add_messages`` reducer, message classes and coercion, and
``StateGraph(MessagesState)`` runs that append, replace, remove and clear messages.

Coerced dicts, tuples and strings become LangChain messages when ``langchain_core`` is
installed and actorgraph messages otherwise, so tests that don't pin that down compare
``(type, content, id)`` rather than classes and pass either way.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
import uuid
from typing import Annotated, Any

import msgspec
import pytest

from actorgraph.errors import InvalidMessageError, InvalidUpdateError
from actorgraph.graph import END, START, MessageGraph, MessagesState, StateGraph, add_messages
from actorgraph.graph.message import REMOVE_ALL_MESSAGES
from actorgraph.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)

def run_without_langchain(code: str) -> None:
    """Run ``code`` in a fresh interpreter where ``langchain_core`` can't be imported, so
    the LangChain-free path is tested whether or not it is installed here."""
    prelude = "import sys\nsys.modules['langchain_core'] = None  # import fails, find_spec raises\n"
    out = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def summary(messages: list[Any]) -> list[tuple[str, Any, str]]:
    return [(m.type, m.content, m.id) for m in messages]


def kinds(messages: list[Any]) -> list[tuple[str, Any]]:
    return [(m.type, m.content) for m in messages]


def is_uuid4(value: Any) -> bool:
    return isinstance(value, str) and uuid.UUID(value).version == 4


# -- the reducer ------------------------------------------------------------------------


def test_new_ids_append_and_left_list_is_not_modified() -> None:
    left = [HumanMessage("hi", id="1")]
    out = add_messages(left, [AIMessage("hello", id="2")])
    assert out == [HumanMessage("hi", id="1"), AIMessage("hello", id="2")]
    assert left == [HumanMessage("hi", id="1")]


def test_existing_id_replaces_message_where_it_stands() -> None:
    left = [HumanMessage("a", id="1"), HumanMessage("b", id="2"), HumanMessage("c", id="3")]
    update = [AIMessage("B", id="2"), AIMessage("A", id="1"), AIMessage("d", id="4")]
    out = add_messages(left, update)
    assert out == [AIMessage("A", id="1"), AIMessage("B", id="2"), HumanMessage("c", id="3"),
                   AIMessage("d", id="4")]


def test_duplicate_ids_in_one_update_keep_the_last() -> None:
    out = add_messages([], [AIMessage("x", id="1"), AIMessage("y", id="1")])
    assert out == [AIMessage("y", id="1")]


def test_single_message_on_either_side() -> None:
    out = add_messages(HumanMessage("a", id="1"), AIMessage("b", id="2"))
    assert out == [HumanMessage("a", id="1"), AIMessage("b", id="2")]


def test_messages_without_id_get_a_uuid4_on_the_object_itself() -> None:
    old, new = HumanMessage("old"), AIMessage("new")
    out = add_messages([old], [new])
    assert out[0] is old and out[1] is new
    assert is_uuid4(old.id) and is_uuid4(new.id) and old.id != new.id


def test_remove_message_deletes_by_id() -> None:
    left = [HumanMessage("a", id="1"), AIMessage("b", id="2"), HumanMessage("c", id="3")]
    assert add_messages(left, RemoveMessage(id="2")) == [left[0], left[2]]


def test_remove_then_readd_in_one_update_keeps_the_new_message_in_place() -> None:
    left = [HumanMessage("a", id="1"), HumanMessage("b", id="2")]
    out = add_messages(left, [RemoveMessage(id="1"), AIMessage("A", id="1")])
    assert out == [AIMessage("A", id="1"), HumanMessage("b", id="2")]


def test_add_then_remove_in_one_update_leaves_nothing() -> None:
    out = add_messages([HumanMessage("a", id="1")], [AIMessage("x", id="5"), RemoveMessage("5")])
    assert out == [HumanMessage("a", id="1")]


def test_remove_of_unknown_id_raises_a_typed_error_naming_the_id() -> None:
    with pytest.raises(InvalidMessageError, match="'no-such-id'") as info:
        add_messages([HumanMessage("a", id="1")], [RemoveMessage(id="no-such-id")])
    assert isinstance(info.value, ValueError) and isinstance(info.value, InvalidUpdateError)
    assert info.value.value == RemoveMessage(id="no-such-id")


def test_remove_all_drops_history_and_what_came_before_it() -> None:
    left = [HumanMessage("a", id="1"), AIMessage("b", id="2")]
    update = [AIMessage("lost", id="3"), RemoveMessage(id=REMOVE_ALL_MESSAGES),
              HumanMessage("kept", id="4")]
    assert add_messages(left, update) == [HumanMessage("kept", id="4")]
    assert add_messages(left, RemoveMessage(id=REMOVE_ALL_MESSAGES)) == []


def test_after_remove_all_the_rest_of_the_update_still_merges_by_id() -> None:
    update = [RemoveMessage(id=REMOVE_ALL_MESSAGES), AIMessage("x", id="6"),
              AIMessage("y", id="6"), HumanMessage("z", id="7"), RemoveMessage(id="7")]
    assert add_messages([HumanMessage("a", id="1")], update) == [AIMessage("y", id="6")]


def test_the_last_remove_all_wins() -> None:
    update = [RemoveMessage(id=REMOVE_ALL_MESSAGES), AIMessage("x", id="6"),
              RemoveMessage(id=REMOVE_ALL_MESSAGES), AIMessage("y", id="7")]
    assert add_messages([HumanMessage("a", id="1")], update) == [AIMessage("y", id="7")]


def test_dicts_tuples_and_strings_are_coerced_with_role_aliases() -> None:
    out = add_messages(
        [],
        [
            "plain string",
            ("user", "u"),
            ["assistant", "a"],
            {"role": "system", "content": "s"},
            {"type": "human", "content": "h", "id": "h1"},
            {"type": "ai", "content": None},
            {"role": "tool", "content": "t", "tool_call_id": "call-1"},
        ],
    )
    assert kinds(out) == [("human", "plain string"), ("human", "u"), ("ai", "a"),
                          ("system", "s"), ("human", "h"), ("ai", ""), ("tool", "t")]
    assert out[4].id == "h1" and all(is_uuid4(m.id) for i, m in enumerate(out) if i != 4)
    assert out[6].tool_call_id == "call-1"


def test_developer_role_is_a_system_message_tagged_as_developer() -> None:
    (message,) = add_messages([], {"role": "developer", "content": "be brief"})
    assert message.type == "system"
    assert message.additional_kwargs == {"__openai_role__": "developer"}


def test_dict_fields_and_extra_keys() -> None:
    (message,) = add_messages(
        [],
        {"role": "assistant", "content": "", "name": "bot", "response_metadata": {"m": 1},
         "additional_kwargs": {"k": 1}, "extra": 2},
    )
    assert message.name == "bot" and message.response_metadata == {"m": 1}
    assert message.additional_kwargs == {"k": 1, "extra": 2}


def test_openai_tool_calls_become_tool_call_dicts() -> None:
    (message,) = add_messages(
        [],
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}},
        ]},
    )
    assert message.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "c1", "type": "tool_call"}]


def test_remove_given_as_a_dict_deletes() -> None:
    out = add_messages([HumanMessage("a", id="1"), HumanMessage("b", id="2")],
                       {"type": "remove", "id": "1"})
    assert out == [HumanMessage("b", id="2")]


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ({"type": "human"}, "'content'"),
        ({"content": "orphan"}, "'role'"),
        ({"role": "robot", "content": "x"}, "'robot'"),
        ({"role": "tool", "content": "x"}, "tool_call_id"),
        ({"role": "user", "content": 5}, "content must be"),
        (("user", "hi", "extra"), "(role, content)"),
        (42, "42"),
        (None, "None"),
    ],
)
def test_bad_message_values_raise_a_typed_error_naming_the_value(bad: Any, fragment: str) -> None:
    with pytest.raises(InvalidMessageError) as info:
        add_messages([], [bad])
    assert isinstance(info.value, ValueError) and isinstance(info.value, InvalidUpdateError)
    assert repr(bad) in str(info.value) and fragment in str(info.value)
    assert info.value.value == bad


def test_long_bad_values_are_cut_in_the_message() -> None:
    with pytest.raises(InvalidMessageError, match=r"\.\.\. \(\d+ chars\)"):
        add_messages([], {"role": "user", "text": "x" * 5000})


def test_reducer_takes_both_sides_or_neither() -> None:
    with pytest.raises(TypeError, match="both 'left'"):
        add_messages([])  # type: ignore[call-overload]
    configured = add_messages()
    out = configured([HumanMessage("a", id="1")], [AIMessage("b", id="1")])
    assert out == [AIMessage("b", id="1")]


def test_unknown_format_raises_value_error() -> None:
    with pytest.raises(ValueError, match="'xml'"):
        add_messages(format="xml")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="'xml'"):
        add_messages([], [], format="xml")  # type: ignore[call-overload]


def test_openai_format_without_langchain_says_what_to_install() -> None:
    run_without_langchain("""
        import pytest
        from actorgraph.graph import add_messages
        with pytest.raises(ImportError, match="langchain-core"):
            add_messages(format="langchain-openai")
    """)


def test_without_langchain_coercion_builds_actorgraph_messages() -> None:
    run_without_langchain("""
        from actorgraph.graph import add_messages
        from actorgraph.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
        out = add_messages([], ["h", ("ai", "a"), {"role": "system", "content": "s"},
                                {"role": "tool", "content": "t", "tool_call_id": "c"}])
        assert [type(m) for m in out] == [HumanMessage, AIMessage, SystemMessage, ToolMessage], out
    """)


# -- message classes ----------------------------------------------------------------------


def test_messages_compare_by_type_and_fields_and_print_only_what_is_set() -> None:
    assert HumanMessage("hi", id="1") == HumanMessage(content="hi", id="1")
    assert HumanMessage("hi", id="1") != AIMessage("hi", id="1")
    assert repr(HumanMessage("hi", id="1")) == "HumanMessage(content='hi', id='1')"
    assert repr(RemoveMessage("x")) == "RemoveMessage(id='x')"
    assert isinstance(ToolMessage("r", tool_call_id="c"), BaseMessage)
    assert [HumanMessage("").type, AIMessage("").type, SystemMessage("").type,
            ToolMessage("", tool_call_id="c").type, RemoveMessage("x").type] == [
        "human", "ai", "system", "tool", "remove"]


def test_fields_other_than_content_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        HumanMessage("hi", "id-1")  # type: ignore[misc]


def test_text_joins_text_blocks() -> None:
    blocks = [{"type": "text", "text": "a"}, "b", {"type": "image_url", "image_url": {}}]
    assert HumanMessage(blocks).text == "ab"  # type: ignore[arg-type]
    assert AIMessage("plain").text == "plain"


def test_messages_round_trip_through_msgspec_as_a_tagged_union() -> None:
    history = [HumanMessage("hi", id="1"),
               AIMessage("", id="2", tool_calls=[{"name": "f", "args": {"q": 1}, "id": "c"}]),
               ToolMessage("r", id="3", tool_call_id="c", status="error"), SystemMessage("s")]
    data = msgspec.msgpack.encode(history)
    assert msgspec.msgpack.decode(data, type=list[AnyMessage]) == history
    assert msgspec.json.decode(b'{"type": "ai", "content": "x"}', type=AnyMessage) == AIMessage("x")


def test_invalid_message_error_pickles_with_its_value() -> None:
    error = InvalidMessageError("bad", {"role": "x"})
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == "bad" and copy.value == {"role": "x"}


# -- graphs ---------------------------------------------------------------------------------


class ChatState(MessagesState):
    turns: int


def _chat_graph() -> Any:
    def reply(state: ChatState) -> dict[str, Any]:
        return {"messages": [{"role": "assistant", "content": "draft", "id": "r1"}], "turns": 1}

    def edit(state: ChatState) -> dict[str, Any]:
        first = state["messages"][0]
        return {"messages": [AIMessage("final", id="r1"), RemoveMessage(id=first.id),
                             ("ai", "follow-up")]}

    def summarize(state: ChatState) -> dict[str, Any]:
        text = " | ".join(m.content for m in state["messages"])
        return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), ("system", text)]}

    builder = StateGraph(ChatState)
    builder.add_node("reply", reply)
    builder.add_node("edit", edit)
    builder.add_node("summarize", summarize)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", "edit")
    builder.add_edge("edit", "summarize")
    builder.add_edge("summarize", END)
    return builder.compile()


def _check_chat_run(values: list[dict[str, Any]]) -> None:
    user, after_reply, after_edit, final = values
    (hi,) = user["messages"]
    assert (hi.type, hi.content) == ("human", "hi") and is_uuid4(hi.id)
    assert summary(after_reply["messages"]) == [("human", "hi", hi.id), ("ai", "draft", "r1")]
    assert kinds(after_edit["messages"]) == [("ai", "final"), ("ai", "follow-up")]
    assert after_edit["messages"][0].id == "r1"
    assert kinds(final["messages"]) == [("system", "final | follow-up")]
    assert final["turns"] == 1


def test_messages_state_graph_appends_replaces_removes_and_clears() -> None:
    graph = _chat_graph()
    values = list(graph.stream({"messages": "hi"}, stream_mode="values"))
    _check_chat_run(values)
    out = graph.invoke({"messages": [("user", "hi")]})
    assert kinds(out["messages"]) == [("system", "final | follow-up")] and out["turns"] == 1


@pytest.mark.anyio
async def test_messages_state_graph_runs_async() -> None:
    graph = _chat_graph()
    values = [chunk async for chunk in graph.astream({"messages": "hi"}, stream_mode="values")]
    _check_chat_run(values)
    out = await graph.ainvoke({"messages": [{"role": "user", "content": "hi"}]})
    assert kinds(out["messages"]) == [("system", "final | follow-up")]


def test_bad_message_from_a_node_raises_typed_error_naming_value_and_key() -> None:
    builder = StateGraph(MessagesState)
    builder.add_node("bad", lambda state: {"messages": [{"type": "human"}]})
    builder.add_edge(START, "bad")
    graph = builder.compile()
    with pytest.raises(InvalidMessageError, match=r"\{'type': 'human'\}") as info:
        graph.invoke({"messages": "hi"})
    assert any("'messages'" in note for note in getattr(info.value, "__notes__", []))


def test_removing_an_unknown_id_in_a_run_fails_the_run() -> None:
    builder = StateGraph(MessagesState)
    builder.add_node("bad", lambda state: {"messages": [RemoveMessage(id="ghost")]})
    builder.add_edge(START, "bad")
    with pytest.raises(InvalidMessageError, match="'ghost'"):
        builder.compile().invoke({"messages": [HumanMessage("hi", id="1")]})


def test_configured_reducer_works_as_a_state_annotation() -> None:
    from typing import TypedDict

    class State(TypedDict):
        messages: Annotated[list[AnyMessage], add_messages()]

    builder = StateGraph(State)
    builder.add_node("n", lambda state: {"messages": [AIMessage("b", id="1")]})
    builder.add_edge(START, "n")
    out = builder.compile().invoke({"messages": [HumanMessage("a", id="1")]})
    assert out == {"messages": [AIMessage("b", id="1")]}


def test_pydantic_state_can_hold_actorgraph_messages() -> None:
    pydantic = pytest.importorskip("pydantic")

    class State(pydantic.BaseModel):
        messages: Annotated[list[AnyMessage], add_messages]

    seen: list[Any] = []

    def node(state: State) -> dict[str, Any]:
        seen.append(state)
        return {"messages": [AIMessage("reply", id="2")]}

    builder = StateGraph(State)
    builder.add_node("n", node)
    builder.add_edge(START, "n")
    out = builder.compile().invoke({"messages": [HumanMessage("hi", id="1")]})
    assert out["messages"] == [HumanMessage("hi", id="1"), AIMessage("reply", id="2")]
    assert isinstance(seen[0], State) and seen[0].messages == [HumanMessage("hi", id="1")]
    assert State.model_validate({"messages": [{"type": "ai", "content": "x"}]}).messages == [
        AIMessage("x")]


def test_message_graph_is_a_deprecated_graph_of_one_message_list() -> None:
    from actorgraph.warnings import LangGraphDeprecatedSinceV10

    with pytest.warns(LangGraphDeprecatedSinceV10, match="MessageGraph is deprecated"):
        builder = MessageGraph()
    builder.add_node("chatbot", lambda state: [AIMessage("Hello!", id="2")])
    builder.set_entry_point("chatbot").set_finish_point("chatbot")
    out = builder.compile().invoke([HumanMessage("Hi there.", id="1")])
    assert out == [HumanMessage("Hi there.", id="1"), AIMessage("Hello!", id="2")]


# -- with LangChain installed ------------------------------------------------------------


def test_langchain_messages_are_kept_and_dicts_beside_them_become_langchain() -> None:
    lc = pytest.importorskip("langchain_core.messages")
    human = lc.HumanMessage(content="hi")
    out = add_messages([human], [{"role": "assistant", "content": "yo"}, ("user", "again"),
                                 AIMessage("ours", id="ag")])
    assert out[0] is human and is_uuid4(human.id)
    assert type(out[1]) is lc.AIMessage and type(out[2]) is lc.HumanMessage
    assert out[3] == AIMessage("ours", id="ag")  # an actorgraph message is kept as given
    edit = lc.AIMessage(content="YO", id=out[1].id)
    out = add_messages(out, [lc.RemoveMessage(id=human.id), edit])
    assert kinds(out) == [("ai", "YO"), ("human", "again"), ("ai", "ours")]


def test_langchain_chunks_become_messages_and_bad_dicts_raise_typed_error() -> None:
    lc = pytest.importorskip("langchain_core.messages")
    (message,) = add_messages([], [lc.AIMessageChunk(content="part", id="c1")])
    assert type(message) is lc.AIMessage and message.content == "part"
    with pytest.raises(InvalidMessageError, match=r"\{'type': 'human'\}"):
        add_messages([], [{"type": "human"}])
    assert add_messages([lc.HumanMessage(content="a", id="1")], {"type": "remove", "id": "1"}) == []


def test_langchain_remove_all_and_graph_run() -> None:
    lc = pytest.importorskip("langchain_core.messages")
    builder = StateGraph(MessagesState)
    builder.add_node("n", lambda state: {"messages": [
        lc.RemoveMessage(id=REMOVE_ALL_MESSAGES), lc.AIMessage(content="only", id="o")]})
    builder.add_edge(START, "n")
    out = builder.compile().invoke({"messages": [{"role": "user", "content": "hi"}]})
    assert out == {"messages": [lc.AIMessage(content="only", id="o")]}


def test_openai_format_converts_content_and_keeps_ids() -> None:
    lc = pytest.importorskip("langchain_core.messages")
    reducer = add_messages(format="langchain-openai")
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg",
                                         "data": "1234"}}
    out = reducer([HumanMessage("first", id="1")],
                  [{"role": "user", "content": [{"type": "text", "text": "look"}, image],
                    "id": "2"}])
    assert [type(m) for m in out] == [lc.HumanMessage, lc.HumanMessage]
    assert [m.id for m in out] == ["1", "2"]
    url = "data:image/jpeg;base64,1234"
    assert out[1].content[1] == {"type": "image_url", "image_url": {"url": url}}
    assert reducer(out, lc.RemoveMessage(id="1")) == [out[1]]
