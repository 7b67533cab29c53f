"""Per-node retry policies (matching, backoff, max attempts, defaults, debug stream) and
timeouts (run and idle, async and sync nodes, per-Send, retried timeouts)."""

from __future__ import annotations

import operator
import threading
import time
from datetime import timedelta
from typing import Annotated, Any, TypedDict
from unittest.mock import patch

import anyio
import pytest

from actorgraph.channels import EphemeralValue, LastValue
from actorgraph.config import get_stream_writer
from actorgraph.errors import NodeTimeoutError
from actorgraph.func import entrypoint, task
from actorgraph.graph import END, START, StateGraph
from actorgraph.pregel import NodeBuilder, Pregel
from actorgraph.runtime import Runtime
from actorgraph.types import RetryPolicy, Send, TimeoutPolicy

FAST: dict[str, Any] = {"initial_interval": 0.001, "max_interval": 0.001, "jitter": False}


class State(TypedDict):
    log: Annotated[list, operator.add]
    x: int


class Flaky:
    """A node that raises ``errors`` in order, one per call, then returns ``result``."""

    def __init__(self, *errors: BaseException, result: dict[str, Any] | None = None) -> None:
        self.errors = list(errors)
        self.result = result if result is not None else {"log": ["ok"]}
        self.calls = 0

    def __call__(self, state: State) -> dict[str, Any]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.result


class Always:
    """A node that always raises a fresh copy of ``make()``."""

    def __init__(self, make: Any) -> None:
        self.make = make
        self.calls = 0

    def __call__(self, state: State) -> dict[str, Any]:
        self.calls += 1
        raise self.make()


def _one(fn: Any, **node_kwargs: Any) -> StateGraph:
    g = StateGraph(State)
    g.add_node("n", fn, **node_kwargs)
    g.add_edge(START, "n").add_edge("n", END)
    return g


class HTTPError(Exception):
    def __init__(self, status_code: int) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code


# -- retry policies ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_retried_task_that_succeeds_gives_the_final_state() -> None:
    node = Flaky(ConnectionError("a"), ConnectionError("b"), result={"log": ["n"], "x": 7})
    graph = _one(node, retry_policy=RetryPolicy(max_attempts=3, **FAST)).compile()
    assert await graph.ainvoke({"log": [], "x": 0}) == {"log": ["n"], "x": 7}
    assert node.calls == 3


@pytest.mark.anyio
async def test_max_attempts_bounds_calls_and_the_last_error_propagates_with_a_note() -> None:
    node = Always(lambda: ConnectionError("down"))
    graph = _one(node, retry_policy=RetryPolicy(max_attempts=4, **FAST)).compile()
    with pytest.raises(ConnectionError) as info:
        await graph.ainvoke({"log": []})
    assert node.calls == 4
    assert str(info.value) == "down"
    assert "Node 'n' failed 4 attempts" in info.value.__notes__


def test_max_attempts_one_means_no_retry() -> None:
    node = Always(lambda: ConnectionError("down"))
    graph = _one(node, retry_policy=RetryPolicy(max_attempts=1, **FAST)).compile()
    with pytest.raises(ConnectionError):
        graph.invoke({"log": []})
    assert node.calls == 1


def test_without_a_retry_policy_a_failing_node_runs_once() -> None:
    node = Always(lambda: ConnectionError("down"))
    with pytest.raises(ConnectionError):
        _one(node).compile().invoke({"log": []})
    assert node.calls == 1


def test_first_matching_policy_in_a_sequence_wins() -> None:
    node = Always(lambda: ValueError("bad"))
    policies = [
        RetryPolicy(retry_on=KeyError, max_attempts=5, **FAST),  # does not match
        RetryPolicy(retry_on=ValueError, max_attempts=2, **FAST),  # first match: wins
        RetryPolicy(retry_on=ValueError, max_attempts=4, **FAST),
    ]
    with pytest.raises(ValueError, match="bad"):
        _one(node, retry_policy=policies).compile().invoke({"log": []})
    assert node.calls == 2


