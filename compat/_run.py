"""Run LangGraph's own test suites against actorgraph and score them.

For each suite: fetch the pinned sdist, copy its ``tests/`` into a work folder, lay our
overlay files over it (our conftest where theirs builds on LangGraph internals or on
services we don't run), run pytest in a subprocess with ``compat.plugin`` (which routes
``langgraph`` imports to actorgraph), then compare each test's outcome with the
reference run on real LangGraph and with the committed list of known failures.

The run fails when a test that passes on LangGraph, isn't skipped and isn't on the
known-failures list fails here (after one retry in a fresh process), when the skip list
covers more than 5% of a suite, or when a suite ran no test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from compat._fetch import cache_dir, fetch_sdist
from compat._lists import read_failing, read_reference, read_skips, write_failing, write_reference
from compat._suites import SUITES, Suite, pinned_version, suite_named

__all__ = ("main",)

ROOT = Path(__file__).resolve().parent.parent
OVERLAYS = Path(__file__).resolve().parent / "overlays"
SHIMS = Path(__file__).resolve().parent / "shims"
SKIP_CAP = 0.05


@dataclass
class Outcome:
    tests: dict[str, dict[str, str]]
    collect_errors: dict[str, str]
    seconds: float


@dataclass
class Score:
    suite: str
    reference: int = 0
    skipped: int = 0
    considered: int = 0
    passed: int = 0
    failed_known: int = 0
    regressions: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    ours_failed: list[str] = field(default_factory=list)
    per_file: dict[str, Counter[str]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.passed / self.considered if self.considered else 0.0


def _shim_passthrough() -> dict[str, str]:
    """Every stand-in module under shims/langgraph, as passthrough prefix -> folder."""
    out: dict[str, str] = {}

    def walk(folder: Path, dotted: str) -> None:
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith((".", "__")):
                continue
            if entry.is_dir():
                name = f"{dotted}.{entry.name}"
                if (entry / "__init__.py").exists():
                    out[name] = str(folder)
                else:
                    walk(entry, name)
            elif entry.suffix == ".py":
                out[f"{dotted}.{entry.stem}"] = str(folder)

    walk(SHIMS / "langgraph", "langgraph")
    return out


def _library_path(suite: Suite) -> list[str]:
    """A library suite runs the pinned sdist's own code (its tests are the sdist's too)."""
    return [str(fetch_sdist(suite.dist, suite.version))] if suite.library else []


def _prepare(suite: Suite, mode: str) -> tuple[Path, dict[str, str]]:
    tree = fetch_sdist(suite.dist, suite.version)
    passthrough: dict[str, str] = _shim_passthrough()
    for prefix, dist in suite.passthrough:
        src = fetch_sdist(dist, pinned_version(dist))
        passthrough[prefix] = str(src.joinpath(*prefix.split(".")[:-1]))
    work = cache_dir() / "work" / suite.name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copytree(tree / "tests", work / "tests")
    overlay = OVERLAYS / suite.name
    if (mode == "actorgraph" or suite.overlay_always) and overlay.is_dir():
        shutil.copytree(overlay, work / "tests", dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    ini = ["[pytest]", "addopts = -p compat.plugin -p no:cacheprovider", "markers =", "    flaky: retried by pytest-retry upstream"]
    ini += [f"{k} = {v}" for k, v in suite.ini.items()]
    (work / "pytest.ini").write_text("\n".join(ini) + "\n")
    return work, passthrough


def _run_pytest(
    suite: Suite,
    mode: str,
    python: str,
    timeout: int,
    only: list[str] | None = None,
    extra: list[str] | None = None,
    verbose: bool = False,
) -> Outcome:
    work, passthrough = _prepare(suite, mode)
    skips = read_skips().get(suite.name, {}) if mode == "actorgraph" else {}
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.json"
        env = dict(os.environ)
        env.update(
            COMPAT_MODE=mode,
            COMPAT_RESULTS=str(results),
            COMPAT_SKIPS=json.dumps(skips),
            COMPAT_PASSTHROUGH=json.dumps(passthrough),
            NO_DOCKER="true",
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), *_library_path(suite), env.get("PYTHONPATH", "")])),
            PYTHONDONTWRITEBYTECODE="1",
        )
        if mode == "reference":
            # real LangGraph in the reference interpreter; its namespace tools come with it
            env.pop("COMPAT_PASSTHROUGH")
        targets = only or ["tests"]
        cmd = [python, "-m", "pytest", *targets, "-q", "-rN", "--tb=short", "--continue-on-collection-errors"]
        cmd += [f"--timeout={timeout}"] if timeout else []
        cmd += extra or []
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=work, env=env, stdout=None if verbose else subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seconds = time.perf_counter() - start
        if not results.exists():
            tail = (proc.stdout or "")[-3000:]
            raise SystemExit(f"compat: pytest for suite {suite.name!r} wrote no results (exit {proc.returncode}):\n{tail}")
        data = json.loads(results.read_text())
    return Outcome(data["tests"], data["collect_errors"], seconds)


def _file_of(test_id: str) -> str:
    return test_id.split("::", 1)[0]


def _is_skipped(test_id: str, skips: dict[str, str]) -> bool:
    return test_id in skips or _file_of(test_id) in skips


def _score(suite: Suite, outcome: Outcome) -> Score:
    reference = read_reference(suite.name)
    skips = read_skips().get(suite.name, {})
    failing = read_failing(suite.name)
    score = Score(suite.name, reference=len(reference), seconds=outcome.seconds)
    per_file: dict[str, Counter[str]] = defaultdict(Counter)
    for test_id, ref in sorted(reference.items()):
        counts = per_file[_file_of(test_id)]
        counts["reference"] += 1
        if _is_skipped(test_id, skips):
            score.skipped += 1
            counts["skipped"] += 1
            continue
        if ref != "passed":
            counts["not passing on LangGraph"] += 1
            continue
        score.considered += 1
        now = outcome.tests.get(test_id, {"outcome": "missing"})["outcome"]
        if now == "passed":
            score.passed += 1
            counts["passed"] += 1
            if test_id in failing:
                score.fixed.append(test_id)
        else:
            counts["failed"] += 1
            if test_id in failing:
                score.failed_known += 1
            else:
                score.regressions.append(test_id)
    # tests of our own overlay (not in LangGraph's suite) must all pass
    ref_files = {_file_of(t) for t in reference}
    for test_id, res in outcome.tests.items():
        if test_id not in reference and res["outcome"] == "failed":
            score.ours_failed.append(test_id)
    score.ours_failed += [path for path in outcome.collect_errors if path not in ref_files]
    score.fixed += [t for t in failing if t not in reference and outcome.tests.get(t, {}).get("outcome") == "passed"]
    # ...or be on the known-failures list like any other
    score.ours_failed = [t for t in score.ours_failed if t not in failing and _file_of(t) not in failing]
    score.per_file = dict(per_file)
    return score


def _print_score(score: Score, outcome: Outcome, show_files: bool) -> None:
    print(f"\n== {score.suite}: {score.passed}/{score.considered} passed ({100 * score.rate:.1f}%), "
          f"{score.skipped} skipped by list ({100 * score.skipped / max(score.reference, 1):.1f}% of {score.reference}), "
          f"{score.failed_known} known failures, {len(score.regressions)} regressions, {len(score.fixed)} fixed "
          f"[{score.seconds:.0f} s]")
    if show_files:
        print(f"   {'file':58} {'ref':>5} {'skip':>5} {'pass':>5} {'fail':>5}")
        for name, c in sorted(score.per_file.items()):
            print(f"   {name:58} {c['reference']:5} {c['skipped']:5} {c['passed']:5} {c['failed']:5}")
    for test_id in score.regressions[:50]:
        why = outcome.tests.get(test_id, {}).get("why", "") or "missing (not collected: " + \
            next((e for f, e in outcome.collect_errors.items() if test_id.startswith(f)), "?") + ")"
        print(f"   REGRESSION {test_id}\n      {why}")
    if len(score.regressions) > 50:
        print(f"   ... and {len(score.regressions) - 50} more regressions")
    for test_id in score.ours_failed:
        why = outcome.tests.get(test_id, {}).get("why") or outcome.collect_errors.get(test_id, "")
        print(f"   FAILED (our overlay test) {test_id}\n      {why}")


def _reference(suites: list[Suite], python: str, timeout: int) -> int:
    for suite in suites:
        outcome = _run_pytest(suite, "reference", python, timeout)
        write_reference(suite.name, {t: r["outcome"] for t, r in outcome.tests.items()})
        counts = Counter(r["outcome"] for r in outcome.tests.values())
        print(f"{suite.name}: {dict(counts)} in {outcome.seconds:.0f} s; collection errors: {len(outcome.collect_errors)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compat", description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", action="append", help="run only this suite (repeatable)")
    parser.add_argument("--files", nargs="*", help="run only these test files of the suite (no ratchet)")
    parser.add_argument("--update-failing", action="store_true", help="rewrite the known-failures lists from this run")
    parser.add_argument("--reference", metavar="PYTHON", help="record outcomes under real LangGraph in this interpreter")
    parser.add_argument("--timeout", type=int, default=60, help="seconds per test (default 60)")
    parser.add_argument("--files-table", action="store_true", help="print passed/failed per test file")
    parser.add_argument("--json", metavar="PATH", help="also write every outcome here")
    parser.add_argument("--verbose", action="store_true", help="show pytest's own output")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments after --")
    args = parser.parse_args(argv)
    suites = [suite_named(n) for n in args.suite] if args.suite else list(SUITES)
    if args.reference:
        return _reference(suites, args.reference, args.timeout)
    status = 0
    report: dict[str, object] = {}
    total_pass = total_considered = total_ran = 0
    for suite in suites:
        outcome = _run_pytest(suite, "actorgraph", sys.executable, args.timeout, args.files, args.pytest_args, args.verbose)
        total_ran += len(outcome.tests)
        if args.files:
            counts = Counter(r["outcome"] for r in outcome.tests.values())
            print(f"{suite.name} {' '.join(args.files)}: {dict(counts)} in {outcome.seconds:.0f} s")
            for test_id, res in sorted(outcome.tests.items()):
                if res["outcome"] == "failed":
                    print(f"  FAILED {test_id}\n     {res['why']}")
            for path, err in outcome.collect_errors.items():
                print(f"  COLLECTION ERROR {path}: {err}")
            continue
        score = _score(suite, outcome)
        if args.update_failing:
            write_failing(suite.name, (read_failing(suite.name) - set(score.fixed)) | set(score.regressions) | set(score.ours_failed))
            score = _score(suite, outcome)
        elif score.regressions:
            # one retry in a fresh process: a test that fails twice is a regression, not a flake
            again = _run_pytest(suite, "actorgraph", sys.executable, args.timeout,
                                sorted({_file_of(t) for t in score.regressions}))
            outcome.tests.update({t: again.tests[t] for t in score.regressions if t in again.tests})
            score = _score(suite, outcome)
        _print_score(score, outcome, args.files_table)
        report[suite.name] = {"score": score.__dict__ | {"per_file": {k: dict(v) for k, v in score.per_file.items()}},
                              "tests": outcome.tests, "collect_errors": outcome.collect_errors}
        total_pass += score.passed
        total_considered += score.considered
        if score.regressions or score.ours_failed:
            status = 1
        if score.reference and score.skipped > SKIP_CAP * score.reference:
            print(f"   SKIP LIST TOO LONG: {score.skipped} of {score.reference} tests (cap {SKIP_CAP:.0%})")
            status = 1
        if score.fixed and not args.update_failing:
            print(f"   {len(score.fixed)} tests on the known-failures list pass now: "
                  "run `python -m compat --update-failing` to shrink the list")
    if not args.files and total_considered:
        print(f"\nall suites: {total_pass}/{total_considered} passed ({100 * total_pass / total_considered:.1f}%)")
    if not total_ran:
        print("compat: no test ran at all")
        status = 1
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, default=list))
    return status
