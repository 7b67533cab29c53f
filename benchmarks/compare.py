"""``python -m benchmarks.compare --base REV``: this actorgraph against an earlier one, on the
same machine in the same minutes.

Ratios against LangGraph move from machine to machine, so "is a scenario slower than it was
at commit X?" is answered by timing X's engine beside today's: a fresh ``benchmarks.worker``
subprocess per (tree, scenario, run), the two trees alternating within each scenario and the
rounds going round-robin over the scenarios (as ``python -m benchmarks``), so a noisy spell
lands on both. The table gives each side's median and head / base (above 1: head is slower).
Progress goes to stderr, the markdown table to stdout. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.registry import Scenario, select
from benchmarks.run import ROOT, run_worker, worker_env

__all__ = ("main", "resolve_tree")

SIDES = ("base", "head")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.compare",
        description="Time this actorgraph against an earlier one, side by side on this machine.",
    )
    p.add_argument("--base", required=True, metavar="REV|DIR",
                   help="a git revision of this repository, or a directory holding an actorgraph/ package")
    p.add_argument("--head", metavar="REV|DIR", help="the same for the other side (default: this checkout)")
    p.add_argument("--scenarios", default="", help="names, fnmatch patterns or groups; default: all")
    p.add_argument("--runs", type=int, help="runs per scenario per side (default 10, quick 2)")
    p.add_argument("--quick", action="store_true", help="small sizes and 2 runs: a smoke test")
    p.add_argument("--mem", choices=["tracemalloc", "rss"], default="rss",
                   help="as python -m benchmarks (default rss: no extra traced run)")
    p.add_argument("--python", default=sys.executable, metavar="PATH",
                   help="interpreter with actorgraph's dependencies (default: this one)")
    p.add_argument("--timeout", type=float, default=600, help="seconds per subprocess")
    p.add_argument("--json", metavar="PATH", help="also write every sample here")
    return p.parse_args(argv)  # fmt: skip


def resolve_tree(spec: str, scratch: Path) -> tuple[Path, str]:
    """The directory whose ``actorgraph/`` package one side imports, and how to name it:
    a directory holding the package, or a git revision of this repository, whose
    ``actorgraph/`` is extracted under ``scratch``. ``ValueError`` names what is wrong."""
    given = Path(spec)
    if given.is_dir():
        if not (given / "actorgraph" / "__init__.py").is_file():
            raise ValueError(f"{spec!r} is a directory without an actorgraph/ package in it")
        return given.resolve(), str(given.resolve())
    try:
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout.strip()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", rev, "actorgraph"], capture_output=True, timeout=120, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        raise ValueError(f"{spec!r} is neither a directory nor a git revision of {ROOT}") from None
    target = scratch / rev[:12]
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target, filter="data")
        else:  # pragma: no cover - Pythons before the extraction filters
            tar.extractall(target)  # noqa: S202 (our own repository's archive)
    return target, f"git {rev[:10]}"


def _median(samples: list[dict[str, Any]]) -> float | None:
    ok = [s["seconds"] for s in samples if s.get("status") == "ok"]
    return statistics.median(ok) if ok else None


def _failures(samples: list[dict[str, Any]]) -> list[str]:
    return [f"{s.get('status')}: {str(s.get('error', ''))[:120]}" for s in samples if s.get("status") != "ok"]


def _measure(
    chosen: list[Scenario], trees: dict[str, Path], args: argparse.Namespace, runs: int
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"name": s.name, "unit": s.unit, "n": s.quick_n if args.quick else s.n, "samples": {side: [] for side in SIDES}}
        for s in chosen
    ]
    total, done = runs * len(rows) * len(SIDES), 0
    print(f"{len(rows)} scenarios x {runs} runs x {list(SIDES)} = {total} subprocesses", file=sys.stderr)
    for rep in range(runs):
        for row, s in zip(rows, chosen):
            # the side that goes first alternates too: neither always runs on a cooler cache
            for side in SIDES if rep % 2 == 0 else reversed(SIDES):
                extra = ["--scenario", s.name, "--n", str(row["n"]), "--mem", args.mem]
                res = run_worker(args.python, "ag", extra, worker_env("ag", str(trees[side])), args.timeout)
                row["samples"][side].append(res)
                done += 1
                shown = report.fmt_seconds(res["seconds"]) if res.get("status") == "ok" else str(res.get("status")).upper()
                print(f"[{done}/{total}] run {rep + 1}/{runs} {s.name:28} {side} {shown:>10}", file=sys.stderr)
    return rows


def markdown(rows: list[dict[str, Any]], names: dict[str, str], info: dict[str, Any]) -> str:
    lines = [
        f"## actorgraph head against base — {info['date']}",
        "",
        f"- machine: {info['cpu_count']} CPUs ({info['cpu_model']}), load avg {info['loadavg_start']} at start, "
        f"{info['loadavg_end']} at end",
        f"- base: {names['base']}; head: {names['head']}; interpreter {info['python']}",
        f"- {info['runs']} runs per scenario per side, each in a fresh subprocess, sides alternating; medians "
        "of the runs whose answer was checked right; head / base above 1: head is slower",
        "",
        "| scenario | unit ×n | base median | head median | head / base | check |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        base, head = (_median(row["samples"][side]) for side in SIDES)
        failed = {side: _failures(row["samples"][side]) for side in SIDES}
        check = "; ".join(f"{side} {len(f)}/{len(row['samples'][side])} {f[0]}" for side, f in failed.items() if f)
        ratio = f"{head / base:.3f}" if base and head and not check else "—"
        lines.append(
            f"| {row['name']} | {row['unit']} ×{row['n']:,} | {report.fmt_seconds(base)} | {report.fmt_seconds(head)} "
            f"| {ratio} | {check or 'ok'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    import benchmarks.scenarios  # noqa: F401  (registers scenarios)

    try:
        chosen = select([x for x in args.scenarios.split(",") if x])
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    runs = args.runs or (2 if args.quick else 10)
    with tempfile.TemporaryDirectory(prefix="agcompare-") as scratch:
        trees: dict[str, Path] = {}
        names: dict[str, str] = {}
        for side, spec in (("base", args.base), ("head", args.head)):
            try:
                trees[side], names[side] = resolve_tree(spec, Path(scratch)) if spec else (ROOT, report.git_describe(ROOT))
            except ValueError as exc:
                print(f"--{side}: {exc}", file=sys.stderr)
                return 2
        info: dict[str, Any] = report.machine_info(ROOT, None)
        info.update(python=args.python, runs=runs)
        try:
            rows = _measure(chosen, trees, args, runs)
        except KeyboardInterrupt:
            return 130
    info["loadavg_end"] = report.loadavg()
    print(markdown(rows, names, info))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "sides": names, "results": rows}, f, indent=1)
        print(f"wrote {args.json}", file=sys.stderr)
    return 1 if any(_failures(row["samples"][side]) for row in rows for side in SIDES) else 0


if __name__ == "__main__":
    raise SystemExit(main())