def test_sequence_of_policies_with_no_match_does_not_retry() -> None:
    node = Always(lambda: TypeError("t"))
    policies = (RetryPolicy(retry_on=KeyError, **FAST), RetryPolicy(retry_on=ValueError, **FAST))
    with pytest.raises(TypeError):
        _one(node, retry_policy=policies).compile().invoke({"log": []})
    assert node.calls == 1


def test_set_node_defaults_retry_policy_applies_to_nodes_without_their_own() -> None:
    a = Always(lambda: ConnectionError("a"))
    b = Always(lambda: ConnectionError("b"))
    g = StateGraph(State)
    g.set_node_defaults(retry_policy=RetryPolicy(max_attempts=3, **FAST))
    g.add_node("a", a)
    g.add_edge(START, "a")
    with pytest.raises(ConnectionError, match="a"):
        g.compile().invoke({"log": []})
    assert a.calls == 3  # the graph-wide default

    g2 = StateGraph(State)
    g2.set_node_defaults(retry_policy=RetryPolicy(max_attempts=3, **FAST))
    g2.add_node("b", b, retry_policy=RetryPolicy(max_attempts=2, **FAST))
    g2.add_edge(START, "b")
    with pytest.raises(ConnectionError, match="b"):
        g2.compile().invoke({"log": []})
    assert b.calls == 2  # the node's own policy overrides the default


@pytest.mark.parametrize(
    "retry_on",
    [ValueError, (KeyError, ValueError), [KeyError, ValueError], lambda e: "retry me" in str(e)],
    ids=["type", "tuple", "list", "predicate"],
)
def test_retry_on_accepts_a_type_a_tuple_or_list_of_types_or_a_predicate(retry_on: Any) -> None:
    node = Flaky(ValueError("retry me"), result={"log": ["done"]})
    graph = _one(node, retry_policy=RetryPolicy(retry_on=retry_on, **FAST)).compile()
    assert graph.invoke({"log": []}) == {"log": ["done"]}
    assert node.calls == 2


@pytest.mark.parametrize(
    "retry_on", [KeyError, (KeyError, TypeError), lambda e: False], ids=["type", "tuple", "predicate"]
)
def test_retry_on_that_does_not_match_does_not_retry(retry_on: Any) -> None:
    node = Always(lambda: ValueError("no"))
    with pytest.raises(ValueError):
        _one(node, retry_policy=RetryPolicy(retry_on=retry_on, **FAST)).compile().invoke({"log": []})
    assert node.calls == 1


@pytest.mark.parametrize(
    "error",
    [ConnectionError("c"), ConnectionResetError("r"), TimeoutError("t"), HTTPError(500), HTTPError(503)],
    ids=["ConnectionError", "ConnectionResetError", "TimeoutError", "http500", "http503"],
)
def test_default_retry_on_retries_transient_errors(error: Exception) -> None:
    assert RetryPolicy().retry_on(error) is True
    node = Flaky(error, result={"log": ["ok"]})
    graph = _one(node, retry_policy=RetryPolicy(**FAST)).compile()
    assert graph.invoke({"log": []}) == {"log": ["ok"]}
    assert node.calls == 2


@pytest.mark.parametrize(
    "error",
    [ValueError("v"), TypeError("t"), KeyError("k"), HTTPError(404), HTTPError(400)],
    ids=["ValueError", "TypeError", "KeyError", "http404", "http400"],
)
def test_default_retry_on_does_not_retry_bugs_or_4xx(error: Exception) -> None:
    assert RetryPolicy().retry_on(error) is False
    node = Always(lambda: error)
    with pytest.raises(type(error)):
        _one(node, retry_policy=RetryPolicy(**FAST)).compile().invoke({"log": []})
    assert node.calls == 1


def test_retry_restarts_only_the_failing_task_not_its_siblings() -> None:
    flaky = Flaky(ConnectionError("1"), ConnectionError("2"), result={"log": ["flaky"]})
    sibling_calls: list[int] = []

    def sibling(state: State) -> dict[str, Any]:
        sibling_calls.append(1)
        return {"log": ["sibling"]}

    g = StateGraph(State)
    g.add_node("flaky", flaky, retry_policy=RetryPolicy(max_attempts=3, **FAST))
    g.add_node("sibling", sibling)
    g.add_edge(START, "flaky").add_edge(START, "sibling")
    out = g.compile().invoke({"log": []})
    assert sorted(out["log"]) == ["flaky", "sibling"]
    assert flaky.calls == 3
    assert sibling_calls == [1]


