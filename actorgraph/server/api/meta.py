"""``/ok``, ``/info``, ``/openapi.json`` (generated from the route table's Structs) and
``/docs`` (a self-contained page that renders it: no script or font from the network)."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from actorgraph.server._context import ctx
from actorgraph.server._engine_metrics import engine_metric_lines
from actorgraph.server.api._http import Endpoint, json_response
from actorgraph.server.schemas import ErrorBody

__all__ = ("ENDPOINTS", "openapi_document")


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


async def ok(request: Request) -> Response:
    return json_response({"ok": True, "services": {}})


async def info(request: Request) -> Response:
    c = ctx(request)
    return json_response(
        {
            "version": _version("actorgraph"),
            "server": "actorgraph",
            "langgraph_py_version": _version("actorgraph"),
            "python_version": sys.version.split()[0],
            "flags": {"assistants": True, "crons": True, "langsmith": False, "langsmith_tracing_replicas": False},
            "graphs": c.graphs.ids(),
            "metadata": {"n_jobs_per_worker": c.n_jobs},
        }
    )


async def metrics(request: Request) -> Response:
    """Prometheus text: runs by status, queue depth, runs in flight, live streams, and a
    histogram of run durations (this process's since it started)."""
    from actorgraph.server.runs._manager import LATENCY_BUCKETS

    c = ctx(request)
    counts = await c.storage.run_counts()
    stats = c.run_manager.statistics()
    lines = ["# HELP actorgraph_runs Runs by status.", "# TYPE actorgraph_runs gauge"]
    for status in ("pending", "running", "success", "error", "interrupted", "timeout"):
        lines.append(f'actorgraph_runs{{status="{status}"}} {counts.get(status, 0)}')
    lines += [
        "# HELP actorgraph_queue_depth Runs waiting for a worker.",
        "# TYPE actorgraph_queue_depth gauge",
        f"actorgraph_queue_depth {counts.get('pending', 0)}",
        "# HELP actorgraph_runs_in_flight Runs this process is executing.",
        "# TYPE actorgraph_runs_in_flight gauge",
        f"actorgraph_runs_in_flight {stats.in_flight}",
        "# HELP actorgraph_workers Runs this process executes at once at most.",
        "# TYPE actorgraph_workers gauge",
        f"actorgraph_workers {stats.workers}",
        "# HELP actorgraph_active_streams Runs with live event streams.",
        "# TYPE actorgraph_active_streams gauge",
        f"actorgraph_active_streams {stats.live_streams}",
        "# HELP actorgraph_run_duration_seconds How long runs took, start to end.",
        "# TYPE actorgraph_run_duration_seconds histogram",
    ]
    for bound, count in zip(LATENCY_BUCKETS, stats.duration_buckets):
        lines.append(f'actorgraph_run_duration_seconds_bucket{{le="{bound}"}} {count}')
    lines += [
        f'actorgraph_run_duration_seconds_bucket{{le="+Inf"}} {stats.finished}',
        f"actorgraph_run_duration_seconds_sum {stats.duration_sum}",
        f"actorgraph_run_duration_seconds_count {stats.finished}",
    ]
    lines += engine_metric_lines(c.graphs, c.checkpointer)
    cron = c.crons.statistics()
    lines += ["# HELP actorgraph_cron_firings Cron firings this process handled, by outcome.",
              "# TYPE actorgraph_cron_firings counter"]
    lines += [f'actorgraph_cron_firings{{outcome="{k}"}} {v}' for k, v in msgspec.structs.asdict(cron).items()]
    return Response("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


# ids in paths are UUIDs (as in LangGraph's spec); an assistant's path also takes a graph id
_UUID = {"type": "string", "format": "uuid"}
_PATH_PARAMS: dict[str, dict[str, Any]] = {"thread_id": _UUID, "run_id": _UUID, "checkpoint_id": _UUID, "cron_id": _UUID}


# one event of a stream (each data line is JSON text)
_SSE_EVENT = {
    "type": "object",
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}, "id": {"type": "string"}},
}


