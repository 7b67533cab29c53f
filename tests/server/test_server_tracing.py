"""Tracing and monitoring on a real server: with ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, a run
is exported over OTLP/HTTP (to a receiver this test runs on loopback, decoding the protobuf
requests) as a run span with a child span per step and, under each, one per node, carrying
the run's ids; the run's JSON log entries carry its trace id; ``/metrics`` shows the
engine's counters (steps, tasks, tasks in flight, checkpoint bytes) moving with runs."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_sync_client
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from actorgraph.errors import ConfigError
from actorgraph.server._tracing import Tracing

from tests.server.conftest import Server, make_app_folder


class Receiver:
    """An OTLP/HTTP trace receiver on a loopback port: keeps every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers["content-length"]))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest.FromString(body)
                receiver.add(self.path, request)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def add(self, path: str, request: ExportTraceServiceRequest) -> None:
        with self.lock:
            self.paths.append(path)
            for resource_spans in request.resource_spans:
                service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}.get("service.name")
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        attributes = {}
                        for a in span.attributes:
                            value = a.value
                            attributes[a.key] = getattr(value, value.WhichOneof("value"))
                        self.spans.append(
                            {
                                "name": span.name,
                                "trace_id": span.trace_id.hex(),
                                "span_id": span.span_id.hex(),
                                "parent": span.parent_span_id.hex(),
                                "attributes": attributes,
                                "status": span.status.code,
                                "start": span.start_time_unix_nano,
                                "end": span.end_time_unix_nano,
                                "service": service,
                            }
                        )

    def run_spans(self, run_id: str, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Every span of the run ``run_id`` once its run span has arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                root = [s for s in self.spans if s["name"] == "actorgraph.run" and s["attributes"].get("run_id") == run_id]
                if root:
                    return [s for s in self.spans if s["trace_id"] == root[0]["trace_id"]]
            time.sleep(0.05)
        raise AssertionError(f"no run span for {run_id} in {timeout}s; got {len(self.spans)} spans")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    try:
        yield r
    finally:
        r.http.shutdown()
        r.http.server_close()


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[Server]:
    folder = make_app_folder(tmp_path_factory.mktemp("traced"))
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_SERVICE_NAME": "traced-test",
        "OTEL_BSP_SCHEDULE_DELAY": "50",  # ms: spans leave soon after they end
    }
    srv = Server(folder, "--log-level", "info", "--log-format", "json", env=env).start()
    try:
        yield srv
    finally:
        srv.stop()


