"""Proxyless gRPC: real grpcio servers on loopback, and a real grpcio xDS client that dials
`xds:///HOST:PORT` with the bootstrap `trellis bootstrap --format grpc` wrote.

The client runs in its own process (gRPC reads GRPC_XDS_BOOTSTRAP once per process and keeps
one xDS client, i.e. one ADS stream, for all its channels); `grpc_xds_client.py` is its
program: it takes one JSON command per line on stdin and answers one JSON line on stdout.
"""

import json
import os
import queue
import subprocess
import sys
import threading
from concurrent import futures
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import grpc

from .waiting import ProcessDied

SERVICE = "trellis.e2e.Echo"
METHOD = "Who"
CLIENT_PROGRAM = Path(__file__).with_name("grpc_xds_client.py")


class GrpcEchoServer:
    """A grpcio server on `host`:free port whose unary `/trellis.e2e.Echo/Who` answers its
    name (raw bytes, no protobuf needed). Generic handlers: no generated code, no new package."""

    def __init__(self, name: str, host: str = "127.0.0.1"):
        self.name = name
        self.host = host
        self.calls = 0
        self._lock = threading.Lock()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handler = grpc.method_handlers_generic_handler(
            SERVICE, {METHOD: grpc.unary_unary_rpc_method_handler(self._who)})
        self.server.add_generic_rpc_handlers((handler,))
        self.port = self.server.add_insecure_port(f"{host}:0")
        self.server.start()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _who(self, request: bytes, context) -> bytes:
        with self._lock:
            self.calls += 1
        return self.name.encode()

    def close(self) -> None:
        self.server.stop(grace=None).wait(5)


class GrpcXdsClient:
    """The grpcio xDS client process. `call(target, ...)` makes unary calls on one channel per
    target (kept for the life of the process, so later calls see xDS updates the way a
    long-running application does) and returns one result per call:
    {"ok": True, "server": NAME} or {"ok": False, "code": "UNAVAILABLE", "details": ...}."""

    def __init__(self, bootstrap: Path, log_path: Path, name: str = "grpc-client"):
        self.name = name
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "ab")
        env = os.environ.copy()
        env["GRPC_XDS_BOOTSTRAP"] = str(bootstrap)
        self.proc = subprocess.Popen(
            [sys.executable, "-u", str(CLIENT_PROGRAM)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, env=env, text=True,
        )
        self._lines: "queue.Queue[Optional[str]]" = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="grpc-client-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def call(self, target: str, count: int = 1, metadata: Sequence[Tuple[str, str]] = (),
             timeout: float = 5.0) -> List[Dict]:
        command = {"target": target, "count": count, "metadata": [list(m) for m in metadata], "timeout": timeout}
        try:
            self.proc.stdin.write(json.dumps(command) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass  # reported below, with the log
        try:
            line = self._lines.get(timeout=count * timeout + 30)
        except queue.Empty:
            raise AssertionError(f"{self.name} did not answer {command}; log tail:\n{self.tail()}") from None
        if line is None:
            self._lines.put(None)
            raise ProcessDied(f"{self.name} exited with {self.proc.wait()}; log tail:\n{self.tail()}")
        return json.loads(line)["results"]

    def servers(self, target: str, count: int = 1, **kwargs) -> List[str]:
        """Calls that must all succeed; the names of the servers that answered, in order."""
        results = self.call(target, count, **kwargs)
        failed = [r for r in results if not r["ok"]]
        assert not failed, f"calls to {target} failed: {failed[:3]}"
        return [r["server"] for r in results]

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.proc.stdin.close()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
        finally:
            self._log.close()
