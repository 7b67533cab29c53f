"""``python -m benchmarks.server.scale``: P ``actorgraph serve`` processes on one Postgres
database and one Redis under a double-texting load (``load.DoubleTexting``) from many
``langgraph-sdk`` clients, then the run and checkpoint rules checked through the API
(``invariants``). Throughput and latency per process count, medians of ``--runs`` repeats;
progress to stderr, the markdown table to stdout. See benchmarks/README.md."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks import report as bench_report
from benchmarks.server import invariants
from benchmarks.server.graphs import STEPS
from benchmarks.server.cluster import Cluster, PrivatePostgres, PrivateRedis, postgres_bin, scratch_database
from benchmarks.server.load import STRATEGY_MIX, DoubleTexting
from benchmarks.server.run import ROOT, _ag_argv, _ag_env, _probe
from benchmarks.server.servers import ServerSpec, tree_cpu_seconds

__all__ = ("main", "measure")


def _mix(text: str) -> dict[str, int]:
    mix = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name not in STRATEGY_MIX or not weight.isdigit():
            raise argparse.ArgumentTypeError(f"{part!r}: want strategy=weight, strategies {', '.join(STRATEGY_MIX)}")
        mix[name] = int(weight)
    return mix


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.server.scale", description=__doc__.split("\n\n")[0])
    p.add_argument("--processes", default="1,3", help="process counts to measure, comma-separated (default 1,3)")
    p.add_argument("--runs", type=int, help="repeats per process count, fresh database each (default 3; quick 1)")
    p.add_argument("--load", type=int, help="runs per repeat (default 1000; quick 200)")
    p.add_argument("--clients", type=int, help="concurrent langgraph-sdk clients (default 50; quick 20)")
    p.add_argument("--threads", type=int, help="threads the runs share (default load/10)")
    p.add_argument("--mix", type=_mix, default=STRATEGY_MIX,
                   help="multitask_strategy weights (default enqueue=4,reject=2,interrupt=2,rollback=2)")
    p.add_argument("--step-sleep", type=float, default=0.01, help="seconds each of the graph's steps sleeps (0.01)")
    p.add_argument("--n-jobs-per-worker", type=int, default=10, help="per process (default 10)")
    p.add_argument("--postgres", metavar="URI", default="postgresql://postgres@127.0.0.1:5432/postgres",
                   help="a Postgres to make a scratch database on per repeat (default: the local one)")
    p.add_argument("--redis", metavar="URI", default="redis://127.0.0.1:6379/0", help="the Redis (default: the local one)")
    p.add_argument("--private", action="store_true",
                   help="run a throwaway redis-server and Postgres cluster of our own instead")
    p.add_argument("--sqlite", action="store_true", help="one process on its embedded SQLite (no Postgres, no Redis)")
    p.add_argument("--quick", action="store_true", help="1 repeat of 200 runs from 20 clients")
    p.add_argument("--actorgraph-python", metavar="PATH", default=sys.executable)
    p.add_argument("--actorgraph-path", metavar="DIR", help="serve the actorgraph source tree in DIR")
    p.add_argument("--actorgraph-cmd", metavar="CMD", help="command that takes `serve --port N ...`")
    p.add_argument("--json", metavar="PATH", help="also write every repeat's figures and violations here")
    args = p.parse_args(argv)
    args.runs = args.runs or (1 if args.quick else 3)
    args.load = args.load or (200 if args.quick else 1000)
    args.clients = args.clients or (20 if args.quick else 50)
    args.threads = args.threads or max(1, args.load // 10)
    args.processes = [int(x) for x in args.processes.split(",") if x]
    return args


def _percentile(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def _summary(load: DoubleTexting, facts: list[invariants.ThreadFacts], bad: list[str], cpu_s: float) -> dict[str, Any]:
    """One repeat's figures; the story of (up to 5) threads with a violation, for the JSON."""
    outcomes = Counter(a.outcome for a in load.attempts)
    statuses = Counter(r["status"] for f in facts for r in f.runs)
    created = outcomes["created"]
    lat = load.latencies()
    return {
        "seconds": load.seconds, "created": created, "runs_per_s": created / load.seconds if load.seconds else None,
        "p50_s": _percentile(lat, 0.5), "p99_s": _percentile(lat, 0.99),
        "server_cpu_per_run_s": cpu_s / created if created else None,
        "success": statuses["success"], "interrupted": statuses["interrupted"],
        "rolled_back": sum(len(f.gone) for f in facts), "rejected": outcomes["rejected"],
        "create_retries": outcomes["unknown"], "violations": len(bad), "violation_examples": bad[:20],
        "violating_threads": [invariants.explain(f, load.attempts) for f in facts if any(f.thread_id in v for v in bad)][:5],
    }  # fmt: skip


