"""The LangGraph docs' functional-API examples, re-expressed, run on actorgraph imports only.

Each test mirrors one example of docs.langchain.com/oss/python/langgraph ("functional-api",
"use-functional-api" and its split pages: workflows, tasks, streaming, human-in-the-loop,
memory), named in its docstring, with our own identifiers and deterministic functions in
place of LLM calls. Expected values are what LangGraph 1.2.22 really gives for the same
code (see /root/probes/func/REPORT.md, probe 1); where the docs' text differs, a comment
says so.
"""

from __future__ import annotations

import random
import uuid
from typing import Any, TypedDict

import anyio
import pytest

from actorgraph.cache.memory import InMemoryCache
from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.config import RunnableConfig, get_stream_writer
from actorgraph.errors import NodeTimeoutError
from actorgraph.func import entrypoint, task
from actorgraph.graph import START, StateGraph, add_messages
from actorgraph.messages import AIMessage
from actorgraph.store.base import BaseStore
from actorgraph.store.memory import InMemoryStore
from actorgraph.types import CachePolicy, Command, Interrupt, RetryPolicy, StreamWriter, interrupt

pytestmark = pytest.mark.timeout(20)


def thread() -> dict[str, Any]:
    return {"configurable": {"thread_id": str(uuid.uuid4())}}


def only_interrupt(chunk: dict[str, Any]) -> Interrupt:
    """A streamed ``{'__interrupt__': (Interrupt,)}`` chunk's single interrupt."""
    assert list(chunk) == ["__interrupt__"]
    pending = chunk["__interrupt__"]
    assert isinstance(pending, tuple) and len(pending) == 1
    assert isinstance(pending[0], Interrupt)
    return pending[0]


# -- human in the loop -----------------------------------------------------------------


def test_essay_review_pauses_for_approval_and_resumes() -> None:
    """docs: functional-api, 'Example' (write an essay, interrupt for review, resume)."""
    drafts: list[str] = []

    @task
    def draft_essay(subject: str) -> str:
        drafts.append(subject)
        return f"An essay about topic: {subject}"

    @entrypoint(checkpointer=InMemorySaver())
    def review(subject: str) -> dict:
        essay = draft_essay(subject).result()
        verdict = interrupt({"essay": essay, "action": "Please approve/reject the essay"})
        return {"essay": essay, "is_approved": verdict}

    cfg = thread()
    first = list(review.stream("cat", cfg))
    assert first[0] == {"draft_essay": "An essay about topic: cat"}
    assert only_interrupt(first[1]).value == {
        "essay": "An essay about topic: cat",
        "action": "Please approve/reject the essay",
    }
    assert len(first) == 2
    # The docs print 'is_approved': False after resuming with True; LangGraph gives True.
    assert list(review.stream(Command(resume=True), cfg)) == [
        {"review": {"essay": "An essay about topic: cat", "is_approved": True}}
    ]
    assert drafts == ["cat"]  # the finished task is not run again on resume


def test_feedback_task_interrupts_and_the_others_run_once() -> None:
    """docs: use-functional-api, 'Basic human-in-the-loop workflow' (interrupt inside a task)."""
    runs = {"one": 0, "ask": 0, "three": 0}

    @task
    def stage_one(text: str) -> str:
        runs["one"] += 1
        return f"{text} bar"

    @task
    def ask_human(text: str) -> str:
        runs["ask"] += 1
        answer = interrupt(f"Please provide feedback: {text}")
        return f"{text} {answer}"

    @task
    def stage_three(text: str) -> str:
        runs["three"] += 1
        return f"{text} qux"

    @entrypoint(checkpointer=InMemorySaver())
    def pipeline(text: str) -> str:
        return stage_three(ask_human(stage_one(text).result()).result()).result()

    cfg = thread()
    paused = list(pipeline.stream("foo", cfg))
    assert paused[0] == {"stage_one": "foo bar"}
    assert only_interrupt(paused[1]).value == "Please provide feedback: foo bar"
    assert list(pipeline.stream(Command(resume="baz"), cfg)) == [
        {"ask_human": "foo bar baz"},
        {"stage_three": "foo bar baz qux"},
        {"pipeline": "foo bar baz qux"},
    ]
    assert runs == {"one": 1, "ask": 2, "three": 1}


