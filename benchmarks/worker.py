"""One measurement, in a fresh interpreter: ``python -m benchmarks.worker --lib ag --scenario X``.

The orchestrator (``benchmarks.run``) starts one of these per (library, scenario, repetition)
and reads the JSON it writes to ``--out``. Sequence, per process:

1. import the library (timed separately, reported as ``import_s``);
2. warm-up: build and run a small instance of the scenario (``warm_n``), check it — this loads
   lazily imported code paths, so the timed run measures the engine, not the importer;
3. build the measured instance (untimed: graph construction and ``compile()``), ``gc.collect()``,
   then time ``run()`` alone with ``perf_counter`` — async scenarios are timed inside the
   event loop, so loop start-up is not counted — and check the result; on actorgraph, read
   the engine's ``statistics()`` of the timed instance's graphs (``engine``);
4. memory (``--mem tracemalloc``, the default): drop the measured instance, build a fresh one,
   and run it again under ``tracemalloc``; its peak is the run's peak Python heap. Tracing slows
   Python allocations several-fold, so it never overlaps the timed run.
   ``ru_maxrss`` before and after the timed run is recorded as well (``rss_delta_mb``): the
   growth of the process's peak resident set during the timed run, allocator effects included.

``--probe`` instead reports which shim features the library can import, and its versions.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import resource
import sys
import time
import traceback
from importlib import metadata
from typing import Any

from benchmarks.registry import REGISTRY, Case, CheckFailed, Scenario
from benchmarks.shim import DISTRIBUTIONS, Api

MB = 1024 * 1024


def _maxrss_mb() -> float:
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / MB if sys.platform == "darwin" else rss / 1024


def _run_case(case: Case) -> tuple[float, Any]:
    """Run ``case`` once; return (seconds, result). Async runs are timed inside the loop."""
    if case.is_async:
        async def timed() -> tuple[float, Any]:
            t0 = time.perf_counter()
            result = await case.run()
            return time.perf_counter() - t0, result

        return asyncio.run(timed())
    t0 = time.perf_counter()
    result = case.run()
    return time.perf_counter() - t0, result


def _finish(case: Case, result: Any) -> None:
    try:
        case.check(result)
    finally:
        if case.close is not None:
            case.close()


def engine_statistics(case: Case) -> dict[str, int] | None:
    """actorgraph's ``statistics()`` of the case's graphs and their subgraphs, over the
    runs so far: counters summed, ``peak_workers`` the highest. ``None`` when the
    library has none (LangGraph) or the case names no graph."""
    graphs: list[Any] = []
    for graph in case.graphs:
        graphs.append(graph)
        if hasattr(graph, "get_subgraphs"):
            graphs.extend(sub for _, sub in graph.get_subgraphs(recurse=True))
    stats = [g.statistics() for g in graphs if callable(getattr(g, "statistics", None))]
    if not stats:
        return None
    out: dict[str, int] = {}
    for st in stats:
        for name in st.__struct_fields__:
            value = getattr(st, name)
            out[name] = max(out.get(name, 0), value) if name.startswith("peak_") else out.get(name, 0) + value
    return out


def measure(scn: Scenario, api: Api, n: int, warmup: bool, mem: str) -> dict[str, Any]:
    out: dict[str, Any] = {"n": n}
    if warmup:
        warm = scn.build(api, scn.warm_n)
        _, result = _run_case(warm)
        try:
            _finish(warm, result)
        except CheckFailed as exc:
            raise CheckFailed(f"warm-up (n={scn.warm_n}): {exc}") from None
        del warm, result

    t0 = time.perf_counter()
    case = scn.build(api, n)
    out["build_s"] = time.perf_counter() - t0
    out["units"] = case.units or n
    gc.collect()
    rss0 = _maxrss_mb()
    out["seconds"], result = _run_case(case)
    out["rss_delta_mb"] = _maxrss_mb() - rss0
    if api.lib == "ag":
        # read before the check: it may read state back, which is not a run
        out["engine"] = engine_statistics(case)
    _finish(case, result)
    del case, result

    if mem == "tracemalloc":
        import tracemalloc

        case = scn.build(api, n)
        gc.collect()
        tracemalloc.start()
        try:
            traced_s, result = _run_case(case)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        _finish(case, result)
        out["py_peak_mb"] = peak / MB
        out["traced_s"] = traced_s
    out["rss_peak_mb"] = _maxrss_mb()
    return out


def probe(lib: str) -> dict[str, Any]:
    api = Api(lib)
    versions: dict[str, str | None] = {}
    for dist in DISTRIBUTIONS[lib]:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    features = api.probe()  # imports the package when it can
    package = sys.modules.get(api.package)
    return {
        "lib": lib,
        "features": features,
        # a namespace package (langgraph) has no __file__; its first __path__ entry will do
        "package_dir": next(iter(getattr(package, "__path__", None) or []), None),
        "package_version": getattr(package, "__version__", None),
        "versions": versions,
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lib", required=True, choices=["ag", "lg"])
    p.add_argument("--scenario")
    p.add_argument("--n", type=int, help="size (default: the scenario's full size)")
    p.add_argument("--no-warmup", action="store_true")
    p.add_argument("--mem", choices=["tracemalloc", "rss"], default="tracemalloc")
    p.add_argument("--probe", action="store_true")
    p.add_argument("--out", help="write the JSON result here (default: stdout)")
    args = p.parse_args(argv)

    if args.probe:
        report: dict[str, Any] = probe(args.lib)
    else:
        import benchmarks.scenarios  # noqa: F401  (registers scenarios)

        scn = REGISTRY[args.scenario]
        report = {"lib": args.lib, "scenario": scn.name}
        try:
            t0 = time.perf_counter()
            api = Api(args.lib).load(scn.requires)
            report["import_s"] = time.perf_counter() - t0
            report.update(
                measure(scn, api, args.n or scn.n, warmup=not args.no_warmup, mem=args.mem)
            )
            report["status"] = "ok"
        except CheckFailed as exc:
            report.update(status="check_failed", error=str(exc))
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001  (any failure is a result to report)
            report.update(
                status="error",
                error=f"{type(exc).__name__}: {exc}"[:500],
                traceback=traceback.format_exc()[-4000:],
            )
    text = json.dumps(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