async def _drive(urls: list[str], args: argparse.Namespace, seed: int) -> tuple[DoubleTexting, list[invariants.ThreadFacts]]:
    load = DoubleTexting(urls, args.load, clients=args.clients, threads=args.threads, mix=args.mix,
                         step_sleep=args.step_sleep, seed=seed)  # fmt: skip
    await load.run()
    return load, await invariants.collect(urls[0], load.thread_ids, load.attempts)


def measure(spec: ServerSpec, processes: int, database_uri: str | None, redis_uri: str | None,
            args: argparse.Namespace, seed: int) -> dict[str, Any]:  # fmt: skip
    """One repeat: the cluster, the load, the checks."""
    with Cluster(spec, processes, database_uri=database_uri, redis_uri=redis_uri) as cluster:
        cpu0 = sum(tree_cpu_seconds(pid) for pid in cluster.pids)
        load, facts = asyncio.run(_drive(cluster.urls, args, seed))
        cpu_s = sum(tree_cpu_seconds(pid) for pid in cluster.pids) - cpu0  # the checks' reads included
        dead = [s.log_tail() for s in cluster.servers if s.proc is not None and s.proc.poll() is not None]
    bad = invariants.violations(facts, load.attempts) + [f"a server died: {tail}" for tail in dead]
    return _summary(load, facts, bad, cpu_s)


@contextlib.contextmanager
def _services(args: argparse.Namespace) -> Iterator[tuple[str | None, str | None]]:
    """(admin Postgres URI, Redis URI): the shared ones, our own throwaway ones, or none."""
    if args.sqlite:
        yield None, None
    elif args.private:
        bindir = postgres_bin()
        if bindir is None:
            raise SystemExit("--private: no /usr/lib/postgresql/*/bin/initdb on this machine")
        with PrivateRedis() as redis, PrivatePostgres(bindir) as pg:
            yield pg.uri, redis.uri
    else:
        yield args.postgres, args.redis


