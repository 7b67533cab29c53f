"""User-style StateGraph code: typed state, context, input and output schemas."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from typing_extensions import assert_type

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.config import RunnableConfig
from actorgraph.graph import END, START, StateGraph
from actorgraph.graph.state import CompiledStateGraph
from actorgraph.runtime import Runtime
from actorgraph.types import Command, GraphOutput


class State(TypedDict):
    topic: str
    jokes: Annotated[list[str], operator.add]


class Context(TypedDict):
    user: str


class Input(TypedDict):
    topic: str


class Output(TypedDict):
    jokes: list[str]


def write(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    assert_type(runtime.context, Context)
    return {"jokes": [f"{state['topic']} for {runtime.context['user']}"]}


builder = StateGraph(State, context_schema=Context, input_schema=Input, output_schema=Output)
builder.add_node("write", write)
builder.add_edge(START, "write")
builder.add_edge("write", END)
graph = builder.compile(checkpointer=InMemorySaver())
assert_type(graph, CompiledStateGraph[State, Context, Input, Output])

config: RunnableConfig = {"configurable": {"thread_id": "1"}}
out = graph.invoke({"topic": "cats"}, config, context={"user": "ann"}, version="v2")
assert_type(out, GraphOutput[Output])
assert out.value["jokes"] == ["cats for ann"]

values = graph.invoke({"topic": "dogs"}, config, context={"user": "bo"})  # v1: a dict, as in LangGraph
assert values["jokes"] == ["cats for ann", "dogs for bo"]
for chunk in graph.stream(None, config, context={"user": "bo"}, stream_mode="updates"):
    pass
graph.invoke(Command(update={"topic": "fish"}), config, context={"user": "cy"})

plain = StateGraph(State)
plain.add_node("write", lambda s: {"jokes": ["x"]})
plain.add_edge(START, "write")
simple = plain.compile()
assert_type(simple, CompiledStateGraph[State, None, State, State])
assert_type(simple.invoke({"topic": "t", "jokes": []}, version="v2"), GraphOutput[State])


async def run_async() -> None:
    result = await graph.ainvoke({"topic": "a"}, config, context={"user": "u"}, version="v2")
    assert_type(result, GraphOutput[Output])
    async for part in graph.astream({"topic": "a"}, config, context={"user": "u"}):
        pass
