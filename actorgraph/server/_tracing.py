"""OpenTelemetry spans for runs: a run span, a child span per super-step and, under it, one
per node task, exported over OTLP/HTTP when the standard ``OTEL_*`` variables configure
it (``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``; LangSmith
accepts OTLP too). Not configured: no tracer, nothing done per run or per event.

Step and node spans are built from the engine's public ``debug`` stream (task start and
result, checkpoint, each with its step and time), which the run asks for when it is traced:
the engine is not touched. A traced run's log entries carry ``trace_id`` and ``span_id``.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

import structlog

from actorgraph.errors import ConfigError

__all__ = ("RunTrace", "Tracing", "current_run_trace", "note_outcome", "run_trace")

log = structlog.get_logger("actorgraph.server.tracing")

_current: contextvars.ContextVar[RunTrace | None] = contextvars.ContextVar("actorgraph_run_trace", default=None)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _configured(env: Mapping[str, str]) -> bool:
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return exporter == "otlp" or any(
        env.get(name, "").strip() for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def _ns(stamp: Any) -> int | None:
    """An event's ISO timestamp in nanoseconds since the epoch (None: it has none)."""
    if not isinstance(stamp, str):
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


class Tracing:
    """The server's tracer provider and its OTLP/HTTP exporter (batched, in a thread of
    the SDK's); ``from_env`` gives None when tracing is not configured."""

    def __init__(self, provider: Any) -> None:
        from opentelemetry import trace

        self.provider = provider
        self.tracer = provider.get_tracer("actorgraph.server")
        self._trace = trace

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Tracing | None:
        env = os.environ if environ is None else environ
        if not _configured(env):
            return None
        protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or ""
        if protocol.strip() not in ("", "http/protobuf"):
            name = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" if env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") else "OTEL_EXPORTER_OTLP_PROTOCOL"
            raise ConfigError(
                f"{name}={protocol!r}: the server exports spans over OTLP/HTTP only; set it to 'http/protobuf'",
                key=name,
                value=protocol,
            )
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError as exc:
            # an environment may set OTEL_* for other programs: say so, serve untraced
            log.warning(
                "tracing.unavailable",
                reason=f"OTLP export is configured but the OpenTelemetry SDK is missing ({exc.name})",
                fix="pip install 'actorgraph[otel]'",
            )
            return None
        # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by Resource.create; the
        # exporter reads its endpoint, headers, timeout and compression from OTEL_*
        resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or "actorgraph-server"})
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        return cls(provider)

    def shutdown(self) -> None:
        """Export what is left and stop the exporter's thread."""
        self.provider.shutdown()

    def start_run(self, run: Any) -> RunTrace:
        ids = {"run_id": run.run_id, "thread_id": run.thread_id, "assistant_id": run.assistant_id}
        span = self.tracer.start_span("actorgraph.run", attributes=ids, start_time=time.time_ns())
        return RunTrace(self, span, ids)


class RunTrace:
    """One run's spans: the run's, its open steps' (by step number) and its running
    nodes' (by task id), fed by the run's ``debug`` events."""

    __slots__ = ("tracing", "span", "ids", "steps", "nodes", "last_ns")

    def __init__(self, tracing: Tracing, span: Any, ids: dict[str, Any]) -> None:
        self.tracing = tracing
        self.span = span
        self.ids = ids
        self.steps: dict[int, Any] = {}
        self.nodes: dict[str, Any] = {}
        self.last_ns = time.time_ns()

    @property
    def trace_id(self) -> str:
        return format(self.span.get_span_context().trace_id, "032x")

    @property
    def span_id(self) -> str:
        return format(self.span.get_span_context().span_id, "016x")

    def graph(self, assistant_id: str, graph_id: str) -> None:
        """The assistant and graph the run turned out to use (on every span from now)."""
        self.ids.update(assistant_id=assistant_id, graph_id=graph_id)
        self.span.set_attributes(self.ids)

    def _child(self, name: str, parent: Any, start: int, **attributes: Any) -> Any:
        context = self.tracing._trace.set_span_in_context(parent)
        return self.tracing.tracer.start_span(name, context=context, attributes={**self.ids, **attributes}, start_time=start)

    def _step(self, step: int, start: int) -> Any:
        span = self.steps.get(step)
        if span is None:
            # a step starts once the ones before it are over: close any left open
            for earlier in [s for s in self.steps if s < step]:
                self.steps.pop(earlier).end(end_time=start)
            span = self.steps[step] = self._child("actorgraph.step", self.span, start, step=step)
        return span

    def on_debug(self, event: Any) -> None:
        """A ``debug`` stream event of the run's own graph (not a subgraph's)."""
        if not isinstance(event, Mapping):
            return
        kind = event.get("type")
        step = event.get("step")
        stamp = _ns(event.get("timestamp")) or time.time_ns()
        self.last_ns = max(self.last_ns, stamp)
        payload = event.get("payload") or {}
        if kind == "task" and isinstance(step, int):
            parent = self._step(step, stamp)
            task_id = str(payload.get("id"))
            self.nodes[task_id] = self._child(
                "actorgraph.node", parent, stamp, node=str(payload.get("name")), step=step, task_id=task_id
            )
        elif kind == "task_result":
            span = self.nodes.pop(str(payload.get("id")), None)
            if span is None:
                return
            error = payload.get("error")
            if error:
                self._error(span, error)
            if payload.get("interrupts"):
                span.set_attribute("interrupted", True)
            span.end(end_time=stamp)
        elif kind == "task_retry":
            span = self.nodes.get(str(payload.get("id")))
            if span is not None:
                span.add_event("retry", {"attempt": int(payload.get("attempt") or 0), "error": str(payload.get("error"))})
        elif kind == "checkpoint" and isinstance(step, int):
            span = self.steps.pop(step, None)
            if span is not None:
                span.end(end_time=stamp)

    def _error(self, span: Any, error: Any) -> None:
        from opentelemetry.trace import Status, StatusCode

        span.set_status(Status(StatusCode.ERROR, str(error)))

    def outcome(self, status: str, error: Mapping[str, Any] | None) -> None:
        self.span.set_attribute("status", status)
        if status in ("error", "timeout"):
            detail = f"{error.get('error')}: {error.get('message')}" if error else status
            self._error(self.span, detail)

    def end(self) -> None:
        """End the run's span, and any step or node span its events left open (a run
        stopped mid-step, or paused at an interrupt)."""
        end = max(self.last_ns, time.time_ns())
        for span in (*self.nodes.values(), *self.steps.values()):
            span.end(end_time=end)
        self.nodes.clear()
        self.steps.clear()
        self.span.end(end_time=end)


def current_run_trace() -> RunTrace | None:
    """The trace of the run this task executes (None: tracing is off)."""
    return _current.get()


def note_outcome(status: str, error: Mapping[str, Any] | None) -> None:
    """Record a run's final status on its span (nothing when it isn't traced)."""
    trace = _current.get()
    if trace is not None:
        trace.outcome(status, error)


@contextlib.contextmanager
def run_trace(tracing: Tracing | None, run: Any) -> Iterator[RunTrace | None]:
    """The span of ``run`` while it executes, its ids bound into the log context (with
    tracing off: nothing)."""
    if tracing is None:
        yield None
        return
    trace = tracing.start_run(run)
    token = _current.set(trace)
    try:
        with structlog.contextvars.bound_contextvars(trace_id=trace.trace_id, span_id=trace.span_id):
            yield trace
    finally:
        _current.reset(token)
        trace.end()