def test_side_effects_belong_in_tasks() -> None:
    """docs: functional-api, 'Common pitfalls: handling side effects' (body re-runs, tasks don't)."""
    effects = {"body": 0, "task": 0}

    @entrypoint(checkpointer=InMemorySaver())
    def effect_in_body(inputs: dict) -> str:
        effects["body"] += 1
        return interrupt("question")

    @task
    def record_effect() -> None:
        effects["task"] += 1

    @entrypoint(checkpointer=InMemorySaver())
    def effect_in_task(inputs: dict) -> str:
        record_effect().result()
        return interrupt("question")

    for workflow in (effect_in_body, effect_in_task):
        cfg = thread()
        paused = workflow.invoke({}, cfg)
        assert isinstance(paused["__interrupt__"], list)  # invoke gives a list, stream a tuple
        assert [i.value for i in paused["__interrupt__"]] == ["question"]
        assert workflow.invoke(Command(resume="answer"), cfg) == "answer"
    assert effects == {"body": 2, "task": 1}


def test_non_deterministic_value_is_replayed_from_its_task() -> None:
    """docs: functional-api, 'Non-deterministic control flow' (random number inside a task)."""
    draws: list[float] = []

    @task
    def draw() -> float:
        draws.append(random.random())
        return draws[-1]

    @entrypoint(checkpointer=InMemorySaver())
    def lottery(x: int) -> dict:
        number = draw().result()
        return {"number": number, "answer": interrupt("continue?")}

    cfg = thread()
    lottery.invoke(1, cfg)
    assert lottery.invoke(Command(resume="yes"), cfg) == {"number": draws[0], "answer": "yes"}
    assert len(draws) == 1


# -- short-term and long-term memory ---------------------------------------------------


def test_previous_is_the_last_return_value_on_the_thread() -> None:
    """docs: functional-api, 'Short-term memory' (number + previous)."""

    @entrypoint(checkpointer=InMemorySaver())
    def running_sum(number: int, *, previous: Any = None) -> int:
        return number + (previous or 0)

    cfg = thread()
    assert [running_sum.invoke(n, cfg) for n in (1, 2, 10)] == [1, 3, 13]
    assert running_sum.invoke(5, thread()) == 5  # another thread starts from None


def test_final_returns_one_value_and_saves_another() -> None:
    """docs: functional-api, 'entrypoint.final' (value=previous, save=2 * number)."""

    @entrypoint(checkpointer=InMemorySaver())
    def doubler(number: int, *, previous: Any = None) -> entrypoint.final[int, int]:
        return entrypoint.final(value=previous or 0, save=2 * number)

    cfg = thread()
    assert doubler.invoke(3, cfg) == 0
    assert doubler.invoke(1, cfg) == 6
    assert doubler.get_state(cfg).values == 6  # the returned value, not the saved 2


def test_accumulate_with_final() -> None:
    """docs: functional-api-memory, 'Save state on a thread' (accumulate with entrypoint.final)."""

    @entrypoint(checkpointer=InMemorySaver())
    def tally(n: int, *, previous: int | None = None) -> entrypoint.final[int, int]:
        before = previous or 0
        return entrypoint.final(value=before, save=before + n)

    cfg = thread()
    assert [tally.invoke(n, cfg) for n in (1, 2, 3)] == [0, 1, 3]


def test_chatbot_keeps_the_conversation_in_previous() -> None:
    """docs: use-functional-api, 'Short-term memory' chatbot (previous + add_messages + final)."""
    seen: list[list[str]] = []

    @task
    def answer(history: list) -> AIMessage:
        seen.append([m.content for m in history])
        reply = "Hi Bob!" if len(history) == 1 else "Your name is Bob."
        return AIMessage(content=reply, id=f"ai-{len(history)}")

    @entrypoint(checkpointer=InMemorySaver())
    def chat(turn: list, *, previous: list | None = None) -> Any:
        history = add_messages(previous, turn) if previous else add_messages([], turn)
        reply = answer(history).result()
        return entrypoint.final(value=reply, save=add_messages(history, reply))

    cfg = thread()
    hello = [{"role": "user", "content": "hi! I'm bob", "id": "h-1"}]
    assert list(chat.stream(hello, cfg, stream_mode="values")) == [AIMessage(content="Hi Bob!", id="ai-1")]
    second = [{"role": "user", "content": "what's my name?", "id": "h-2"}]
    reply = AIMessage(content="Your name is Bob.", id="ai-3")
    assert list(chat.stream(second, cfg, stream_mode="updates")) == [{"answer": reply}, {"chat": reply}]
    assert seen[1] == ["hi! I'm bob", "Hi Bob!", "what's my name?"]
    assert chat.get_state(cfg).values == reply


