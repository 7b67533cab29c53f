"""Drawing: ``get_graph()`` nodes and edges (conditional flags, labels, implicit END),
subgraphs with ``xray``, Mermaid text identical to LangGraph 1.2's for the same graphs,
the text view, and local-only image rendering (Graphviz / mermaid-cli, never a web
service)."""

from __future__ import annotations

import operator
import shutil
import socket
import sys
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict

import pytest

from actorgraph.errors import ActorGraphError
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import Command, Send


class S(TypedDict):
    log: Annotated[list, operator.add]


def _node(name: str) -> Any:
    def node(state: S) -> dict:
        return {"log": [name]}

    node.__name__ = name
    return node


def _graph(*names: str) -> StateGraph:
    g = StateGraph(S)
    for n in names:
        g.add_node(n, _node(n))
    return g


def _edges(drawn: Any) -> list[tuple[str, str, Any, bool]]:
    return [(e.source, e.target, e.data, e.conditional) for e in drawn.edges]


def _route(state: S) -> str:
    return "b"


def _cmd_to_b_or_c(state: S) -> Command[Literal["b", "c"]]:
    return Command(goto="b")


def _cmd_untyped(state: S) -> Command:
    return Command(goto="b")


def _child() -> Any:
    c = _graph("c1", "c2")
    c.add_edge(START, "c1")
    c.add_edge("c1", "c2")
    c.add_edge("c2", END)
    return c.compile()


def _with_child() -> Any:
    g = StateGraph(S)
    g.add_node("a", _node("a"))
    g.add_node("child", _child())
    g.add_node("b", _node("b"))
    g.add_edge(START, "a")
    g.add_edge("a", "child")
    g.add_edge("child", "b")
    g.add_edge("b", END)
    return g.compile()


def _cond_dict() -> Any:
    g = _graph("a", "b", "c")
    g.add_edge(START, "a")
    g.add_conditional_edges("a", _route, {"go to b": "b", "to c": "c", "stop": END})
    g.add_edge("b", END)
    g.add_edge("c", END)
    return g.compile()


def _join() -> Any:
    g = _graph("a", "b", "c", "d")
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("a", "c")
    g.add_edge(["b", "c"], "d")
    g.add_edge("d", END)
    return g.compile()


# -- nodes and edges ------------------------------------------------------------------


def test_plain_edges_and_nodes_in_declaration_order() -> None:
    g = _graph("a", "b")
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", END)
    drawn = g.compile().get_graph()
    assert list(drawn.nodes) == ["__start__", "a", "b", "__end__"]
    a = drawn.nodes["a"]
    assert (a.id, a.name, a.metadata) == ("a", "a", None)
    assert callable(a.data)
    assert _edges(drawn) == [
        ("__start__", "a", None, False),
        ("a", "b", None, False),
        ("b", "__end__", None, False),
    ]


def test_node_without_outgoing_edge_gets_a_plain_edge_to_end() -> None:
    g = _graph("a", "b")
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    assert _edges(g.compile().get_graph())[-1] == ("b", "__end__", None, False)


def test_join_edge_draws_one_plain_edge_from_each_source() -> None:
    assert _edges(_join().get_graph()) == [
        ("__start__", "a", None, False),
        ("a", "b", None, False),
        ("a", "c", None, False),
        ("b", "d", None, False),
        ("c", "d", None, False),
        ("d", "__end__", None, False),
    ]


def test_dict_path_map_gives_conditional_edges_labelled_with_their_keys() -> None:
    assert _edges(_cond_dict().get_graph()) == [
        ("__start__", "a", None, False),
        ("a", "__end__", "stop", True),
        ("a", "b", "go to b", True),
        ("a", "c", "to c", True),
        ("b", "__end__", None, False),
        ("c", "__end__", None, False),
    ]


def test_list_path_map_gives_unlabelled_conditional_edges() -> None:
    g = _graph("a", "b", "c")
    g.add_edge(START, "a")
    g.add_conditional_edges("a", _route, ["b", "c", END])
    g.add_edge("b", END)
    assert _edges(g.compile().get_graph()) == [
        ("__start__", "a", None, False),
        ("a", "__end__", None, True),
        ("a", "b", None, True),
        ("a", "c", None, True),
        ("b", "__end__", None, False),
        ("c", "__end__", None, False),
    ]


