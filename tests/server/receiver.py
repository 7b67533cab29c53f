"""A real HTTP receiver on loopback for webhook tests: records every POST it gets (path,
headers, JSON body, the status it answered) and answers by the path's first segment:
``/ok/...`` 200, ``/flaky/...`` 500 the first time then 200, ``/fail/...`` always 500,
``/hang/...`` holds the request until ``release()``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ("Delivery", "Receiver", "receiving")


class Delivery:
    def __init__(self, path: str, headers: dict[str, str], body: Any, status: int) -> None:
        self.path = path
        self.headers = headers
        self.body = body
        self.status = status


class Receiver:
    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.arrived: list[str] = []  # paths, as soon as a request's body is read
        self._lock = threading.Lock()
        self._released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                kind = self.path.strip("/").split("/", 1)[0]
                with receiver._lock:
                    receiver.arrived.append(self.path)
                    seen = sum(1 for d in receiver.deliveries if d.path == self.path)
                if kind == "hang":
                    receiver._released.wait(60)
                status = 500 if kind == "fail" or (kind == "flaky" and seen == 0) else 200
                with receiver._lock:
                    receiver.deliveries.append(
                        Delivery(self.path, {k.lower(): v for k, v in self.headers.items()}, body, status)
                    )
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def release(self) -> None:
        self._released.set()

    def to(self, path: str) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.path == path]

    def wait_for(self, path: str, count: int = 1, *, status: int | None = None, timeout: float = 20.0) -> list[Delivery]:
        """The deliveries to ``path`` once there are ``count`` (with ``status``, if given)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [d for d in self.to(path) if status is None or d.status == status]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def wait_arrived(self, path: str, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if path in self.arrived:
                    return True
            time.sleep(0.02)
        return False


def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.httpd.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release()
        receiver.httpd.shutdown()
        receiver.httpd.server_close()
        thread.join(10)
