"""Helpers shared by the crash tests: run a script in a real subprocess, SIGKILL it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable


def run_until_then_kill(args: list[str], ready: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Start ``python *args``, wait until ``ready()`` (the process must not exit first, and
    must get there within ``timeout`` seconds), then SIGKILL it: no cleanup runs in it."""
    proc = subprocess.Popen([sys.executable, *args])
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            assert proc.poll() is None, f"the {what} process exited early ({proc.returncode})"
            assert time.monotonic() < deadline, f"the {what} process never got to the crash point"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
