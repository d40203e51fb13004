"""A real Envoy bootstrapped by `trellis bootstrap`, with admin API helpers."""

import itertools
import json
import os
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Set, Tuple, TypeVar

from .httpclient import admin_get
from .paths import envoy_binary, trellis_binary
from .ports import free_port, loopback_address
from .process import ManagedProcess, run_trellis
from .waiting import eventually

T = TypeVar("T")

_base_ids = itertools.count(1)

CLUSTERS_DUMP = "type.googleapis.com/envoy.admin.v3.ClustersConfigDump"
LISTENERS_DUMP = "type.googleapis.com/envoy.admin.v3.ListenersConfigDump"
ROUTES_DUMP = "type.googleapis.com/envoy.admin.v3.RoutesConfigDump"
ENDPOINTS_DUMP = "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump"


def node_id(ip: str, name: str, namespace: str = "default", kind: str = "sidecar") -> str:
    """Istio's node id: KIND~IP~NAME.NAMESPACE~NAMESPACE.svc.cluster.local (KIND `sidecar`, or
    `router` for a gateway)."""
    return f"{kind}~{ip}~{name}.{namespace}~{namespace}.svc.cluster.local"


def write_bootstrap(
    path: Path,
    node: str,
    xds_address: str,
    admin_address: str,
    metadata: Dict[str, str],
    binary: Optional[Path] = None,
    extra_args: Sequence[str] = (),
) -> Path:
    args = ["bootstrap", "--node-id", node, "--xds-address", xds_address, "--admin-address", admin_address]
    for key, value in metadata.items():
        args += ["--metadata", f"{key}={value}"]
    args += [str(a) for a in extra_args]
    args += ["--output", str(path)]
    result = run_trellis(args, binary=binary)
    assert result.returncode == 0, f"trellis {' '.join(args)} exited {result.returncode}: {result.stderr}"
    return path


