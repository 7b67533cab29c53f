"""``python -m benchmarks.server``: ``langgraph dev`` and ``actorgraph dev`` under the same
``langgraph-sdk`` load, one after the other, each a fresh server on a free loopback port in a
temp folder. Progress to stderr, the markdown table to stdout. See benchmarks/README.md."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import report as bench_report
from benchmarks.server import load, report
from benchmarks.server.graphs import GRAPH_ID
from benchmarks.server.servers import (
    QUIET_ENV, RssSampler, Server, ServerSpec, tree_cpu_seconds, tree_pids, tree_rss_bytes,
)  # fmt: skip

ROOT = Path(__file__).resolve().parents[2]
NAMES = {"lg": "langgraph", "ag": "actorgraph"}
MIB = 1024 * 1024

_LG_VERSIONS = """\
import importlib.metadata as m
print(", ".join(f"{d} {m.version(d)}" for d in
      ("langgraph", "langgraph-api", "langgraph-cli", "langgraph-runtime-inmem")))
"""


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.server",
        description="langgraph dev vs actorgraph dev under the same langgraph-sdk load.",
    )
    p.add_argument("--langgraph-python", metavar="PATH",
                   help="interpreter with langgraph-cli[inmem] (default: $LANGGRAPH_PYTHON, else "
                   "/root/venvs/lgapi/bin/python if present)")  # fmt: skip
    p.add_argument("--actorgraph-python", metavar="PATH", default=sys.executable,
                   help="interpreter for actorgraph dev (default: this one)")
    p.add_argument("--actorgraph-path", metavar="DIR",
                   help="serve the actorgraph source tree in DIR (default: this checkout)")
    p.add_argument("--actorgraph-cmd", metavar="CMD",
                   help="command that takes `dev --port N --config F ...` (default: the "
                   "`actorgraph` script beside --actorgraph-python, else `PY -m actorgraph.server.cli`)")
    p.add_argument("--libs", default="lg,ag", help="sides to run, in order (default: lg,ag)")
    p.add_argument("--runs", type=int, help="fresh servers per side (default 3; quick 1)")
    p.add_argument("--streams", type=int, help="timed streams per server (default 10; quick 3)")
    p.add_argument("--idle", type=float, default=1.0,
                   help="seconds the server idles before each stream (up to 1.5x; default 1)")
    p.add_argument("--bg-runs", type=int, help="background runs per server (default 200; quick 40)")
    p.add_argument("--concurrency", type=int, default=20, help="background runs in flight (20)")
    p.add_argument("--n-jobs-per-worker", type=int, default=10,
                   help="passed to both servers (default 10; 0: don't pass it, each server's "
                   "own default, which is 1 for langgraph dev)")
    p.add_argument("--quick", action="store_true", help="1 run, 3 streams, 40 background runs")
    p.add_argument("--phase-timeout", type=float, default=600, help="seconds per load phase")
    p.add_argument("--json", metavar="PATH", help="also write every sample and summary here")
    return p.parse_args(argv)


def _lg_python(given: str | None) -> str | None:
    if given:
        return given
    if os.environ.get("LANGGRAPH_PYTHON"):
        return os.environ["LANGGRAPH_PYTHON"]
    default = Path("/root/venvs/lgapi/bin/python")
    return str(default) if default.exists() else None


def _ag_env(actorgraph_path: str | None) -> dict[str, str]:
    paths = [str(Path(actorgraph_path).resolve())] if actorgraph_path else []
    paths.append(str(ROOT))
    old = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": os.pathsep.join(paths + ([old] if old else []))}


def _ag_argv(args: argparse.Namespace) -> tuple[str, ...]:
    if args.actorgraph_cmd:
        return tuple(shlex.split(args.actorgraph_cmd))
    script = Path(args.actorgraph_python).parent / "actorgraph"
    if script.exists():
        return (str(script),)
    return (args.actorgraph_python, "-m", "actorgraph.server.cli")


def _probe(argv: list[str], env: dict[str, str], timeout: float = 120) -> tuple[bool, str]:
    """Run ``argv``; (ok, its output or why it failed)."""
    try:
        proc = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True,
                              timeout=timeout, cwd="/")  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    text = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        return False, " | ".join(text.splitlines()[-3:]) or f"exit {proc.returncode}"
    return True, text


def _specs(args: argparse.Namespace, info: dict[str, Any]) -> dict[str, ServerSpec]:
    """The sides that can run; why the others can't goes to ``info["not_run"]``."""
    n_jobs = args.n_jobs_per_worker or None
    specs: dict[str, ServerSpec] = {}
    for lib in [x for x in args.libs.split(",") if x]:
        if lib == "lg":
            python = _lg_python(args.langgraph_python)
            if python is None:
                info["not_run"]["langgraph"] = "no interpreter (--langgraph-python / $LANGGRAPH_PYTHON)"
                continue
            ok, out = _probe([python, "-c", _LG_VERSIONS], QUIET_ENV)
            if not ok:
                info["not_run"]["langgraph"] = f"{python} lacks langgraph-cli[inmem]: {out}"
                continue
            info["sides"]["langgraph"] = f"`{python} -m langgraph_cli dev`; {out}"
            specs[lib] = ServerSpec("lg", (python, "-m", "langgraph_cli"), dict(QUIET_ENV), n_jobs)
        elif lib == "ag":
            env, argv = _ag_env(args.actorgraph_path), _ag_argv(args)
            ok, out = _probe([*argv, "dev", "--help"], env)
            if not ok:
                info["not_run"]["actorgraph"] = (
                    f"`{' '.join(argv)} dev` unavailable ({out[:300]}); --libs lg runs LangGraph alone"
                )
                continue
            source = Path(args.actorgraph_path) if args.actorgraph_path else ROOT
            info["sides"]["actorgraph"] = (
                f"`{' '.join(argv)} dev`; source {source}: {bench_report.git_describe(source)}"
            )
            specs[lib] = ServerSpec("ag", argv, env, n_jobs)
        else:
            raise SystemExit(f"unknown side {lib!r} in --libs (lg, ag)")
    return specs