def test_store_shares_facts_across_threads() -> None:
    """docs: functional-api-memory, 'Share memory across threads' (store + user namespace)."""
    memories = InMemoryStore()

    @entrypoint(checkpointer=InMemorySaver(), store=memories)
    def assistant(said: str, *, store: BaseStore, config: RunnableConfig) -> str:
        ns = ("memories", config["configurable"]["user_id"])
        if said.startswith("remember: "):
            store.put(ns, "fact", {"data": said.removeprefix("remember: ")})
            return "noted"
        found = store.search(ns)
        return found[0].value["data"] if found else "I don't know"

    def as_user(user: str) -> dict[str, Any]:
        cfg = thread()
        cfg["configurable"]["user_id"] = user
        return cfg

    assert assistant.invoke("remember: my name is Bob", as_user("1")) == "noted"
    assert assistant.invoke("what is my name?", as_user("1")) == "my name is Bob"
    assert assistant.invoke("what is my name?", as_user("2")) == "I don't know"


# -- workflows -------------------------------------------------------------------------


def test_simple_workflow_of_two_tasks() -> None:
    """docs: use-functional-api, 'Creating a simple workflow' (is_even, then format_message)."""

    @task
    def parity(number: int) -> bool:
        return number % 2 == 0

    @task
    def describe(even: bool) -> str:
        return "The number is even." if even else "The number is odd."

    @entrypoint(checkpointer=InMemorySaver())
    def classify(inputs: dict) -> str:
        return describe(parity(inputs["number"]).result()).result()

    assert classify.invoke({"number": 7}, thread()) == "The number is odd."
    assert classify.invoke({"number": 4}, thread()) == "The number is even."


def test_parallel_task_calls() -> None:
    """docs: use-functional-api, 'Parallel execution' (add_one fan-out; paragraphs joined)."""

    @task
    def plus_one(n: int) -> int:
        return n + 1

    @entrypoint(checkpointer=InMemorySaver())
    def fan_out(numbers: list[int]) -> list[int]:
        pending = [plus_one(n) for n in numbers]
        return [f.result() for f in pending]

    chunks = list(fan_out.stream([1, 2, 3], thread()))
    assert sorted(c["plus_one"] for c in chunks[:3]) == [2, 3, 4]  # finishing order may vary
    assert chunks[3:] == [{"fan_out": [2, 3, 4]}]

    @task
    def paragraph(topic: str) -> str:
        return f"Paragraph about {topic}."

    @entrypoint(checkpointer=InMemorySaver())
    def article(topics: list[str]) -> str:
        pending = [paragraph(t) for t in topics]
        return "\n\n".join(f.result() for f in pending)

    text = article.invoke(["quantum computing", "climate change", "history of aviation"], thread())
    assert text.split("\n\n") == [
        "Paragraph about quantum computing.",
        "Paragraph about climate change.",
        "Paragraph about history of aviation.",
    ]


def test_calling_a_state_graph_from_an_entrypoint() -> None:
    """docs: use-functional-api, 'Calling graphs' (a StateGraph invoked in the body)."""

    class Foo(TypedDict):
        foo: int

    builder = StateGraph(Foo)
    builder.add_node("twice", lambda s: {"foo": s["foo"] * 2})
    builder.add_edge(START, "twice")
    doubling = builder.compile()

    @entrypoint(checkpointer=InMemorySaver())
    def wrapper(x: int) -> dict:
        return {"bar": doubling.invoke({"foo": x})["foo"]}

    assert wrapper.invoke(5, thread()) == {"bar": 10}


def test_calling_another_entrypoint() -> None:
    """docs: use-functional-api, 'Calling other entrypoints' (multiply inside main)."""

    @entrypoint()  # inherits the caller's checkpointer
    def product(inputs: dict) -> int:
        return inputs["a"] * inputs["b"]

    @entrypoint(checkpointer=InMemorySaver())
    def outer(inputs: dict) -> dict:
        return {"product": product.invoke({"a": inputs["x"], "b": inputs["y"]})}

    assert outer.invoke({"x": 6, "y": 7}, thread()) == {"product": 42}


# -- streaming ---------------------------------------------------------------------------


def test_custom_stream_with_get_stream_writer() -> None:
    """docs: use-functional-api, 'Streaming custom data' (get_stream_writer in the body)."""

    @entrypoint(checkpointer=InMemorySaver())
    def shout(inputs: dict) -> int:
        emit = get_stream_writer()
        emit("Started processing")
        doubled = inputs["x"] * 2
        emit(f"Result is {doubled}")
        return doubled

    got = [f"{mode}: {chunk}" for mode, chunk in shout.stream({"x": 5}, thread(), stream_mode=["custom", "updates"])]
    assert got == ["custom: Started processing", "custom: Result is 10", "updates: {'shout': 10}"]


