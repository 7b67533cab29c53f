"""Run webhooks through ``langgraph-sdk`` against a real server, delivered to a real HTTP
receiver on loopback: the body of a success and an error run, a retry after a 500, a
receiver that hangs never holding up runs, ``langgraph.json``'s ``webhooks`` policy (one
test per key), and bad policy values failing at start."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import UnprocessableEntityError

from actorgraph.errors import ConfigError
from actorgraph.server.config import parse_config
from tests.server.conftest import Server, make_app_folder
from tests.server.receiver import Receiver, receiving


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    yield from receiving()


def _start(tmp: pytest.TempPathFactory, name: str, webhooks: dict[str, Any], env: dict[str, str] | None = None) -> Iterator[Server]:
    folder = make_app_folder(tmp.mktemp(name), webhooks=webhooks)
    srv = Server(folder, env=env).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Loopback and http allowed; headers with an ${{ env.X }} template."""
    policy = {
        "url": {"require_https": False, "disable_loopback": False},
        "headers": {"X-Hook-Token": "Bearer ${{ env.LG_WEBHOOK_TOKEN }}", "X-Static": "plain"},
    }
    yield from _start(tmp_path_factory, "open", policy, env={"LG_WEBHOOK_TOKEN": "s3cret"})


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[Server]:
    """Only 127.0.0.1 on the receiver's port, short URLs, three fields, HOOK_ variables."""
    policy = {
        "env_prefix": "HOOK_",
        "headers": {"X-Other": "${{ env.HOOK_VALUE }}"},
        "url": {
            "allowed_domains": ["127.0.0.1"],
            "allowed_ports": [receiver.port],
            "require_https": False,
            "disable_loopback": False,
            "max_url_length": 64,
        },
        "allowed_fields": ["run_id", "status", "values"],
    }
    yield from _start(tmp_path_factory, "strict", policy, env={"HOOK_VALUE": "v1"})


