"""``interrupt(value, response_schema=...)``: the caller gets the schema of the answer
expected; a type is validated on resume (the node gets the typed value), and an answer
that doesn't fit fails the run without being kept, so it can be answered again."""

from __future__ import annotations

import dataclasses
from typing import Any, TypedDict

import pytest
from pydantic import BaseModel, ValidationError

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.errors import is_invalid_resume
from actorgraph.graph import START, StateGraph
from actorgraph.types import Command, interrupt


class S(TypedDict, total=False):
    answer: str


class Approval(BaseModel):
    approved: bool
    note: str = ""


@dataclasses.dataclass
class Choice:
    option: int


def _graph(schema: Any, render: Any) -> Any:
    def ask(state: S) -> S:
        return {"answer": render(interrupt("ok?", response_schema=schema))}

    return StateGraph(S).add_node("ask", ask).add_edge(START, "ask").compile(checkpointer=InMemorySaver())


CFG = {"configurable": {"thread_id": "t"}}


@pytest.mark.anyio
async def test_a_model_schema_reaches_the_caller_as_json_schema_and_the_answer_as_the_model() -> None:
    graph = _graph(Approval, lambda a: f"{type(a).__name__}:{a.approved}:{a.note}")
    (pending,) = (await graph.ainvoke({}, CFG))["__interrupt__"]
    assert pending.response_schema["title"] == "Approval"
    assert set(pending.response_schema["properties"]) == {"approved", "note"}
    out = await graph.ainvoke(Command(resume={"approved": "yes", "note": "fine"}), CFG)
    assert out["answer"] == "Approval:True:fine"


@pytest.mark.anyio
async def test_a_bad_answer_raises_a_marked_validation_error_and_the_interrupt_stays() -> None:
    graph = _graph(Choice, lambda c: f"option {c.option}")
    (pending,) = (await graph.ainvoke({}, CFG))["__interrupt__"]
    with pytest.raises(ValidationError) as info:
        await graph.ainvoke(Command(resume={pending.id: {"option": "many"}}), CFG)
    assert is_invalid_resume(info.value)
    assert [i.id for i in (await graph.aget_state(CFG)).interrupts] == [pending.id]
    assert (await graph.ainvoke(Command(resume={pending.id: {"option": 2}}), CFG))["answer"] == "option 2"


def test_a_dict_schema_is_passed_through_and_the_answer_is_not_checked() -> None:
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}}
    graph = _graph(schema, repr)
    (pending,) = graph.invoke({}, CFG)["__interrupt__"]
    assert pending.response_schema == schema
    assert graph.invoke(Command(resume="not checked"), CFG)["answer"] == "'not checked'"


def test_other_errors_are_not_marked() -> None:
    assert not is_invalid_resume(ValueError("x"))