def openapi_document(endpoints: Sequence[Endpoint]) -> dict[str, Any]:
    types: list[Any] = [ErrorBody]
    for e in endpoints:
        if e.body is not None:
            types.append(e.body)
        if e.response is not None:
            types.append(e.response)
    schemas, components = msgspec.json.schema_components(types, ref_template="#/components/schemas/{name}")
    by_type = iter(schemas)
    error_schema = next(by_type)
    paths: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        body_schema = next(by_type) if e.body is not None else None
        response_schema = next(by_type) if e.response is not None else None
        params: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": _PATH_PARAMS.get(name, {"type": "string"})}
            for name in re.findall(r"{(\w+)}", e.path)
        ]
        params += [{"name": name, "in": "query", "required": False, "schema": {"type": kind}} for name, kind in e.query]
        op: dict[str, Any] = {"summary": e.summary, "operationId": f"{e.method.lower()}_{e.handler.__module__.rsplit('.', 1)[-1]}_{e.handler.__name__}"}
        if params:
            op["parameters"] = params
        if body_schema is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body_schema}}}
        responses: dict[str, Any] = {}
        if e.stream:
            responses[str(e.status)] = {"description": "Server-sent events", "content": {"text/event-stream": {"schema": _SSE_EVENT}}}
        elif response_schema is not None:
            responses[str(e.status)] = {"description": "Success", "content": {"application/json": {"schema": response_schema}}}
        else:
            responses[str(e.status)] = {"description": "Success"}
        for code, what in (("400", "Bad request"), ("404", "Not found"), ("409", "Conflict"), ("422", "Invalid input")):
            responses[code] = {"description": what, "content": {"application/json": {"schema": error_schema}}}
        op["responses"] = responses
        paths.setdefault(e.path, {})[e.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "actorgraph server (LangGraph Server API)", "version": _version("actorgraph") or "0"},
        "paths": paths,
        "components": {"schemas": components},
    }


async def openapi(request: Request) -> Response:
    return json_response(request.app.state.openapi)


_DOCS = """<!doctype html>
<html><head><meta charset="utf-8"><title>actorgraph server API</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}
h1{font-size:1.4em} details{border:1px solid #ddd;border-radius:4px;margin:.3em 0;padding:.3em .6em}
summary{cursor:pointer} .m{display:inline-block;width:4.5em;font-weight:bold;font-family:monospace}
.GET{color:#0a6}.POST{color:#07c}.PATCH{color:#a60}.PUT{color:#a0a}.DELETE{color:#c22}
pre{background:#f6f6f6;padding:.5em;overflow:auto;font-size:12px}
</style></head><body>
<h1>actorgraph server API</h1><p>Rendered from <a href="openapi.json">openapi.json</a>.</p>
<div id="ops">Loading...</div>
<script>
fetch("openapi.json").then(r => r.json()).then(doc => {
  const root = document.getElementById("ops"); root.textContent = "";
  const show = o => JSON.stringify(o, null, 2);
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const d = document.createElement("details");
      const s = document.createElement("summary");
      const m = document.createElement("span"); m.className = "m " + method.toUpperCase();
      m.textContent = method.toUpperCase(); s.append(m, " " + path + " - " + op.summary);
      const pre = document.createElement("pre");
      pre.textContent = show({parameters: op.parameters, requestBody: op.requestBody, responses: op.responses});
      d.append(s, pre); root.append(d);
    }
  }
  const h = document.createElement("h2"); h.textContent = "Schemas"; root.append(h);
  const pre = document.createElement("pre"); pre.textContent = show(doc.components.schemas); root.append(pre);
});
</script></body></html>
"""


async def docs(request: Request) -> Response:
    return HTMLResponse(_DOCS)


ENDPOINTS = (
    Endpoint(method="GET", path="/ok", handler=ok, summary="Health check", response=dict),
    Endpoint(method="GET", path="/info", handler=info, summary="Server version, flags and graphs", response=dict),
    Endpoint(method="GET", path="/metrics", handler=metrics, summary="Prometheus metrics"),
)
EXTRA = (
    Endpoint(method="GET", path="/openapi.json", handler=openapi, summary="This API's OpenAPI document"),
    Endpoint(method="GET", path="/docs", handler=docs, summary="This API's documentation page"),
)
