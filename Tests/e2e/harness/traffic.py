"""HTTP requests exactly as sent (no redirects followed, no proxy, one connection each), and
steady background traffic that records every outcome."""

import http.client
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

from .httpclient import Response


def http_request(
    address: str,
    path: str = "/",
    host: Optional[str] = None,
    headers: Optional[Dict[str, str]] = None,
    method: str = "GET",
    timeout: float = 5.0,
) -> Response:
    """One request to `address` (HOST:PORT) on a fresh connection; the reply is returned as it
    came, whatever its status (3xx included). Response header names are lower-cased; a header
    received several times has its values joined with ", ".
    Connection failures raise OSError."""
    hostname, _, port = address.rpartition(":")
    connection = http.client.HTTPConnection(hostname, int(port), timeout=timeout)
    try:
        all_headers = dict(headers or {})
        if host is not None:
            all_headers["Host"] = host
        connection.request(method, path, headers=all_headers)
        reply = connection.getresponse()
        body = reply.read()
        received: Dict[str, str] = {}
        for name, value in reply.getheaders():
            name = name.lower()
            received[name] = f"{received[name]}, {value}" if name in received else value
        return Response(reply.status, received, body)
    finally:
        connection.close()


@dataclass
class Outcome:
    """One request of `BackgroundTraffic`: its status (0 when it failed without one), the
    upstream that answered, and the error text if any."""

    status: int
    upstream: Optional[str]
    error: str = ""


class BackgroundTraffic:
    """Sends `send()` back to back in a thread from `start()` until `stop()`, recording each
    outcome. Use as a context manager. `send` returns a Response; exceptions count as failures."""

    def __init__(self, send: Callable[[], Response], name: str = "traffic"):
        self._send = send
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._outcomes: List[Outcome] = []
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                response = self._send()
                outcome = Outcome(response.status, response.upstream,
                                  "" if response.status == 200 else response.text[:200])
            except Exception as error:  # noqa: BLE001 - every failure is an outcome to report
                outcome = Outcome(0, None, f"{type(error).__name__}: {error}")
            with self._lock:
                self._outcomes.append(outcome)

    def start(self) -> "BackgroundTraffic":
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> List[Outcome]:
        self._stop.set()
        self._thread.join(timeout=timeout)
        assert not self._thread.is_alive(), "background traffic did not stop"
        return self.outcomes

    def __enter__(self) -> "BackgroundTraffic":
        return self.start()

    def __exit__(self, *exc) -> None:
        if self._thread.is_alive():
            self.stop()

    @property
    def outcomes(self) -> List[Outcome]:
        with self._lock:
            return list(self._outcomes)

    def count(self) -> int:
        with self._lock:
            return len(self._outcomes)

    def wait_for_requests(self, count: int, timeout: float = 30.0) -> None:
        """Until at least `count` more requests than now have completed."""
        target = self.count() + count
        deadline = time.monotonic() + timeout
        while self.count() < target:
            assert self._thread.is_alive(), "background traffic stopped"
            assert time.monotonic() < deadline, f"background traffic: {self.count()} of {target} requests in {timeout:g}s"
            time.sleep(0.02)

    def failures(self) -> List[Outcome]:
        return [o for o in self.outcomes if o.status != 200]

    def by_upstream(self) -> Counter:
        return Counter(o.upstream for o in self.outcomes if o.status == 200)
