"""Runs over HTTP with the official ``langgraph-sdk`` client against a real server:
background, wait, stream (every mode, subgraphs), join, resumable streams, interrupts and
resume, errors, cancel, double texting, time travel, and bad requests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.errors import BadRequestError, ConflictError, NotFoundError, UnprocessableEntityError

from tests.server.conftest import Server, make_app_folder

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = make_app_folder(tmp_path_factory.mktemp("runs"))
    srv = Server(folder, env={"ACTORGRAPH_SERVER_HEARTBEAT_SECONDS": "0.2"}).start()
    try:
        yield srv
    finally:
        srv.stop()


async def collect(parts: Any) -> list[Any]:
    return [p async for p in parts]


async def wait_status(client: Any, thread_id: str, run_id: str, statuses: tuple[str, ...], timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = await client.runs.get(thread_id, run_id)
        if run["status"] in statuses or time.monotonic() > deadline:
            return run
        await _sleep(0.02)


async def _sleep(seconds: float) -> None:
    import anyio

    await anyio.sleep(seconds)


async def test_background_run_join_get_list_and_headers(server: Server) -> None:
    client = get_client(url=server.url)
    thread = await client.threads.create()
    tid = thread["thread_id"]
    created: list[Any] = []
    run = await client.runs.create(tid, "simple", input={"x": 1}, metadata={"mm": 1}, on_run_created=created.append)
    assert created == [{"run_id": run["run_id"], "thread_id": tid}]  # read from Content-Location
    assert run["status"] == "pending" and run["metadata"]["mm"] == 1 and run["multitask_strategy"] == "enqueue"
    assert run["assistant_id"] == (await client.assistants.search(graph_id="simple", metadata={"created_by": "system"}))[0]["assistant_id"]
    assert await client.runs.join(tid, run["run_id"]) == {"x": 20, "log": ["a", "b", "c"]}
    done = await client.runs.get(tid, run["run_id"])
    assert done["status"] == "success"
    assert [r["run_id"] for r in await client.runs.list(tid)] == [run["run_id"]]
    assert await client.runs.list(tid, status="error") == []
    after = await client.threads.get(tid)
    assert after["status"] == "idle" and after["values"] == {"x": 20, "log": ["a", "b", "c"]}
    assert after["metadata"]["graph_id"] == "simple"
    state = await client.threads.get_state(tid)
    assert state["metadata"]["run_id"] == run["run_id"] and state["metadata"]["graph_id"] == "simple"
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.post(f"/threads/{tid}/runs", json={"assistant_id": "simple", "input": {"x": 2}})
        assert r.headers["content-location"] == f"/threads/{tid}/runs/{r.json()['run_id']}"
        r = await http.post("/runs", json={"assistant_id": "simple", "input": {"x": 2}})
        assert r.headers["content-location"] == f"/runs/{r.json()['run_id']}"
        r = await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "simple", "input": {"x": 3}})
        run_id = r.headers["content-location"].rsplit("/", 1)[-1]
        assert r.headers["location"] == f"/threads/{tid}/runs/{run_id}/join"
    await client.runs.delete(tid, run["run_id"])
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, run["run_id"])


async def test_wait_stateless_deletes_its_thread_unless_kept(server: Server) -> None:
    client = get_client(url=server.url)
    made: list[Any] = []
    out = await client.runs.wait(None, "simple", input={"x": 3}, on_run_created=made.append)
    assert out == {"x": 40, "log": ["a", "b", "c"]}
    with pytest.raises(NotFoundError):
        await client.threads.get(made[0]["thread_id"])
    kept: list[Any] = []
    await client.runs.wait(None, "simple", input={"x": 3}, on_completion="keep", on_run_created=kept.append)
    assert (await client.threads.get(kept[0]["thread_id"]))["values"]["x"] == 40
    runs = await client.runs.create_batch([{"assistant_id": "simple", "input": {"x": 1}}, {"assistant_id": "func", "input": {"x": 2}}])
    assert len(runs) == 2 and runs[0]["thread_id"] != runs[1]["thread_id"]


async def test_stream_every_mode_with_metadata_first(server: Server) -> None:
    client = get_client(url=server.url)
    thread = await client.threads.create()
    modes = ["values", "updates", "custom", "debug", "tasks", "checkpoints", "messages-tuple"]
    parts = await collect(client.runs.stream(thread["thread_id"], "simple", input={"x": 1}, stream_mode=modes))
    assert parts[0].event == "metadata" and set(parts[0].data) == {"run_id", "attempt"}
    events = [p.event for p in parts]
    assert {"values", "updates", "custom", "debug", "tasks", "checkpoints"} <= set(events)
    assert [p.data for p in parts if p.event == "updates"] == [
        {"a": {"x": 2, "log": ["a"]}}, {"b": {"x": 20, "log": ["b"]}}, {"c": {"log": ["c"]}}
    ]
    assert [p.data for p in parts if p.event == "custom"] == [{"custom": "from b"}]
    assert [p.data for p in parts if p.event == "values"][-1] == {"x": 20, "log": ["a", "b", "c"]}
    ids = [int(p.id) for p in parts]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # default mode is values
    only = await collect(client.runs.stream(None, "simple", input={"x": 1}))
    assert {p.event for p in only} == {"metadata", "values"}


async def test_stream_subgraphs_names_events_mode_pipe_namespace(server: Server) -> None:
    client = get_client(url=server.url)
    parts = await collect(
        client.runs.stream(None, "parent", input={"x": 1}, stream_mode=["updates", "custom"], stream_subgraphs=True)
    )
    names = [p.event for p in parts]
    assert "updates" in names
    sub = [n for n in names if n.startswith("updates|sub:")]
    assert sub and [n for n in names if n.startswith("custom|sub:")]
    assert [p.data for p in parts if p.event.startswith("custom|")] == [{"inner": True}]


async def test_interrupt_then_resume_over_http(server: Server) -> None:
    client = get_client(url=server.url)
    thread = await client.threads.create()
    tid = thread["thread_id"]
    paused = await client.runs.wait(tid, "hitl", input={"x": 1})
    assert paused["x"] == 1 and paused["__interrupt__"][0]["value"] == {"question": "what is x?"}
    t = await client.threads.get(tid)
    assert t["status"] == "interrupted" and list(t["interrupts"].values())[0][0]["value"] == {"question": "what is x?"}
    state = await client.threads.get_state(tid)
    assert state["next"] == ["ask"] and state["interrupts"][0]["id"] == paused["__interrupt__"][0]["id"]
    # streamed: the interrupt comes as an update and with the last values (LangGraph's shape)
    other = (await client.threads.create())["thread_id"]
    streamed = await collect(client.runs.stream(other, "hitl", input={"x": 1}, stream_mode=["values", "updates"]))
    interrupt = streamed[2].data["__interrupt__"]
    assert [(p.event, p.data) for p in streamed[1:]] == [
        ("values", {"x": 1, "log": []}),
        ("updates", {"__interrupt__": interrupt}),
        ("values", {"x": 1, "log": [], "__interrupt__": interrupt}),
    ]
    assert interrupt[0]["value"] == {"question": "what is x?"} and interrupt[0]["response_schema"] is None
    parts = await collect(client.runs.stream(tid, "hitl", command={"resume": "9"}, stream_mode="updates"))
    assert {"ask": {"x": 9, "log": ["ask"]}} in [p.data for p in parts]
    final = await client.threads.get(tid)
    assert final["status"] == "idle" and final["values"] == {"x": 9, "log": ["ask", "after"]}
    # (runs.wait raises httpx's own error: the SDK reads its answer through a reconnecting call)
    with pytest.raises(httpx.HTTPStatusError, match="400") as info:
        await client.runs.wait(None, "hitl", command={"resume": "1"})
    assert "thread_id when resuming" in info.value.response.read().decode() + str(info.value.__notes__)


async def test_interrupt_before_after_and_goto(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    out = await client.runs.wait(tid, "simple", input={"x": 1}, interrupt_before=["b"])
    assert out == {"x": 2, "log": ["a"]}
    assert (await client.threads.get(tid))["status"] == "interrupted"
    assert (await client.threads.get_state(tid))["next"] == ["b"]
    assert await client.runs.wait(tid, "simple", input=None) == {"x": 20, "log": ["a", "b", "c"]}
    tid2 = (await client.threads.create())["thread_id"]
    assert await client.runs.wait(tid2, "simple", input={"x": 1}, interrupt_after="*") == {"x": 2, "log": ["a"]}
    tid3 = (await client.threads.create())["thread_id"]
    out = await client.runs.wait(tid3, "hitl", command={"update": {"x": 77}, "goto": "after"})
    assert out == {"x": 77, "log": ["after"]}


async def test_time_travel_from_a_checkpoint(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "simple", input={"x": 1})
    history = await client.threads.get_history(tid, limit=10)
    after_a = next(h for h in history if h["next"] == ["b"])
    again = await client.runs.wait(tid, "simple", input=None, checkpoint_id=after_a["checkpoint"]["checkpoint_id"])
    assert again == {"x": 20, "log": ["a", "b", "c"]}
    fork = await client.threads.get_state(tid)
    assert fork["parent_checkpoint"]["checkpoint_id"] != history[0]["checkpoint"]["checkpoint_id"]
    also = await client.runs.wait(tid, "simple", input=None, checkpoint={"checkpoint_id": after_a["checkpoint"]["checkpoint_id"]})
    assert also == again


async def test_graph_error_gives_error_body_event_and_statuses(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    out = await client.runs.wait(tid, "failing", input={"x": 1}, raise_error=False)
    assert out == {"__error__": {"error": "ValueError", "message": "boom: x was 2"}}
    with pytest.raises(Exception, match="ValueError: boom"):
        await client.runs.wait(tid, "failing", input={"x": 1})
    t = await client.threads.get(tid)
    assert t["status"] == "error" and t["error"] == {"error": "ValueError", "message": "boom: x was 2"}
    runs = await client.runs.list(tid)
    assert {r["status"] for r in runs} == {"error"}
    parts = await collect(client.runs.stream(tid, "failing", input={"x": 1}))
    assert parts[-1].event == "error" and parts[-1].data == {"error": "ValueError", "message": "boom: x was 2"}
    assert await client.runs.join(tid, runs[0]["run_id"]) == out


async def test_resumable_stream_replays_exactly_the_events_after_last_event_id(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    made: list[Any] = []
    parts = await collect(
        client.runs.stream(tid, "slow", input={"x": 0, "sleep": 0.01}, stream_mode=["values", "updates"],
                           stream_resumable=True, on_run_created=made.append)
    )
    run_id = made[0]["run_id"]
    assert len(parts) > 5
    for cut in (0, 1, 3, len(parts) - 2, len(parts) - 1):
        last = parts[cut].id
        replay = await collect(client.runs.join_stream(tid, run_id, last_event_id=last))
        assert [(p.event, p.data, p.id) for p in replay] == [(p.event, p.data, p.id) for p in parts[cut + 1 :]]
    full = await collect(client.runs.join_stream(tid, run_id, last_event_id="0"))
    assert [p.id for p in full] == [p.id for p in parts]
    values_only = await collect(client.runs.join_stream(tid, run_id, last_event_id="0", stream_mode="values"))
    assert {p.event for p in values_only} == {"metadata", "values"}
    # a finished run joined without an id: nothing to send
    assert await collect(client.runs.join_stream(tid, run_id)) == []


async def test_join_a_live_stream_midway_and_heartbeats(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.create(tid, "slow", input={"x": 2, "sleep": 0.4}, stream_mode=["updates"])
    await wait_status(client, tid, run["run_id"], ("running",))
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
        async with http.stream("GET", f"/threads/{tid}/runs/{run['run_id']}/stream") as r:
            raw = b"".join([chunk async for chunk in r.aiter_bytes()])
    text = raw.decode()
    assert text.startswith("event: metadata\r\n")
    assert ": heartbeat\r\n\r\n" in text  # a 0.4 s node with heartbeats every 0.2 s here
    assert "event: updates\r\n" in text


async def test_cancel_interrupt_keeps_steps_and_resumes_rollback_removes(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.create(tid, "slow", input={"x": 0, "sleep": 0.3})
    await wait_status(client, tid, run["run_id"], ("running",))
    await _sleep(0.45)  # one step done
    await client.runs.cancel(tid, run["run_id"], wait=True)
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "interrupted"
    t = await client.threads.get(tid)
    assert t["status"] == "interrupted" and t["error"]["error"] == "UserInterrupt"
    kept = (await client.threads.get_state(tid))["values"]
    assert kept["x"] >= 1
    resumed = await client.runs.wait(tid, "slow", input=None)
    assert resumed["x"] == 4 and resumed["log"][: len(kept["log"])] == kept["log"]

    tid2 = (await client.threads.create())["thread_id"]
    run2 = await client.runs.create(tid2, "slow", input={"x": 0, "sleep": 0.3})
    await wait_status(client, tid2, run2["run_id"], ("running",))
    await _sleep(0.45)
    await client.runs.cancel(tid2, run2["run_id"], wait=True, action="rollback")
    with pytest.raises(NotFoundError):
        await client.runs.get(tid2, run2["run_id"])
    assert await client.threads.get_history(tid2) == []
    with pytest.raises(NotFoundError):
        await client.runs.cancel(tid2, str(uuid.uuid4()))
    done = await client.runs.create(tid2, "simple", input={"x": 1})
    await client.runs.join(tid2, done["run_id"])
    with pytest.raises(NotFoundError, match="success"):
        await client.runs.cancel(tid2, done["run_id"])


async def test_cancel_many(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    first = await client.runs.create(tid, "slow", input={"x": 0, "sleep": 0.3})
    second = await client.runs.create(tid, "slow", input={"x": 0, "sleep": 0.3})
    await client.runs.cancel_many(thread_id=tid, run_ids=[first["run_id"], second["run_id"]])
    for r in (first, second):
        assert (await wait_status(client, tid, r["run_id"], ("interrupted",)))["status"] == "interrupted"
    with pytest.raises(NotFoundError):
        await client.runs.cancel_many(status="pending")


async def test_double_texting_strategies(server: Server) -> None:
    client = get_client(url=server.url)

    async def busy_thread() -> tuple[str, dict]:
        tid = (await client.threads.create())["thread_id"]
        first = await client.runs.create(tid, "slow", input={"x": 0, "sleep": 0.3})
        await wait_status(client, tid, first["run_id"], ("running",))
        return tid, first

    tid, first = await busy_thread()
    with pytest.raises(ConflictError, match="already running"):
        await client.runs.create(tid, "simple", input={"x": 1}, multitask_strategy="reject")
    with pytest.raises(httpx.HTTPStatusError, match="409"):
        await client.runs.wait(tid, "simple", input={"x": 1}, multitask_strategy="reject")
    with pytest.raises(ConflictError):
        await collect(client.runs.stream(tid, "simple", input={"x": 1}, multitask_strategy="reject"))
    # enqueue (the default): the second waits for the first
    second = await client.runs.create(tid, "simple", input={"x": 1})
    assert second["status"] == "pending"
    assert await client.runs.join(tid, second["run_id"]) == {
        "x": 20, "sleep": 0.3, "log": ["s0", "s1", "s2", "s3", "a", "b", "c"]
    }
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "success"

    tid, first = await busy_thread()
    await _sleep(0.45)
    out = await client.runs.wait(tid, "simple", input={"x": 1}, multitask_strategy="interrupt")
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "interrupted"
    assert out["x"] == 20 and out["log"][0] == "s0"  # the first run's finished step stays

    tid, first = await busy_thread()
    await _sleep(0.45)
    out = await client.runs.wait(tid, "simple", input={"x": 1}, multitask_strategy="rollback")
    assert out == {"x": 20, "log": ["a", "b", "c"]}  # nothing of the first run is left (not even sleep)
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, first["run_id"])


async def test_on_disconnect_cancel(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    made: list[Any] = []
    async for part in client.runs.stream(
        tid, "slow", input={"x": 0, "sleep": 0.3}, on_disconnect="cancel", on_run_created=made.append
    ):
        if part.event == "values":
            break
    run = await wait_status(client, tid, made[0]["run_id"], ("interrupted", "success"))
    assert run["status"] == "interrupted"


async def test_bad_run_requests(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    with pytest.raises(UnprocessableEntityError, match="Invalid assistant: 'nope'"):
        await client.runs.create(tid, "nope", input={})
    with pytest.raises(NotFoundError, match="Thread or assistant not found"):
        await client.runs.create(tid, str(uuid.uuid4()), input={})
    missing = str(uuid.uuid4())
    with pytest.raises(httpx.HTTPStatusError, match="404"):
        await client.runs.wait(missing, "simple", input={})
    with pytest.raises(NotFoundError):
        await collect(client.runs.stream(missing, "simple", input={}))
    assert await client.runs.wait(missing, "simple", input={"x": 1}, if_not_exists="create") == {"x": 20, "log": ["a", "b", "c"]}
    with pytest.raises(UnprocessableEntityError, match="must be a UUID"):
        await client.runs.create("not-a-uuid", "simple", input={})
    with pytest.raises(NotFoundError):
        await client.runs.list(str(uuid.uuid4()))
    with pytest.raises(UnprocessableEntityError, match="must be a UUID"):
        await client.runs.get(tid, "not-a-uuid")
    with pytest.raises(BadRequestError, match="configurable and context"):
        await client.runs.create(tid, "simple", input={}, config={"configurable": {"a": 1}}, context={"b": 1})
    async with httpx.AsyncClient(base_url=server.url) as http:
        for body, field in (
            ({"assistant_id": "simple", "stream_mode": "bogus"}, "$.stream_mode"),
            ({"assistant_id": "simple", "stream_mode": ["values", "bogus"]}, "$.stream_mode"),
            ({"assistant_id": "simple", "multitask_strategy": "bogus"}, "$.multitask_strategy"),
            ({"assistant_id": "simple", "durability": "bogus"}, "$.durability"),
            ({"assistant_id": "simple", "config": 3}, "$.config"),
            ({"input": {}}, "assistant_id"),
            ({"assistant_id": 5}, "$.assistant_id"),
        ):
            r = await http.post(f"/threads/{tid}/runs/stream", json=body)
            assert r.status_code == 422 and field in r.json()["detail"], (body, r.text)
        for raw, why in ((b"{x", "Invalid JSON"), (b"", "Invalid JSON"), (b"[1]", "Expected `object`")):
            r = await http.post(f"/threads/{tid}/runs", content=raw, headers={"content-type": "application/json"})
            assert r.status_code == 422 and why in r.json()["detail"], (raw, r.text)
        for path in ("/runs", "/runs/stream", "/runs/wait"):  # resuming needs the thread to resume
            r = await http.post(path, json={"assistant_id": "simple", "command": {"resume": 1}})
            assert r.status_code == 400 and "thread_id when resuming" in r.json()["detail"], (path, r.text)
        r = await http.post("/runs/cancel", json={"thread_id": tid, "run_ids": [str(uuid.uuid4())]})
        assert r.status_code == 404 and r.json()["detail"] == "No runs found to cancel."
        r = await http.post("/runs/batch", json=[{"assistant_id": "simple"}, {"input": {}}])
        assert r.status_code == 422 and "$[1]" in r.json()["detail"]
        # a graph error is an answer, not a 4xx: as LangGraph's server does
        r = await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "simple", "input": 5})
        assert r.status_code == 200 and "__error__" in r.json()
        joined = await http.get(f"/threads/{tid}/runs/{uuid.uuid4()}/join")
        assert joined.status_code == 200 and joined.json()["__error__"]["message"] == "404: Run not found"


async def test_a_run_on_an_idle_server_starts_within_milliseconds(server: Server) -> None:
    client = get_client(url=server.url)
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        async for part in client.runs.stream(None, "simple", input={"x": 1}):
            timings.append(time.perf_counter() - start)
            break
    timings.sort()
    assert timings[len(timings) // 2] < 0.2, timings  # LangGraph's polling queue: ~1 s


async def test_many_concurrent_runs_all_succeed(server: Server) -> None:
    """200 background runs on their own threads, 20 in flight, with store writes beside
    them: the server's records, the checkpoints and the store share one SQLite file
    through three connections, and no run may fail on it ("database is locked")."""
    import anyio

    client = get_client(url=server.url)
    gate = anyio.Semaphore(20)
    results: dict[int, Any] = {}

    async def one(i: int) -> None:
        async with gate:
            tid = (await client.threads.create())["thread_id"]
            run = await client.runs.create(tid, "simple", input={"x": 1})
            await client.store.put_item(("load",), str(i), {"i": i})
            results[i] = (await client.runs.join(tid, run["run_id"]), (await client.runs.get(tid, run["run_id"]))["status"])

    async with anyio.create_task_group() as tg:
        for i in range(200):
            tg.start_soon(one, i)
    wrong = {i: r for i, r in results.items() if r != ({"x": 20, "log": ["a", "b", "c"]}, "success")}
    assert len(results) == 200 and wrong == {}
    assert len((await client.store.search_items(("load",), limit=1000))["items"]) == 200


def test_sync_client_runs(server: Server) -> None:
    client = get_sync_client(url=server.url)
    tid = client.threads.create()["thread_id"]
    assert client.runs.wait(tid, "simple", input={"x": 1}) == {"x": 20, "log": ["a", "b", "c"]}
    parts = list(client.runs.stream(tid, "simple", input={"x": 1}, stream_mode="updates"))
    assert [p.event for p in parts] == ["metadata", "updates", "updates", "updates"]


def test_metrics_in_prometheus_format(server: Server) -> None:
    client = get_sync_client(url=server.url)
    client.runs.wait(None, "simple", input={"x": 1})
    text = httpx.get(server.url + "/metrics").text
    lines = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert int(lines['actorgraph_runs{status="success"}']) >= 1
    assert lines["actorgraph_queue_depth"] == "0" and lines["actorgraph_runs_in_flight"] == "0"
    assert int(lines["actorgraph_run_duration_seconds_count"]) >= 1
    assert lines['actorgraph_run_duration_seconds_bucket{le="+Inf"}'] == lines["actorgraph_run_duration_seconds_count"]
    assert "actorgraph_active_streams" in lines


async def test_join_the_threads_stream(server: Server) -> None:
    client = get_client(url=server.url)
    tid = (await client.threads.create())["thread_id"]
    seen: list[Any] = []

    async def follow() -> None:
        async for part in await client.threads.join_stream(tid):
            seen.append(part)
            if part.event == "metadata" and part.data.get("status") == "run_done":
                return

    import anyio

    async with anyio.create_task_group() as tg:
        tg.start_soon(follow)
        await _sleep(0.3)  # the reader is following (heartbeats meanwhile)
        run = await client.runs.create(tid, "simple", input={"x": 1}, stream_mode=["updates"])
    events = [p.event for p in seen]
    assert events == ["metadata", "updates", "updates", "updates", "metadata"]
    assert seen[0].data["run_id"] == run["run_id"]
    assert seen[-1].data == {"status": "run_done", "run_id": run["run_id"]}
    ids = [int(p.id) for p in seen]
    assert ids == sorted(ids)
    with pytest.raises(NotFoundError):
        await collect(await client.threads.join_stream(str(uuid.uuid4())))


async def test_events_stream_mode(server: Server) -> None:
    client = get_client(url=server.url)
    parts = await collect(client.runs.stream(None, "simple", input={"x": 1}, stream_mode=["events", "updates"]))
    events = [p.data for p in parts if p.event == "events"]
    assert events[0]["event"] == "on_chain_start" and events[0]["data"]["input"] == {"x": 1}
    assert events[-1]["event"] == "on_chain_end" and events[-1]["data"]["output"] == {"x": 20, "log": ["a", "b", "c"]}
    started = [e["name"] for e in events if e["event"] == "on_chain_start" and e["parent_ids"]]
    assert started == ["a", "b", "c"]
    assert [p.data for p in parts if p.event == "updates"] == [
        {"a": {"x": 2, "log": ["a"]}}, {"b": {"x": 20, "log": ["b"]}}, {"c": {"log": ["c"]}}
    ]