def test_literal_router_draws_its_targets_and_a_back_edge() -> None:
    def router(state: S) -> Literal["b", "__end__"]:
        return "b"

    g = _graph("a", "b")
    g.add_edge(START, "a")
    g.add_conditional_edges("a", router)
    g.add_edge("b", "a")
    assert _edges(g.compile().get_graph()) == [
        ("__start__", "a", None, False),
        ("a", "__end__", None, True),
        ("a", "b", None, True),
        ("b", "a", None, False),
    ]


def test_router_without_path_map_or_literal_draws_no_edges_from_its_node() -> None:
    """LangGraph cannot tell where such a router goes: its node is drawn as an end."""
    g = _graph("a", "b", "c")
    g.add_edge(START, "a")
    g.add_conditional_edges("a", _route)
    g.add_edge("b", END)
    assert _edges(g.compile().get_graph()) == [
        ("__start__", "a", None, False),
        ("a", "__end__", None, False),
    ]


def test_cycle_without_exit_ends_where_the_walk_of_its_steps_stops() -> None:
    """No node can reach END: LangGraph walks 250 steps and draws a conditional edge to
    END from the node of the last one (``agent`` here, ``a`` for a cycle of three)."""
    g = _graph("human", "agent")
    g.add_edge(START, "human")
    g.add_edge("human", "agent")
    g.add_edge("agent", "human")
    drawn = g.compile().get_graph()
    assert _edges(drawn)[-1] == ("agent", "__end__", None, True)
    assert drawn.draw_mermaid(with_styles=False) == (
        "graph TD;\n"
        "\t__start__ --> human;\n"
        "\tagent --> human;\n"
        "\thuman --> agent;\n"
        "\tagent -.-> __end__;\n"
    )
    g = _graph("a", "b", "c")
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", "c")
    g.add_edge("c", "a")
    assert _edges(g.compile().get_graph())[-1] == ("a", "__end__", None, True)


def test_deferred_node_gets_a_conditional_edge_from_the_step_before_it_runs() -> None:
    g = _graph("a", "b", "c", "x")
    g.add_node("d", _node("d"), defer=True)
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("a", "c")
    g.add_edge("b", "d")
    g.add_edge("c", "d")
    g.add_edge("b", "x")
    g.add_edge("d", END)
    assert _edges(g.compile().get_graph()) == [
        ("__start__", "a", None, False),
        ("a", "b", None, False),
        ("a", "c", None, False),
        ("b", "d", None, False),
        ("b", "x", None, False),
        ("c", "d", None, False),
        ("x", "d", None, True),
        ("d", "__end__", None, False),
    ]


def test_edges_of_a_node_no_step_reaches_are_not_drawn() -> None:
    g = _graph("a", "b")
    g.add_edge(START, "a")
    g.add_edge("b", "a")
    drawn = g.compile().get_graph()
    assert "b" in drawn.nodes
    assert _edges(drawn) == [("__start__", "a", None, False), ("a", "__end__", None, False)]


def test_two_path_map_keys_to_one_node_keep_one_edge() -> None:
    g = _graph("a", "b")
    g.add_edge(START, "a")
    g.add_conditional_edges("a", _route, {"y": "b", "x": "b", 3: END})
    g.add_edge("b", END)
    assert _edges(g.compile().get_graph())[1:3] == [
        ("a", "__end__", "3", True),
        ("a", "b", "x", True),
    ]


def test_plain_and_conditional_edge_to_one_node_draw_one_conditional_edge() -> None:
    """The router's write and the plain edge's write are one write of the step: LangGraph
    draws it as the router's (conditional) edge."""
    g = _graph("a", "b", "c")
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_conditional_edges("a", _route, ["b", "c"])
    g.add_edge("b", END)
    g.add_edge("c", END)
    assert _edges(g.compile().get_graph()) == [
        ("__start__", "a", None, False),
        ("a", "b", None, True),
        ("a", "c", None, True),
        ("b", "__end__", None, False),
        ("c", "__end__", None, False),
    ]


def test_conditional_entry_point_edges_leave_start() -> None:
    g = _graph("a", "b")
    g.set_conditional_entry_point(_route, {"x": "a", "y": "b"})
    g.add_edge("a", END)
    g.add_edge("b", END)
    assert _edges(g.compile().get_graph())[:2] == [
        ("__start__", "a", "x", True),
        ("__start__", "b", "y", True),
    ]


