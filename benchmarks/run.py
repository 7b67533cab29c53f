"""Run the benchmarks side by side: ``python -m benchmarks`` (or ``python benchmarks/run.py``).

Every measurement is a fresh subprocess (``benchmarks.worker``) per (library, scenario,
repetition); repetitions go round-robin over the scenarios with the libraries interleaved
(ag, lg, ag, lg, ...), so a noisy spell on the machine hits both sides alike. Progress goes
to stderr, the markdown report to stdout. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import report
from benchmarks.registry import REGISTRY, Scenario, select
from benchmarks.report import LIB_NAMES, fmt_seconds

ROOT = Path(__file__).resolve().parent.parent


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the same graph code on actorgraph and LangGraph and compare.",
    )
    p.add_argument(
        "--scenarios", default="",
        help="comma-separated names, fnmatch patterns or groups (core, issue6); default: all",
    )
    p.add_argument("--runs", type=int, help="runs per scenario per library (default 5, quick 2)")
    p.add_argument("--quick", action="store_true", help="small sizes and 2 runs: a smoke test")
    p.add_argument("--json", metavar="PATH", help="also write every sample and summary here")
    p.add_argument(
        "--langgraph-python", metavar="PATH",
        help="interpreter with langgraph installed (default: this one if it imports langgraph, "
        "else $LANGGRAPH_PYTHON)",
    )
    p.add_argument(
        "--actorgraph-python", metavar="PATH",
        help="interpreter with actorgraph's dependencies (default: this one if it imports "
        "actorgraph, else $ACTORGRAPH_PYTHON)",
    )
    p.add_argument(
        "--actorgraph-path", metavar="DIR",
        help="benchmark the actorgraph source tree in DIR (e.g. a git worktree of another "
        "commit) instead of the installed one",
    )
    p.add_argument("--libs", default="ag,lg", help="which sides to run (default: ag,lg)")
    p.add_argument(
        "--mem", choices=["tracemalloc", "rss"], default="tracemalloc",
        help="peak memory: tracemalloc peak of an extra traced run (default) or the ru_maxrss "
        "growth of the timed run (faster: no extra run)",
    )
    p.add_argument("--no-warmup", action="store_true", help="time a cold first run instead")
    p.add_argument("--timeout", type=float, default=600, help="seconds per subprocess")
    p.add_argument("--list", action="store_true", help="list scenarios and exit")
    return p.parse_args(argv)


def _find_python(lib: str, given: str | None, env_var: str) -> tuple[str | None, str]:
    """The interpreter for one side, and how it was found."""
    if given:
        return given, "command line"
    if importlib.util.find_spec(LIB_NAMES[lib]) is not None:
        return sys.executable, "this interpreter"
    if os.environ.get(env_var):
        return os.environ[env_var], f"${env_var}"
    return None, f"not importable here and ${env_var} is not set"


def worker_env(lib: str, actorgraph_path: str | None) -> dict[str, str]:
    paths = [str(ROOT)]
    if lib == "ag" and actorgraph_path:
        # PYTHONPATH precedes site-packages, so this tree shadows an editable install.
        paths.insert(0, str(Path(actorgraph_path).resolve()))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def run_worker(python: str, lib: str, args: list[str], env: dict[str, str], timeout: float) -> dict:
    """Run ``benchmarks.worker`` once; a crash or timeout becomes a result, not an exception."""
    with tempfile.TemporaryDirectory(prefix="agbench-") as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [python, "-m", "benchmarks.worker", "--lib", lib, "--out", out, *args]
        try:
            # cwd is the empty temp dir: ``-m`` puts cwd first on sys.path, and the repo root
            # there would shadow --actorgraph-path.
            proc = subprocess.run(
                cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return {"status": "timeout", "error": f"no result after {timeout:g} s"}
        except OSError as exc:
            return {"status": "error", "error": f"cannot start {python}: {exc}"}
        if os.path.exists(out) and os.path.getsize(out):
            with open(out) as f:
                return json.load(f)
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        code = proc.returncode
        how = f"killed by signal {-code}" if code < 0 else f"exit {code}"
        return {"status": "crashed", "error": f"{how}: {tail or '(no output)'}"}


def _list(probes: dict[str, dict]) -> None:
    for s in REGISTRY.values():
        missing = [
            f"{lib} lacks {r}" for lib, p in probes.items() for r in s.requires
            if p["features"].get(r)
        ]
        state = f"  (skipped: {'; '.join(missing)})" if missing else ""
        print(f"{s.name:30} {s.group:7} n={s.n:<6} quick={s.quick_n:<5} "
              f"requires={','.join(s.requires)}{state}\n    {s.title}")


class _Sides:
    """The interpreters found for each library, what they can import, and why one is missing."""

    def __init__(self) -> None:
        self.pythons: dict[str, str] = {}
        self.probes: dict[str, dict[str, Any]] = {}
        self.info: dict[str, Any] = {}
        self.not_run: dict[str, str] = {}


def _resolve_sides(args: argparse.Namespace) -> _Sides:
    sides = _Sides()
    wanted = [x for x in args.libs.split(",") if x]
    for lib, given, env_var in (
        ("ag", args.actorgraph_python, "ACTORGRAPH_PYTHON"),
        ("lg", args.langgraph_python, "LANGGRAPH_PYTHON"),
    ):
        if lib not in wanted:
            continue
        python, how = _find_python(lib, given, env_var)
        if python is None:
            sides.not_run[lib] = f"no interpreter ({how})"
            print(f"{LIB_NAMES[lib]}: {sides.not_run[lib]}; that side is skipped",
                  file=sys.stderr)
            continue
        probe = run_worker(python, lib, ["--probe"], worker_env(lib, args.actorgraph_path), 120)
        if "features" not in probe or probe["features"].get("graph"):
            why = probe.get("error") or probe.get("features", {}).get("graph")
            sides.not_run[lib] = f"unusable with {python}: {why}"
            flag = "--actorgraph-python" if lib == "ag" else "--langgraph-python"
            print(f"{LIB_NAMES[lib]}: {sides.not_run[lib]} (point {flag} or ${env_var} at an "
                  "interpreter that has it)", file=sys.stderr)
            continue
        sides.pythons[lib], sides.probes[lib] = python, probe
        sides.info[lib] = {
            "python": python, "found_by": how, "python_version": probe["python"],
            "versions": probe["versions"], "features": probe["features"],
            "package_dir": probe["package_dir"], "package_version": probe["package_version"],
        }
    return sides


def _plan(
    chosen: list[Scenario], sides: _Sides, quick: bool
) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], Scenario]]]:
    """A report row per scenario; the active ones are those actorgraph can import."""
    rows: list[dict[str, Any]] = []
    active: list[tuple[dict[str, Any], Scenario]] = []
    for s in chosen:
        row: dict[str, Any] = {
            "name": s.name, "title": s.title, "group": s.group, "unit": s.unit,
            "n": s.quick_n if quick else s.n, "requires": list(s.requires),
            "samples": {lib: [] for lib in sides.pythons}, "unavailable": {},
        }
        rows.append(row)
        gaps = {
            lib: [r for r in s.requires if probe["features"].get(r)]
            for lib, probe in sides.probes.items()
        }
        if gaps.get("ag"):
            # A feature actorgraph does not have yet: skip both sides; it is not a failure.
            row["skipped"] = f"actorgraph lacks {', '.join(gaps['ag'])}"
            continue
        for lib, gap in gaps.items():
            if gap:
                row["unavailable"][lib] = f"lacks {', '.join(gap)}"
        active.append((row, s))
    return rows, active


def _execute(
    active: list[tuple[dict[str, Any], Scenario]], sides: _Sides, runs: int,
    args: argparse.Namespace,
) -> None:
    """Round-robin: run 1 of every scenario, then run 2, ...; within a scenario ag then lg."""
    total = runs * sum(len(sides.pythons) - len(row["unavailable"]) for row, _ in active)
    print(f"{len(active)} scenarios x {runs} runs x {sorted(sides.pythons)} "
          f"= {total} subprocesses", file=sys.stderr)
    done = 0
    for rep in range(runs):
        for row, s in active:
            for lib in ("ag", "lg"):
                if lib not in sides.pythons or lib in row["unavailable"]:
                    continue
                extra = ["--scenario", s.name, "--n", str(row["n"]), "--mem", args.mem]
                if args.no_warmup:
                    extra.append("--no-warmup")
                res = run_worker(sides.pythons[lib], lib, extra,
                              worker_env(lib, args.actorgraph_path), args.timeout)
                row["samples"][lib].append(res)
                done += 1
                status = res.get("status")
                shown = fmt_seconds(res["seconds"]) if status == "ok" else str(status).upper()
                detail = "" if status == "ok" else f"  {res.get('error', '')[:200]}"
                print(f"[{done}/{total}] run {rep + 1}/{runs} {s.name:28} {lib} "
                      f"{shown:>10}{detail}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    import benchmarks.scenarios  # noqa: F401  (registers scenarios)

    sides = _resolve_sides(args)
    if "ag" not in sides.pythons and "ag" in args.libs.split(","):
        return 2
    if args.list:
        _list(sides.probes)
        return 0
    try:
        chosen = select([x for x in args.scenarios.split(",") if x])
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    runs = args.runs or (2 if args.quick else 5)
    rows, active = _plan(chosen, sides, args.quick)

    info = report.machine_info(ROOT, args.actorgraph_path)
    info.update(sides=sides.info, not_run=sides.not_run, config={
        "runs": runs, "quick": args.quick, "mem": args.mem, "warmup": not args.no_warmup,
        "scenarios": [r["name"] for r in rows],
    })
    try:
        _execute(active, sides, runs, args)
    except KeyboardInterrupt:
        info["interrupted"] = True
    info["loadavg_end"] = report.loadavg()

    for row in rows:
        if not row.get("skipped"):
            row["summary"] = report.summarize(row["samples"], args.mem)
    print(report.markdown(rows, info))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "results": rows}, f, indent=1)
        print(f"wrote {args.json}", file=sys.stderr)
    failed = any(
        side.get("failure") for row in rows if "summary" in row
        for side in row["summary"]["sides"].values()
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
