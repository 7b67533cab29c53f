"""Retention through ``langgraph-sdk`` against a real server, with TTLs of a fraction of a
minute in ``langgraph.json``: expired threads go with their runs and checkpoints (or keep
only their latest checkpoint), expired store items go, everything else stays, requests
answer while the sweeps run, and bad TTL settings fail at start naming the key."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import NotFoundError, UnprocessableEntityError

from actorgraph.errors import ConfigError
from actorgraph.server.config import parse_config
from actorgraph.server.retention import parse_store_ttl
from tests.server.conftest import Server, make_app_folder

SWEEP = 0.005  # minutes: a sweep every 0.3 s
SHORT = 0.01  # minutes: expired after 0.6 s
DONE = {"x": 20, "log": ["a", "b", "c"]}


def _start(tmp: pytest.TempPathFactory, name: str, **config: Any) -> Iterator[Server]:
    srv = Server(make_app_folder(tmp.mktemp(name), **config)).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def sweeping(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Sweeps often; no default TTLs: only what was given a ttl expires."""
    yield from _start(
        tmp_path_factory, "sweeping",
        checkpointer={"ttl": {"strategy": "delete", "sweep_interval_minutes": SWEEP}},
        store={"ttl": {"sweep_interval_minutes": SWEEP}},
    )