def test_each_retry_is_reported_in_the_debug_stream() -> None:
    node = Flaky(ConnectionError("one"), ConnectionError("two"), result={"log": ["ok"]})
    policy = RetryPolicy(initial_interval=0.001, backoff_factor=2.0, max_interval=1.0, jitter=False)
    graph = _one(node, retry_policy=policy).compile()
    items = list(graph.stream({"log": []}, stream_mode="debug"))
    retries = [i for i in items if i["type"] == "task_retry"]
    assert len(retries) == 2
    first, second = (r["payload"] for r in retries)
    task_id = next(i["payload"]["id"] for i in items if i["type"] == "task")
    assert set(first) == {"id", "name", "attempt", "error", "retry_in"}
    assert (first["id"], first["name"], first["attempt"], first["retry_in"]) == (task_id, "n", 1, 0.001)
    assert (second["id"], second["name"], second["attempt"], second["retry_in"]) == (task_id, "n", 2, 0.002)
    assert isinstance(first["error"], ConnectionError) and str(first["error"]) == "one"
    assert str(second["error"]) == "two"
    assert all(r["step"] == 1 for r in retries)
    results = [i["payload"] for i in items if i["type"] == "task_result"]
    assert [(r["name"], r["error"], r["result"]) for r in results] == [("n", None, {"log": ["ok"]})]


def test_backoff_is_capped_by_max_interval() -> None:
    node = Flaky(*(ConnectionError(str(i)) for i in range(3)), result={"log": ["ok"]})
    policy = RetryPolicy(initial_interval=0.001, backoff_factor=10.0, max_interval=0.005, max_attempts=4, jitter=False)
    items = list(_one(node, retry_policy=policy).compile().stream({"log": []}, stream_mode="debug"))
    assert [i["payload"]["retry_in"] for i in items if i["type"] == "task_retry"] == [0.001, 0.005, 0.005]


# -- invalid retry policies -------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        (RetryPolicy(initial_interval=-1), "initial_interval"),
        (RetryPolicy(backoff_factor=0.5), "backoff_factor"),
        (RetryPolicy(max_attempts=0), "max_attempts"),
        (RetryPolicy(initial_interval=2.0, max_interval=1.0), "max_interval"),
        (RetryPolicy(retry_on=42), "retry_on"),  # type: ignore[arg-type]
        (RetryPolicy(retry_on=int), "retry_on"),  # a type, but not an exception type
        (RetryPolicy(retry_on=[ValueError, "KeyError"]), "retry_on"),  # type: ignore[list-item]
    ],
    ids=["negative-initial", "backoff<1", "max_attempts-0", "max<initial", "int", "non-exc-type", "list-with-str"],
)
def test_bad_retry_policy_is_rejected_at_add_node_naming_node_and_field(policy: RetryPolicy, field: str) -> None:
    g = StateGraph(State)
    with pytest.raises((ValueError, TypeError)) as info:
        g.add_node("picky", lambda s: {}, retry_policy=policy)
    assert "picky" in str(info.value)
    assert f"RetryPolicy.{field}" in str(info.value)
    assert "picky" not in g.nodes


def test_bad_retry_policy_in_a_sequence_and_in_defaults_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"Node 'm'.*RetryPolicy\.backoff_factor"):
        StateGraph(State).add_node("m", lambda s: {}, retry_policy=[RetryPolicy(), RetryPolicy(backoff_factor=0)])
    with pytest.raises(ValueError, match=r"set_node_defaults.*RetryPolicy\.max_attempts"):
        StateGraph(State).set_node_defaults(retry_policy=RetryPolicy(max_attempts=0))
    with pytest.raises(TypeError, match="Node 'm'"):
        StateGraph(State).add_node("m", lambda s: {}, retry_policy="always")  # type: ignore[arg-type]


