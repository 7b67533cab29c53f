"""Medians, ratios and the markdown table of the server benchmark (pure: no servers here)."""

from __future__ import annotations

import statistics
from typing import Any

__all__ = ("METRICS", "summarize", "ratio", "markdown")

#: the rows measured over the background runs: a side with a wrong result scores none of them
THROUGHPUT_KEYS = frozenset(
    {"runs_per_s", "server_cpu_per_run_s", "server_runs_per_cpu_s", "client_cpu_per_run_s"}
)

#: (key, title, unit, better): ``better`` is "low" for times and memory, "high" for rates,
#: "" for a figure that scores no ratio (the client's CPU: the same client on both sides)
METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("startup_s", "start-up (spawn to `/ok` 200)", "s", "low"),
    ("cold_first_event_s", "first stream of the server's life: first event", "ms", "low"),
    ("first_event_s", "`runs.stream`, idle server: first event", "ms", "low"),
    ("first_values_s", "`runs.stream`, idle server: first `values` event", "ms", "low"),
    ("stream_end_s", "`runs.stream`, idle server: stream end", "ms", "low"),
    ("runs_per_s", "background runs (`runs.create` + `join`)", "runs/s", "high"),
    ("server_cpu_per_run_s", "background runs: server CPU per run (process tree)", "ms", "low"),
    ("server_runs_per_cpu_s", "background runs: server runs/s per CPU core", "runs/s", "high"),
    ("client_cpu_per_run_s", "background runs: client (`langgraph-sdk`) CPU per run", "ms", ""),
    ("rss_idle_mb", "server RSS, idle after start-up", "MiB", "low"),
    ("rss_peak_mb", "server RSS, peak under load", "MiB", "low"),
)


def _median(xs: list[float | None]) -> float | None:
    known = [x for x in xs if x is not None]
    return statistics.median(known) if known else None


def _per_run(cpu_s: float | None, runs: int) -> float | None:
    return cpu_s / runs if cpu_s is not None and runs else None


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One side's medians. Stream times are pooled over every sample of every run that
    passed; the other figures are medians of the per-run values. ``failures`` counts runs that
    errored, and ``wrong`` the background runs whose result was wrong. CPU per background run
    is the CPU over the load divided by its runs; runs/s per CPU core is 1 / the median of the
    server's (what the server would do with a core of its own and an instant client)."""
    ok = [r for r in runs if r.get("status") == "ok"]
    server_cpu = _median([
        _per_run(r.get("server_cpu", {}).get("cpu_s"), r["throughput"]["runs"]) for r in ok
    ])  # fmt: skip
    samples = [s for r in ok for s in r["first"]["samples"]]
    out: dict[str, Any] = {
        "runs": len(runs),
        "ok_runs": len(ok),
        "failures": [r.get("error", "?") for r in runs if r.get("status") != "ok"],
        "wrong": sum(len(r["throughput"]["wrong"]) for r in ok),
        "wrong_examples": [w for r in ok for w in r["throughput"]["wrong"]][:3],
        "stream_samples": len(samples),
        "startup_s": _median([r["startup_s"] for r in ok]),
        "cold_first_event_s": _median([r["first"]["cold"]["first_event_s"] for r in ok]),
        "first_event_s": _median([s["first_event_s"] for s in samples]),
        "first_values_s": _median([s["first_values_s"] for s in samples]),
        "stream_end_s": _median([s["end_s"] for s in samples]),
        "runs_per_s": _median([r["throughput"]["runs_per_s"] for r in ok]),
        "server_cpu_per_run_s": server_cpu,
        "server_runs_per_cpu_s": 1 / server_cpu if server_cpu else None,
        "client_cpu_per_run_s": _median([
            _per_run(r["throughput"].get("client_cpu_s"), r["throughput"]["runs"]) for r in ok
        ]),
        "rss_idle_mb": _median([r["rss_idle_mb"] for r in ok]),
        "rss_peak_mb": _median([r["rss_peak_mb"] for r in ok]),
    }
    if samples:
        firsts = sorted(s["first_event_s"] for s in samples)
        out["first_event_min_s"], out["first_event_max_s"] = firsts[0], firsts[-1]
    return out


