"""User-style Command and Send: typed destinations, fan-out, updates, resumes."""

from __future__ import annotations

import operator
from typing import Annotated, Literal, TypedDict

from typing_extensions import assert_type

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.config import RunnableConfig
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import Command, Send, interrupt


class State(TypedDict, total=False):
    items: list[int]
    done: Annotated[list[int], operator.add]
    answer: str


def plan(state: State) -> Command[Literal["work", "__end__"]]:
    if not state.get("items"):
        return Command(goto=END)
    return Command(goto=[Send("work", {"items": [i]}) for i in state.get("items", [])], update={"answer": ""})


def work(state: State) -> State:
    return {"done": [state.get("items", [0])[0] * 2]}


def ask(state: State) -> State:
    answer = interrupt("ok?")
    return {"answer": str(answer)}


def fan_out(state: State) -> list[Send]:
    return [Send("work", {"items": [i]}) for i in state.get("items", [])]


to_work: Command[Literal["work"]] = Command(goto="work", update={"answer": "x"})
assert_type(Send("work", {"items": [1]}).node, str)

builder = StateGraph(State)
builder.add_node("plan", plan)
builder.add_node("work", work)
builder.add_node("ask", ask)
builder.add_edge(START, "plan")
builder.add_edge("work", "ask")
graph = builder.compile(checkpointer=InMemorySaver())
config: RunnableConfig = {"configurable": {"thread_id": "c"}}
graph.invoke({"items": [1, 2]}, config)
out = graph.invoke(Command(resume="yes"), config)
assert out["answer"] == "yes" and sorted(out["done"]) == [2, 4]
