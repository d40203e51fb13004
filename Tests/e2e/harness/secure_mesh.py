"""The secure mesh of the mTLS and service-graph tests: an app "backend" behind its sidecar
(Sidecar ingress bound to the sidecar's own 127.0.0.x, forwarding to the app), and client
sidecars whose egress listeners are bound to their own 127.0.0.x. Every workload runs as its own
service account and authenticates on the secure xDS port with a token."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from .envoy import Envoy
from .istio import mesh_service, port, sidecar
from .mesh import MeshDir
from .ports import free_port, loopback_address
from .security import mint_token, root_cert_path, secure_bootstrap_args
from .traffic import http_request
from .trellis import TrellisServer
from .upstream import Upstream

HOST = "backend.mesh.test"
NAMESPACE = "default"


@dataclass
class SecureMesh:
    """One `trellis serve` and the config of the backend service; `sidecar()` starts Envoys
    that authenticate on the secure port with a token for their own service account."""

    mesh: MeshDir
    trellis: TrellisServer
    app: Upstream
    tmp_path: Path
    start_envoy: object
    service_port: int
    backend_ip: str = field(default_factory=loopback_address)
    inbound_port: int = 0
    policies: List[dict] = field(default_factory=list)
    workloads: Dict[str, str] = field(default_factory=dict)  # name -> 127.0.0.x

    def __post_init__(self) -> None:
        self.inbound_port = free_port(self.backend_ip)
        self.workloads["backend"] = self.backend_ip

    def address_of(self, name: str) -> str:
        return self.workloads.setdefault(name, loopback_address())

    def write_config(self, *policies: dict) -> None:
        """The backend service, one Sidecar per workload, and `policies` (replacing earlier ones)."""
        self.policies = list(policies)
        backend = mesh_service(
            "backend", HOST, [port(self.service_port)],
            endpoints=[{
                "address": self.backend_ip,
                "ports": {"http": self.inbound_port},
                "serviceAccount": "backend",
                "labels": {"app": "backend", "security.istio.io/tlsMode": "istio"},
            }],
        )
        sidecars = [
            sidecar(
                "backend", workload_labels={"app": "backend"},
                ingress=[{
                    "port": {"number": self.inbound_port, "protocol": "HTTP", "name": "http"},
                    "bind": self.backend_ip,
                    "defaultEndpoint": f"127.0.0.1:{self.app.port}",
                }],
                egress=[{"bind": self.backend_ip, "hosts": ["./*"]}],
            )
        ]
        sidecars += [
            sidecar(name, workload_labels={"app": name}, egress=[{"bind": ip, "hosts": ["./*"]}])
            for name, ip in sorted(self.workloads.items()) if name != "backend"
        ]
        self.mesh.write("mesh.yaml", backend, *sidecars, *self.policies)

    def sidecar(self, name: str, trellis: Optional[TrellisServer] = None, bootstrap_args: Sequence[str] = ()) -> Envoy:
        """An Envoy for workload `name` (service account `name`) on the secure xDS port."""
        trellis = trellis or self.trellis
        token = mint_token(trellis.data_dir, NAMESPACE, name, self.tmp_path / f"{name}-{len(self.workloads)}.token")
        envoy = self.start_envoy(
            trellis.secure_xds_address, name=name, ip=self.address_of(name),
            metadata={"SERVICE_ACCOUNT": name},
            bootstrap_args=[*secure_bootstrap_args(root_cert_path(trellis.data_dir), token), *bootstrap_args],
        )
        return envoy

    def call(self, client: str, timeout: float = 5.0):
        """GET through `client`'s egress listener to the backend service."""
        return http_request(f"{self.workloads[client]}:{self.service_port}", "/hello", host=HOST, timeout=timeout)

    def call_direct(self, timeout: float = 5.0):
        """Plaintext GET straight to the backend sidecar's inbound listener, as a non-mesh client."""
        return http_request(f"{self.backend_ip}:{self.inbound_port}", "/direct", host=HOST, timeout=timeout)


def wait_ok(envoy: Envoy, mesh: SecureMesh, client: str, timeout: float = 30.0):
    def ok():
        response = mesh.call(client)
        assert response.status == 200 and response.upstream == "backend", f"{response.status} {response.text[:300]}"
        return response

    return envoy.wait_for(ok, timeout=timeout, what=f"{client} -> backend")