def _run_once(spec: ServerSpec, args: argparse.Namespace) -> dict[str, Any]:
    """One fresh server: start-up, idle RSS, the streams, the background runs, peak RSS."""
    out: dict[str, Any] = {"status": "error"}
    try:
        with Server(spec) as server:
            out["startup_s"] = server.startup_s
            time.sleep(1.0)  # let start-up work (imports, first GC) settle
            out["rss_idle_mb"] = tree_rss_bytes(server.pid) / MIB
            with RssSampler(server.pid) as rss:
                out["first"] = asyncio.run(asyncio.wait_for(
                    load.first_events(server.url, args.streams, args.idle), args.phase_timeout))
                # the server tree's CPU around the background runs; the client's is this
                # process's CPU without the RSS sampler's thread
                cpu0, procs0 = tree_cpu_seconds(server.pid), len(tree_pids(server.pid))
                out["throughput"] = asyncio.run(asyncio.wait_for(load.throughput(
                    server.url, args.bg_runs, args.concurrency,
                    cpu_clock=lambda: time.process_time() - rss.cpu_s), args.phase_timeout))
                cpu1 = tree_cpu_seconds(server.pid)
                time.sleep(1.0)  # work left after the last join (or idle polling): JSON only
                out["server_cpu"] = {
                    "cpu_s": cpu1 - cpu0, "next_1s_cpu_s": tree_cpu_seconds(server.pid) - cpu1,
                    "processes_before": procs0, "processes_after": len(tree_pids(server.pid)),
                }  # fmt: skip
                out["rss_peak_mb"] = rss.peak / MIB
            out["rss_after_mb"] = tree_rss_bytes(server.pid) / MIB
            out["status"] = "ok"
            if server.proc is not None and server.proc.poll() is not None:
                out.update(status="error", error=f"server died: {server.log_tail()}")
    except Exception as exc:  # start-up, a wrong stream, a timeout, an HTTP error: recorded
        out["error"] = f"{type(exc).__name__}: {exc}"
    return out


def _progress(lib: str, rep: int, runs: int, res: dict[str, Any]) -> None:
    if res["status"] != "ok":
        print(f"run {rep}/{runs} {NAMES[lib]}: ERROR {res.get('error', '')[:400]}", file=sys.stderr)
        return
    firsts = sorted(s["first_event_s"] for s in res["first"]["samples"])
    med = firsts[len(firsts) // 2] * 1000 if firsts else float("nan")
    tp, cpu = res["throughput"], res["server_cpu"]
    print(
        f"run {rep}/{runs} {NAMES[lib]}: start-up {res['startup_s']:.2f} s, first event ~{med:.1f} ms, "
        f"{tp['runs_per_s']:.1f} runs/s ({len(tp['wrong'])} wrong), CPU per run: server "
        f"{cpu['cpu_s'] / tp['runs'] * 1000:.1f} ms ({cpu['processes_after']} processes; "
        f"{cpu['next_1s_cpu_s'] * 1000:.0f} ms in the next second), client "
        f"{tp['client_cpu_s'] / tp['runs'] * 1000:.1f} ms, RSS idle "
        f"{res['rss_idle_mb']:.0f} / peak {res['rss_peak_mb']:.0f} MiB",
        file=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    args.runs = args.runs or (1 if args.quick else 3)
    args.streams = args.streams or (3 if args.quick else 10)
    args.bg_runs = args.bg_runs or (40 if args.quick else 200)
    info: dict[str, Any] = bench_report.machine_info(ROOT, args.actorgraph_path)
    info.update(sides={}, not_run={}, graph=GRAPH_ID, config={
        "runs": args.runs, "streams": args.streams, "idle_s": args.idle, "bg_runs": args.bg_runs,
        "concurrency": args.concurrency, "n_jobs_per_worker": args.n_jobs_per_worker or None,
    })  # fmt: skip
    try:
        import importlib.metadata as md

        info["sdk_version"] = md.version("langgraph-sdk")
    except Exception:  # noqa: BLE001 (the header only)
        info["sdk_version"] = "?"
    specs = _specs(args, info)
    for name, why in info["not_run"].items():
        print(f"{name}: not run, {why}", file=sys.stderr)
    if not specs:
        return 2
    results: dict[str, list[dict[str, Any]]] = {lib: [] for lib in specs}
    try:
        for rep in range(1, args.runs + 1):
            order = list(specs) if rep % 2 else list(reversed(specs))
            for lib in order:
                res = _run_once(specs[lib], args)
                results[lib].append(res)
                _progress(lib, rep, args.runs, res)
    except KeyboardInterrupt:
        info["interrupted"] = True
    info["loadavg_end"] = bench_report.loadavg()
    summary = {lib: report.summarize(runs) for lib, runs in results.items()}
    print(report.markdown(summary, info))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "summary": summary, "results": results}, f, indent=1)
        print(f"wrote {args.json}", file=sys.stderr)
    if info["not_run"]:
        return 2  # a side that was asked for could not run
    return 1 if any(s["failures"] or s["wrong"] for s in summary.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
