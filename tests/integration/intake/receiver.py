"""A callback receiver on loopback: records every delivery, fails or stalls when told to."""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    """`/flaky/<n>` fails the first n attempts of each delivery; `/dead` always fails;
    `/slow` answers after `stall_s`; anything else answers 200 at once."""

    stall_s: float = 5.0
    deliveries: list[Delivery] = field(default_factory=list)
    _tries: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status = receiver._answer(self.path, self.headers.get("X-Gridloop-Delivery", ""))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
                with receiver._lock:
                    receiver.deliveries.append(
                        Delivery(self.path, dict(self.headers.items()), body, status)
                    )

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def received(self, path_prefix: str) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.path.startswith(path_prefix)]

    def _answer(self, path: str, delivery_id: str) -> int:
        with self._lock:
            self._tries[delivery_id] += 1
            tries = self._tries[delivery_id]
        if path.startswith("/flaky/"):
            return 500 if tries <= int(path.rsplit("/", 1)[-1]) else 200
        if path.startswith("/dead"):
            return 500
        if path.startswith("/slow"):
            time.sleep(self.stall_s)
        return 200
