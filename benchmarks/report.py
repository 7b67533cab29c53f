"""Summaries and the markdown report: medians, ratios, peaks, check status, machine info."""

from __future__ import annotations

import datetime as _dt
import math
import os
import platform
import statistics
import subprocess
from pathlib import Path
from typing import Any

__all__ = ("summarize", "markdown", "machine_info", "fmt_seconds")

LIB_NAMES = {"ag": "actorgraph", "lg": "langgraph"}


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "—"
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if s >= scale:
            break
    else:
        scale, unit = 1e-9, "ns"
    v = s / scale
    return f"{v:.3g} {unit}" if v < 100 else f"{v:.0f} {unit}"


def _side_summary(samples: list[dict[str, Any]], mem: str) -> dict[str, Any]:
    ok = [r for r in samples if r.get("status") == "ok"]
    bad = [r for r in samples if r.get("status") != "ok"]
    out: dict[str, Any] = {"runs": len(samples), "ok_runs": len(ok)}
    if bad:
        first = bad[0]
        out["failure"] = {
            "status": first.get("status"),
            "count": len(bad),
            "error": first.get("error", ""),
        }
    if ok:
        secs = sorted(r["seconds"] for r in ok)
        units = ok[0]["units"]
        out.update(
            units=units,
            median_s=statistics.median(secs),
            min_s=secs[0],
            max_s=secs[-1],
            per_unit_median_s=statistics.median(secs) / units,
            seconds=secs,
            build_median_s=statistics.median(r["build_s"] for r in ok),
            import_median_s=statistics.median(r["import_s"] for r in ok),
            rss_delta_median_mb=statistics.median(r["rss_delta_mb"] for r in ok),
        )
        engine = [r["engine"] for r in ok if r.get("engine")]
        if engine:
            out["engine"] = engine[-1]  # counts are the same each run; peaks may vary
        if mem == "tracemalloc":
            out["py_peak_median_mb"] = statistics.median(r["py_peak_mb"] for r in ok)
        out["peak_mb"] = out["py_peak_median_mb" if mem == "tracemalloc" else "rss_delta_median_mb"]
    return out


def summarize(samples: dict[str, list[dict[str, Any]]], mem: str) -> dict[str, Any]:
    """Per library: medians over runs that passed; ``ratio`` only when every run passed."""
    sides = {lib: _side_summary(runs, mem) for lib, runs in samples.items() if runs}
    ag, lg = sides.get("ag"), sides.get("lg")
    ratio = None
    if (
        ag and lg and not ag.get("failure") and not lg.get("failure")
        and ag.get("median_s") and lg.get("median_s")
    ):
        ratio = lg["median_s"] / ag["median_s"]
    return {"sides": sides, "ratio": ratio}


def _median_cell(side: dict[str, Any] | None, unit: str) -> str:
    if not side or "median_s" not in side:
        return "—"
    per = fmt_seconds(side["per_unit_median_s"])
    total = fmt_seconds(side["median_s"])
    # A side with a failed run keeps its median visible but marked, and scores no ratio.
    mark = "✗ " if side.get("failure") else ""
    return f"{mark}{per}/{unit} ({total})"


def _check_cell(row: dict[str, Any]) -> str:
    if row.get("skipped"):
        return f"skipped: {row['skipped']}"
    notes = []
    for lib, side in row["summary"]["sides"].items():
        fail = side.get("failure")
        if fail:
            label = "CHECK FAILED" if fail["status"] == "check_failed" else fail["status"].upper()
            error = fail["error"].replace("|", "\\|").replace("\n", " ")[:160]
            notes.append(f"**{lib} {label}** {fail['count']}/{side['runs']}: {error}")
    for lib, why in row.get("unavailable", {}).items():
        notes.append(f"{lib} n/a ({why})")
    return "; ".join(notes) if notes else "ok"


def _peak_cell(side: dict[str, Any] | None) -> str:
    if not side or "peak_mb" not in side:
        return "—"
    return f"{side['peak_mb']:.1f}"