# -- run timeouts -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_node_over_its_timeout_raises_node_timeout_error_after_cleanup() -> None:
    cleaned: list[str] = []

    async def slow(state: State) -> dict[str, Any]:
        try:
            await anyio.sleep(5)
        finally:
            cleaned.append("finally")
        return {"log": ["never"]}

    graph = _one(slow, timeout=0.05).compile()
    start = time.monotonic()
    with pytest.raises(NodeTimeoutError) as info:
        await graph.ainvoke({"log": []})
    assert time.monotonic() - start < 2
    err = info.value
    assert (err.node, err.timeout, err.kind) == ("n", 0.05, "run")
    assert err.elapsed >= 0.05
    assert "Node 'n'" in str(err)
    assert cleaned == ["finally"]


def test_sync_invoke_raises_node_timeout_error_and_a_fast_node_is_unaffected() -> None:
    async def slow(state: State) -> dict[str, Any]:
        await anyio.sleep(5)
        return {}

    with pytest.raises(NodeTimeoutError, match="Node 'n'"):
        _one(slow, timeout=timedelta(milliseconds=50)).compile().invoke({"log": []})

    async def fast_node(state: State) -> dict[str, Any]:
        return {"log": ["fast"]}

    fast = _one(fast_node, timeout=5).compile()
    assert fast.invoke({"log": []}) == {"log": ["fast"]}


def test_a_timeout_on_a_sync_node_is_refused_at_compile_as_in_langgraph() -> None:
    """Sync code can't be interrupted: LangGraph refuses the timeout when compiling."""
    with pytest.raises(ValueError, match="only supported for async nodes.*Node 'n' is sync"):
        _one(lambda s: {}, timeout=0.05).compile()
    g = StateGraph(State).set_node_defaults(timeout=1).add_node("n", lambda s: {}).add_edge(START, "n")
    with pytest.raises(ValueError, match="Node 'n' is sync"):
        g.compile()


def test_set_node_defaults_timeout_applies_unless_a_node_sets_its_own() -> None:
    async def slow(state: State) -> dict[str, Any]:
        await anyio.sleep(0.1)
        return {"log": ["slow"]}

    g = StateGraph(State).set_node_defaults(timeout=0.05)
    g.add_node("n", slow)
    g.add_edge(START, "n")
    with pytest.raises(NodeTimeoutError, match="Node 'n'"):
        g.compile().invoke({"log": []})

    g2 = StateGraph(State).set_node_defaults(timeout=0.05)
    g2.add_node("n", slow, timeout=5)
    g2.add_edge(START, "n")
    assert g2.compile().invoke({"log": []}) == {"log": ["slow"]}


# -- idle timeouts ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_heartbeats_keep_a_node_alive_past_its_idle_timeout() -> None:
    async def beating(state: State, runtime: Runtime) -> dict[str, Any]:
        for _ in range(30):  # ~0.3s in all, heartbeat every 0.01s, idle timeout 0.1s
            await anyio.sleep(0.01)
            runtime.heartbeat()
        return {"log": ["alive"]}

    graph = _one(beating, timeout=TimeoutPolicy(idle_timeout=0.1)).compile()
    assert await graph.ainvoke({"log": []}) == {"log": ["alive"]}


@pytest.mark.anyio
async def test_custom_stream_writes_count_as_progress_for_the_idle_timeout() -> None:
    async def writing(state: State) -> dict[str, Any]:
        write = get_stream_writer()
        for i in range(30):  # ~0.3s in all, a write every 0.01s, idle timeout 0.1s
            await anyio.sleep(0.01)
            write({"i": i})
        return {"log": ["alive"]}

    graph = _one(writing, timeout=TimeoutPolicy(idle_timeout=0.1)).compile()
    assert await graph.ainvoke({"log": []}) == {"log": ["alive"]}  # nobody streams "custom"
    parts = [p async for p in graph.astream({"log": []}, stream_mode=["custom", "values"])]
    assert [c for mode, c in parts if mode == "custom"] == [{"i": i} for i in range(30)]
    assert parts[-1] == ("values", {"log": ["alive"]})


