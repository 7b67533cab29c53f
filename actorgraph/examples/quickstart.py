"""The bundled example: a small research workflow on actorgraph.

A planner splits a question into topics, a ``Send`` fans out one researcher per topic
(they run concurrently), a writer joins their notes, and a reviewer loops back to the
writer until the draft is long enough. Run it with ``python -m actorgraph.examples.quickstart``.
"""

from __future__ import annotations

import operator
import time
from typing import Annotated, Literal, TypedDict

import anyio

from actorgraph.config import get_stream_writer
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import Command, Send


class Research(TypedDict):
    question: str
    topics: list[str]
    notes: Annotated[list[str], operator.add]
    draft: str
    revisions: int


class Topic(TypedDict):
    topic: str


def plan(state: Research) -> dict[str, list[str]]:
    words = [w.strip("?.,").lower() for w in state["question"].split()]
    return {"topics": [w for w in words if len(w) > 4][:5]}


def fan_out(state: Research) -> list[Send]:
    return [Send("research", {"topic": t}) for t in state["topics"]]


async def research(state: Topic) -> dict[str, list[str]]:
    await anyio.sleep(0.05)  # stands in for a network call: all topics wait at once
    get_stream_writer()({"researched": state["topic"]})
    return {"notes": [f"{state['topic']}: {len(state['topic'])} letters"]}


def write(state: Research) -> dict[str, object]:
    draft = "; ".join(sorted(state["notes"]))
    return {"draft": draft * (state["revisions"] + 1), "revisions": state["revisions"] + 1}


def review(state: Research) -> Command[Literal["write", "__end__"]]:
    if len(state["draft"]) < 120 and state["revisions"] < 3:
        return Command(goto="write")
    return Command(goto=END)


def build() -> object:
    builder = StateGraph(Research)
    builder.add_node("plan", plan)
    builder.add_node("research", research)
    builder.add_node("write", write)
    builder.add_node("review", review)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", fan_out, ["research"])
    builder.add_edge("research", "write")
    builder.add_edge("write", "review")
    return builder.compile()


def main() -> None:
    graph = build()
    question = "How do actors, barriers and channels cooperate in bulk synchronous parallel graphs?"
    start = time.perf_counter()
    for mode, chunk in graph.stream(  # type: ignore[attr-defined]
        {"question": question, "notes": [], "revisions": 0}, stream_mode=["updates", "custom"]
    ):
        print(f"{mode:>8}: {chunk}")
    result = graph.invoke({"question": question, "notes": [], "revisions": 0})  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - start
    print(f"\nfinal draft after {result['revisions']} revision(s): {result['draft'][:100]}...")
    print(f"ran {len(result['topics'])} researchers concurrently, twice, in {elapsed:.2f}s")


if __name__ == "__main__":
    main()
