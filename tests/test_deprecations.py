"""Deprecated spellings LangGraph still accepts keep working here, with LangGraph's
versioned deprecation warnings (``actorgraph.warnings``)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from typing_extensions import TypedDict

from actorgraph.config import RunnableConfig
from actorgraph.errors import NodeInterrupt
from actorgraph.func import entrypoint, task
from actorgraph.graph import START, StateGraph
from actorgraph.types import GraphOutput, Interrupt, RetryPolicy
from actorgraph.warnings import (
    LangGraphDeprecatedSinceV05,
    LangGraphDeprecatedSinceV10,
    LangGraphDeprecatedSinceV11,
)


class S(TypedDict, total=False):
    x: int


class Ctx(TypedDict):
    user: str


def test_old_keyword_names_still_work_and_warn() -> None:
    with pytest.warns(LangGraphDeprecatedSinceV05, match="`input` is deprecated .* `input_schema`"):
        b = StateGraph(S, input=S)
    with pytest.warns(LangGraphDeprecatedSinceV10, match="`config_schema` is deprecated .* `context_schema`"):
        b = StateGraph(S, config_schema=Ctx)
    assert b.context_schema is Ctx
    with pytest.warns(LangGraphDeprecatedSinceV05, match="`retry` is deprecated .* `retry_policy`"):
        b.add_node("n", lambda s: {"x": 1}, retry=RetryPolicy(max_attempts=2))
    b.add_edge(START, "n")
    assert b.compile().invoke({"x": 0}) == {"x": 1}
    with pytest.warns(LangGraphDeprecatedSinceV05, match="`retry`"):
        task(retry=RetryPolicy())(lambda x: x)
    with pytest.warns(LangGraphDeprecatedSinceV05, match="`retry`"), pytest.warns(LangGraphDeprecatedSinceV10):

        @entrypoint(retry=RetryPolicy(), config_schema=Ctx)
        def wf(x: int) -> int:
            return x + 1

    assert wf.invoke(1) == 2 and wf.context_schema is Ctx


def test_config_schema_and_get_config_jsonschema_describe_the_context() -> None:
    g = StateGraph(S, context_schema=Ctx).add_node("n", lambda s: s).add_edge(START, "n").compile()
    with pytest.warns(LangGraphDeprecatedSinceV10, match="get_context_jsonschema"):
        model = g.config_schema()
    assert set(model.model_fields) == {"configurable"}
    with pytest.warns(LangGraphDeprecatedSinceV10, match="`get_config_jsonschema` is deprecated"):
        schema = g.get_config_jsonschema()
    assert "configurable" in schema["properties"]


def test_deprecated_names_and_attributes() -> None:
    with pytest.warns(LangGraphDeprecatedSinceV10, match="from langgraph.types import Send"):
        from actorgraph.constants import Send  # noqa: F401
    with pytest.warns(LangGraphDeprecatedSinceV10, match="now private"):
        from actorgraph.constants import PREVIOUS

    assert PREVIOUS == "__previous__"
    with pytest.raises(ImportError):
        from actorgraph.constants import NO_SUCH_NAME  # type: ignore[attr-defined]  # noqa: F401
    with pytest.warns(LangGraphDeprecatedSinceV10, match="`interrupt_id` is deprecated"):
        assert Interrupt("q", id="i").interrupt_id == "i"
    with pytest.warns(LangGraphDeprecatedSinceV10, match="NodeInterrupt is deprecated"):
        NodeInterrupt("v")
    out = GraphOutput(value={"a": 1})
    with pytest.warns(LangGraphDeprecatedSinceV11, match=r"result\[key\]"):
        assert out["a"] == 1
    with pytest.warns(LangGraphDeprecatedSinceV11, match="key in result"):
        assert "a" in out


def test_a_config_parameter_typed_otherwise_warns_but_still_gets_the_config() -> None:
    seen: list[Any] = []

    def loose(state: S, config: dict) -> dict[str, Any]:  # type: ignore[type-arg]
        seen.append(config["metadata"]["langgraph_node"])
        return {}

    b = StateGraph(S)
    with pytest.warns(UserWarning, match="should be typed as 'RunnableConfig'"):
        b.add_node("loose", loose)
    with warnings.catch_warnings():
        warnings.simplefilter("error")

        def typed(state: S, config: RunnableConfig) -> dict[str, Any]:
            return {}

        def untyped(state, config):  # type: ignore[no-untyped-def]
            return {}

        b.add_node("typed", typed)
        b.add_node("untyped", untyped)
    b.add_edge(START, "loose")
    b.compile().invoke({"x": 0})
    assert seen == ["loose"]


def test_interrupts_saved_by_older_langgraph_versions_still_load() -> None:
    old = Interrupt(value="abc", resumable=True, when="during", ns=["a:b", "c:d"])
    assert old.id == Interrupt.from_ns(value="abc", ns="a:b|c:d").id
    assert Interrupt("v", id="given", ns=["x"]).id == "given"  # an explicit id wins
