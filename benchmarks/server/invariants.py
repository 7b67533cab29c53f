"""After a double-texting load (``load.DoubleTexting``): what the server says about every
run and thread, read through the API, and the rules it must satisfy. ``collect`` reads,
``violations`` judges (pure: tested without a server).

The rules, per thread of the load:

- every run the server has is ``success`` or ``interrupted`` (nothing ``pending``,
  ``running``, ``error``), carries the tag of one of the load's create attempts on that
  thread, and no two runs carry one tag (a create ran once);
- a run whose create was answered is still there, unless a later run of the thread was
  created with ``rollback`` (then it is gone: 404); it is ``interrupted`` only if a later run
  was created with ``interrupt``; a 409 answers ``reject`` only, and leaves no run behind;
- the thread's final ``log`` holds each kept run's steps once, in order, side by side (two
  runs of a thread never interleave): all ``STEPS`` of a ``success`` run, a prefix of an
  ``interrupted`` one's, none of a rolled-back or rejected one's; ``count`` equals its length;
- the thread's checkpoint history is one chain (each checkpoint's parent is the one before
  it, steps go up by one, each adds at most one ``log`` entry), ending at the thread's state;
- a joined ``success`` run's result ends with its own steps; the thread is ``idle``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from langgraph_sdk import get_client

from benchmarks.server.graphs import STEPS
from benchmarks.server.load import Attempt

__all__ = ("ThreadFacts", "collect", "violations", "explain")

#: run statuses a thread of the load may end with: anything else is a violation
FINAL = frozenset({"success", "interrupted"})


@dataclass
class ThreadFacts:
    """What the server says about one thread after the load."""

    thread_id: str
    status: str
    values: dict[str, Any]
    runs: list[dict[str, Any]]  # runs.list
    history: list[dict[str, Any]]  # newest first
    gone: set[str] = field(default_factory=set)  # run ids that answer 404


async def _thread_facts(client: Any, thread_id: str, run_ids: list[str]) -> ThreadFacts:
    thread = await client.threads.get(thread_id)
    runs = await client.runs.list(thread_id, limit=10_000)
    history = await client.threads.get_history(thread_id, limit=10_000)
    listed = {r["run_id"] for r in runs}
    gone = set()
    for run_id in run_ids:
        if run_id not in listed:
            try:
                await client.runs.get(thread_id, run_id)
            except Exception as exc:  # noqa: BLE001
                if getattr(getattr(exc, "response", None), "status_code", None) != 404:
                    raise
                gone.add(run_id)
    return ThreadFacts(thread_id, thread["status"], thread.get("values") or {}, runs, history, gone)


async def collect(url: str, thread_ids: list[str], attempts: list[Attempt], concurrency: int = 10) -> list[ThreadFacts]:
    """Every thread's facts, through one server (``concurrency`` threads at a time)."""
    client = get_client(url=url, api_key=None)
    gate = asyncio.Semaphore(concurrency)
    by_thread: dict[str, list[str]] = {t: [] for t in thread_ids}
    for a in attempts:
        if a.run_id is not None:
            by_thread[a.thread_id].append(a.run_id)

    async def one(thread_id: str) -> ThreadFacts:
        async with gate:
            return await _thread_facts(client, thread_id, by_thread[thread_id])

    try:
        return list(await asyncio.gather(*(one(t) for t in thread_ids)))
    finally:
        await client.aclose()


def _may_be_cancelled(run_created_at: str, strategy: str, attempts: list[Attempt], runs: list[dict[str, Any]]) -> bool:
    """Whether a run created at ``run_created_at`` may have been cancelled by a later run of
    ``strategy``: one was created after it, or an attempt of it got no answer (its time is
    unknown: it may exist, or have existed and been rolled back in turn)."""
    created = {r["metadata"].get("tag"): r["created_at"] for r in runs}
    for a in attempts:
        if a.strategy != strategy or a.outcome not in ("created", "unknown"):
            continue
        at = a.created_at or created.get(a.tag)
        if at is None or at > run_created_at:
            return True
    return False


def _log_segments(log: list[Any]) -> tuple[list[tuple[str, int]], list[str]]:
    """``log`` as (tag, steps) segments of consecutive entries of one run, and what is wrong
    with it (a malformed entry, a step out of order)."""
    segments: list[tuple[str, int]] = []
    problems: list[str] = []
    for entry in log:
        tag, _, step = str(entry).rpartition(":")
        if not tag or not step.isdigit():
            problems.append(f"malformed log entry {entry!r}")
            continue
        if segments and segments[-1][0] == tag:
            segments[-1] = (tag, segments[-1][1] + 1)
        else:
            segments.append((tag, 1))
        if int(step) != segments[-1][1] - 1:
            problems.append(f"run {tag}: step {step} where step {segments[-1][1] - 1} was due (lost or doubled)")
    return segments, problems


def _history_problems(facts: ThreadFacts) -> list[str]:
    h = facts.history
    if not h:
        return ["no checkpoint history"]
    out = []
    for newer, older in zip(h, h[1:], strict=False):
        parent = (newer.get("parent_checkpoint") or {}).get("checkpoint_id")
        if parent != older["checkpoint"]["checkpoint_id"]:
            out.append(f"checkpoint {newer['checkpoint']['checkpoint_id']}: parent {parent}, not the one before it (a fork or a hole)")
        if newer["metadata"].get("step") != older["metadata"].get("step") + 1:
            out.append(f"checkpoint {newer['checkpoint']['checkpoint_id']}: step {newer['metadata'].get('step')} after {older['metadata'].get('step')}")
        new_log, old_log = newer["values"].get("log", []), older["values"].get("log", [])
        if new_log[: len(old_log)] != old_log or len(new_log) - len(old_log) > 1:
            out.append(f"checkpoint {newer['checkpoint']['checkpoint_id']}: log {new_log[-3:]} does not extend {old_log[-3:]} by at most one step")
    if h[-1].get("parent_checkpoint"):
        out.append("history does not reach the thread's first checkpoint (truncated?)")
    if h[0]["values"].get("log", []) != facts.values.get("log", []):
        out.append("the newest checkpoint's log is not the thread's state")
    return out


