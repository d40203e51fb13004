"""A VM joining the mesh the way a user does it: `trellis workload register` writes a directory,
and `envoy -c DIR/envoy.yaml` (no other flag) is the VM's proxy."""

from pathlib import Path
from typing import Dict, Optional, Sequence

import yaml

from .envoy import Envoy
from .paths import envoy_binary
from .ports import free_port
from .process import ManagedProcess, run_trellis


def workload_cli(server, *args, binary: Optional[Path] = None):
    """`trellis workload ARGS --server URL --token-file DATA/admin-token`."""
    return run_trellis(
        ["workload", *args, "--server", server.http_url, "--token-file", server.data_dir / "admin-token"],
        binary=binary)


def register(server, directory: Path, name: str, address: str, service_account: str,
             labels: Optional[Dict[str, str]] = None, ports: Optional[Dict[str, int]] = None,
             namespace: str = "default", extra: Sequence[str] = (), admin_port: Optional[int] = None):
    """`trellis workload register ...`; the VM's Envoy admin goes on ADDRESS:admin_port."""
    args = ["register", "--name", name, "--namespace", namespace, "--address", address,
            "--service-account", service_account, "--output", directory,
            "--admin-address", f"{address}:{admin_port or free_port(address)}"]
    if labels:
        args += ["--labels", ",".join(f"{k}={v}" for k, v in labels.items())]
    for port_name, number in (ports or {}).items():
        args += ["--port", f"{port_name}={number}"]
    return workload_cli(server, *args, *extra)


class VMEnvoy(Envoy):
    """`envoy -c DIR/envoy.yaml` and nothing else (so hot restart keeps its defaults: one such
    Envoy at a time), with `Envoy`'s admin helpers on the admin address register wrote."""

    def __init__(self, directory: Path, name: str = "vm", binary: Optional[Path] = None):
        self.workdir = Path(directory)
        admin = yaml.safe_load((self.workdir / "envoy.yaml").read_text())["admin"]["address"]["socket_address"]
        self.ip = admin["address"]
        self.admin_address = f"{self.ip}:{admin['port_value']}"
        ManagedProcess.__init__(
            self, f"envoy[{name} from {directory.name}/envoy.yaml]",
            [binary or envoy_binary(), "-c", self.workdir / "envoy.yaml"],
            self.workdir.parent / f"{self.workdir.name}-envoy.log")
