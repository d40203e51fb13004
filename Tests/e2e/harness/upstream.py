"""A tiny HTTP upstream in a thread: says who it is and echoes what it got."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List


class Upstream:
    """ThreadingHTTPServer on HOST:0. Every GET answers 200 (or the configured status) with a
    JSON body {"upstream": NAME, "method", "path", "headers"}. Behaviour knobs:
    `fail_next(n, status)` answers the next n requests with `status`; `respond_with(status)`
    changes the status for all; `delay(seconds)` sleeps before answering."""

    def __init__(self, name: str, host: str = "127.0.0.1", port: int = 0):
        self.name = name
        self._lock = threading.Lock()
        self._fail_remaining = 0
        self._fail_status = 503
        self._status = 200
        self._delay = 0.0
        self.requests: List[dict] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the body of every request
            # after the first on a kept-alive connection (Envoy keeps them) waits ~40 ms for
            # the peer's delayed ACK.
            disable_nagle_algorithm = True

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                status, delay = upstream._next_status()
                if delay:
                    time.sleep(delay)
                record = {
                    "upstream": upstream.name,
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "status": status,
                }
                with upstream._lock:
                    upstream.requests.append(record)
                body = json.dumps(record).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Upstream", upstream.name)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

            def log_message(self, format, *args):  # noqa: A002 - quiet
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.host, self.port = self.server.server_address[:2]
        self.address = f"{self.host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name=f"upstream-{name}", daemon=True)
        self._thread.start()

    def _next_status(self):
        with self._lock:
            if self._fail_remaining > 0:
                self._fail_remaining -= 1
                return self._fail_status, self._delay
            return self._status, self._delay

    def fail_next(self, count: int, status: int = 503) -> None:
        with self._lock:
            self._fail_remaining = count
            self._fail_status = status

    def respond_with(self, status: int) -> None:
        with self._lock:
            self._status = status

    def delay(self, seconds: float) -> None:
        with self._lock:
            self._delay = seconds

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)