def _by(spans: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [s for s in spans if s["name"] == name]


def _run(server: Server, graph: str, x: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A background run of ``graph`` on a new thread, joined: (thread, run)."""
    client = get_sync_client(url=server.url)
    thread = client.threads.create()
    run = client.runs.create(thread["thread_id"], graph, input={"x": x})
    client.runs.join(thread["thread_id"], run["run_id"])
    return thread, run


def test_a_run_is_exported_as_run_step_and_node_spans_with_its_ids(traced: Server, receiver: Receiver) -> None:
    thread, run = _run(traced, "simple", 1)
    spans = receiver.run_spans(run["run_id"])
    assert receiver.paths and set(receiver.paths) == {"/v1/traces"}
    (root,) = _by(spans, "actorgraph.run")
    ids = {
        "run_id": run["run_id"],
        "thread_id": thread["thread_id"],
        "assistant_id": run["assistant_id"],
        "graph_id": "simple",
    }
    assert root["attributes"] == {**ids, "status": "success"} and root["parent"] == ""
    assert root["service"] == "traced-test"
    steps = {s["attributes"]["step"]: s for s in _by(spans, "actorgraph.step")}
    nodes = {s["attributes"]["node"]: s for s in _by(spans, "actorgraph.node")}
    assert set(nodes) == {"a", "b", "c"}
    assert len(steps) == 3 and all(s["parent"] == root["span_id"] for s in steps.values())
    for node in nodes.values():
        step = steps[node["attributes"]["step"]]
        assert node["parent"] == step["span_id"]
        assert {k: node["attributes"][k] for k in ids} == ids and node["attributes"]["task_id"]
        assert step["start"] <= node["start"] <= node["end"] <= step["end"] <= root["end"]
    # the nodes ran one step after another, in order
    assert nodes["a"]["attributes"]["step"] < nodes["b"]["attributes"]["step"] < nodes["c"]["attributes"]["step"]


def test_a_failing_run_marks_its_span_and_the_failing_node_as_errors(traced: Server, receiver: Receiver) -> None:
    _, run = _run(traced, "failing", 1)
    spans = receiver.run_spans(run["run_id"])
    error = 2  # STATUS_CODE_ERROR
    (root,) = _by(spans, "actorgraph.run")
    assert root["status"] == error and root["attributes"]["status"] == "error"
    nodes = {s["attributes"]["node"]: s for s in _by(spans, "actorgraph.node")}
    assert nodes["boom"]["status"] == error and nodes["a"]["status"] != error


def test_the_trace_only_events_do_not_reach_the_stream(traced: Server) -> None:
    client = get_sync_client(url=traced.url)
    parts = list(client.runs.stream(None, "simple", input={"x": 1}, stream_mode="updates"))
    assert {p.event for p in parts} == {"metadata", "updates"}
    asked = list(client.runs.stream(None, "simple", input={"x": 1}, stream_mode="debug"))
    assert sum(p.event == "debug" for p in asked) >= 6  # asked for: still there


def test_a_runs_json_logs_carry_its_trace_id(traced: Server, receiver: Receiver) -> None:
    _, run = _run(traced, "simple", 5)
    (root,) = _by(receiver.run_spans(run["run_id"]), "actorgraph.run")
    entries = []
    deadline = time.monotonic() + 10
    while not entries and time.monotonic() < deadline:
        for line in traced.log.read_text().splitlines():
            if line.startswith("{") and run["run_id"] in line:
                entry = json.loads(line)
                if entry.get("event") == "run finished":
                    entries.append(entry)
        time.sleep(0.05)
    (entry,) = entries
    assert entry["trace_id"] == root["trace_id"] and entry["span_id"] == root["span_id"]


def _metrics(url: str) -> dict[str, float]:
    values = {}
    for line in httpx.get(url + "/metrics").text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def test_metrics_show_the_engine_counters_moving_with_runs(server: Server) -> None:
    """(untraced: the numbers don't depend on tracing)"""
    before = _metrics(server.url)
    client = get_sync_client(url=server.url)
    thread = client.threads.create()
    client.runs.wait(thread["thread_id"], "simple", input={"x": 1})
    after = _metrics(server.url)
    assert after["actorgraph_engine_steps_total"] >= before["actorgraph_engine_steps_total"] + 3
    assert after["actorgraph_engine_tasks_total"] >= before["actorgraph_engine_tasks_total"] + 3
    assert after["actorgraph_checkpoints_written_total"] >= before["actorgraph_checkpoints_written_total"] + 3
    assert after["actorgraph_checkpoint_bytes_written_total"] > before["actorgraph_checkpoint_bytes_written_total"]
    assert after["actorgraph_tasks_in_flight"] == 0 and after["actorgraph_engine_runs_active"] == 0
    # a factory-made graph counts too
    client.runs.wait(thread["thread_id"], "factory", input={"x": 1})
    assert _metrics(server.url)["actorgraph_engine_tasks_total"] > after["actorgraph_engine_tasks_total"]


def test_metrics_show_tasks_in_flight_while_a_run_goes_on(server: Server) -> None:
    client = get_sync_client(url=server.url)
    thread = client.threads.create()
    run = client.runs.create(thread["thread_id"], "slow", input={"x": 0, "sleep": 0.4})
    seen = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not seen:
        m = _metrics(server.url)
        if m["actorgraph_tasks_in_flight"] >= 1:
            seen.append(m)
        time.sleep(0.02)
    client.runs.join(thread["thread_id"], run["run_id"])
    assert seen and seen[0]["actorgraph_engine_runs_active"] >= 1 and seen[0]["actorgraph_runs_in_flight"] >= 1
    assert _metrics(server.url)["actorgraph_tasks_in_flight"] == 0


def test_tracing_is_off_unless_configured_and_refuses_grpc() -> None:
    assert Tracing.from_env({}) is None
    assert Tracing.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_SDK_DISABLED": "true"}) is None
    assert Tracing.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_TRACES_EXPORTER": "none"}) is None
    with pytest.raises(ConfigError) as info:
        Tracing.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    assert info.value.key == "OTEL_EXPORTER_OTLP_PROTOCOL"


def test_an_untraced_server_logs_no_trace_ids(tmp_path: Path) -> None:
    srv = Server(make_app_folder(tmp_path), "--log-level", "info", "--log-format", "json").start()
    try:
        client = get_sync_client(url=srv.url)
        client.runs.wait(None, "simple", input={"x": 1})
        deadline = time.monotonic() + 10
        finished: list[dict[str, Any]] = []
        while not finished and time.monotonic() < deadline:
            lines = srv.log.read_text().splitlines()
            finished = [json.loads(x) for x in lines if x.startswith("{") and '"run finished"' in x]
            time.sleep(0.05)
        assert finished and "trace_id" not in finished[0]
    finally:
        srv.stop()