def markdown(rows: list[dict[str, Any]], info: dict[str, Any]) -> str:
    """The report: settings and machine lines, then the table, then a one-line summary."""
    cfg = info["config"]
    lines = [
        f"## actorgraph vs LangGraph — {info['date']}",
        "",
        f"- machine: {info['cpu_count']} CPUs ({info['cpu_model']}), {info['platform']}, "
        f"load avg {info['loadavg_start']} at start, {info.get('loadavg_end', '?')} at end",
        *(
            f"- {LIB_NAMES[lib]}: Python {side['python_version']} at `{side['python']}`; "
            + ", ".join(f"{k} {v}" for k, v in side["versions"].items() if v)
            + f"; imported from `{side['package_dir']}`"
            for lib, side in info["sides"].items()
        ),
        *(f"- {LIB_NAMES[lib]}: not run, {why}" for lib, why in info.get("not_run", {}).items()),
        f"- actorgraph source: {info.get('actorgraph_git', 'unknown')}",
        f"- {cfg['runs']} runs per scenario per library, each in a fresh subprocess, libraries "
        f"interleaved; {'quick sizes' if cfg['quick'] else 'full sizes'}; "
        f"warm-up {'on' if cfg['warmup'] else 'off'}; peak memory = "
        + (
            "tracemalloc peak of a separate traced run (Python heap, MB)"
            if cfg["mem"] == "tracemalloc"
            else "ru_maxrss growth during the timed run (MB)"
        ),
        "- ratio = LangGraph median / actorgraph median (above 1: actorgraph is faster)",
        "",
        "| scenario | unit | actorgraph median | langgraph median | ratio | ag peak MB "
        "| lg peak MB | check |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ratios = []
    for row in rows:
        sides = row["summary"]["sides"] if "summary" in row else {}
        ratio = row["summary"]["ratio"] if "summary" in row else None
        if ratio:
            ratios.append(ratio)
        lines.append(
            f"| {row['name']} | {row['unit']} ×{row['n']:,} "
            f"| {_median_cell(sides.get('ag'), row['unit'])} "
            f"| {_median_cell(sides.get('lg'), row['unit'])} "
            f"| {f'{ratio:.1f}×' if ratio else '—'} "
            f"| {_peak_cell(sides.get('ag'))} | {_peak_cell(sides.get('lg'))} "
            f"| {_check_cell(row)} |"
        )
    if ratios:
        geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        lines += ["", f"Geometric mean ratio over {len(ratios)} scored scenarios: {geo:.1f}×"]
    lines += _engine_section(rows)
    if info.get("interrupted"):
        lines += ["", "**Interrupted: the table holds the runs finished so far.**"]
    return "\n".join(lines) + "\n"


#: (column title, ``graph.statistics()`` field) of the engine section
_ENGINE_COLUMNS = (
    ("runs", "runs"),
    ("steps", "steps"),
    ("tasks", "tasks"),
    ("failed", "tasks_failed"),
    ("in threads", "tasks_in_threads"),
    ("jobs", "jobs_run"),
    ("workers started", "workers_started"),
    ("peak workers", "peak_workers"),
)


def _engine_section(rows: list[dict[str, Any]]) -> list[str]:
    """actorgraph's own counters for each scenario's timed run (``graph.statistics()`` of
    its graphs and subgraphs): what the engine did to produce the time above."""
    found = [
        (row, row["summary"]["sides"]["ag"]["engine"])
        for row in rows
        if "engine" in row.get("summary", {}).get("sides", {}).get("ag", {})
    ]
    if not found:
        return []
    lines = [
        "",
        "### actorgraph engine statistics",
        "",
        "`graph.statistics()` of each scenario's graphs (subgraphs included) after its timed run.",
        "",
        "| scenario | " + " | ".join(title for title, _ in _ENGINE_COLUMNS) + " |",
        "|---|" + "---|" * len(_ENGINE_COLUMNS),
    ]
    for row, stats in found:
        cells = " | ".join(f"{stats.get(field, 0):,}" for _, field in _ENGINE_COLUMNS)
        lines.append(f"| {row['name']} | {cells} |")
    return lines


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def git_describe(root: Path) -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "actorgraph"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"git {rev}" + (" + uncommitted changes under actorgraph/" if dirty else "")


def machine_info(root: Path, actorgraph_path: str | None) -> dict[str, Any]:
    affinity: int | None
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # not on macOS
        affinity = os.cpu_count()
    source = Path(actorgraph_path) if actorgraph_path else root
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": affinity,
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "loadavg_start": loadavg(),
        "actorgraph_git": f"{source}: {git_describe(source)}",
    }
