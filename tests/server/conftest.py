"""A real server for each test module: ``actorgraph dev --no-reload`` in a subprocess on a
free loopback port, serving ``app/graphs.py``; tests drive it with ``langgraph-sdk``."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import actorgraph

APP = Path(__file__).parent / "app"
ROOT = Path(actorgraph.__file__).parent.parent

GRAPHS = {
    "simple": "./graphs.py:simple",
    "builder": "./graphs.py:simple_builder",
    "hitl": "./graphs.py:hitl",
    "parent": "./graphs.py:parent",
    "slow": "./graphs.py:slow",
    "failing": "./graphs.py:failing",
    "factory": "./graphs.py:make_graph",
    "func": "./graphs.py:func",
    "counted": "./graphs.py:counted",
}


@pytest.fixture
def anyio_backend() -> str:
    # langgraph-sdk's async client runs on asyncio only
    return "asyncio"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(
        self, folder: Path, *extra: str, port: int | None = None, env: dict[str, str] | None = None, log: Path | None = None
    ) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log or folder / "server.log"
        self.extra = extra
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> Server:
        env = {**os.environ, "PYTHONPATH": str(ROOT), **self.env}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "actorgraph.server", "dev", "--no-reload", "--port", str(self.port),
                 "--log-level", "warning", *self.extra],
                cwd=self.folder, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/ok", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server did not answer /ok in {timeout}s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup (a crash)."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def make_app_folder(tmp: Path, graphs: dict[str, str] | None = None, **config: object) -> Path:
    folder = tmp / "app"
    folder.mkdir(parents=True, exist_ok=True)
    for module in APP.glob("*.py"):
        shutil.copy(module, folder / module.name)
    (folder / "langgraph.json").write_text(json.dumps({"graphs": graphs or GRAPHS, "dependencies": ["."], **config}))
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = make_app_folder(tmp_path_factory.mktemp("server"))
    srv = Server(folder).start()
    try:
        yield srv
    finally:
        srv.stop()