def test_custom_stream_after_two_tasks() -> None:
    """docs: use-functional-api, 'Streaming' output listing (add_one/add_two then hello, world).

    The docs' printed output doesn't match their own code; it is what this workflow gives."""

    @task
    def add_1(x: int) -> int:
        return x + 1

    @task
    def add_2(x: int) -> int:
        return x + 2

    @entrypoint(checkpointer=InMemorySaver())
    def combine(x: int) -> int:
        emit = get_stream_writer()
        a, b = add_1(x).result(), add_2(x).result()
        emit("hello")
        emit("world")
        return a + b

    assert list(combine.stream(1, thread(), stream_mode=["updates", "custom"])) == [
        ("updates", {"add_1": 2}),
        ("updates", {"add_2": 3}),
        ("custom", "hello"),
        ("custom", "world"),
        ("updates", {"combine": 5}),
    ]


@pytest.mark.anyio
async def test_injected_writer_in_an_async_entrypoint() -> None:
    """docs: use-functional-api, 'Streaming custom data' (async, writer: StreamWriter injected)."""

    @entrypoint(checkpointer=InMemorySaver())
    async def ashout(inputs: dict, writer: StreamWriter) -> int:
        writer("Started processing")
        return inputs["x"] * 2

    got = [c async for c in ashout.astream({"x": 5}, thread(), stream_mode=["custom", "updates"])]
    assert got == [("custom", "Started processing"), ("updates", {"ashout": 10})]


# -- retries, caching, errors, timeouts -------------------------------------------------


def test_retry_policy_on_a_task() -> None:
    """docs: use-functional-api, 'Retry policy' (fails once with ValueError, then 'OK').

    The docs use the default 0.5 s first wait; a short one keeps the test fast."""
    attempts = []

    @task(retry_policy=RetryPolicy(retry_on=ValueError, initial_interval=0.01))
    def fetch_info() -> str:
        attempts.append(1)
        if len(attempts) < 2:
            raise ValueError("Failure")
        return "OK"

    @entrypoint(checkpointer=InMemorySaver())
    def retrying(inputs, writer):  # an unannotated writer is injected too
        return fetch_info().result()

    assert retrying.invoke({"any_input": "foobar"}, thread()) == "OK"
    assert len(attempts) == 2


def test_resume_after_an_error_skips_finished_tasks() -> None:
    """docs: use-functional-api, 'Resuming after an error' (slow_task kept, get_info retried)."""
    calls = {"slow": 0, "info": 0}

    @task
    def long_job() -> str:
        calls["slow"] += 1
        return "Ran slow task."

    @task
    def flaky_info() -> str:
        calls["info"] += 1
        if calls["info"] < 2:
            raise ValueError("Failure")
        return "OK"

    @entrypoint(checkpointer=InMemorySaver())
    def recovering(inputs, writer: StreamWriter) -> str:
        result = long_job().result()
        flaky_info().result()
        return result

    cfg = thread()
    with pytest.raises(ValueError) as failed:
        recovering.invoke({"any_input": "foobar"}, cfg)
    assert failed.value.args == ("Failure",)
    assert recovering.invoke(None, cfg) == "Ran slow task."
    assert calls == {"slow": 1, "info": 2}


def test_cached_task_result_is_reused() -> None:
    """docs: use-functional-api, 'Caching tasks' (CachePolicy(ttl=120), second call cached)."""
    runs = []

    @task(cache_policy=CachePolicy(ttl=120))
    def costly_double(x: int) -> int:
        runs.append(x)
        return x * 2

    @entrypoint(cache=InMemoryCache())
    def cached(inputs: dict) -> dict:
        first = costly_double(inputs["x"]).result()
        return {"result1": first, "result2": costly_double(inputs["x"]).result()}

    assert list(cached.stream({"x": 5}, stream_mode="updates")) == [
        {"costly_double": 10},
        {"costly_double": 10, "__metadata__": {"cached": True}},
        {"cached": {"result1": 10, "result2": 10}},
    ]
    assert runs == [5]


@pytest.mark.anyio
async def test_task_timeout_retried_on_node_timeout_error() -> None:
    """docs: functional-api-tasks, 'Timeouts' (async task with timeout= and a retry policy).

    The docs say NodeTimeoutError is a TimeoutError; in LangGraph 1.2.22 it is not, so the
    retry names NodeTimeoutError."""
    attempts = []

    @task(timeout=0.05, retry_policy=RetryPolicy(retry_on=NodeTimeoutError, initial_interval=0.01))
    async def sometimes_slow() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            await anyio.sleep(5)
        return "done"

    @entrypoint()
    async def timed(x: int) -> str:
        return await sometimes_slow()

    with anyio.fail_after(3):
        assert await timed.ainvoke(1) == "done"
    assert len(attempts) == 2