@pytest.fixture(scope="module")
def defaulting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Default TTLs for threads and store items."""
    yield from _start(
        tmp_path_factory, "defaulting",
        checkpointer={"ttl": {"strategy": "delete", "default_ttl": SHORT, "sweep_interval_minutes": SWEEP}},
        store={"ttl": {"default_ttl": SHORT, "sweep_interval_minutes": SWEEP}},
    )


def eventually(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _gone(client: Any, thread_id: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            client.threads.get(thread_id)
        except NotFoundError:
            return True
        return False

    return check


def _stored_keys(server: Server) -> set[str]:
    """The store's rows, read from the database file itself (a read through the API would
    drop an expired item on its own, without a sweep)."""
    db = server.folder / ".actorgraph" / "actorgraph.sqlite"
    with sqlite3.connect(db) as conn:
        return {key for (key,) in conn.execute("SELECT key FROM actorgraph_store")}


def _clocks(server: Server, thread_id: str) -> list[Any]:
    """The thread's TTL clock in the server's database: (thread_id, strategy, ttl minutes,
    expires_at); gone once a sweep deleted the thread, stopped (None) once one pruned it."""
    db = server.folder / ".actorgraph" / "actorgraph.sqlite"
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT * FROM srv_thread_ttl WHERE thread_id = ?", (thread_id,)).fetchall()


def _thread_with_run(client: Any, **create: Any) -> str:
    tid = client.threads.create(**create)["thread_id"]
    assert client.runs.wait(tid, "simple", input={"x": 1}) == DONE
    return str(tid)


def test_an_expired_thread_goes_with_its_runs_and_checkpoints_and_nothing_else(sweeping: Server) -> None:
    client = get_sync_client(url=sweeping.url)
    expiring = _thread_with_run(client, ttl={"strategy": "delete", "ttl": SHORT})
    plain = _thread_with_run(client)
    lasting = _thread_with_run(client, ttl=60)
    assert eventually(_gone(client, expiring))
    with pytest.raises(NotFoundError):
        client.runs.list(expiring)
    # its checkpoints went too: a new thread under its id starts empty
    client.threads.create(thread_id=expiring)
    assert client.threads.get_state(expiring)["values"] == {}
    for tid in (plain, lasting):
        assert client.threads.get(tid)["status"] == "idle"
        assert client.threads.get_state(tid)["values"] == DONE
        assert [r["status"] for r in client.runs.list(tid)] == ["success"]


def test_keep_latest_prunes_old_checkpoints_and_keeps_the_thread(sweeping: Server) -> None:
    client = get_sync_client(url=sweeping.url)
    tid = client.threads.create(ttl={"strategy": "keep_latest", "ttl": SHORT})["thread_id"]
    client.runs.wait(tid, "simple", input={"x": 1})
    values = client.runs.wait(tid, "simple", input={"x": 2})
    assert len(client.threads.get_history(tid, limit=100)) > 1
    # history reads racing the prune answer (each read is one snapshot)
    assert eventually(lambda: len(client.threads.get_history(tid, limit=100)) == 1)
    assert client.threads.get_state(tid)["values"] == values
    assert client.threads.get(tid)["thread_id"] == tid
    # its clock waits for the next run, which starts it again with the thread's own ttl
    assert [(c[1], c[2], c[3]) for c in _clocks(sweeping, tid)] == [("keep_latest", SHORT, None)]
    last = client.runs.wait(tid, "simple", input={"x": 3})
    assert eventually(lambda: len(client.threads.get_history(tid, limit=100)) == 1)
    assert client.threads.get_state(tid)["values"] == last


def test_a_patched_ttl_expires_the_thread(sweeping: Server) -> None:
    client = get_sync_client(url=sweeping.url)
    tid = _thread_with_run(client)
    client.threads.update(tid, metadata={"k": 1}, ttl=SHORT)
    assert eventually(_gone(client, tid))


def test_a_ttl_at_or_below_zero_expires_at_the_next_sweep(sweeping: Server) -> None:
    # LangGraph's server takes any number here
    client = get_sync_client(url=sweeping.url)
    tid = client.threads.create(ttl={"strategy": "delete", "ttl": -1})["thread_id"]
    assert eventually(_gone(client, tid))
    # an object without "ttl" gets the default: none here
    kept = client.threads.create(ttl={"strategy": "delete"})["thread_id"]
    assert _clocks(sweeping, kept) == []


def test_expired_store_items_are_swept_and_the_rest_stays(sweeping: Server) -> None:
    client = get_sync_client(url=sweeping.url)
    client.store.put_item(["ret", "a"], "short", {"v": 1}, ttl=SHORT)
    client.store.put_item(["ret", "a"], "forever", {"v": 2})
    client.store.put_item(["ret", "a"], "long", {"v": 3}, ttl=60)
    assert {"short", "forever", "long"} <= _stored_keys(sweeping)
    assert eventually(lambda: "short" not in _stored_keys(sweeping))
    assert {"forever", "long"} <= _stored_keys(sweeping)
    assert client.store.get_item(["ret", "a"], "forever")["value"] == {"v": 2}
    assert client.store.get_item(["ret", "a"], "long")["value"] == {"v": 3}


def test_requests_keep_answering_while_sweeps_delete(sweeping: Server) -> None:
    client = get_sync_client(url=sweeping.url)
    keep = _thread_with_run(client)
    doomed = [client.threads.create(ttl=SHORT, metadata={"doomed": True})["thread_id"] for _ in range(60)]
    answered = 0

    def all_gone() -> bool:
        nonlocal answered
        # every request answers (the SDK raises on an error) while threads are being deleted
        assert client.threads.get_state(keep)["values"] == DONE
        remaining = client.threads.count(metadata={"doomed": True})
        answered += 2
        return remaining == 0

    assert eventually(all_gone)
    assert answered >= 2
    for tid in doomed[:3]:
        assert _gone(client, tid)()


def test_default_ttls_expire_what_was_made_without_one(defaulting: Server) -> None:
    client = get_sync_client(url=defaulting.url)
    defaulted = _thread_with_run(client)
    lasting = _thread_with_run(client, ttl={"strategy": "delete", "ttl": 60})
    client.store.put_item(["ret", "b"], "defaulted", {"v": 1})
    client.store.put_item(["ret", "b"], "lasting", {"v": 2}, ttl=60)
    assert eventually(_gone(client, defaulted))
    assert eventually(lambda: "defaulted" not in _stored_keys(defaulting))
    assert client.threads.get_state(lasting)["values"] == DONE
    assert client.store.get_item(["ret", "b"], "lasting")["value"] == {"v": 2}


def test_a_bad_thread_ttl_is_a_422_naming_it(sweeping: Server) -> None:
    client = get_sync_client(url=sweeping.url)
    with pytest.raises(UnprocessableEntityError, match="ttl.ttl"):
        client.threads.create(ttl={"strategy": "delete", "ttl": "soon"})
    with pytest.raises(UnprocessableEntityError, match="ttl.strategy"):
        client.threads.create(ttl={"strategy": "shred", "ttl": 1})
    tid = client.threads.create()["thread_id"]
    with pytest.raises(UnprocessableEntityError, match="ttl.ttl"):
        client.threads.update(tid, metadata={}, ttl={"ttl": "soon"})


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"checkpointer": {"ttl": {"strategy": "shred"}}}, "checkpointer.ttl.strategy"),
        ({"checkpointer": {"ttl": {"default_ttl": -1}}}, "checkpointer.ttl.default_ttl"),
        ({"checkpointer": {"ttl": {"sweep_interval_minutes": "often"}}}, "checkpointer.ttl.sweep_interval_minutes"),
        ({"checkpointer": {"ttl": {"sweep_limit": 0}}}, "checkpointer.ttl.sweep_limit"),
        ({"store": {"ttl": {"default_ttl": 0}}}, "store.ttl.default_ttl"),
        ({"store": {"ttl": {"refresh_on_read": "yes"}}}, "store.ttl.refresh_on_read"),
        ({"store": {"ttl": {"sweep_interval_minutes": True}}}, "store.ttl.sweep_interval_minutes"),
    ],
)
def test_a_bad_ttl_setting_fails_at_start_naming_the_key(tmp_path: Path, data: dict, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"graphs": {"g": "./a.py:g"}, **data}, tmp_path)
    assert info.value.key == key and key in str(info.value)


def test_a_run_restarts_the_thread_clock(sweeping: Server) -> None:
    client = get_sync_client(url=sweeping.url)
    tid = client.threads.create(ttl=60)["thread_id"]
    [(_, strategy, minutes, first)] = _clocks(sweeping, tid)
    assert (strategy, minutes) == ("delete", 60)
    client.runs.wait(tid, "simple", input={"x": 1})
    [(_, _, _, after_run)] = _clocks(sweeping, tid)
    assert after_run > first
    # without a ttl of its own or a default, a thread has no clock, runs or not
    plain = _thread_with_run(client)
    assert _clocks(sweeping, plain) == []


def test_an_unknown_ttl_key_warns(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="checkpointer.ttl.bogus"):
        parse_config({"graphs": {"g": "./a.py:g"}, "checkpointer": {"ttl": {"bogus": 1}}}, tmp_path)
    with pytest.warns(UserWarning, match="store.ttl.bogus"):
        parse_config({"graphs": {"g": "./a.py:g"}, "store": {"ttl": {"bogus": 1}}}, tmp_path)
    with pytest.warns(UserWarning):  # and the store is not given it
        assert parse_store_ttl({"bogus": 1, "default_ttl": 2}).store_config == {"refresh_on_read": True, "default_ttl": 2}
