"""``@task`` calls: options, futures, parallelism, calls from graph nodes and other tasks;
interrupts inside entrypoints and tasks; and resuming (after an interrupt, an error or a
killed process) without running finished calls again. Shapes follow LangGraph 1.2.22
(/root/probes/func/REPORT.md, probes 4 to 6)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, TypedDict

import anyio
import pytest

from actorgraph.cache.memory import InMemoryCache
from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.checkpoint.sqlite import SqliteSaver
from actorgraph.func import entrypoint, task
from actorgraph.graph import START, StateGraph
from actorgraph.types import CachePolicy, Command, Interrupt, RetryPolicy, interrupt
from crash_helpers import run_until_then_kill

pytestmark = pytest.mark.timeout(20)


def thread() -> dict[str, Any]:
    return {"configurable": {"thread_id": str(uuid.uuid4())}}


class Marker:
    """Side effects counted in a file: each call appends its name."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, name: str) -> None:
        with self.path.open("a") as f:
            f.write(name + "\n")

    def counts(self) -> Counter[str]:
        return Counter(self.path.read_text().split()) if self.path.exists() else Counter()


class Num(TypedDict):
    x: int


@task
def square(x: int) -> int:
    return x * x


# -- tasks and futures -------------------------------------------------------------------------


def test_task_name_retry_policy_and_cache_policy() -> None:
    attempts: list[int] = []
    runs: list[int] = []

    @task(name="renamed", retry_policy=RetryPolicy(max_attempts=3, initial_interval=0.001, retry_on=ValueError))
    def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) < 3:
            raise ValueError("not yet")
        return x

    @task(cache_policy=CachePolicy(ttl=60))
    def costly(x: int) -> int:
        runs.append(x)
        return x * 10

    @entrypoint(cache=InMemoryCache())
    def uses(x: int) -> list[int]:
        return [flaky(x).result(), costly(x).result(), costly(x).result(), costly(x + 1).result()]

    assert [list(c) for c in uses.stream(1)][0] == ["renamed"]
    assert attempts == [1, 1, 1]
    assert uses.invoke(1) == [1, 10, 10, 20]  # a second run is served from the cache too
    assert runs == [1, 2]


def test_a_sync_task_with_a_timeout_is_refused_as_in_langgraph() -> None:
    """Sync code can't be interrupted, so a timeout on a sync task is a ValueError naming it."""
    with pytest.raises(ValueError, match="only supported for async nodes.*Task 'slow' is sync"):

        @task(timeout=0.05)
        def slow(x: int) -> int:
            return x

    with pytest.raises(TypeError, match="task 'bad'.*timeout"):
        task(name="bad", timeout="soon")(lambda x: x)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_futures_are_awaited_in_async_code_and_resolved_with_result_in_sync_code() -> None:
    @task
    async def slow_echo(x: int) -> int:
        await anyio.sleep(0.01)
        return x

    @entrypoint()
    async def awaits(x: int) -> list[int]:
        fut, other = slow_echo(x), square(x)
        return [await fut, await other, fut.result()]  # .result() is fine once done

    @entrypoint()
    def resolves(x: int) -> list[int]:
        fut = square(x)
        return [fut.result(), square(fut.result()).result()]

    assert await awaits.ainvoke(5) == [5, 25, 5]
    assert await resolves.ainvoke(3) == [9, 81]
    assert resolves.invoke(2) == [4, 16]


@pytest.mark.anyio
async def test_result_on_a_pending_future_in_async_code_says_to_await() -> None:
    """DELIBERATE: LangGraph raises asyncio.InvalidStateError here."""

    @task
    async def never_quick(x: int) -> int:
        await anyio.sleep(0.05)
        return x

    @entrypoint()
    async def impatient(x: int) -> int:
        return never_quick(x).result()

    with pytest.raises(RuntimeError, match="await"):
        await impatient.ainvoke(1)


@pytest.mark.anyio
async def test_futures_answer_exception_done_callbacks_and_result_timeout() -> None:
    """The future API code written for LangGraph's concurrent.futures-based futures uses."""

    @task
    def fails(x: int) -> int:
        raise ValueError(f"bad {x}")

    @task
    def slow(x: int) -> int:
        time.sleep(0.3)
        return x

    seen: list[str] = []

    @entrypoint()
    def inspects(x: int) -> dict[str, Any]:
        ok, bad = square(x), fails(x)
        ok.add_done_callback(lambda f: seen.append(f"ok done={f.done()}"))
        ok.add_done_callback(lambda f: 1 / 0)  # logged, as concurrent.futures does
        error = bad.exception()
        ok.result()
        ok.add_done_callback(lambda f: seen.append("late"))  # already done: runs at once
        ok.add_done_callback(lambda f: 1 / 0)  # likewise logged, not raised here
        with pytest.raises(TimeoutError, match="task 'slow'.*0.01"):
            slow(x).result(timeout=0.01)
        return {"error": repr(error), "ok_error": ok.exception(), "cancelled": ok.cancelled()}

    out = await inspects.ainvoke(3)
    assert out == {"error": "ValueError('bad 3')", "ok_error": None, "cancelled": False}
    assert seen == ["ok done=True", "late"]