@pytest.mark.anyio
@pytest.mark.parametrize("streamed", [False, True])
async def test_refresh_on_heartbeat_counts_only_heartbeats_as_progress(streamed: bool) -> None:
    async def writing(state: State, runtime: Runtime) -> dict[str, Any]:
        write = get_stream_writer()
        for i in range(30):  # ~0.3s of stream writes, idle timeout 0.1s
            await anyio.sleep(0.01)
            write({"i": i})
        return {"log": ["alive"]}

    async def beating(state: State, runtime: Runtime) -> dict[str, Any]:
        for _ in range(30):
            await anyio.sleep(0.01)
            runtime.heartbeat()
        return {"log": ["alive"]}

    policy = TimeoutPolicy(idle_timeout=0.1, refresh_on="heartbeat")
    modes = ["custom", "values"] if streamed else ["values"]
    with pytest.raises(NodeTimeoutError) as info:
        [p async for p in _one(writing, timeout=policy).compile().astream({"log": []}, stream_mode=modes)]
    assert info.value.kind == "idle"
    assert await _one(beating, timeout=policy).compile().ainvoke({"log": []}) == {"log": ["alive"]}


@pytest.mark.anyio
async def test_node_that_stops_heartbeating_hits_its_idle_timeout() -> None:
    cleaned: list[str] = []

    async def stalls(state: State, runtime: Runtime) -> dict[str, Any]:
        try:
            for _ in range(3):
                await anyio.sleep(0.01)
                runtime.heartbeat()
            await anyio.sleep(5)  # no more progress
        finally:
            cleaned.append("finally")
        return {}

    graph = _one(stalls, timeout=TimeoutPolicy(idle_timeout=0.05)).compile()
    start = time.monotonic()
    with pytest.raises(NodeTimeoutError) as info:
        await graph.ainvoke({"log": []})
    assert time.monotonic() - start < 2
    assert (info.value.node, info.value.kind, info.value.timeout) == ("n", "idle", 0.05)
    assert "idle timeout" in str(info.value)
    assert cleaned == ["finally"]


@pytest.mark.anyio
async def test_run_timeout_fires_even_when_the_node_keeps_heartbeating() -> None:
    async def busy(state: State, runtime: Runtime) -> dict[str, Any]:
        while True:
            await anyio.sleep(0.01)
            runtime.heartbeat()

    # heartbeats every 10 ms against a 100 ms idle limit: a loop stall on a busy machine
    # can't pass for idleness
    policy = TimeoutPolicy(run_timeout=0.3, idle_timeout=0.1)
    with pytest.raises(NodeTimeoutError) as info:
        await _one(busy, timeout=policy).compile().ainvoke({"log": []})
    assert (info.value.kind, info.value.timeout) == ("run", 0.3)


# -- per-Send timeouts and retried timeouts ---------------------------------------------


class FanState(TypedDict):
    items: list[float]
    done: Annotated[list, operator.add]


@pytest.mark.anyio
async def test_send_with_its_own_timeout_overrides_the_nodes() -> None:
    async def worker(delay: float) -> dict[str, Any]:
        await anyio.sleep(delay)
        return {"done": [delay]}

    def fan(timeout: float | None) -> Any:
        g = StateGraph(FanState)
        g.add_node("w", worker, timeout=5)
        g.add_conditional_edges(START, lambda s: [Send("w", d, timeout=timeout) for d in s["items"]], ["w"])
        return g.compile()

    assert await fan(None).ainvoke({"items": [0.06], "done": []}) == {"items": [0.06], "done": [0.06]}
    with pytest.raises(NodeTimeoutError) as info:
        await fan(0.02).ainvoke({"items": [0.06], "done": []})
    assert (info.value.node, info.value.timeout) == ("w", 0.02)


def test_send_timeout_is_validated_and_shown_in_repr() -> None:
    assert repr(Send("w", 1, timeout=0.5)) == "Send(node='w', arg=1, timeout=TimeoutPolicy(run_timeout=0.5, idle_timeout=None, refresh_on='auto'))"
    with pytest.raises(ValueError, match="-1"):
        Send("w", 1, timeout=-1)


