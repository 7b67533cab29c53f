"""The benchmark runner reads actorgraph's ``graph.statistics()``: a ``--quick`` run of one
scenario on actorgraph alone (no LangGraph needed) prints the engine section."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_a_quick_actorgraph_only_run_prints_the_engine_statistics_section() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--runs", "1", "--libs", "ag", "--mem", "rss",
         "--scenarios", "send_1000"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = proc.stdout
    assert "### actorgraph engine statistics" in report
    assert "| scenario | runs | steps | tasks | failed | in threads | jobs | workers started | peak workers |" in report
    # 100 Sends of a trivial async node that never suspends: one run, the input step and
    # the step of Sends, ``__start__`` and 100 tasks, none in a thread, no extra worker
    assert re.search(r"^\| send_1000 \| 1 \| 2 \| 101 \| 0 \| 0 \| \d+ \| 0 \| 1 \|$", report, re.M), report


def test_the_report_has_no_engine_section_without_engine_statistics() -> None:
    from benchmarks import report

    info = {
        "date": "d", "cpu_count": 2, "cpu_model": "cpu", "platform": "p", "loadavg_start": "0",
        "sides": {}, "config": {"runs": 1, "quick": True, "mem": "rss", "warmup": True},
    }  # fmt: skip
    samples = {"lg": [{"status": "ok", "seconds": 1.0, "units": 10, "build_s": 0, "import_s": 0, "rss_delta_mb": 0}]}
    row = {"name": "s", "unit": "task", "n": 10, "summary": report.summarize(samples, "rss")}
    assert "engine statistics" not in report.markdown([row], info)
    samples["ag"] = [dict(samples["lg"][0], engine={"runs": 1, "steps": 2, "tasks": 3, "peak_workers": 4})]
    row["summary"] = report.summarize(samples, "rss")
    text = report.markdown([row], info)
    assert "### actorgraph engine statistics" in text
    assert "| s | 1 | 2 | 3 | 0 | 0 | 0 | 0 | 4 |" in text


def _compare(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.compare", "--quick", "--runs", "1", "--scenarios", "send_1000", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


_ROW = re.compile(r"^\| send_1000 \| task ×100 \| [\d.]+ [µm]?s \| [\d.]+ [µm]?s \| \d+\.\d{3} \| ok \|$", re.M)


def test_compare_times_two_trees_side_by_side() -> None:
    proc = _compare("--base", str(ROOT), "--head", str(ROOT))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "| scenario | unit ×n | base median | head median | head / base | check |" in proc.stdout
    assert _ROW.search(proc.stdout), proc.stdout


def test_compare_takes_a_git_revision_and_names_a_base_it_cannot_use(tmp_path: Path) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: a revision can't be extracted")
    proc = _compare("--base", "HEAD")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _ROW.search(proc.stdout), proc.stdout
    assert re.search(r"^- base: git [0-9a-f]{10}; head: ", proc.stdout, re.M), proc.stdout
    bad = _compare("--base", "no-such-revision")
    assert bad.returncode == 2
    assert f"--base: 'no-such-revision' is neither a directory nor a git revision of {ROOT}" in bad.stderr
    empty = _compare("--base", str(tmp_path))
    assert empty.returncode == 2
    assert f"--base: '{tmp_path}' is a directory without an actorgraph/ package in it" in empty.stderr
