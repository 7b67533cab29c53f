"""pytest plugin loaded (``-p compat.plugin``) into each compat suite's pytest process.

Under ``COMPAT_MODE=actorgraph`` it routes every ``langgraph`` import to actorgraph before
any test module loads; in both modes it applies the committed skip list and writes each
test's outcome to ``COMPAT_RESULTS`` (JSON) for the runner to score.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

_MODE = os.environ.get("COMPAT_MODE", "actorgraph")

if _MODE == "actorgraph":
    import actorgraph

    actorgraph.install_as_langgraph(passthrough=json.loads(os.environ.get("COMPAT_PASSTHROUGH", "{}")))

_skips: dict[str, str] = json.loads(os.environ.get("COMPAT_SKIPS", "{}"))
_skip_files = {k: v for k, v in _skips.items() if "::" not in k}
_results: dict[str, dict[str, Any]] = {}
_collect_errors: dict[str, str] = {}


def _short(report: Any) -> str:
    text = getattr(report, "longreprtext", "") or ""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    # the last "E   ..." line is the assertion or exception; fall back to the last line
    errs = [ln for ln in lines if ln.startswith("E ")]
    pick = errs[0] if errs else (lines[-1] if lines else "")
    return pick[:300]


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    rel = collection_path.relative_to(config.rootpath).as_posix() if collection_path.is_relative_to(config.rootpath) else ""
    if rel in _skip_files:
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        reason = _skips.get(item.nodeid)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=f"compat skip list: {reason}"))


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _collect_errors[report.nodeid] = _short(report)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    entry = _results.setdefault(report.nodeid, {"outcome": "passed", "why": ""})
    if entry["outcome"] in ("failed", "skipped"):
        return
    if report.failed:
        entry["outcome"] = "failed"
        entry["why"] = f"[{report.when}] {_short(report)}"
    elif report.skipped:
        if hasattr(report, "wasxfail"):
            entry["outcome"] = "xfailed"
        else:
            entry["outcome"] = "skipped"
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            entry["why"] = str(reason)[:300]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    out = os.environ.get("COMPAT_RESULTS")
    if out:
        Path(out).write_text(json.dumps({"tests": _results, "collect_errors": _collect_errors}, indent=0))
