"""Memory stability: ``python -m benchmarks.memory``.

10,000 sequential invokes of a small graph on one thread, with a checkpointer, in a fresh
process per configuration:

- ``memory``: ``InMemorySaver``, history kept. Memory grows with the stored checkpoints;
  once the thread is deleted, what stays above the starting point is a leak.
- ``memory+prune``: ``InMemorySaver``, ``prune(keep_last=1)`` every 100 invokes: flat.
- ``sqlite``: ``SqliteSaver`` on a file, history kept: the history is on disk, the
  process stays flat.
- ``sqlite+prune``: the same, pruned every 100 invokes: the file stays small too.

Memory is the Python heap (``tracemalloc`` current, after a collection) and the process
RSS, sampled every 1,000 invokes, as growth since the first invoke. A configuration
passes when the heap grows by at most ``LIMIT_MB`` from its first sample to its last
(``memory`` keeps every checkpoint in the heap, so it grows: it passes when deleting the
thread gives all but ``LIMIT_MB`` back, i.e. the growth was the stored checkpoints). The
exit status is 1 when any configuration fails.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any, TypedDict

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ("memory", "memory+prune", "sqlite", "sqlite+prune")
LIMIT_MB = 1.0
SAMPLE_EVERY = 1000
PRUNE_EVERY = 100


class State(TypedDict):
    count: int
    note: str


def _build(checkpointer: Any) -> Any:
    from actorgraph.graph import START, StateGraph

    def step(s: State) -> dict[str, Any]:
        return {"count": s["count"] + 1, "note": f"visited {s['count'] + 1:08d} " + "x" * 80}

    g = StateGraph(State)
    prev = START
    for name in ("a", "b", "c"):
        g.add_node(name, step)
        g.add_edge(prev, name)
        prev = name
    return g.compile(checkpointer=checkpointer)


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:  # not Linux: the peak is the best we have
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def _heap_mb() -> float:
    gc.collect()
    return tracemalloc.get_traced_memory()[0] / 1e6


def child(config: str, n: int) -> dict[str, Any]:
    """Run one configuration in this process; return its samples and verdict."""
    from actorgraph.checkpoint.memory import InMemorySaver
    from actorgraph.checkpoint.sqlite import SqliteSaver

    tmp = tempfile.mkdtemp(prefix="ag-mem-")
    db = os.path.join(tmp, "checkpoints.sqlite")
    opened = None
    if config.startswith("memory"):
        saver: Any = InMemorySaver()
    else:
        opened = SqliteSaver.from_conn_string(db)
        saver = opened.__enter__()
    prune = config.endswith("+prune")
    graph = _build(saver)
    cfg = {"configurable": {"thread_id": "t"}}
    # warm up on another thread (imports, caches), then start counting
    graph.invoke({"count": 0, "note": ""}, {"configurable": {"thread_id": "warm-up"}})
    saver.delete_thread("warm-up")
    tracemalloc.start()
    base_heap, base_rss = _heap_mb(), _rss_mb()
    samples = []
    start = time.perf_counter()
    for i in range(1, n + 1):
        out = graph.invoke({"count": 0, "note": ""}, cfg)
        if out["count"] != 3:
            raise AssertionError(f"invoke {i}: {out!r}")
        if prune and i % PRUNE_EVERY == 0:
            saver.prune(["t"], keep_last=1)
        if i % SAMPLE_EVERY == 0 or i == 1:
            samples.append({"invokes": i, "heap_mb": _heap_mb() - base_heap, "rss_mb": _rss_mb() - base_rss})
    elapsed = time.perf_counter() - start
    checkpoints = len(list(saver.list(cfg)))
    result: dict[str, Any] = {
        "config": config,
        "invokes": n,
        "seconds": elapsed,
        "checkpoints": checkpoints,
        "samples": samples,
        "db_mb": os.path.getsize(db) / 1e6 if os.path.exists(db) else None,
    }
    growth = samples[-1]["heap_mb"] - samples[0]["heap_mb"]
    result["growth_mb"] = growth
    if config == "memory":
        saver.delete_thread("t")
        result["after_delete_mb"] = _heap_mb() - base_heap
        result["ok"] = result["after_delete_mb"] - samples[0]["heap_mb"] <= LIMIT_MB
    else:
        result["ok"] = growth <= LIMIT_MB
    if opened is not None:
        opened.__exit__(None, None, None)
    return result


def _table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| configuration | invokes | time | checkpoints kept | heap MB after 1 invoke, then every 1,000 | "
        "heap growth MB | RSS growth MB | SQLite file MB | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['config']} | | | | | | | | error: {r['error']} |")
            continue
        heap = " ".join(f"{s['heap_mb']:.2f}" for s in r["samples"])
        verdict = "ok" if r["ok"] else "GROWS"
        if "after_delete_mb" in r:
            verdict += f": the growth is the stored checkpoints (heap after delete_thread: {r['after_delete_mb']:.2f} MB)"
        db = f"{r['db_mb']:.1f}" if r["db_mb"] is not None else "-"
        lines.append(
            f"| {r['config']} | {r['invokes']:,} | {r['seconds']:.1f} s | {r['checkpoints']:,} | {heap} | "
            f"{r['growth_mb']:.2f} | {r['samples'][-1]['rss_mb']:.1f} | {db} | {verdict} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__.split("\n\n")[0])
    p.add_argument("--invokes", type=int, default=10_000)
    p.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated, of {', '.join(CONFIGS)}")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.invokes)))
        return 0
    results = []
    for config in args.configs.split(","):
        if config not in CONFIGS:
            p.error(f"unknown configuration {config!r}; expected one of {', '.join(CONFIGS)}")
        print(f"[memory] {config}: {args.invokes:,} invokes ...", file=sys.stderr, flush=True)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.memory", "--child", config, "--invokes", str(args.invokes)],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        if proc.returncode != 0:
            results.append({"config": config, "error": proc.stderr.strip().splitlines()[-1:] or proc.returncode})
            continue
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(f"## Memory stability — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print(_table(results))
    return 0 if all(r.get("ok") for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
