"""Start a server (``langgraph dev`` or ``actorgraph dev``) on a free loopback port in a temp
folder, wait for ``/ok``, sample the resident memory of its process tree, stop it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.server.graphs import write_app

__all__ = ("ServerSpec", "Server", "ServerFailed", "free_port", "tree_rss_bytes", "RssSampler")

#: what keeps ``langgraph dev`` off the network: no CLI usage report, no LangSmith tracing
QUIET_ENV = {
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
}


class ServerFailed(RuntimeError):
    """The server did not come up (or died); the message ends with its log's last lines."""


@dataclass(frozen=True)
class ServerSpec:
    """How to start one side: ``lib`` is ``"lg"`` or ``"ag"``; ``argv`` is the command up to
    (not including) ``dev``'s options; ``env`` is added to this process's environment."""

    lib: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    n_jobs_per_worker: int | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: fields resume after the last ')'
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def tree_rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` and all its descendants, summed (Linux ``/proc``). Pages
    shared between processes of the tree count once per process, as ``ps`` shows them."""
    kids = _children()
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(kids.get(p, ()))
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


class RssSampler:
    """Samples ``tree_rss_bytes(pid)`` every ``interval`` seconds on a daemon thread; ``peak``
    is the largest sample since the last ``reset_peak()``."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self.peak = tree_rss_bytes(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def reset_peak(self) -> None:
        self.peak = tree_rss_bytes(self.pid)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, tree_rss_bytes(self.pid))


def _get(url: str, timeout: float) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback only)
        return int(resp.status)


class Server:
    """One running server: ``with Server(spec) as s: s.url, s.pid, s.startup_s``."""

    def __init__(self, spec: ServerSpec, *, ready_timeout: float = 90.0) -> None:
        self.spec, self.ready_timeout = spec, ready_timeout
        self._tmp = tempfile.TemporaryDirectory(prefix=f"agsrvbench-{spec.lib}-")
        self.folder = Path(self._tmp.name)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_s: float | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def log_path(self) -> Path:
        return self.folder / "server.log"

    def log_tail(self, n: int = 15) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])

    def command(self, config: Path) -> list[str]:
        argv = [*self.spec.argv, "dev", "--no-reload", "--port", str(self.port), "--config", str(config)]
        if self.spec.lib == "lg":
            argv.append("--no-browser")
        if self.spec.n_jobs_per_worker is not None:
            argv += ["--n-jobs-per-worker", str(self.spec.n_jobs_per_worker)]
        return argv

    def __enter__(self) -> Server:
        lib = "langgraph" if self.spec.lib == "lg" else "actorgraph"
        config = write_app(self.folder / "app", lib)
        env = {**os.environ, **QUIET_ENV, **self.spec.env, "PYTHONUNBUFFERED": "1"}
        log = open(self.log_path, "wb")  # noqa: SIM115 (closed with the process)
        t0 = time.perf_counter()
        try:
            self.proc = subprocess.Popen(
                self.command(config), cwd=config.parent, env=env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        except OSError as exc:
            self._tmp.cleanup()
            raise ServerFailed(f"cannot start {self.spec.argv[0]}: {exc}") from exc
        finally:
            log.close()  # the child holds its own descriptor
        try:
            self._wait_ready(t0)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, t0: float) -> None:
        assert self.proc is not None
        while time.perf_counter() - t0 < self.ready_timeout:
            if self.proc.poll() is not None:
                raise ServerFailed(
                    f"{self.spec.lib} server exited with {self.proc.returncode} before answering "
                    f"/ok:\n{self.log_tail()}"
                )
            try:
                if _get(f"{self.url}/ok", timeout=1.0) == 200:
                    self.startup_s = time.perf_counter() - t0
                    return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise ServerFailed(
            f"{self.spec.lib} server not answering /ok after {self.ready_timeout:g} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """SIGTERM to the server's process group (it was started in its own session), SIGKILL
        after 10 s."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
            except ProcessLookupError:
                pass
        self._tmp.cleanup()

    def __exit__(self, *exc: object) -> None:
        self.stop()
