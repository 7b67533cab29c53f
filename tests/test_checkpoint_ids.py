"""Checkpoint ids and creation times: UUIDv6 ids that sort by creation, and ``created_at``
written exactly as LangGraph writes it (``datetime.now(timezone.utc).isoformat()``)."""

from __future__ import annotations

import datetime as dt
import operator
import re
import threading
import uuid
from typing import Annotated, Any, TypedDict

import pytest

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.graph import END, START, StateGraph

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$")


class S(TypedDict):
    log: Annotated[list[str], operator.add]


def _chain(n: int) -> Any:
    g = StateGraph(S)
    for i in range(n):
        g.add_node(f"n{i}", lambda s, i=i: {"log": [f"n{i}"]})
        g.add_edge(START if i == 0 else f"n{i - 1}", f"n{i}")
    g.add_edge(f"n{n - 1}", END)
    return g.compile(checkpointer=InMemorySaver())


def test_a_runs_checkpoints_have_time_ordered_uuid6_ids_and_utc_creation_times() -> None:
    app = _chain(5)
    cfg = {"configurable": {"thread_id": "t"}}
    before = dt.datetime.now(dt.timezone.utc)
    app.invoke({"log": []}, cfg)
    after = dt.datetime.now(dt.timezone.utc)
    history = list(app.get_state_history(cfg))  # newest first
    assert [h.metadata["step"] for h in history] == [5, 4, 3, 2, 1, 0, -1]
    ids = [h.config["configurable"]["checkpoint_id"] for h in reversed(history)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for cid in ids:
        u = uuid.UUID(cid)
        assert (u.version, u.variant) == (6, uuid.RFC_4122), cid
    times = [h.created_at for h in reversed(history)]
    for text in times:
        assert ISO_UTC.match(text), text
    parsed = [dt.datetime.fromisoformat(t) for t in times]
    assert parsed == sorted(parsed)
    assert before <= parsed[0] and parsed[-1] <= after


def test_two_runs_start_from_fresh_empty_reducer_values() -> None:
    """A fresh run's list channel is a new list: a run never sees another's items."""
    app = _chain(2)
    a = app.invoke({"log": ["a"]}, {"configurable": {"thread_id": "a"}})
    b = app.invoke({"log": ["b"]}, {"configurable": {"thread_id": "b"}})
    assert a == {"log": ["a", "n0", "n1"]}
    assert b == {"log": ["b", "n0", "n1"]}


@pytest.mark.parametrize(
    "ns",
    [
        1_796_586_327_000_000_000,  # on the second: no fraction, as isoformat writes it
        1_796_586_327_000_001_000,
        1_796_586_327_999_999_999,  # rounds down to the microsecond
        1_796_586_328_123_456_789,  # the next second: the cached date is redone
        1_796_586_327_500_000_000,  # back again
    ],
)
def test_creation_times_are_written_as_isoformat_writes_them(monkeypatch: pytest.MonkeyPatch, ns: int) -> None:
    from actorgraph.actors import _ids

    monkeypatch.setattr(_ids.time, "time_ns", lambda: ns)
    expected = dt.datetime.fromtimestamp(ns // 1000 / 1_000_000, dt.timezone.utc)
    expected = expected.replace(microsecond=(ns // 1000) % 1_000_000)
    assert _ids.now_iso() == expected.isoformat()


def test_checkpoint_ids_made_in_several_threads_at_once_are_unique_and_ordered() -> None:
    from actorgraph.actors._ids import checkpoint_id

    made: list[list[str]] = [[] for _ in range(4)]

    def work(out: list[str]) -> None:
        for _ in range(2000):
            out.append(checkpoint_id())

    threads = [threading.Thread(target=work, args=(m,)) for m in made]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [cid for m in made for cid in m]
    assert len(set(every)) == len(every) == 8000
    for m in made:
        assert m == sorted(m)
