"""The committed lists that score a compat run.

- ``lists/skips.txt``: tests we don't run, each with one of three allowed reasons.
- ``lists/<suite>.reference``: every test id the suite collects under the pinned LangGraph
  release and its outcome there (``python -m compat --reference PYTHON`` writes it).
- ``lists/<suite>.failing``: tests known to fail on actorgraph. It only shrinks: a test
  outside it that passed on LangGraph and fails here fails the run.
"""

from __future__ import annotations

from pathlib import Path

__all__ = (
    "LISTS",
    "REASONS",
    "read_failing",
    "read_reference",
    "read_skips",
    "write_failing",
    "write_reference",
)

LISTS = Path(__file__).resolve().parent / "lists"

REASONS = {
    "private": "the test exercises a private internal (langgraph._internal, Pregel loop or runner classes, private constants)",
    "service": "the test needs a service actorgraph doesn't provide",
    "deliberate": "the test checks a deliberate difference listed in the README",
}


def read_skips() -> dict[str, dict[str, str]]:
    """suite -> {test id or test file: "<reason>: <why>"}"""
    out: dict[str, dict[str, str]] = {}
    section: dict[str, str] | None = None
    path = LISTS / "skips.txt"
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = out.setdefault(line[1:-1], {})
            continue
        if section is None or " | " not in line:
            raise SystemExit(f"{path}:{lineno}: expected '[suite]' or '<test id> | <reason>: <why>'")
        test_id, _, why = line.partition(" | ")
        reason = why.partition(":")[0].strip()
        if reason not in REASONS or not why.partition(":")[2].strip():
            raise SystemExit(f"{path}:{lineno}: the reason must be one of {sorted(REASONS)} followed by ': <why>'")
        section[test_id.strip()] = why.strip()
    return out


def read_reference(suite: str) -> dict[str, str]:
    """test id -> outcome under LangGraph ("passed", "skipped", "failed", "xfailed")"""
    path = LISTS / f"{suite}.reference"
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            outcome, _, test_id = line.partition("\t")
            out[test_id] = outcome
    return out


def write_reference(suite: str, outcomes: dict[str, str]) -> None:
    lines = [f"{outcomes[t]}\t{t}" for t in sorted(outcomes)]
    (LISTS / f"{suite}.reference").write_text("\n".join(lines) + "\n")


def read_failing(suite: str) -> set[str]:
    path = LISTS / f"{suite}.failing"
    if not path.exists():
        return set()
    return {ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")}


def write_failing(suite: str, ids: set[str]) -> None:
    header = f"# {suite}: LangGraph tests that still fail on actorgraph (the list only shrinks)\n"
    (LISTS / f"{suite}.failing").write_text(header + "".join(f"{t}\n" for t in sorted(ids)))
