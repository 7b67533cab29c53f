"""The bundled example: a small research workflow on actorgraph, saved to SQLite.

A planner splits a question into topics, a ``Send`` fans out one researcher per topic
(they run concurrently), a writer joins their notes, a reviewer sends the draft back to the
writer once, and an editor asks a human to approve it (``interrupt``).
Every super-step is checkpointed to an embedded SQLite file, so the paused run survives
the process: the script answers the question with ``Command(resume=...)``, as a person
would from a UI, then reopens the file to show what was saved.

    python -m actorgraph.examples.quickstart [--db PATH]

Without ``--db`` the file goes to a temporary directory.
"""

from __future__ import annotations

import argparse
import operator
import tempfile
import time
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict

import anyio

from actorgraph.checkpoint.sqlite import SqliteSaver
from actorgraph.config import get_stream_writer
from actorgraph.graph import END, START, StateGraph
from actorgraph.types import Command, Send, interrupt


class Research(TypedDict):
    question: str
    topics: list[str]
    notes: Annotated[list[str], operator.add]
    draft: str
    revisions: int
    approved: bool


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
    revision = state["revisions"] + 1
    return {"draft": f"(v{revision}) " + "; ".join(sorted(state["notes"])), "revisions": revision}


def review(state: Research) -> Command[Literal["write", "edit"]]:
    # a second pass over every draft; a real reviewer would be a model call
    return Command(goto="write" if state["revisions"] < 2 else "edit")


def edit(state: Research) -> dict[str, bool]:
    # pauses the run until someone answers; the answer is this call's return value
    answer = interrupt({"approve draft?": state["draft"][:40] + "..."})
    return {"approved": answer == "yes"}


def build(checkpointer: Any = None) -> Any:
    builder = StateGraph(Research)
    builder.add_node("plan", plan)
    builder.add_node("research", research)
    builder.add_node("write", write)
    builder.add_node("review", review)
    builder.add_node("edit", edit)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", fan_out, ["research"])
    builder.add_edge("research", "write")
    builder.add_edge("write", "review")
    builder.add_edge("edit", END)
    return builder.compile(checkpointer=checkpointer)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="SQLite file for checkpoints (default: a temporary file)")
    args = parser.parse_args(argv)
    db = args.db or Path(tempfile.mkdtemp(prefix="actorgraph-")) / "quickstart.sqlite"
    question = "How do actors, barriers and channels cooperate in bulk synchronous parallel graphs?"
    config = {"configurable": {"thread_id": f"research-{uuid.uuid4().hex[:8]}"}}

    start = time.perf_counter()
    with SqliteSaver.from_conn_string(str(db)) as saver:
        graph = build(saver)
        inputs = {"question": question, "notes": [], "revisions": 0, "approved": False}
        for mode, chunk in graph.stream(inputs, config, stream_mode=["updates", "custom"]):
            print(f"{mode:>8}: {chunk}")
        paused = graph.get_state(config)
        print(f"\npaused before {paused.next}, waiting for: {paused.interrupts[0].value}")
        print("answering 'yes' (what a reviewer would send)\n")
        for chunk in graph.stream(Command(resume="yes"), config, stream_mode="updates"):
            print(f" updates: {chunk}")
        steps = len(list(graph.get_state_history(config)))
    elapsed = time.perf_counter() - start

    with SqliteSaver.from_conn_string(str(db)) as reopened:  # as a new process would
        final = build(reopened).get_state(config).values
    print(f"\nfinal draft after {final['revisions']} revision(s), approved={final['approved']}: {final['draft'][:40]}...")
    print(f"{len(final['topics'])} researchers ran concurrently; {steps} checkpoints saved in {db}")
    print(f"thread {config['configurable']['thread_id']} done in {elapsed:.2f}s")


if __name__ == "__main__":
    main()