def _row(p: int, storage: str, reps: list[dict[str, Any]]) -> str:
    def med(key: str, scale: float = 1.0, fmt: str = "{:.1f}") -> str:
        xs = [r[key] for r in reps if r.get(key) is not None]
        return fmt.format(statistics.median(xs) * scale) if xs else "—"

    errors = sum(1 for r in reps if "error" in r)
    cells = [
        str(p), storage, med("runs_per_s"), med("p50_s", 1000, "{:.0f}"), med("p99_s", 1000, "{:.0f}"),
        med("server_cpu_per_run_s", 1000), med("created", fmt="{:.0f}"), med("success", fmt="{:.0f}"),
        med("interrupted", fmt="{:.0f}"), med("rolled_back", fmt="{:.0f}"), med("rejected", fmt="{:.0f}"),
        str(sum(r.get("violations", 0) for r in reps)) + (f" ({errors} repeats failed)" if errors else ""),
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def markdown(results: dict[str, list[dict[str, Any]]], info: dict[str, Any]) -> str:
    cfg = info["config"]
    lines = [
        "# actorgraph serve: processes on one database, double-texting load",
        "",
        f"{info['date']}; {info['cpu_count']} CPUs ({info['cpu_model']}); load average {info['loadavg_start']} "
        f"at start, {info['loadavg_end']} at end; {info['actorgraph_git']}",
        f"Per repeat: {cfg['load']} runs of a {cfg['steps']}-step graph ({cfg['step_sleep'] * 1000:g} ms per step) from "
        f"{cfg['clients']} clients on {cfg['threads']} shared threads, multitask_strategy mix {cfg['mix']}; "
        f"{cfg['n_jobs']} jobs per process; medians of {cfg['runs']} repeats; services: {info['services']}.",
        "",
        "| processes | storage | runs/s | p50 ms | p99 ms | server CPU ms/run | created | success | interrupted "
        "| rolled back | rejected 409 | violations |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for key, reps in results.items():
        p, storage = key.split(":")
        lines.append(_row(int(p), storage, reps))
    lines += [
        "",
        "runs/s: runs created / seconds from the first create to the last run final. Latency: a run's "
        "create to its `runs.join` answer (queueing behind its thread's other runs included). Server CPU: "
        "user + system of every server process over the load and the checks, per run created.",
    ]
    examples = [v for reps in results.values() for r in reps for v in r.get("violation_examples", [])]
    errors = [r["error"] for reps in results.values() for r in reps if "error" in r]
    if examples or errors:
        lines += ["", "Violations and failures (first ones):", ""] + [f"- {x}" for x in (errors + examples)[:20]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    env, ag_argv = _ag_env(args.actorgraph_path), _ag_argv(args)
    ok, out = _probe([*ag_argv, "serve", "--help"], env)
    if not ok:
        print(f"`{' '.join(ag_argv)} serve` unavailable: {out[:300]}", file=sys.stderr)
        return 2
    if not args.sqlite and "--database-uri" not in out:
        print("this actorgraph serve has no --database-uri: one process on SQLite only (--sqlite)", file=sys.stderr)
        args.sqlite = True
    if args.sqlite and args.processes != [1]:
        print("--sqlite: one process only (an embedded database is one process's)", file=sys.stderr)
        args.processes = [1]
    storage = "sqlite" if args.sqlite else "postgres+redis"
    spec = ServerSpec("ag", ag_argv, env, args.n_jobs_per_worker)
    info: dict[str, Any] = bench_report.machine_info(ROOT, args.actorgraph_path)
    info["config"] = {"load": args.load, "clients": args.clients, "threads": args.threads, "mix": args.mix,
                      "step_sleep": args.step_sleep, "steps": STEPS, "n_jobs": args.n_jobs_per_worker, "runs": args.runs}  # fmt: skip
    info["services"] = "embedded SQLite" if args.sqlite else (
        "a private redis-server and Postgres cluster" if args.private else f"{args.postgres} (scratch database per repeat), {args.redis}"
    )  # fmt: skip
    results: dict[str, list[dict[str, Any]]] = {f"{p}:{storage}": [] for p in args.processes}
    try:
        with _services(args) as (admin, redis):
            for rep in range(args.runs):
                order = args.processes if rep % 2 == 0 else list(reversed(args.processes))
                for p in order:
                    t0 = time.perf_counter()
                    try:
                        with contextlib.ExitStack() as stack:
                            db = None if admin is None else stack.enter_context(scratch_database(admin))
                            res = measure(spec, p, db, redis, args, seed=rep)
                    except Exception as exc:  # a server that did not start, a load that broke: recorded
                        res = {"error": f"{type(exc).__name__}: {exc}"[:1500]}
                    results[f"{p}:{storage}"].append(res)
                    _progress(p, rep, args.runs, res, time.perf_counter() - t0)
    except KeyboardInterrupt:
        info["interrupted"] = True
    info["loadavg_end"] = bench_report.loadavg()
    print(markdown(results, info))
    if args.json:
        Path(args.json).write_text(json.dumps({"info": info, "results": results}, indent=1))
        print(f"wrote {args.json}", file=sys.stderr)
    failed = any("error" in r or r["violations"] for reps in results.values() for r in reps)
    return 1 if failed else 0


def _progress(p: int, rep: int, runs: int, res: dict[str, Any], wall: float) -> None:
    head = f"P={p} repeat {rep + 1}/{runs} ({wall:.0f} s)"
    if "error" in res:
        print(f"{head}: ERROR {res['error'][:600]}", file=sys.stderr)
        return
    print(
        f"{head}: {res['runs_per_s']:.1f} runs/s, p50 {res['p50_s'] * 1000:.0f} ms, p99 {res['p99_s'] * 1000:.0f} ms, "
        f"{res['success']} success / {res['interrupted']} interrupted / {res['rolled_back']} rolled back / "
        f"{res['rejected']} rejected, {res['violations']} violations", file=sys.stderr,
    )  # fmt: skip
    for v in res["violation_examples"][:5]:
        print(f"  {v}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