@pytest.fixture(scope="module")
def default_url_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A ``url`` policy with LangGraph's defaults (https only, no loopback) and private
    addresses refused."""
    yield from _start(tmp_path_factory, "defaults", {"url": {"disable_private_ips": True}})


def _path(kind: str) -> str:
    return f"/{kind}/{uuid.uuid4().hex[:8]}"


def test_a_success_run_posts_the_run_with_its_values(open_server: Server, receiver: Receiver) -> None:
    client = get_sync_client(url=open_server.url)
    tid = client.threads.create()["thread_id"]
    path = _path("ok")
    run = client.runs.create(tid, "simple", input={"x": 1}, webhook=receiver.url + path, metadata={"m": 1})
    assert client.runs.join(tid, run["run_id"]) == {"x": 20, "log": ["a", "b", "c"]}
    [delivery] = receiver.wait_for(path)
    body = delivery.body
    assert body["run_id"] == run["run_id"] and body["thread_id"] == tid and body["assistant_id"] == run["assistant_id"]
    assert body["status"] == "success" and body["metadata"]["m"] == 1
    assert body["kwargs"]["webhook"] == receiver.url + path and body["multitask_strategy"] == "enqueue"
    assert body["values"] == {"x": 20, "log": ["a", "b", "c"]}
    assert "error" not in body
    assert body["created_at"] <= body["run_started_at"] <= body["run_ended_at"] <= body["webhook_sent_at"]
    assert delivery.headers["content-type"] == "application/json"
    assert client.runs.get(tid, run["run_id"])["status"] == "success"


def test_an_error_run_posts_the_error(open_server: Server, receiver: Receiver) -> None:
    client = get_sync_client(url=open_server.url)
    tid = client.threads.create()["thread_id"]
    path = _path("ok")
    run = client.runs.create(tid, "failing", input={"x": 3}, webhook=receiver.url + path)
    [delivery] = receiver.wait_for(path)
    assert delivery.body["status"] == "error" and delivery.body["run_id"] == run["run_id"]
    assert delivery.body["error"] == {"error": "ValueError", "message": "boom: x was 4"}
    # the values of the last step that was saved
    assert delivery.body["values"] == client.threads.get_state(tid)["values"] != {}
    assert client.runs.get(tid, run["run_id"])["status"] == "error"


def test_headers_with_env_templates_arrive(open_server: Server, receiver: Receiver) -> None:
    client = get_sync_client(url=open_server.url)
    path = _path("ok")
    client.runs.wait(None, "simple", input={"x": 1}, webhook=receiver.url + path)
    [delivery] = receiver.wait_for(path)
    assert delivery.headers["x-hook-token"] == "Bearer s3cret" and delivery.headers["x-static"] == "plain"


def test_a_500_is_retried_until_one_delivery_succeeds(open_server: Server, receiver: Receiver) -> None:
    client = get_sync_client(url=open_server.url)
    path = _path("flaky")
    client.runs.wait(None, "simple", input={"x": 1}, webhook=receiver.url + path)
    delivered = receiver.wait_for(path, status=200)
    assert [d.status for d in receiver.to(path)] == [500, 200]
    assert len(delivered) == 1 and delivered[0].body["status"] == "success"


def test_a_hanging_receiver_never_holds_up_runs(open_server: Server, receiver: Receiver) -> None:
    client = get_sync_client(url=open_server.url)
    tid = client.threads.create()["thread_id"]
    path = _path("hang")
    first = client.runs.create(tid, "simple", input={"x": 1}, webhook=receiver.url + path)
    assert receiver.wait_arrived(path)  # the receiver holds the webhook's request open
    assert client.runs.join(tid, first["run_id"]) == {"x": 20, "log": ["a", "b", "c"]}
    # the same thread takes and finishes another run meanwhile
    second = client.runs.create(tid, "simple", input={"x": 2})
    assert client.runs.join(tid, second["run_id"])["log"] == ["a", "b", "c"] * 2
    assert client.runs.get(tid, first["run_id"])["status"] == "success"
    assert receiver.to(path) == []  # still unanswered
    assert client.threads.get(tid)["status"] == "idle"


def _refused(server: Server, url: str) -> str:
    client = get_sync_client(url=server.url)
    with pytest.raises(UnprocessableEntityError) as info:
        client.runs.create(None, "simple", input={"x": 1}, webhook=url)
    detail = str(info.value)
    assert "webhook" in detail.lower()
    return detail


def test_allowed_domains(strict_server: Server, receiver: Receiver) -> None:
    assert "allowed_domains" in _refused(strict_server, f"http://localhost:{receiver.port}/ok/x")


def test_allowed_ports(strict_server: Server) -> None:
    assert "allowed_ports" in _refused(strict_server, "http://127.0.0.1:1/ok/x")


def test_max_url_length(strict_server: Server, receiver: Receiver) -> None:
    assert "max_url_length" in _refused(strict_server, f"{receiver.url}/ok/{'x' * 64}")


def test_allowed_fields_and_env_prefix(strict_server: Server, receiver: Receiver) -> None:
    client = get_sync_client(url=strict_server.url)
    path = _path("ok")
    run = client.runs.wait(None, "simple", input={"x": 1}, webhook=receiver.url + path)
    [delivery] = receiver.wait_for(path)
    assert delivery.body == {"run_id": delivery.body["run_id"], "status": "success", "values": run}
    assert delivery.headers["x-other"] == "v1"


def test_require_https(default_url_server: Server) -> None:
    assert "require_https" in _refused(default_url_server, "http://example.com/hook")


def test_disable_loopback(default_url_server: Server, receiver: Receiver) -> None:
    assert "disable_loopback" in _refused(default_url_server, f"https://127.0.0.1:{receiver.port}/ok/x")
    assert "disable_loopback" in _refused(default_url_server, "https://localhost/ok/x")
    assert "disable_loopback" in _refused(default_url_server, "/runs")


def test_disable_private_ips(default_url_server: Server, open_server: Server) -> None:
    assert "disable_private_ips" in _refused(default_url_server, "https://10.1.2.3/hook")
    # allowed where the policy doesn't refuse them (the delivery itself fails in the background)
    client = get_sync_client(url=open_server.url)
    run = client.runs.wait(None, "simple", input={"x": 1}, webhook="http://10.1.2.3:9/hook")
    assert run == {"x": 20, "log": ["a", "b", "c"]}


@pytest.mark.parametrize(
    ("webhooks", "key"),
    [
        ({"url": {"allowed_domains": "a.com"}}, "webhooks.url.allowed_domains"),
        ({"url": {"allowed_domains": ["a.*.com"]}}, "webhooks.url.allowed_domains"),
        ({"url": {"allowed_ports": [0]}}, "webhooks.url.allowed_ports"),
        ({"url": {"require_https": "yes"}}, "webhooks.url.require_https"),
        ({"url": {"disable_loopback": 1}}, "webhooks.url.disable_loopback"),
        ({"url": {"disable_private_ips": None}}, "webhooks.url.disable_private_ips"),
        ({"url": {"max_url_length": -1}}, "webhooks.url.max_url_length"),
        ({"url": []}, "webhooks.url"),
        ({"allowed_fields": ["run_id", "password"]}, "webhooks.allowed_fields"),
        ({"headers": {"X": 1}}, "webhooks.headers.X"),
        ({"headers": {"X": "${{ env.HOME }}"}}, "webhooks.headers.X"),  # not LG_WEBHOOK_
        ({"headers": {"X": "${{ env.LG_WEBHOOK_SURELY_UNSET_42 }}"}}, "webhooks.headers.X"),
        ({"env_prefix": 3, "headers": {"X": "y"}}, "webhooks.env_prefix"),
    ],
)
def test_a_bad_webhooks_value_fails_at_start_naming_the_key(tmp_path: Path, webhooks: dict, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"graphs": {"g": "./a.py:g"}, "webhooks": webhooks}, tmp_path)
    assert info.value.key == key and key in str(info.value)


def test_header_templates_may_use_the_config_env(tmp_path: Path) -> None:
    data = {"graphs": {"g": "./a.py:g"}, "env": {"LG_WEBHOOK_FROM_FILE": "1"}, "webhooks": {"headers": {"X": "${{ env.LG_WEBHOOK_FROM_FILE }}"}}}
    assert parse_config(data, tmp_path).webhooks == data["webhooks"]


def test_a_receiver_that_keeps_failing_is_tried_three_times_and_logged(open_server: Server, receiver: Receiver) -> None:
    client = get_sync_client(url=open_server.url)
    path = _path("fail")
    run = client.runs.wait(None, "simple", input={"x": 1}, webhook=receiver.url + path)
    assert run == {"x": 20, "log": ["a", "b", "c"]}
    assert [d.status for d in receiver.wait_for(path, 3)] == [500, 500, 500]
    deadline = time.monotonic() + 10
    while path not in open_server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = re.sub(r"\x1b\[[0-9;]*m", "", open_server.log.read_text())  # the console log's colours
    line = next(line for line in text.splitlines() if path in line)
    assert "webhook failed" in line and "attempts=3" in line


def test_an_unknown_webhooks_key_warns(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="webhooks.url.bogus"):
        parse_config({"graphs": {"g": "./a.py:g"}, "webhooks": {"url": {"bogus": 1}}}, tmp_path)


def test_a_path_webhook_is_posted_to_this_server_when_loopback_is_allowed(open_server: Server) -> None:
    # a stateless run's webhook to /threads makes a thread from the run's body (its
    # thread_id, its metadata): the POST reached this server's own route
    client = get_sync_client(url=open_server.url)
    marker = uuid.uuid4().hex
    client.runs.wait(None, "simple", input={"x": 1}, webhook="/threads", metadata={"marker": marker})
    deadline = time.monotonic() + 20
    while not (found := client.threads.search(metadata={"marker": marker})) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(found) == 1 and found[0]["metadata"]["marker"] == marker


def test_without_a_webhooks_config_loopback_is_refused_and_http_allowed(tmp_path: Path, receiver: Receiver) -> None:
    # LangGraph's server's defaults: no loopback, http allowed
    srv = Server(make_app_folder(tmp_path)).start()
    try:
        assert "disable_loopback" in _refused(srv, receiver.url + "/ok/x")
        client = get_sync_client(url=srv.url)
        assert client.runs.wait(None, "simple", input={"x": 1}, webhook="http://10.1.2.3:9/hook") == {"x": 20, "log": ["a", "b", "c"]}
    finally:
        srv.stop()


def test_disable_webhooks_calls_no_webhook(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> None:
    """``http.disable_webhooks``: runs still end as usual, and nothing is posted."""
    policy = {"url": {"require_https": False, "disable_loopback": False}}
    off_srv = Server(make_app_folder(tmp_path_factory.mktemp("nohooks"), webhooks=policy, http={"disable_webhooks": True}))
    on_srv = Server(make_app_folder(tmp_path_factory.mktemp("hooks"), webhooks=policy))
    off, on = _path("off"), _path("ok")
    try:
        off_srv.start()
        on_srv.start()
        result = get_sync_client(url=off_srv.url).runs.wait(None, "simple", input={"x": 1}, webhook=receiver.url + off)
        assert result == {"x": 20, "log": ["a", "b", "c"]}
        # the same run on a server with webhooks on, started after: its delivery arrives
        # (while the first server still runs), the first one's never does
        get_sync_client(url=on_srv.url).runs.wait(None, "simple", input={"x": 1}, webhook=receiver.url + on)
        assert len(receiver.wait_for(on)) == 1
        assert receiver.to(off) == []
    finally:
        off_srv.stop()
        on_srv.stop()


def test_a_cron_with_a_refused_webhook_is_refused_when_made(default_url_server: Server) -> None:
    """A cron's webhook is checked when the cron is made or changed (a 422 naming the
    policy key), not found wrong at each firing."""
    client = get_sync_client(url=default_url_server.url)
    with pytest.raises(UnprocessableEntityError, match=r"webhooks\.url\.require_https"):
        client.crons.create("simple", schedule="0 0 1 1 *", input={"x": 1}, webhook="http://127.0.0.1:9/hook")
    cron = client.crons.create("simple", schedule="0 0 1 1 *", input={"x": 1})
    with pytest.raises(UnprocessableEntityError, match=r"webhooks\.url"):
        client.crons.update(cron["cron_id"], webhook="https://127.0.0.1:9/hook")
    client.crons.delete(cron["cron_id"])