def test_command_literal_return_type_draws_conditional_edges() -> None:
    g = StateGraph(S)
    g.add_node("a", _cmd_to_b_or_c)
    g.add_node("b", _node("b"))
    g.add_node("c", _node("c"))
    g.add_edge(START, "a")
    g.add_edge("b", END)
    assert _edges(g.compile().get_graph()) == [
        ("__start__", "a", None, False),
        ("a", "b", None, True),
        ("a", "c", None, True),
        ("b", "__end__", None, False),
        ("c", "__end__", None, False),
    ]


def test_destinations_tuple_draws_conditional_edges() -> None:
    g = StateGraph(S)
    g.add_node("a", _cmd_untyped, destinations=("b", END))
    g.add_node("b", _node("b"))
    g.add_edge(START, "a")
    assert _edges(g.compile().get_graph()) == [
        ("__start__", "a", None, False),
        ("a", "__end__", None, True),
        ("a", "b", None, True),
        ("b", "__end__", None, False),
    ]


def test_destinations_dict_labels_the_edges() -> None:
    """``destinations={node: label}`` declares Command routes with edge labels."""
    g = StateGraph(S)
    g.add_node("a", _cmd_untyped, destinations={"b": "yes", "c": "no"})
    g.add_node("b", _node("b"))
    g.add_node("c", _node("c"))
    g.add_edge(START, "a")
    assert _edges(g.compile().get_graph())[1:3] == [
        ("a", "b", "yes", True),
        ("a", "c", "no", True),
    ]


def test_undeclared_command_route_leaves_the_node_ending() -> None:
    g = StateGraph(S)
    g.add_node("a", _cmd_untyped)
    g.add_node("b", _node("b"))
    g.add_edge(START, "a")
    g.add_edge("b", END)
    assert ("a", "__end__", None, False) in _edges(g.compile().get_graph())


def test_send_router_is_drawn_from_its_path_map() -> None:
    def fan(state: S) -> list[Send]:
        return [Send("b", state)]

    g = _graph("a", "b")
    g.add_edge(START, "a")
    g.add_conditional_edges("a", fan, ["b"])
    g.add_edge("b", END)
    assert ("a", "b", None, True) in _edges(g.compile().get_graph())


def test_self_loop_is_drawn() -> None:
    def again(state: S) -> Literal["a", "__end__"]:
        return END

    g = _graph("a")
    g.add_edge(START, "a")
    g.add_conditional_edges("a", again)
    assert _edges(g.compile().get_graph())[1:] == [
        ("a", "__end__", None, True),
        ("a", "a", None, True),
    ]


def test_node_metadata_defer_and_interrupts_are_in_node_metadata() -> None:
    g = StateGraph(S)
    g.add_node("a", _node("a"), metadata={"kind": "llm", "n": 3})
    g.add_node("b", _node("b"), defer=True)
    g.add_node("c", _node("c"))
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", "c")
    drawn = g.compile(interrupt_before=["a"], interrupt_after=["a", "b"]).get_graph()
    assert drawn.nodes["a"].metadata == {"kind": "llm", "n": 3, "__interrupt": "before,after"}
    assert drawn.nodes["b"].metadata == {"defer": True, "__interrupt": "after"}
    assert drawn.nodes["c"].metadata is None


def test_interrupt_star_marks_every_node() -> None:
    g = _graph("a")
    g.add_edge(START, "a")
    drawn = g.compile(interrupt_before="*").get_graph()
    assert drawn.nodes["a"].metadata == {"__interrupt": "before"}


def test_to_json_has_langgraph_server_shape() -> None:
    data = _cond_dict().get_graph().to_json()
    assert [n["id"] for n in data["nodes"]] == ["__start__", "a", "b", "c", "__end__"]
    a = data["nodes"][1]
    assert a["type"] == "runnable" and a["data"]["name"] == "a"
    assert data["nodes"][-1] == {"id": "__end__"}
    assert data["edges"][0] == {"source": "__start__", "target": "a"}
    assert data["edges"][1] == {"source": "a", "target": "__end__", "data": "stop", "conditional": True}


@pytest.mark.anyio
async def test_aget_graph_matches_get_graph() -> None:
    compiled = _with_child()
    drawn = await compiled.aget_graph(xray=True)
    assert drawn.draw_mermaid() == compiled.get_graph(xray=True).draw_mermaid()


# -- subgraphs ------------------------------------------------------------------------


