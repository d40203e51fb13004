"""End-to-end test harness for Trellis: real `trellis serve`, real Envoy, real upstreams.

Everything here is plain Python (standard library + PyYAML + grpcio); conftest.py turns it into
pytest fixtures that clean up after themselves.
"""

from .paths import envoy_binary, repo_root, trellis_binary
from .ports import free_port, loopback_address
from .waiting import ProcessDied, TimedOut, consistently, eventually, wait_until
from .process import ManagedProcess, run_trellis
from .trellis import TrellisServer
from .envoy import Envoy, node_id
from .upstream import Upstream
from .httpclient import Response, http_get
from .mesh import MeshDir, service_entry

__all__ = [
    "Envoy",
    "ManagedProcess",
    "MeshDir",
    "ProcessDied",
    "Response",
    "TimedOut",
    "TrellisServer",
    "Upstream",
    "envoy_binary",
    "consistently",
    "eventually",
    "free_port",
    "http_get",
    "loopback_address",
    "node_id",
    "repo_root",
    "run_trellis",
    "service_entry",
    "trellis_binary",
    "wait_until",
]
from .istio import (  # noqa: E402 - Istio resource builders for routing tests
    destination,
    destination_rule,
    mesh_service,
    port,
    sidecar,
    virtual_service,
    workload,
)
from .tcp import TcpEcho, tcp_exchange, tcp_first_line, tcp_send, tls_client_hello  # noqa: E402
from .traffic import BackgroundTraffic, Outcome, http_request  # noqa: E402

__all__ += [
    "BackgroundTraffic",
    "Outcome",
    "TcpEcho",
    "destination",
    "destination_rule",
    "http_request",
    "mesh_service",
    "port",
    "sidecar",
    "tcp_exchange",
    "tcp_first_line",
    "tcp_send",
    "tls_client_hello",
    "virtual_service",
    "workload",
]
from .ads import AdsClient, discovery_request  # noqa: E402 - grpc is only needed by the ADS tests

__all__ += ["AdsClient", "discovery_request"]