@pytest.mark.anyio
async def test_node_that_times_out_once_is_retried_and_succeeds() -> None:
    calls: list[int] = []

    async def first_slow(state: State) -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 1:
            await anyio.sleep(5)
        return {"log": [len(calls)]}

    graph = _one(first_slow, timeout=0.05, retry_policy=RetryPolicy(**FAST)).compile()
    assert await graph.ainvoke({"log": []}) == {"log": [2]}
    assert calls == [1, 1]
    assert RetryPolicy().retry_on(NodeTimeoutError("n", 1.0, kind="run", run_timeout=1.0)) is True


# -- invalid timeouts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timeout", "error", "shown"),
    [
        (0, ValueError, "0"),
        (-1.5, ValueError, "-1.5"),
        (timedelta(seconds=-2), ValueError, "datetime.timedelta(days=-1, seconds=86398)"),
        ("5s", TypeError, "'5s'"),
        (True, TypeError, "True"),
        (TimeoutPolicy(idle_timeout=0), ValueError, "0"),
    ],
    ids=["zero", "negative", "negative-timedelta", "string", "bool", "policy-idle-zero"],
)
def test_invalid_timeout_is_rejected_at_add_node_naming_the_value(timeout: Any, error: type, shown: str) -> None:
    g = StateGraph(State)
    with pytest.raises(error) as info:
        g.add_node("n", lambda s: {}, timeout=timeout)
    assert f"got {shown}" in str(info.value)
    assert "n" not in g.nodes


def test_coerce_returns_an_already_coerced_policy_itself_and_names_the_bad_field() -> None:
    policy = TimeoutPolicy.coerce(TimeoutPolicy(run_timeout=1.0, idle_timeout=2.0))
    assert policy is not None
    assert TimeoutPolicy.coerce(policy) is policy
    assert TimeoutPolicy.coerce(TimeoutPolicy(run_timeout=timedelta(seconds=1))) == TimeoutPolicy(run_timeout=1.0)
    with pytest.raises(ValueError, match="run_timeout must be greater than 0"):
        TimeoutPolicy.coerce(0)
    with pytest.raises(ValueError, match="idle_timeout must be greater than 0"):
        TimeoutPolicy.coerce(TimeoutPolicy(idle_timeout=-1.0))


# -- backoff, as LangGraph waits it out -------------------------------------------------


def test_sync_invoke_waits_out_each_backoff_with_time_sleep() -> None:
    """As in LangGraph's sync retry loop, so a test that patches time.sleep sees the waits."""
    node = Flaky(ConnectionError("1"), ConnectionError("2"), result={"log": ["ok"]})
    policy = RetryPolicy(max_attempts=3, initial_interval=0.01, backoff_factor=2.0, jitter=False)
    graph = _one(node, retry_policy=policy).compile()
    with patch("time.sleep") as sleep:
        assert graph.invoke({"log": []}) == {"log": ["ok"]}
    assert [c.args[0] for c in sleep.call_args_list] == [0.01, 0.02]


def test_jitter_adds_random_uniform_0_1_to_the_interval() -> None:
    node = Flaky(ConnectionError("1"), result={"log": ["ok"]})
    graph = _one(node, retry_policy=RetryPolicy(initial_interval=0.01, jitter=True)).compile()
    with patch("random.uniform", return_value=0.05) as uniform, patch("time.sleep") as sleep:
        graph.invoke({"log": []})
    uniform.assert_called_with(0, 1)
    sleep.assert_called_once_with(0.01 + 0.05)


@pytest.mark.anyio
async def test_async_invoke_waits_out_a_backoff_without_blocking_sleep() -> None:
    node = Flaky(ConnectionError("1"), result={"log": ["ok"]})
    graph = _one(node, retry_policy=RetryPolicy(**FAST)).compile()
    with patch("time.sleep") as sleep:
        assert await graph.ainvoke({"log": []}) == {"log": ["ok"]}
    assert node.calls == 2
    sleep.assert_not_called()


def test_default_retry_on_retries_a_requests_http_error_without_a_response() -> None:
    requests = pytest.importorskip("requests")
    assert RetryPolicy().retry_on(requests.HTTPError("no response")) is True
    assert RetryPolicy().retry_on(OSError("disk")) is False