def test_without_xray_a_subgraph_is_one_node() -> None:
    drawn = _with_child().get_graph()
    assert list(drawn.nodes) == ["__start__", "a", "child", "b", "__end__"]


@pytest.mark.parametrize("xray", [True, 1])
def test_xray_replaces_the_subgraph_node_by_its_nodes(xray: Any) -> None:
    drawn = _with_child().get_graph(xray=xray)
    assert list(drawn.nodes) == ["__start__", "a", "b", "__end__", "child:c1", "child:c2"]
    assert drawn.nodes["child:c1"].name == "c1"
    assert _edges(drawn) == [
        ("__start__", "a", None, False),
        ("a", "child:c1", None, False),
        ("child:c2", "b", None, False),
        ("b", "__end__", None, False),
        ("child:c1", "child:c2", None, False),
    ]


def _nested() -> Any:
    mid = StateGraph(S)
    mid.add_node("m1", _node("m1"))
    mid.add_node("inner", _child())
    mid.add_edge(START, "m1")
    mid.add_edge("m1", "inner")
    mid.add_edge("inner", END)
    g = StateGraph(S)
    g.add_node("mid", mid.compile())
    g.add_node("z", _node("z"))
    g.add_edge(START, "mid")
    g.add_edge("mid", "z")
    g.add_edge("z", END)
    return g.compile()


def test_xray_depth_limits_how_many_levels_open() -> None:
    one = _nested().get_graph(xray=1)
    assert set(one.nodes) == {"__start__", "z", "__end__", "mid:m1", "mid:inner"}
    deep = _nested().get_graph(xray=True)
    assert set(deep.nodes) == {"__start__", "z", "__end__", "mid:m1", "mid:inner:c1", "mid:inner:c2"}
    assert _nested().get_graph(xray=2).draw_mermaid() == deep.draw_mermaid()


def test_subgraph_reached_by_a_command_route_keeps_the_conditional_edge() -> None:
    g = StateGraph(S)
    g.add_node("a", _cmd_to_b_or_c)
    g.add_node("b", _child())
    g.add_node("c", _node("c"))
    g.add_edge(START, "a")
    g.add_edge("b", END)
    g.add_edge("c", END)
    drawn = g.compile().get_graph(xray=True)
    assert _edges(drawn) == [
        ("__start__", "a", None, False),
        ("a", "b:c1", None, True),
        ("a", "c", None, True),
        ("b:c2", "__end__", None, False),
        ("c", "__end__", None, False),
        ("b:c1", "b:c2", None, False),
    ]
    assert "\ta -.-> b\\3ac1;\n" in drawn.draw_mermaid()


def test_xray_finds_a_subgraph_called_inside_a_node_function() -> None:
    child = _child()

    def wrap(state: S) -> dict:
        return child.invoke(state)

    g = StateGraph(S)
    g.add_node("wrap", wrap)
    g.add_edge(START, "wrap")
    g.add_edge("wrap", END)
    assert set(g.compile().get_graph(xray=True).nodes) == {"__start__", "__end__", "wrap:c1", "wrap:c2"}


def test_subgraph_that_fans_out_keeps_its_own_start_and_end() -> None:
    c = _graph("c1", "c2", "c3")
    c.add_edge(START, "c1")
    c.add_edge(START, "c2")
    c.add_edge("c1", "c3")
    c.add_edge("c2", END)
    c.add_edge("c3", END)
    g = StateGraph(S)
    g.add_node("sub", c.compile())
    g.add_edge(START, "sub")
    g.add_edge("sub", END)
    edges = _edges(g.compile().get_graph(xray=True))
    assert edges[:2] == [("__start__", "sub:__start__", None, False), ("sub:__end__", "__end__", None, False)]


def test_two_subgraph_nodes_with_the_same_inner_names_stay_apart() -> None:
    g = StateGraph(S)
    g.add_node("p", _child())
    g.add_node("q", _child())
    g.add_edge(START, "p")
    g.add_edge("p", "q")
    g.add_edge("q", END)
    text = g.compile().get_graph(xray=True).draw_mermaid()
    assert "\tp\\3ac2 --> q\\3ac1;\n" in text
    assert "\tsubgraph p\n" in text and "\tsubgraph q\n" in text


# -- Mermaid: the same text LangGraph 1.2.22 prints for the same graphs ------------------

