"""The scale benchmark's harness without servers (``python -m benchmarks.server.scale``): the
``steps`` graph it serves, and the rules ``invariants.violations`` judges a thread by, on
made-up threads: a sound story passes, each kind of breakage is named."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.server import graphs
from benchmarks.server.invariants import ThreadFacts, violations
from benchmarks.server.load import Attempt

T = "thread-1"


def test_the_steps_graph_logs_each_step_of_its_run_once(tmp_path: Path) -> None:
    graphs.write_app(tmp_path, "actorgraph")
    spec = importlib.util.spec_from_file_location("agsrvbench_steps", tmp_path / "steps.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    out = module.graph.invoke({"run": "r", "sleep": 0.0})
    assert out["log"] == [f"r:{i}" for i in range(graphs.STEPS)] and out["count"] == graphs.STEPS


def _steps(tag: str, n: int = graphs.STEPS) -> list[str]:
    return [f"{tag}:{i}" for i in range(n)]


def _history(log: list[str]) -> list[dict[str, Any]]:
    """A sound chain of checkpoints ending at ``log``, one entry per checkpoint, newest first."""
    chain = []
    for i in range(len(log) + 1):
        parent = {"checkpoint_id": f"cp{i - 1}"} if i else None
        chain.append({"checkpoint": {"checkpoint_id": f"cp{i}"}, "parent_checkpoint": parent,
                      "metadata": {"step": i - 1}, "values": {"log": log[:i], "count": i}})  # fmt: skip
    return chain[::-1]


def _attempt(tag: str, strategy: str, at: int, outcome: str = "created", result: Any = None) -> Attempt:
    run_id = f"run-{tag}" if outcome == "created" else None
    created = f"2026-01-01T00:00:{at:02d}Z" if outcome == "created" else None
    return Attempt(tag, T, strategy, outcome, run_id, created, result=result)


def _run(a: Attempt, status: str) -> dict[str, Any]:
    return {"run_id": a.run_id, "status": status, "created_at": a.created_at, "metadata": {"tag": a.tag}}


def _story() -> tuple[list[Attempt], list[dict[str, Any]], set[str], list[str]]:
    """A sound thread: a runs; b (queued) is interrupted one step in by c; d is rolled back by
    e; f gets 409; e runs last."""
    a = _attempt("a", "enqueue", 1, result={"log": _steps("a")})
    b, c = _attempt("b", "enqueue", 2), _attempt("c", "interrupt", 3)
    d, e, f = _attempt("d", "enqueue", 4), _attempt("e", "rollback", 5), _attempt("f", "reject", 6, "rejected")
    runs = [_run(a, "success"), _run(b, "interrupted"), _run(c, "success"), _run(e, "success")]
    log = _steps("a") + _steps("b", 1) + _steps("c") + _steps("e")
    return [a, b, c, d, e, f], runs, {"run-d"}, log


def _facts(runs: list[dict[str, Any]], gone: set[str], log: list[str], **change: Any) -> ThreadFacts:
    facts = ThreadFacts(T, "idle", {"log": log, "count": len(log)}, runs, _history(log), gone)
    for key, value in change.items():
        setattr(facts, key, value)
    return facts


def test_a_sound_thread_breaks_no_rule() -> None:
    attempts, runs, gone, log = _story()
    assert violations([_facts(runs, gone, log)], attempts) == []


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        ("interleaved", "split (interleaved"),
        ("doubled", "lost or doubled"),
        ("gone_kept", "which is gone or was rejected, are in the log"),
        ("pending", "is pending"),
        ("interrupted_alone", "no later run was created with interrupt"),
        ("vanished", "no later run was created with rollback"),
        ("rejected_enqueue", "create g (enqueue)"),
        ("fork", "not the one before it"),
        ("count", "count 3 != 13"),
        ("short_success", "succeeded with 3 of 4 steps"),
        ("busy", "thread is busy"),
        ("ghost", "has no create attempt"),
    ],
)
def test_each_breakage_is_named(breakage: str, expected: str) -> None:
    attempts, runs, gone, log = _story()
    change: dict[str, Any] = {}
    if breakage == "interleaved":
        log = _steps("a", 2) + _steps("c", 1) + _steps("a")[2:] + _steps("b", 1) + _steps("c")[1:] + _steps("e")
    elif breakage == "doubled":
        log = [*_steps("a"), "a:3", *log[4:]]
    elif breakage == "gone_kept":
        log = log + _steps("d")
    elif breakage == "pending":
        runs[3] = {**runs[3], "status": "pending"}
    elif breakage == "interrupted_alone":
        attempts[2].strategy = "enqueue"
    elif breakage == "vanished":
        attempts[4].strategy = "enqueue"
    elif breakage == "rejected_enqueue":
        attempts.append(Attempt("g", T, "enqueue", "rejected", error="ConflictError: 409"))
    elif breakage == "fork":
        history = _history(log)
        history[3]["parent_checkpoint"] = {"checkpoint_id": "elsewhere"}
        change["history"] = history
    elif breakage == "count":
        change["values"] = {"log": log, "count": 3}
    elif breakage == "short_success":
        log = log[:-1]
    elif breakage == "busy":
        change["status"] = "busy"
    elif breakage == "ghost":
        runs.append({"run_id": "run-x", "status": "success", "created_at": "2026-01-01T00:00:09Z", "metadata": {"tag": "x"}})
    found = violations([_facts(runs, gone, log, **change)], attempts)
    assert any(expected in v for v in found), found
