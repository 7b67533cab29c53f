"""Starting the server: ``langgraph.json`` parsing (bad values fail naming the key, unknown
keys warn), the CLI (port in use is an error), ``/ok``, ``/info``, ``/openapi.json``
generated from the Structs, ``/docs`` without network, JSON 404/405."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from actorgraph.errors import ConfigError
from actorgraph.server.config import load_config, parse_config, read_env_file
from langgraph_sdk import get_sync_client

from tests.server.conftest import ROOT, Server, free_port, make_app_folder


def test_config_parses_graphs_env_dependencies_and_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("# comment\nexport A=1\nB='two words'\nC=3 # trailing\n")
    (tmp_path / "langgraph.json").write_text(
        json.dumps(
            {
                "graphs": {"g": "./graphs.py:graph", "m": "pkg.mod:make", "d": {"path": "./x.py:y", "description": "D"}},
                "env": ".env",
                "dependencies": ["."],
                "store": {"ttl": {"default_ttl": 5}},
                "checkpointer": {"ttl": {"strategy": "delete"}},
                "http": {"cors": {}},
                "webhooks": {"env_prefix": "X"},
                "auth": {"path": "./auth.py:auth"},
                "python_version": "3.11",
            }
        )
    )
    config = load_config(tmp_path / "langgraph.json")
    assert config.graphs["g"].file and config.graphs["g"].module == "./graphs.py" and config.graphs["g"].attr == "graph"
    assert not config.graphs["m"].file and config.graphs["m"].module == "pkg.mod"
    assert config.graphs["d"].description == "D"
    assert config.env == {"A": "1", "B": "two words", "C": "3"}
    assert config.store == {"ttl": {"default_ttl": 5}} and config.auth == {"path": "./auth.py:auth"}
    assert config.webhooks == {"env_prefix": "X"} and config.http == {"cors": {}}
    assert read_env_file(tmp_path / ".env")["A"] == "1"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({}, "graphs"),
        ({"graphs": {"g": "no-colon"}}, "graphs.g"),
        ({"graphs": {"g": 3}}, "graphs.g"),
        ({"graphs": {"g": "./a.py:not an id"}}, "graphs.g"),
        ({"graphs": {"g": "./a.py:g"}, "env": 3}, "env"),
        ({"graphs": {"g": "./a.py:g"}, "env": "missing.env"}, "env"),
        ({"graphs": {"g": "./a.py:g"}, "dependencies": "."}, "dependencies"),
        ({"graphs": {"g": "./a.py:g"}, "store": []}, "store"),
        ({"graphs": {"g": "./a.py:g"}, "store": {"index": 1}}, "store.index"),
        ({"graphs": {"g": "./a.py:g"}, "checkpointer": {"ttl": 1}}, "checkpointer.ttl"),
        ({"graphs": {"g": "./a.py:g"}, "auth": {"path": 1}}, "auth.path"),
        ({"graphs": {"g": "./a.py:g"}, "alias_langgraph": "yes"}, "alias_langgraph"),
    ],
)
def test_a_bad_config_value_fails_naming_the_key(tmp_path: Path, data: dict, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(data, tmp_path)
    assert info.value.key == key and key in str(info.value)


def test_unknown_keys_warn(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="bogus"):
        parse_config({"graphs": {"g": "./a.py:g"}, "bogus": 1}, tmp_path)


def _cli(folder: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "actorgraph.server", "dev", "--no-reload", *args],
        cwd=folder, capture_output=True, text=True, timeout=timeout, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_a_port_in_use_is_an_error_not_a_silent_move(tmp_path: Path) -> None:
    folder = make_app_folder(tmp_path, {"simple": "./graphs.py:simple"})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _cli(folder, "--port", str(port))
    assert result.returncode != 0 and f"port {port}" in result.stderr and "in use" in result.stderr


def test_a_graph_that_does_not_load_fails_at_start_naming_it(tmp_path: Path) -> None:
    folder = make_app_folder(tmp_path, {"broken": "./graphs.py:no_such_graph"})
    result = _cli(folder, "--port", str(free_port()))
    assert result.returncode != 0 and "graphs.broken" in result.stderr and "no_such_graph" in result.stderr
    folder = make_app_folder(tmp_path / "2", {"mod": "./graphs.py:S"})
    result = _cli(folder, "--port", str(free_port()))
    assert result.returncode != 0 and "graphs.mod" in result.stderr


def test_alias_langgraph_serves_graphs_written_against_langgraph(tmp_path: Path) -> None:
    folder = make_app_folder(tmp_path, {"lg": "./lg_graph.py:graph"})
    (folder / "lg_graph.py").write_text(
        "from langgraph.graph import StateGraph, START\n"
        "from typing import TypedDict\n"
        "import actorgraph.graph\n"
        "assert StateGraph is actorgraph.graph.StateGraph\n"
        "class S(TypedDict):\n    x: int\n"
        "b = StateGraph(S)\nb.add_node('n', lambda s: {'x': s['x'] + 1})\nb.add_edge(START, 'n')\ngraph = b.compile()\n"
    )
    srv = Server(folder, "--alias-langgraph").start()
    try:
        drawing = httpx.get(srv.url + "/assistants/lg/graph").json()
        assert [n["id"] for n in drawing["nodes"]] == ["__start__", "n", "__end__"]
    finally:
        srv.stop()
    # the database lives in .actorgraph/ beside langgraph.json by default
    assert (folder / ".actorgraph" / "actorgraph.sqlite").is_file()


def test_json_logs_hold_an_access_entry_per_request_and_a_run_entry_per_run(tmp_path: Path) -> None:
    folder = make_app_folder(tmp_path, {"simple": "./graphs.py:simple"})
    srv = Server(folder, "--log-level", "info", "--log-format", "json").start()
    try:
        client = get_sync_client(url=srv.url)
        thread = client.threads.create()
        result = client.runs.wait(thread["thread_id"], "simple", input={"x": 1})
        assert result["x"] == 20
        assert httpx.get(srv.url + "/threads/00000000-0000-0000-0000-000000000000").status_code == 404
    finally:
        srv.stop()
    entries = []
    for line in srv.log.read_text().splitlines():
        if line.startswith("{"):
            entries.append(json.loads(line))  # every structlog line is one JSON object
    access = [e for e in entries if e["event"] == "http.request"]
    assert {"method": "POST", "path": "/threads", "status": 200} in [
        {k: e[k] for k in ("method", "path", "status")} for e in access
    ]
    missing = [e for e in access if e["path"].startswith("/threads/0000")]
    assert [(e["method"], e["status"]) for e in missing] == [("GET", 404)]
    assert all(e["level"] == "info" and e["duration_ms"] >= 0 and "timestamp" in e for e in access)
    runs = [e for e in entries if e["event"] == "run finished"]
    assert len(runs) == 1
    assert runs[0]["thread_id"] == thread["thread_id"] and runs[0]["status"] == "success"
    assert {"run_id", "assistant_id", "duration_s"} <= runs[0].keys()


def test_a_bad_log_level_or_format_is_refused_at_start(tmp_path: Path) -> None:
    folder = make_app_folder(tmp_path, {"simple": "./graphs.py:simple"})
    for flags, expected in ((["--log-level", "loud"], "unknown log level 'loud'"), (["--log-format", "xml"], "invalid choice: 'xml'")):
        out = subprocess.run(
            [sys.executable, "-m", "actorgraph.server", "dev", "--no-reload", "--port", str(free_port()), *flags],
            cwd=folder, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60,
        )
        assert out.returncode != 0
        assert expected in out.stderr


def test_meta_endpoints_openapi_and_docs(tmp_path: Path) -> None:
    folder = make_app_folder(tmp_path, {"simple": "./graphs.py:simple"})
    data = tmp_path / "data"
    srv = Server(folder, "--data-dir", str(data), "--n-jobs-per-worker", "3").start()
    try:
        with httpx.Client(base_url=srv.url) as http:
            assert http.get("/ok").json() == {"ok": True, "services": {}}
            info = http.get("/info").json()
            assert info["graphs"] == ["simple"] and info["metadata"]["n_jobs_per_worker"] == 3 and "flags" in info
            doc = http.get("/openapi.json").json()
            assert doc["openapi"].startswith("3.")
            for path in ("/assistants", "/assistants/{assistant_id}/graph", "/threads/{thread_id}/state", "/store/items"):
                assert path in doc["paths"], path
            create = doc["paths"]["/assistants"]["post"]
            ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            schema = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
            assert "graph_id" in schema["required"] and "if_exists" in schema["properties"]
            page = http.get("/docs")
            assert page.status_code == 200 and "openapi.json" in page.text
            assert "http://" not in page.text and "https://" not in page.text  # nothing from the network
            missing = http.get("/nope")
            assert missing.status_code == 404 and missing.json() == {"detail": "Not Found"}
            wrong = http.put("/threads")
            assert wrong.status_code == 405 and wrong.json() == {"detail": "Method Not Allowed"}
    finally:
        srv.stop()
    assert (data / "actorgraph.sqlite").is_file()


def test_the_readme_example_app_streams_a_run(tmp_path: Path) -> None:
    folder = ROOT / "actorgraph" / "examples" / "server"
    srv = Server(folder, "--data-dir", str(tmp_path / "data"), log=tmp_path / "server.log").start()
    try:
        parts = list(get_sync_client(url=srv.url).runs.stream(None, "story", input={"topic": "robot"}, stream_mode="updates"))
    finally:
        srv.stop()
    assert [p.event for p in parts] == ["metadata", "updates", "updates", "updates"]
    assert parts[1].data == {"opening": {"sentences": ["Once upon a time there was a robot."]}}
    assert not (folder / ".actorgraph").exists()


@pytest.mark.parametrize(("level", "logged"), [("warning", False), ("info", True)])
def test_log_level_applies_to_the_servers_own_events(tmp_path: Path, level: str, logged: bool) -> None:
    folder = make_app_folder(tmp_path)
    srv = Server(folder, "--log-level", level, log=tmp_path / "server.log").start()
    try:
        client = get_sync_client(url=srv.url)
        thread = client.threads.create()
        run = client.runs.create(thread["thread_id"], "simple", input={"x": 1})
        assert client.runs.join(thread["thread_id"], run["run_id"]) == {"x": 20, "log": ["a", "b", "c"]}
    finally:
        srv.stop()
    assert ("run finished" in (tmp_path / "server.log").read_text()) is logged