_HEAD = "---\nconfig:\n  flowchart:\n    curve: linear\n---\ngraph TD;\n"
_TAIL = (
    "\tclassDef default fill:#f2f0ff,line-height:1.2\n"
    "\tclassDef first fill-opacity:0\n"
    "\tclassDef last fill:#bfb6fc\n"
)


def test_mermaid_of_a_labelled_path_map() -> None:
    assert _cond_dict().get_graph().draw_mermaid() == _HEAD + (
        "\t__start__([<p>__start__</p>]):::first\n"
        "\ta(a)\n"
        "\tb(b)\n"
        "\tc(c)\n"
        "\t__end__([<p>__end__</p>]):::last\n"
        "\t__start__ --> a;\n"
        "\ta -. &nbsp;stop&nbsp; .-> __end__;\n"
        "\ta -. &nbsp;go to b&nbsp; .-> b;\n"
        "\ta -. &nbsp;to c&nbsp; .-> c;\n"
        "\tb --> __end__;\n"
        "\tc --> __end__;\n"
    ) + _TAIL


def test_mermaid_of_a_join() -> None:
    assert _join().get_graph().draw_mermaid() == _HEAD + (
        "\t__start__([<p>__start__</p>]):::first\n"
        "\ta(a)\n"
        "\tb(b)\n"
        "\tc(c)\n"
        "\td(d)\n"
        "\t__end__([<p>__end__</p>]):::last\n"
        "\t__start__ --> a;\n"
        "\ta --> b;\n"
        "\ta --> c;\n"
        "\tb --> d;\n"
        "\tc --> d;\n"
        "\td --> __end__;\n"
    ) + _TAIL


def test_mermaid_of_nested_subgraphs_with_xray() -> None:
    assert _nested().get_graph(xray=True).draw_mermaid() == _HEAD + (
        "\t__start__([<p>__start__</p>]):::first\n"
        "\tz(z)\n"
        "\t__end__([<p>__end__</p>]):::last\n"
        "\t__start__ --> mid\\3am1;\n"
        "\tmid\\3ainner\\3ac2 --> z;\n"
        "\tz --> __end__;\n"
        "\tsubgraph mid\n"
        "\tmid\\3am1(m1)\n"
        "\tmid\\3am1 --> mid\\3ainner\\3ac1;\n"
        "\tsubgraph inner\n"
        "\tmid\\3ainner\\3ac1(c1)\n"
        "\tmid\\3ainner\\3ac2(c2)\n"
        "\tmid\\3ainner\\3ac1 --> mid\\3ainner\\3ac2;\n"
        "\tend\n"
        "\tend\n"
    ) + _TAIL


def test_mermaid_shows_metadata_under_the_node_name() -> None:
    g = StateGraph(S)
    g.add_node("a", _node("a"), metadata={"kind": "llm", "n": 3, "tags": ["p", "q"], "obj": {"z": 1}})
    g.add_node("b", _node("b"), defer=True)
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", END)
    text = g.compile(interrupt_before=["a"], interrupt_after=["a", "b"]).get_graph().draw_mermaid()
    assert text == _HEAD + (
        "\t__start__([<p>__start__</p>]):::first\n"
        "\ta(a<hr/><small><em>kind = llm\nn = 3\ntags = p, q\n__interrupt = before,after</em></small>)\n"
        "\tb(b<hr/><small><em>defer = True\n__interrupt = after</em></small>)\n"
        "\t__end__([<p>__end__</p>]):::last\n"
        "\t__start__ --> a;\n"
        "\ta --> b;\n"
        "\tb --> __end__;\n"
    ) + _TAIL


def test_mermaid_ids_are_escaped_and_markdown_names_wrapped() -> None:
    g = _graph("my node", "_priv_")
    g.add_edge(START, "my node")
    g.add_edge("my node", "_priv_")
    g.add_edge("_priv_", END)
    text = g.compile().get_graph().draw_mermaid()
    assert "\tmy\\20node(my node)\n\t_priv_(<p>_priv_</p>)\n" in text
    assert "\tmy\\20node --> _priv_;\n" in text


