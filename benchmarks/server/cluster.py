"""Several ``actorgraph serve`` processes on one Postgres database and one Redis, and the
services under them: a scratch database on a shared Postgres (created, then dropped), or a
private, throwaway ``redis-server`` / Postgres cluster in a temp folder on a free port, which
a chaos test may restart without disturbing anyone else on the machine."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchmarks.server.servers import Server, ServerSpec, free_port

__all__ = ("Cluster", "PrivatePostgres", "PrivateRedis", "postgres_bin", "scratch_database")


@contextlib.contextmanager
def scratch_database(admin_uri: str, prefix: str = "agbench") -> Iterator[str]:
    """A new, empty database on the server of ``admin_uri`` (a connection string to any of
    its databases), dropped (connections and all) on exit; yields its connection string."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield urlunsplit(urlsplit(admin_uri)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_uri, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _wait(check: object, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not up after {timeout:g} s")
        time.sleep(0.05)


class PrivateRedis:
    """``redis-server`` on a free loopback port, nothing saved to disk; ``restart()`` kills it
    (SIGKILL: every connection drops, every key is lost) and starts it again on the port."""

    def __init__(self, binary: str = "redis-server") -> None:
        self.binary = shutil.which(binary) or binary
        self.port = free_port()
        self.uri = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.TemporaryDirectory(prefix="agredis-")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> PrivateRedis:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self._dir.name]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(self._ping, f"redis-server on port {self.port}", 10)
        return self

    def _ping(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {self.proc.returncode}")
        try:
            import socket

            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self, down_s: float = 0.0) -> None:
        self.kill()
        time.sleep(down_s)
        self.start()

    def close(self) -> None:
        self.kill()
        self._dir.cleanup()

    def __enter__(self) -> PrivateRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` with ``initdb`` and ``pg_ctl`` (None: none)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found and Path(found[-1]).with_name("pg_ctl").exists() else None


class PrivatePostgres:
    """A throwaway Postgres cluster (``initdb`` in a temp folder, trust auth, no fsync) on a
    free loopback port. Postgres refuses to run as root: then the cluster is made and run as
    the ``postgres`` user (``runuser``). ``restart()`` is an immediate stop (connections
    drop; like a crash, recovery replays the WAL) and a start."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.uri = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._dir = tempfile.TemporaryDirectory(prefix="agpg-")
        self.data = Path(self._dir.name) / "data"
        self._as: list[str] = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self._dir.name, "postgres")

    def _run(self, *argv: str, timeout: float = 60) -> None:
        proc = subprocess.run([*self._as, *argv], capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"{Path(argv[0]).name} failed: {(proc.stdout + proc.stderr).strip()[-800:]}")

    def init(self) -> PrivatePostgres:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync")  # fmt: skip
        return self

    def start(self) -> PrivatePostgres:
        # fsync off: a killed server's writes are still in the OS's cache. synchronous_commit
        # stays on: off, a commit answered just before a crash may be lost, and a run the
        # server said it accepted would vanish
        opts = f"-p {self.port} -h 127.0.0.1 -k {self._dir.name} -c fsync=off -c max_connections=200"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", f"{self._dir.name}/log", "-w",
                  "start")  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, down_s: float = 0.0) -> None:
        self.stop("immediate")
        time.sleep(down_s)
        self.start()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        self._dir.cleanup()

    def __enter__(self) -> PrivatePostgres:
        try:
            return self.init().start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()


class Cluster:
    """``processes`` servers of ``spec`` (``serve``), each with ``--database-uri`` and
    ``--redis-uri`` when given (else: one process on its embedded SQLite). The first starts
    alone (it sets the database up), the others then at once."""

    def __init__(self, spec: ServerSpec, processes: int, *, database_uri: str | None = None, redis_uri: str | None = None) -> None:
        if processes > 1 and database_uri is None:
            raise ValueError("several processes need a shared database (database_uri)")
        extra = list(spec.extra)
        if database_uri is not None:
            extra += ["--database-uri", database_uri]
        if redis_uri is not None:
            extra += ["--redis-uri", redis_uri]
        spec = replace(spec, command="serve", extra=tuple(extra))
        self.servers = [Server(spec) for _ in range(processes)]

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers]

    @property
    def pids(self) -> list[int]:
        return [s.pid for s in self.servers]

    def __enter__(self) -> Cluster:
        try:
            self.servers[0].start()
            with ThreadPoolExecutor(len(self.servers)) as pool:
                list(pool.map(Server.start, self.servers[1:]))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        with ThreadPoolExecutor(len(self.servers)) as pool:
            list(pool.map(Server.stop, self.servers))

    def __exit__(self, *exc: object) -> None:
        self.stop()
