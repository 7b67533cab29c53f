"""Start a server (``langgraph dev`` or ``actorgraph dev``) on a free loopback port in a temp
folder, wait for ``/ok``, sample the resident memory of its process tree, stop it."""

from __future__ import annotations

import contextlib
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

__all__ = (
    "ServerSpec", "Server", "ServerFailed", "free_port", "tree_pids", "tree_rss_bytes",
    "tree_cpu_seconds", "RssSampler",
)  # fmt: skip

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
    (not including) ``dev``'s options; ``env`` is added to this process's environment.
    ``command`` is ``dev`` or ``serve``; ``extra`` goes after the options the harness sets
    (say ``--database-uri ...``)."""

    lib: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    n_jobs_per_worker: int | None = None
    command: str = "dev"
    extra: tuple[str, ...] = ()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stat_fields(proc: Path, pid: int) -> list[str] | None:
    """The fields of ``proc/pid/stat`` after the command name (``state`` first), or None when
    the process is gone. The name may hold spaces and parentheses: fields resume after the
    last ``)``."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()


def _children_by_scan(proc: Path) -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir(proc):
        if entry.isdigit() and (fields := _stat_fields(proc, int(entry))) is not None:
            kids.setdefault(int(fields[1]), []).append(int(entry))
    return kids


def _children_of(proc: Path, pid: int) -> list[int]:
    """``pid``'s children from ``task/*/children`` (one file per thread that forked)."""
    kids: list[int] = []
    for path in (proc / str(pid) / "task").glob("*/children"):
        try:
            kids.extend(int(k) for k in path.read_text().split())
        except (OSError, ValueError):
            continue
    return kids


def tree_pids(pid: int, *, proc: str | Path = "/proc") -> list[int]:
    """``pid`` and all its descendants, from ``/proc/<pid>/task/*/children`` where the kernel
    has them (``CONFIG_PROC_CHILDREN``), else by reading every process's parent id."""
    proc = Path(proc)
    has_files = (proc / str(pid) / "task" / str(pid) / "children").exists()
    by_scan = None if has_files else _children_by_scan(proc)
    seen: dict[int, None] = {}  # insertion-ordered: pid first
    todo = [pid]
    while todo:
        p = todo.pop()
        if p not in seen:
            seen[p] = None
            todo.extend(_children_of(proc, p) if by_scan is None else by_scan.get(p, ()))
    return list(seen)


def tree_rss_bytes(pid: int, *, proc: str | Path = "/proc") -> int:
    """Resident set size of ``pid`` and all its descendants, summed (Linux ``/proc``). Pages
    shared between processes of the tree count once per process, as ``ps`` shows them."""
    pages = 0
    for p in tree_pids(pid, proc=proc):
        try:
            pages += int((Path(proc) / str(p) / "statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return pages * os.sysconf("SC_PAGE_SIZE")


def tree_cpu_seconds(pid: int, *, proc: str | Path = "/proc") -> float:
    """CPU seconds (user + system) spent so far by ``pid`` and its live descendants, each with
    its reaped children's (``cutime`` + ``cstime``), so a worker that exited and was waited for
    during the load still counts. A process that exits between the listing and the read is
    missed; take the difference of two calls around a load."""
    ticks = 0
    for p in tree_pids(pid, proc=proc):
        fields = _stat_fields(Path(proc), p)
        if fields is not None:  # utime, stime, cutime, cstime: stat fields 14-17
            ticks += sum(int(x) for x in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """Samples ``tree_rss_bytes(pid)`` every ``interval`` seconds on a daemon thread; ``peak``
    is the largest sample since the last ``reset_peak()``. ``cpu_s`` is the CPU the sampling
    thread has spent (reading ``/proc`` costs a few ms a sample): the harness subtracts it from
    its own CPU to get the client's."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.peak = 0
        self.cpu_s = 0.0
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
        t0 = time.thread_time()
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, tree_rss_bytes(self.pid))
            self.cpu_s = time.thread_time() - t0


def _get(url: str, timeout: float) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback only)
        return int(resp.status)


class Server:
    """One running server: ``with Server(spec) as s: s.url, s.pid, s.startup_s``. ``kill()``
    then ``start()`` is a crash and a restart on the same port, folder and data."""

    def __init__(self, spec: ServerSpec, *, ready_timeout: float = 90.0) -> None:
        self.spec, self.ready_timeout = spec, ready_timeout
        self._tmp = tempfile.TemporaryDirectory(prefix=f"agsrvbench-{spec.lib}-")
        self.folder = Path(self._tmp.name)
        self.config: Path | None = None
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
        argv = [*self.spec.argv, self.spec.command, "--no-reload", "--port", str(self.port), "--config", str(config)]
        if self.spec.lib == "lg":
            argv.append("--no-browser")
        if self.spec.n_jobs_per_worker is not None:
            argv += ["--n-jobs-per-worker", str(self.spec.n_jobs_per_worker)]
        return [*argv, *self.spec.extra]

    def __enter__(self) -> Server:
        return self.start()

    def start(self) -> Server:
        """Spawn the server (the app folder is written on the first start) and wait for ``/ok``."""
        if self.config is None:
            self.config = write_app(self.folder / "app", "langgraph" if self.spec.lib == "lg" else "actorgraph")
        config = self.config
        env = {**os.environ, **QUIET_ENV, **self.spec.env, "PYTHONUNBUFFERED": "1"}
        log = open(self.log_path, "ab")  # noqa: SIM115 (closed with the process)
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

    def kill(self) -> None:
        """SIGKILL to the server's process group: no shutdown, no cleanup (a crash)."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

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