def test_mermaid_options() -> None:
    drawn = _cond_dict().get_graph()
    bare = drawn.draw_mermaid(with_styles=False)
    assert bare.startswith("graph TD;\n\t__start__ --> a;\n") and "classDef" not in bare
    styled = drawn.draw_mermaid(
        curve_style="basis",
        wrap_label_n_words=1,
        frontmatter_config={"config": {"theme": "neutral", "themeVariables": {"primaryColor": "#e2e2e2"}}},
    )
    assert styled.startswith(
        "---\nconfig:\n  flowchart:\n    curve: basis\n  theme: neutral\n"
        "  themeVariables:\n    primaryColor: '#e2e2e2'\n---\ngraph TD;\n"
    )
    assert "\ta -. &nbsp;go&nbsp<br>&nbspto&nbsp<br>&nbspb&nbsp; .-> b;\n" in styled


# -- text view ------------------------------------------------------------------------


def test_draw_ascii_shows_every_node_and_edge(capsys: pytest.CaptureFixture[str]) -> None:
    drawn = _cond_dict().get_graph()
    text = drawn.draw_ascii()
    for node in drawn.nodes:
        assert f"| {node} |" in text
    assert "a -. stop .-> __end__" in text
    assert "a -. go to b .-> b" in text
    assert "b --> __end__" in text and "c --> __end__" in text
    # a single hand-over to the next layer is an arrow
    lines = text.splitlines()
    assert [ln.strip() for ln in lines[3:5]] == ["|", "v"]
    drawn.print_ascii()
    assert capsys.readouterr().out == text + "\n"


def test_draw_ascii_of_a_cycle_and_a_subgraph() -> None:
    def router(state: S) -> Literal["b", "__end__"]:
        return "b"

    g = _graph("a", "b")
    g.add_edge(START, "a")
    g.add_conditional_edges("a", router)
    g.add_edge("b", "a")
    text = g.compile().get_graph().draw_ascii()
    assert "b --> a" in text and "a -.-> b" in text
    assert text.index("| a |") < text.index("| b |") < text.index("| __end__ |")
    sub = _with_child().get_graph(xray=True).draw_ascii()
    assert text and "| child:c1 |" in sub and "| child:c2 |" in sub


# -- images: rendered locally or not at all ---------------------------------------------


def _no_graphviz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.setitem(sys.modules, "pygraphviz", None)
    monkeypatch.setitem(sys.modules, "graphviz", None)


def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("drawing tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_draw_png_and_svg_render_with_local_graphviz(tmp_path: Path) -> None:
    drawn = _with_child().get_graph(xray=True)
    png = drawn.draw_png()
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG\r\n\x1a\n")
    svg = drawn.draw_svg()
    assert svg is not None and "<svg" in svg and "c1" in svg
    out = tmp_path / "graph.png"
    assert drawn.draw_png(str(out), labels={"nodes": {"a": "Agent"}}) is None
    assert out.read_bytes().startswith(b"\x89PNG")


def test_draw_png_without_graphviz_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_graphviz(monkeypatch)
    _no_network(monkeypatch)
    drawn = _cond_dict().get_graph()
    for draw in (drawn.draw_png, drawn.draw_svg):
        with pytest.raises(ImportError) as info:
            draw()
        assert type(info.value).__name__ == "RendererNotFoundError"
        assert isinstance(info.value, ActorGraphError)
        assert "graphviz" in str(info.value).lower()


def test_draw_mermaid_png_without_a_local_renderer_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_graphviz(monkeypatch)
    _no_network(monkeypatch)
    with pytest.raises(ImportError) as info:
        _cond_dict().get_graph().draw_mermaid_png()
    assert type(info.value).__name__ == "RendererNotFoundError"
    message = str(info.value)
    assert "mmdc" in message and "Graphviz" in message and "mermaid.ink" in message


@pytest.mark.skipif(
    shutil.which("dot") is None or shutil.which("mmdc") is not None,
    reason="needs Graphviz `dot` and no mermaid-cli",
)
def test_draw_mermaid_png_falls_back_to_graphviz(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_network(monkeypatch)
    out = tmp_path / "graph.png"
    png = _cond_dict().get_graph().draw_mermaid_png(output_file_path=str(out))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert out.read_bytes() == png


def test_dot_source_marks_conditional_edges_and_clusters() -> None:
    dot = _with_child().get_graph(xray=True).draw_dot()
    assert 'subgraph "cluster_child"' in dot
    assert '"child:c1" [label="c1"];' in dot
    cond = _cond_dict().get_graph().draw_dot()
    assert '"a" -> "b" [style=dashed label="go to b"];' in cond
    assert '"b" -> "__end__";' in cond