def _run_problems(facts: ThreadFacts, attempts: list[Attempt]) -> list[str]:
    out = []
    by_tag = {a.tag: a for a in attempts}
    seen: set[str] = set()
    for run in facts.runs:
        tag = run["metadata"].get("tag")
        if run["status"] not in FINAL:
            out.append(f"run {tag} ({run['run_id']}) is {run['status']}")
        if tag not in by_tag:
            out.append(f"run {run['run_id']} has no create attempt on this thread (tag {tag!r})")
        elif tag in seen:
            out.append(f"run {tag}: two runs of one create")
        seen.add(tag)
        if tag in by_tag and run["status"] == "interrupted" and not _may_be_cancelled(run["created_at"], "interrupt", attempts, facts.runs):
            out.append(f"run {tag} is interrupted, but no later run was created with interrupt")
    for a in attempts:
        if a.outcome == "failed" or (a.outcome == "rejected" and a.strategy != "reject") or (a.outcome == "unknown" and a.error):
            out.append(f"create {a.tag} ({a.strategy}): {a.error}")
        elif a.outcome == "rejected" and a.tag in seen:
            out.append(f"create {a.tag} answered 409 but its run exists")
        elif a.outcome == "created" and a.run_id in facts.gone:
            assert a.created_at is not None
            if not _may_be_cancelled(a.created_at, "rollback", attempts, facts.runs):
                out.append(f"run {a.tag} ({a.run_id}) is gone, but no later run was created with rollback")
        elif a.outcome == "created" and a.tag not in seen:
            out.append(f"run {a.tag} ({a.run_id}) is neither listed nor gone")
        if a.error and a.error.startswith("join"):
            out.append(f"run {a.tag}: {a.error}")
    return out


def _log_problems(facts: ThreadFacts, attempts: list[Attempt]) -> list[str]:
    log = facts.values.get("log", [])
    segments, out = _log_segments(log)
    status = {r["metadata"].get("tag"): r["status"] for r in facts.runs}
    kept = [tag for tag, _ in segments]
    if len(kept) != len(set(kept)):
        out.append(f"a run's steps are split (interleaved with another run's): {kept}")
    steps = dict(segments)
    for tag, n in segments:
        if tag not in status:
            out.append(f"steps of run {tag}, which is gone or was rejected, are in the log")
        elif status[tag] == "success" and n != STEPS:
            out.append(f"run {tag} succeeded with {n} of {STEPS} steps in the log")
        elif n > STEPS:
            out.append(f"run {tag} has {n} steps in the log, more than {STEPS}")
    for tag, st in status.items():
        if st == "success" and tag not in steps:
            out.append(f"run {tag} succeeded but none of its steps are in the log")
    if facts.values.get("count", 0) != len(log):
        out.append(f"count {facts.values.get('count')} != {len(log)} log entries")
    for a in attempts:
        if status.get(a.tag) == "success" and isinstance(a.result, dict):
            tail = a.result.get("log", [])[-STEPS:]
            if tail != [f"{a.tag}:{i}" for i in range(STEPS)]:
                out.append(f"run {a.tag}: joined result ends with {tail}, not its own steps ({str(a.result)[:200]})")
    return out


def violations(facts: list[ThreadFacts], attempts: list[Attempt]) -> list[str]:
    """Every broken rule (see the module's docstring), each naming its thread and run."""
    by_thread: dict[str, list[Attempt]] = {}
    for a in attempts:
        by_thread.setdefault(a.thread_id, []).append(a)
    out = []
    for f in facts:
        mine = by_thread.get(f.thread_id, [])
        problems = [*_run_problems(f, mine), *_log_problems(f, mine), *_history_problems(f)]
        if f.status != "idle":
            problems.append(f"thread is {f.status}, not idle")
        out += [f"thread {f.thread_id}: {p}" for p in problems]
    return out


def explain(facts: ThreadFacts, attempts: list[Attempt]) -> dict[str, Any]:
    """One thread's story, for a report of its violations: the load's create attempts on it,
    the runs the server has (in creation order), the final log."""
    mine = [a for a in attempts if a.thread_id == facts.thread_id]
    return {
        "thread_id": facts.thread_id,
        "attempts": [
            {"tag": a.tag, "strategy": a.strategy, "outcome": a.outcome, "run_id": a.run_id, "created_at": a.created_at,
             "gone": a.run_id in facts.gone, "error": a.error,
             "result_error": a.result.get("__error__") if isinstance(a.result, dict) else None}
            for a in mine
        ],
        "runs": [
            {"tag": r["metadata"].get("tag"), "status": r["status"], "created_at": r["created_at"],
             "updated_at": r["updated_at"], "strategy": r.get("multitask_strategy")}
            for r in sorted(facts.runs, key=lambda r: r["created_at"])
        ],
        "log": facts.values.get("log"),
    }  # fmt: skip