def test_finished_task_calls_leave_no_reference_cycles() -> None:
    """A fan-out of calls is freed by reference counting when the run ends: nothing is
    left for the cycle collector, whose full passes grow with every live object. (In a
    fresh process: in this one, earlier tests' leftovers are freed at random moments.)"""
    script = """
import gc
from collections import Counter
from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.func import entrypoint, task

@task
async def double(i: int) -> int:
    return i * 2

@entrypoint(checkpointer=InMemorySaver())
async def fan_out(n: int) -> int:
    return sum([await f for f in [double(i) for i in range(n)]])

cfg = {"configurable": {"thread_id": "gc"}}
fan_out.invoke(3, cfg)  # warm up: imports, caches, the thread's loop
gc.collect()
gc.disable()
gc.set_debug(gc.DEBUG_SAVEALL)
assert fan_out.invoke(200, cfg) == 199 * 200
gc.collect()
print(Counter(type(o).__qualname__ for o in gc.garbage).most_common(10))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.anyio
async def test_state_graph_nodes_call_tasks_with_await_or_result() -> None:
    async def awaiting(state: Num) -> dict:
        return {"x": await square(state["x"])}

    def blocking(state: Num) -> dict:
        return {"x": square(state["x"]).result() + 1}

    graph = (StateGraph(Num).add_node("awaiting", awaiting).add_node("blocking", blocking)
             .add_edge(START, "awaiting").add_edge("awaiting", "blocking").compile())
    assert [c async for c in graph.astream({"x": 3})] == [
        {"square": 9},
        {"awaiting": {"x": 9}},
        {"square": 81},
        {"blocking": {"x": 82}},
    ]


def test_a_task_calling_a_task_reports_the_inner_one_first() -> None:
    @task
    def inner(x: int) -> int:
        return x * 10

    @task
    def outer(x: int) -> int:
        return inner(x).result() + 1

    @entrypoint()
    def nest(x: int) -> int:
        return outer(x).result()

    assert list(nest.stream(1, subgraphs=True)) == [((), {"inner": 10}), ((), {"outer": 11}), ((), {"nest": 11})]


@pytest.mark.anyio
async def test_async_task_calls_run_in_parallel() -> None:
    """Each task waits for the other's signal: run one after the other, they'd deadlock."""
    a_ready, b_ready = anyio.Event(), anyio.Event()

    @task
    async def side_a() -> str:
        a_ready.set()
        await b_ready.wait()
        return "a"

    @task
    async def side_b() -> str:
        b_ready.set()
        await a_ready.wait()
        return "b"

    @entrypoint()
    async def both(x: int) -> list[str]:
        fa, fb = side_a(), side_b()
        return [await fa, await fb]

    with anyio.fail_after(5):
        assert await both.ainvoke(0) == ["a", "b"]


def test_sync_task_calls_run_in_parallel() -> None:
    meeting = threading.Barrier(3, timeout=5)  # broken (an error), not a hang, if sequential

    @task
    def meet(i: int) -> int:
        meeting.wait()
        return i

    @entrypoint()
    def all_meet(n: int) -> list[int]:
        pending = [meet(i) for i in range(n)]
        return [f.result() for f in pending]

    assert all_meet.invoke(3) == [0, 1, 2]


# -- interrupts --------------------------------------------------------------------------------


def test_interrupt_in_the_body_pauses_and_resume_reuses_finished_calls(tmp_path: Path) -> None:
    mark = Marker(tmp_path / "marker.txt")

    @task
    def prepare(x: int) -> int:
        mark("prepare")
        return x + 1

    @entrypoint(checkpointer=InMemorySaver())
    def ask_body(x: int) -> dict:
        mark("body")
        ready = prepare(x).result()
        return {"ready": ready, "answer": interrupt({"q": "ok?", "ready": ready})}

    cfg = thread()
    paused = ask_body.invoke(1, cfg)
    assert list(paused) == ["__interrupt__"] and isinstance(paused["__interrupt__"], list)
    [pending] = paused["__interrupt__"]
    assert isinstance(pending, Interrupt) and pending.value == {"q": "ok?", "ready": 2}
    snap = ask_body.get_state(cfg)
    assert (snap.values, snap.next, snap.interrupts) == (None, ("ask_body",), (pending,))
    assert [(t.name, t.interrupts) for t in snap.tasks] == [("ask_body", (pending,))]
    assert snap.metadata == {"source": "input", "step": -1, "parents": {}}
    assert ask_body.invoke(Command(resume="yes"), cfg) == {"ready": 2, "answer": "yes"}
    assert mark.counts() == Counter(body=2, prepare=1)
    assert ask_body.get_state(cfg).next == ()


def test_sequential_interrupts_in_the_body_are_answered_in_order() -> None:
    @entrypoint(checkpointer=InMemorySaver())
    def quiz(x: int) -> list[str]:
        return [interrupt("first"), interrupt("second"), interrupt("third")]

    cfg = thread()
    asked = [quiz.invoke(0, cfg)["__interrupt__"][0].value]
    for answer in ("A", "B"):
        asked.append(quiz.invoke(Command(resume=answer), cfg)["__interrupt__"][0].value)
    assert asked == ["first", "second", "third"]
    assert quiz.invoke(Command(resume="C"), cfg) == ["A", "B", "C"]


@pytest.mark.anyio
async def test_interrupt_in_a_task_streams_a_tuple_and_resume_answers_it(tmp_path: Path) -> None:
    mark = Marker(tmp_path / "marker.txt")

    @task
    async def before(x: str) -> str:
        mark("before")
        return x

    @task
    async def ask(x: str) -> str:
        mark("ask")
        return interrupt(f"value for {x}?")

    @entrypoint(checkpointer=InMemorySaver())
    async def task_asks(x: str) -> str:
        return "after:" + await ask(await before(x))

    cfg = thread()
    got = [c async for c in task_asks.astream("X", cfg)]
    assert got[0] == {"before": "X"} and len(got) == 2
    [pending] = got[1]["__interrupt__"]
    assert pending.value == "value for X?"
    assert (await task_asks.aget_state(cfg)).interrupts == (pending,)
    assert [c async for c in task_asks.astream(Command(resume="R"), cfg)] == [
        {"ask": "R"},
        {"task_asks": "after:R"},
    ]
    assert mark.counts() == Counter(before=1, ask=2)


def test_two_interrupts_in_one_task_are_answered_in_order(tmp_path: Path) -> None:
    mark = Marker(tmp_path / "marker.txt")

    @task
    def two_questions(x: str) -> str:
        mark("task")
        return f"{interrupt(f'first {x}?')}+{interrupt(f'second {x}?')}"

    @entrypoint(checkpointer=InMemorySaver())
    def asks_twice(x: str) -> str:
        return two_questions(x).result()

    cfg = thread()
    assert asks_twice.invoke("X", cfg)["__interrupt__"][0].value == "first X?"
    assert asks_twice.invoke(Command(resume="A"), cfg)["__interrupt__"][0].value == "second X?"
    assert asks_twice.invoke(Command(resume="B"), cfg) == "A+B"
    assert mark.counts() == Counter(task=3)


def test_interrupt_indexes_are_counted_per_task() -> None:
    """The body's first interrupt and a task's first interrupt are both index 0, yet each
    gets its own answer."""

    @task
    def confirm(x: str) -> str:
        return interrupt(f"confirm {x}?")

    @entrypoint(checkpointer=InMemorySaver())
    def body_then_task(x: str) -> list[str]:
        return [interrupt("body?"), confirm(x).result()]

    cfg = thread()
    assert body_then_task.invoke("X", cfg)["__interrupt__"][0].value == "body?"
    assert body_then_task.invoke(Command(resume="B"), cfg)["__interrupt__"][0].value == "confirm X?"
    assert body_then_task.invoke(Command(resume="T"), cfg) == ["B", "T"]


def test_values_mode_at_an_interrupt_gives_the_interrupt() -> None:
    @entrypoint(checkpointer=InMemorySaver())
    def halts(x: Any) -> Any:
        return interrupt("need") if x == "ask" else x

    cfg = thread()
    [chunk] = halts.stream("ask", cfg, stream_mode="values")
    assert list(chunk) == ["__interrupt__"] and [i.value for i in chunk["__interrupt__"]] == ["need"]
    assert isinstance(chunk["__interrupt__"], tuple)
    cfg = thread()
    assert list(halts.stream({"a": 1}, cfg, stream_mode="values")) == [{"a": 1}]
    [chunk] = halts.stream("ask", cfg, stream_mode="values")  # merged into the dict value
    assert chunk["a"] == 1 and [i.value for i in chunk["__interrupt__"]] == ["need"]


# -- resuming without running finished calls again -----------------------------------------------


def test_a_finished_parallel_call_is_not_run_again_when_its_sibling_interrupted(tmp_path: Path) -> None:
    mark = Marker(tmp_path / "marker.txt")

    @task
    def quick(x: str) -> str:
        mark("quick")
        return x

    @task
    def asks(x: str) -> str:
        mark("asks")
        return interrupt("q") + x

    @entrypoint(checkpointer=InMemorySaver())
    def pair(x: str) -> list[str]:
        fq, fa = quick(x), asks(x)
        return [fq.result(), fa.result()]

    cfg = thread()
    assert [i.value for i in pair.invoke("a", cfg)["__interrupt__"]] == ["q"]
    assert pair.invoke(Command(resume="r"), cfg) == ["a", "ra"]
    assert mark.counts() == Counter(quick=1, asks=2)


def test_resume_after_an_error_runs_only_the_failed_call_and_what_follows(tmp_path: Path) -> None:
    mark = Marker(tmp_path / "marker.txt")
    broken = [True]

    @task
    def good(x: int) -> int:
        mark("good")
        return x + 1

    @task
    def flaky(x: int) -> int:
        mark("flaky")
        if broken[0]:
            raise ValueError(f"flaky failed on {x}")
        return x * 100

    @task
    def after(x: int) -> int:
        mark("after")
        return -x

    @entrypoint(checkpointer=InMemorySaver())
    def wf(x: int) -> int:
        mark("body")
        return after(flaky(good(x).result()).result()).result()

    cfg = thread()
    with pytest.raises(ValueError) as failed:
        wf.invoke(1, cfg)
    assert failed.value.args == ("flaky failed on 2",)
    snap = wf.get_state(cfg)
    assert (snap.values, snap.next) == (None, ("wf",))
    assert [(t.name, t.error) for t in snap.tasks] == [("wf", "ValueError('flaky failed on 2')")]
    broken[0] = False
    assert wf.invoke(None, cfg) == -200
    assert mark.counts() == Counter(body=2, good=1, flaky=2, after=1)
    assert list(wf.stream(None, cfg, stream_mode=["values", "updates"])) == [("values", -200)]


CRASH_SCRIPT = """
import sys, time
from pathlib import Path
from actorgraph.checkpoint.sqlite import SqliteSaver
from actorgraph.func import entrypoint, task