class Envoy(ManagedProcess):
    """`envoy -c BOOTSTRAP` as sidecar NAME.NAMESPACE on its own 127.0.0.x (admin there),
    INTERCEPTION_MODE=NONE so its outbound listeners bind the service ports themselves."""

    def __init__(
        self,
        workdir: Path,
        xds_address: str,
        name: str = "app",
        namespace: str = "default",
        labels: Optional[Dict[str, str]] = None,
        metadata: Optional[Dict[str, str]] = None,
        ip: Optional[str] = None,
        log_level: str = "warning",
        concurrency: int = 2,
        trellis: Optional[Path] = None,
        binary: Optional[Path] = None,
        bootstrap_args: Sequence[str] = (),
        kind: str = "sidecar",
    ):
        """`bootstrap_args` go to `trellis bootstrap` as they are (e.g. --root-cert/--token);
        `kind="router"` makes it a gateway."""
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ip = ip or loopback_address()
        self.admin_port = free_port(self.ip)
        self.admin_address = f"{self.ip}:{self.admin_port}"
        self.node_id = node_id(self.ip, name, namespace, kind)
        labels = {"app": name} if labels is None else labels
        node_metadata = {
            "NAMESPACE": namespace,
            "INSTANCE_IPS": self.ip,
            "INTERCEPTION_MODE": "NONE",
            "WORKLOAD_NAME": name,
            "SERVICE_ACCOUNT": "default",
        }
        if labels:
            node_metadata["LABELS"] = ",".join(f"{k}={v}" for k, v in labels.items())
        node_metadata.update(metadata or {})
        self.bootstrap_path = write_bootstrap(
            self.workdir / "bootstrap.yaml", self.node_id, xds_address, self.admin_address, node_metadata,
            binary=trellis, extra_args=bootstrap_args,
        )
        # --disable-hot-restart: no shared memory, so Envoys cannot clash; the base id is then
        # unused, but a distinct one costs nothing if someone drops the flag.
        base_id = (os.getpid() % 10000) * 100 + next(_base_ids)
        super().__init__(
            f"envoy[{name}@{self.ip}]",
            [
                binary or envoy_binary(),
                "-c", self.bootstrap_path,
                "--base-id", str(base_id),
                "--use-dynamic-base-id",
                "--disable-hot-restart",
                "--concurrency", str(concurrency),
                "--log-level", log_level,
            ],
            self.workdir / "envoy.log",
        )

    # --- admin API -------------------------------------------------------------------------

    def admin(self, path: str, timeout: float = 5.0) -> Tuple[int, str]:
        """GET http://ADMIN/PATH: (status, body). Raises ProcessDied if Envoy has exited."""
        self.check_alive()
        response = admin_get(f"http://{self.admin_address}{path}", timeout=timeout)
        return response.status, response.text

    def admin_json(self, path: str):
        status, body = self.admin(path)
        assert status == 200, f"GET {path}: {status} {body[:500]}"
        return json.loads(body)

    def wait_for(self, fn: Callable[[], T], timeout: float = 20.0, interval: float = 0.1, what: str = "") -> T:
        """`eventually(fn)`, failing at once if Envoy exits."""

        def attempt() -> T:
            self.check_alive()
            return fn()

        return eventually(attempt, timeout=timeout, interval=interval, what=what)

    def wait_ready(self, timeout: float = 30.0) -> "Envoy":
        """Until /ready answers 200 LIVE (every subscribed xDS type has had its first answer)."""

        def ready() -> None:
            status, body = self.admin("/ready")
            assert status == 200 and body.strip() == "LIVE", f"/ready: {status} {body.strip()!r}"

        self.wait_for(ready, timeout=timeout, what=f"{self.name} /ready LIVE")
        return self

    def config_dump(self, include_eds: bool = True) -> dict:
        return self.admin_json("/config_dump?include_eds" if include_eds else "/config_dump")

    def clusters(self) -> dict:
        """/clusters?format=json: each cluster's hosts and their health."""
        return self.admin_json("/clusters?format=json")

    def stats(self) -> Dict[str, object]:
        """/stats as name -> int (histograms and text stay strings)."""
        status, body = self.admin("/stats")
        assert status == 200, f"/stats: {status}"
        result: Dict[str, object] = {}
        for line in body.splitlines():
            name, sep, value = line.partition(": ")
            if not sep:
                continue
            value = value.strip()
            try:
                result[name] = int(value)
            except ValueError:
                result[name] = value
        return result

    # --- config dump views ---------------------------------------------------------------------

    @staticmethod
    def _section(dump: dict, type_url: str) -> dict:
        for config in dump.get("configs", []):
            if config.get("@type") == type_url:
                return config
        return {}

    def dynamic_clusters(self, dump: Optional[dict] = None) -> Dict[str, dict]:
        """Active dynamic (CDS) clusters by name."""
        section = self._section(dump or self.config_dump(include_eds=False), CLUSTERS_DUMP)
        return {c["cluster"]["name"]: c["cluster"] for c in section.get("dynamic_active_clusters", [])}

    def dynamic_listeners(self, dump: Optional[dict] = None) -> Dict[str, dict]:
        """Active dynamic (LDS) listeners by name."""
        section = self._section(dump or self.config_dump(include_eds=False), LISTENERS_DUMP)
        result = {}
        for entry in section.get("dynamic_listeners", []):
            active = entry.get("active_state")
            if active:
                result[entry["name"]] = active["listener"]
        return result

    def route_configs(self, dump: Optional[dict] = None) -> Dict[str, dict]:
        """Dynamic (RDS) route configurations by name."""
        section = self._section(dump or self.config_dump(include_eds=False), ROUTES_DUMP)
        return {r["route_config"]["name"]: r["route_config"] for r in section.get("dynamic_route_configs", [])}

    def endpoint_configs(self, dump: Optional[dict] = None) -> Dict[str, dict]:
        """Dynamic (EDS) ClusterLoadAssignments by cluster name."""
        section = self._section(dump or self.config_dump(include_eds=True), ENDPOINTS_DUMP)
        return {e["endpoint_config"]["cluster_name"]: e["endpoint_config"]
                for e in section.get("dynamic_endpoint_configs", [])}

    def cluster_hosts(self, cluster: str) -> Set[str]:
        """HOST:PORT of every endpoint Envoy currently has for `cluster` (from /clusters)."""
        for status in self.clusters().get("cluster_statuses", []):
            if status.get("name") == cluster:
                hosts = set()
                for host in status.get("host_statuses", []):
                    socket = host["address"]["socket_address"]
                    hosts.add(f"{socket['address']}:{socket['port_value']}")
                return hosts
        raise AssertionError(f"{self.name}: no cluster {cluster!r} in /clusters")

    def certificates(self) -> list:
        """/certs: the certificate chains Envoy uses now, each a list of {serial_number,
        subject_alt_names, ...} (leaf first). Trust anchors (ca_cert) are left out."""
        return [
            entry.get("cert_chain", [])
            for entry in self.admin_json("/certs").get("certificates", [])
            if entry.get("cert_chain")
        ]