def ratio(key: str, lg: dict[str, Any] | None, ag: dict[str, Any] | None) -> float | None:
    """LangGraph / actorgraph, oriented so that above 1 means actorgraph is better: for a
    time or a size ``lg / ag``, for a rate ``ag / lg`` (LangGraph's time per run over
    actorgraph's). None when a side is missing or failed a server run, and for throughput
    also when a side's background runs returned a wrong result (streams check their own), and
    for a figure that scores none (``better`` empty)."""
    if not lg or not ag or any(s["failures"] for s in (lg, ag)):
        return None
    if key in THROUGHPUT_KEYS and any(s["wrong"] for s in (lg, ag)):
        return None
    a, b = lg.get(key), ag.get(key)
    better = next(m[3] for m in METRICS if m[0] == key)
    if not a or not b or not better:
        return None
    return a / b if better == "low" else b / a


def _cell(side: dict[str, Any] | None, key: str, unit: str) -> str:
    if not side or side.get(key) is None:
        return "—"
    v = side[key]
    text = {"ms": f"{v * 1000:.1f} ms", "s": f"{v:.2f} s", "runs/s": f"{v:.1f} runs/s",
            "MiB": f"{v:.1f} MiB"}[unit]  # fmt: skip
    mark = "✗ " if side["failures"] or (key in THROUGHPUT_KEYS and side["wrong"]) else ""
    return mark + text


def markdown(summary: dict[str, dict[str, Any]], info: dict[str, Any]) -> str:
    """The report: settings, the table (a row per metric, LangGraph then actorgraph), notes."""
    cfg = info["config"]
    lg, ag = summary.get("lg"), summary.get("ag")
    n_jobs = cfg.get("n_jobs_per_worker")
    jobs = (
        f"`--n-jobs-per-worker {n_jobs}` on both" if n_jobs is not None
        else "each server's default jobs per worker"
    )
    lines = [
        f"## Server: `langgraph dev` vs `actorgraph dev` — {info.get('date', '')}",
        "",
        f"- machine: {info.get('cpu_count', '?')} CPUs ({info.get('cpu_model', '?')}), "
        f"load avg {info.get('loadavg_start', '?')} at start, {info.get('loadavg_end', '?')} at end",
        *(f"- {name}: {text}" for name, text in info.get("sides", {}).items()),
        *(f"- {name}: not run, {why}" for name, why in info.get("not_run", {}).items()),
        f"- client: langgraph-sdk {info.get('sdk_version', '?')} in this process; graph "
        f"`{info.get('graph', '?')}` (3 nodes, a reducer key, a custom-stream write)",
        f"- {cfg['runs']} server run(s) per side (a fresh server each, sides alternating); per run "
        f"{cfg['streams']} streams one at a time after {cfg['idle_s']:g}-{1.5 * cfg['idle_s']:g} s "
        f"idle, then {cfg['bg_runs']} background runs on new threads, {cfg['concurrency']} in "
        f"flight; {jobs}",
        "- medians; ratio = LangGraph / actorgraph (for throughput: of the time per run; per CPU "
        "core: of the server's CPU per run), above 1: actorgraph is better; blank when a side "
        "failed a server run (background runs: or returned a wrong result), and for the client's "
        "CPU (the same client on both sides)",
        "- CPU per background run: user + system time over the background runs divided by their "
        "number, for the server's whole process tree (`/proc`) and for the client (this process, "
        "without its RSS sampler); runs/s per CPU core = 1 / the server's CPU per run",
        "",
        "| metric | langgraph | actorgraph | ratio |",
        "|---|---|---|---|",
    ]
    for key, title, unit, _ in METRICS:
        r = ratio(key, lg, ag)
        lines.append(
            f"| {title} | {_cell(lg, key, unit)} | {_cell(ag, key, unit)} "
            f"| {f'{r:.1f}×' if r else '—'} |"
        )
    for name, side in (("langgraph", lg), ("actorgraph", ag)):
        if not side:
            continue
        if side["failures"]:
            first = str(side["failures"][0]).replace("\n", " ")[:300]
            lines.append(f"\n**{name}: {len(side['failures'])}/{side['runs']} runs failed**: {first}")
        if side["wrong"]:
            lines.append(
                f"\n**{name}: {side['wrong']} background runs returned a wrong result**, e.g. "
                + "; ".join(f"`{w}`" for w in side["wrong_examples"])
            )
        if side.get("first_event_min_s") is not None:
            lines.append(
                f"\n{name}: first event over {side['stream_samples']} streams ranged "
                f"{side['first_event_min_s'] * 1000:.1f}-{side['first_event_max_s'] * 1000:.1f} ms."
            )
    if info.get("interrupted"):
        lines += ["", "**Interrupted: the table holds the runs finished so far.**"]
    return "\n".join(lines) + "\n"