def build(saver, work):
    def mark(name):
        with (work / "marker.txt").open("a") as f:
            f.write(name + "\\n")

    @task
    def quick(x):
        mark("quick")
        return x + 1

    @task
    def slow(x):
        mark("slow")
        (work / "slow.ready").touch()
        deadline = time.monotonic() + 10
        while not (work / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return x * 10

    @task
    def last(a, b):
        mark("last")
        return a + b

    @entrypoint(checkpointer=saver)
    def crashy(x):
        q, s = quick(x), slow(x)
        return last(q.result(), s.result()).result()

    return crashy

if __name__ == "__main__":
    work = Path(sys.argv[1])
    with SqliteSaver.from_conn_string(str(work / "state.db")) as saver:
        build(saver, work).invoke(1, {"configurable": {"thread_id": "crash"}})
"""


def test_a_killed_process_resumes_without_rerunning_finished_calls(tmp_path: Path) -> None:
    script = tmp_path / "crash_wf.py"
    script.write_text(CRASH_SCRIPT)
    spec = importlib.util.spec_from_file_location(f"crash_wf_{uuid.uuid4().hex}", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cfg = {"configurable": {"thread_id": "crash"}}
    db = str(tmp_path / "state.db")

    def quick_result_saved() -> bool:
        if not (tmp_path / "slow.ready").exists():
            return False
        with SqliteSaver.from_conn_string(db) as saver:
            saved = saver.get_tuple(cfg)
        return saved is not None and any(chan == "__return__" for _, chan, _ in saved.pending_writes)

    run_until_then_kill([str(script), str(tmp_path)], quick_result_saved, "workflow")
    (tmp_path / "go").touch()  # slow finishes at once from now on
    with SqliteSaver.from_conn_string(db) as saver:
        crashy = module.build(saver, tmp_path)
        assert crashy.get_state(cfg).next == ("crashy",)
        assert crashy.invoke(None, cfg) == 12
    assert Marker(tmp_path / "marker.txt").counts() == Counter(quick=1, slow=2, last=1)
