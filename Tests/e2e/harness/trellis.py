"""`trellis serve` as a child process."""

import socket
import time
from pathlib import Path
from typing import Optional

from .paths import trellis_binary
from .ports import free_port
from .process import ManagedProcess
from .waiting import TimedOut

LISTENING = "xDS server listening on"


class TrellisServer(ManagedProcess):
    """`trellis serve --config-dir ... --data-dir ... --xds-address HOST:PORT`, started at
    construction; `wait_started()` waits for the listening line or a TCP connect, and for the
    admin API to accept connections."""

    def __init__(
        self,
        config_dir: Path,
        data_dir: Path,
        log_path: Path,
        host: str = "127.0.0.1",
        port: Optional[int] = None,
        log_level: str = "debug",
        binary: Optional[Path] = None,
        secure_port: Optional[int] = None,
        extra_args: tuple = (),
    ):
        self.config_dir = Path(config_dir)
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port or free_port(host)
        self.xds_address = f"{host}:{self.port}"
        self.secure_port = secure_port or free_port(host)
        self.secure_xds_address = f"{host}:{self.secure_port}"
        self.http_port = free_port(host)
        self.http_url = f"http://{host}:{self.http_port}"
        binary = Path(binary or trellis_binary())
        super().__init__(
            "trellis",
            [
                binary,
                "serve",
                "--config-dir", self.config_dir,
                "--data-dir", self.data_dir,
                "--xds-address", self.xds_address,
                "--secure-xds-address", self.secure_xds_address,
                "--http-address", f"{host}:{self.http_port}",
                "--log-level", log_level,
                *extra_args,
            ],
            log_path,
        )

    @property
    def admin_token(self) -> str:
        """The admin API's bearer token, as the server wrote it into its data dir."""
        return (self.data_dir / "admin-token").read_text().strip()

    def accepts_connections(self, port: Optional[int] = None) -> bool:
        try:
            with socket.create_connection((self.host, port or self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def wait_started(self, timeout: float = 20.0) -> "TrellisServer":
        """Until the log says it listens or a TCP connect succeeds; fails if it exits first."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            xds = self.find_log(LISTENING) is not None or self.accepts_connections()
            if xds and self.accepts_connections(self.http_port):  # the admin API too
                return self
            if time.monotonic() >= deadline:
                raise TimedOut(f"trellis did not start listening on {self.xds_address} within {timeout:g}s; "
                               f"log tail:\n{self.tail()}")
            time.sleep(0.05)