# -- timeouts on sync code are refused where they are declared --------------------------


def test_task_and_entrypoint_check_their_timeout_when_declared() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        task(timeout=0)  # before any function is decorated
    with pytest.raises(ValueError, match="greater than 0"):
        NodeBuilder().set_timeout(0)
    with pytest.raises(ValueError, match="only supported for async nodes.*Node 'sync_entry' is sync"):

        @entrypoint(timeout=TimeoutPolicy(idle_timeout=0.05))
        def sync_entry(value: int) -> int:
            return value

    @entrypoint(timeout=1)
    async def async_entry(value: int) -> int:
        return value

    assert async_entry.invoke(3) == 3


def _pregel(node: Any) -> Pregel:
    return Pregel(
        nodes={"slow": node},
        channels={"input": EphemeralValue(int), "output": LastValue(Any)},
        input_channels="input",
        output_channels="output",
    )


def _timed(step: Any) -> Any:
    return NodeBuilder().subscribe_only("input").do(step).set_timeout(TimeoutPolicy(idle_timeout=0.05)).write_to("output")


def _sync_inc(value: int) -> int:
    return value + 1


async def _async_inc(value: int) -> int:
    return value + 1


def test_pregel_refuses_a_timeout_on_sync_code_when_built() -> None:
    lc = pytest.importorskip("langchain_core.runnables")
    for step in (
        _sync_inc,
        lc.RunnableLambda(_sync_inc).with_config(tags=["wrapped"]),
        lc.RunnableParallel(sync=lc.RunnableLambda(_sync_inc), async_=lc.RunnableLambda(_async_inc)),
        lc.RunnableLambda(_async_inc) | lc.RunnableLambda(_sync_inc),
    ):
        with pytest.raises(ValueError, match="only supported for async nodes.*Node 'slow' is sync"):
            _pregel(_timed(step))
    for step in (_async_inc, lc.RunnableLambda(_async_inc).with_config(tags=["wrapped"])):
        _pregel(_timed(step))  # async all the way down: accepted


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # LangChain's RunnableLambda.ainvoke is asyncio's
async def test_an_async_runnable_lambda_node_is_timed_out() -> None:
    lc = pytest.importorskip("langchain_core.runnables")

    async def slow(value: int) -> int:
        await anyio.sleep(5)
        return value

    with pytest.raises(NodeTimeoutError):
        await _pregel(_timed(lc.RunnableLambda(slow))).ainvoke(1)


def test_state_graph_refuses_a_timeout_on_a_sync_runnable_node() -> None:
    lc = pytest.importorskip("langchain_core.runnables")
    with pytest.raises(ValueError, match="Node 'n' is sync"):
        _one(lc.RunnableLambda(lambda s: {}), timeout=1).compile()
    _one(lc.RunnableLambda(lambda s: {}, afunc=_async_update), timeout=1).compile()


async def _async_update(state: Any) -> dict[str, Any]:
    return {}


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # LangChain's chat models are asyncio's
async def test_tokens_a_chat_model_streams_into_a_node_are_progress_for_its_idle_timeout() -> None:
    fake = pytest.importorskip("langchain_core.language_models.fake_chat_models")
    from langchain_core.messages import AIMessageChunk
    from langchain_core.outputs import ChatGenerationChunk

    from actorgraph.graph import MessagesState

    class SlowModel(fake.GenericFakeChatModel):  # type: ignore[misc,name-defined]
        async def _astream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> Any:
            for i in range(3):
                await anyio.sleep(0.08)
                last = "last" if i == 2 else None  # no empty closing chunk
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=str(i), chunk_position=last))
                if run_manager:
                    await run_manager.on_llm_new_token(str(i), chunk=chunk)
                yield chunk

    model = SlowModel(messages=iter([]))

    async def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    g = StateGraph(MessagesState).add_node("call_model", call_model, timeout=TimeoutPolicy(idle_timeout=0.15))
    graph = g.add_edge(START, "call_model").compile()
    chunks = [c.content async for c, _ in graph.astream({"messages": [("user", "hi")]}, stream_mode="messages")]
    assert chunks == ["0", "1", "2"]
