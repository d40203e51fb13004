"""The spine, end to end: Istio YAML in a directory -> `trellis serve` -> a real Envoy over ADS
-> HTTP through Envoy's outbound listener to a real upstream.

Run from the repository root: python -m pytest Tests/e2e -q
"""

import json
import re
import socket
from dataclasses import dataclass
from typing import Iterable, List, Tuple

import grpc
import pytest
import yaml
from envoy.config.endpoint.v3 import endpoint_pb2

from harness import (
    AdsClient,
    Envoy,
    MeshDir,
    TrellisServer,
    Upstream,
    consistently,
    discovery_request,
    free_port,
    http_get,
    node_id,
    run_trellis,
    service_entry,
)
from harness.ads import CLUSTER, ENDPOINTS

HOST = "echo.mesh.test"
CONFIG_FILE = "echo.yaml"


@dataclass
class Spine:
    """One `trellis serve`, one sidecar Envoy (INTERCEPTION_MODE=NONE) and upstream A, with the
    ServiceEntry `echo.mesh.test:PORT -> [A]` in the config dir."""

    mesh: MeshDir
    trellis: TrellisServer
    envoy: Envoy
    a: Upstream
    port: int

    @property
    def cluster(self) -> str:
        return f"outbound|{self.port}||{HOST}"

    def write_service(self, *upstreams: Upstream) -> None:
        self.mesh.write(CONFIG_FILE, echo_service(self.port, [(u.host, u.port) for u in upstreams]))

    def get(self, host: str = HOST, timeout: float = 5.0):
        return http_get(f"http://127.0.0.1:{self.port}/spine", host_header=host, timeout=timeout)

    def get_ok(self, host: str = HOST) -> str:
        """One request through Envoy that must succeed; returns the upstream that answered."""
        self.envoy.check_alive()
        response = self.get(host)
        assert response.status == 200, f"GET via Envoy (Host: {host}): {response.status} {response.text[:300]}"
        assert response.upstream, f"200 but not from an upstream: {response.text[:300]}"
        return response.upstream

    def wait_serving(self, *names: str, timeout: float = 30.0) -> None:
        """Until requests through Envoy have reached every upstream in `names` (and only those)."""
        seen = set()

        def all_seen() -> None:
            upstream = self.get_ok()
            assert upstream in names, f"request reached {upstream}, expected only {sorted(names)}"
            seen.add(upstream)
            assert seen == set(names), f"reached {sorted(seen)} so far, waiting for {sorted(names)}"

        self.envoy.wait_for(all_seen, timeout=timeout, what=f"traffic to {sorted(names)}")


def echo_service(port: int, endpoints: Iterable[Tuple[str, int]]) -> dict:
    return service_entry("echo", HOST, port, endpoints)


@pytest.fixture
def spine(mesh_dir, start_trellis, start_envoy, start_upstream) -> Spine:
    a = start_upstream("A")
    port = free_port("127.0.0.1")  # the service port: Envoy's outbound listener binds 127.0.0.1:port
    mesh_dir.write(CONFIG_FILE, echo_service(port, [(a.host, a.port)]))
    server = start_trellis(mesh_dir.path)
    envoy = start_envoy(server.xds_address, name="client")
    envoy.wait_ready()
    spine = Spine(mesh_dir, server, envoy, a, port)
    spine.wait_serving("A")
    return spine


def ack_line(type_name: str, node: str) -> str:
    """A trellis log line that acknowledges `type_name` (CDS, EDS, ...) for `node`."""
    return rf"(?=.*\bACK {type_name}\b)(?=.*{re.escape(node)})"


def all_from(spine: Spine, name: str, count: int) -> None:
    answered: List[str] = [spine.get_ok() for _ in range(count)]
    assert answered == [name] * count, f"expected {count} answers from {name}, got {answered}"


# --- Envoy gets everything from trellis and proxies ------------------------------------------


def test_envoy_is_configured_by_trellis_and_proxies_by_host(spine: Spine):
    envoy = spine.envoy

    # Host header routing: the bare host and host:port both reach A, and A sees the Host.
    response = spine.get(HOST)
    assert response.status == 200 and response.upstream == "A"
    assert response.json()["headers"]["host"] == HOST
    assert spine.get_ok(f"{HOST}:{spine.port}") == "A"

    dump = envoy.config_dump()

    clusters = envoy.dynamic_clusters(dump)
    assert spine.cluster in clusters, f"dynamic clusters: {sorted(clusters)}"
    assert clusters[spine.cluster].get("type") == "EDS", clusters[spine.cluster]
    assert "PassthroughCluster" in clusters, f"dynamic clusters: {sorted(clusters)}"

    endpoints = envoy.endpoint_configs(dump)
    assert spine.cluster in endpoints, f"EDS configs: {sorted(endpoints)}"
    addresses = {
        f"{lb['endpoint']['address']['socket_address']['address']}:"
        f"{lb['endpoint']['address']['socket_address']['port_value']}"
        for group in endpoints[spine.cluster].get("endpoints", [])
        for lb in group.get("lb_endpoints", [])
    }
    assert addresses == {spine.a.address}

    listeners = envoy.dynamic_listeners(dump)
    bound = {
        (l["address"]["socket_address"]["address"], l["address"]["socket_address"].get("port_value"))
        for l in listeners.values()
        if "socket_address" in l.get("address", {})
    }
    assert ("127.0.0.1", spine.port) in bound, f"listeners: {listeners}"

    routes = envoy.route_configs(dump)
    assert str(spine.port) in routes, f"route configs: {sorted(routes)}"
    virtual_hosts = routes[str(spine.port)].get("virtual_hosts", [])
    domains = {d for vh in virtual_hosts for d in vh.get("domains", [])}
    assert HOST in domains and f"{HOST}:{spine.port}" in domains, f"domains: {sorted(domains)}"
    # Unknown hosts fall through to PassthroughCluster.
    catch_all = [vh for vh in virtual_hosts if "*" in vh.get("domains", [])]
    assert catch_all, f"no catch-all virtual host in route config {spine.port}: {virtual_hosts}"
    assert "PassthroughCluster" in str(catch_all), catch_all

    for type_name in ("CDS", "EDS", "LDS", "RDS"):
        spine.trellis.wait_for_log(ack_line(type_name, envoy.node_id), timeout=10)


# --- config edits while Envoy runs ---------------------------------------------------------


def test_endpoint_edits_reach_running_envoy(spine: Spine, start_upstream):
    b = start_upstream("B")

    spine.write_service(spine.a, b)
    spine.wait_serving("A", "B")

    spine.write_service(b)
    spine.envoy.wait_for(
        lambda: _assert_equal(spine.envoy.cluster_hosts(spine.cluster), {b.address}),
        what=f"{spine.cluster} to have only B",
    )
    all_from(spine, "B", 20)
    spine.trellis.check_alive()


def _assert_equal(actual, expected) -> None:
    assert actual == expected, f"{actual} != {expected}"


# --- invalid edits keep the last good config -----------------------------------------------


def test_invalid_edits_are_rejected_and_last_good_keeps_serving(spine: Spine, start_upstream):
    b = start_upstream("B")
    path = spine.mesh.file(CONFIG_FILE)
    good_hosts = {spine.a.address}

    def unchanged() -> None:
        assert spine.get_ok() == "A"
        assert spine.envoy.cluster_hosts(spine.cluster) == good_hosts

    # 1. A YAML syntax error.
    mark = spine.trellis.log_mark()
    spine.mesh.write_text(
        CONFIG_FILE,
        f"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: echo\n"
        f"spec:\n  hosts: [{HOST}\n  ports: {{number: {spine.port}\n",
    )
    spine.trellis.wait_for_log(rf"rejected: .*{re.escape(str(path))}", since=mark)
    spine.trellis.wait_for_log(r"configuration applied", since=mark)
    consistently(unchanged, duration=2.0)

    # 2. Well-formed YAML, invalid ServiceEntry (port out of range), which would also add B.
    mark = spine.trellis.log_mark()
    bad = echo_service(70000, [(spine.a.host, spine.a.port), (b.host, b.port)])
    spine.mesh.write(CONFIG_FILE, bad)
    line = spine.trellis.wait_for_log(rf"rejected: .*{re.escape(str(path))}:\d+", since=mark)
    assert "70000" in line or "port" in line.lower(), line
    spine.trellis.wait_for_log(r"configuration applied", since=mark)
    consistently(unchanged, duration=2.0)
    assert not any("70000" in name for name in spine.envoy.dynamic_clusters()), "rejected port reached Envoy"
    # The status file says the same as the log: what was rejected, why, and what kept serving.
    status = config_status(spine)
    assert status["rejected"] == ["ServiceEntry default/echo"], status
    assert status["keptLastGood"] == ["ServiceEntry default/echo"], status
    assert any(str(path) in line and "70000" in line for line in status["errors"]), status["errors"]

    # 3. A good edit after the bad ones still goes through.
    spine.write_service(spine.a, b)
    spine.wait_serving("A", "B")
    spine.trellis.check_alive()
    status = config_status(spine)
    assert status["rejected"] == [] and status["errors"] == [], status
    assert status["servedResources"] == 1, status


def config_status(spine: Spine) -> dict:
    return json.loads((spine.trellis.data_dir / "config-status.json").read_text())


# --- raw ADS clients cannot hurt the server or other proxies -------------------------------


def test_raw_ads_client_errors_end_only_their_stream(spine: Spine):
    raw_node = node_id("127.0.0.250", "raw", "default")

    # A type the server does not serve: INVALID_ARGUMENT naming it.
    bogus = "type.googleapis.com/envoy.config.bogus.v3.Nothing"
    with AdsClient(spine.trellis.xds_address) as client:
        client.send(discovery_request(bogus, node_id=raw_node))
        code, details = client.wait_status(timeout=10)
    assert code == grpc.StatusCode.INVALID_ARGUMENT, (code, details)
    assert bogus in details, details
    spine.trellis.check_alive()
    assert spine.get_ok() == "A"

    # EDS for a cluster nobody has: an answer without endpoints, then a clean end on half-close.
    unknown = "outbound|1||nothing.mesh.test"
    with AdsClient(spine.trellis.xds_address) as client:
        client.send(discovery_request(ENDPOINTS, [unknown], node_id=raw_node))
        response = client.recv(timeout=10)
        assert response is not None, f"stream ended without a response: {client.wait_status()}"
        assert response.type_url == ENDPOINTS
        assert response.nonce, "response without nonce"
        for resource in response.resources:
            assignment = endpoint_pb2.ClusterLoadAssignment()
            assert resource.Unpack(assignment), resource.type_url
            assert assignment.cluster_name == unknown, assignment
            assert not [lb for group in assignment.endpoints for lb in group.lb_endpoints], assignment
        client.close()
        code, details = client.wait_status(timeout=10)
    assert code == grpc.StatusCode.OK, (code, details)
    spine.trellis.check_alive()
    assert spine.get_ok() == "A"

    # No node on the first request: INVALID_ARGUMENT.
    with AdsClient(spine.trellis.xds_address) as client:
        client.send(discovery_request(CLUSTER))
        code, details = client.wait_status(timeout=10)
    assert code == grpc.StatusCode.INVALID_ARGUMENT, (code, details)
    assert "node" in details.lower(), details
    spine.trellis.check_alive()
    assert spine.get_ok() == "A"


# --- `trellis serve` failure modes and shutdown --------------------------------------------


def test_serve_fails_when_config_dir_is_missing(tmp_path, trellis_bin):
    missing = tmp_path / "no-such-config-dir"
    result = run_trellis(
        ["serve", "--config-dir", missing, "--data-dir", tmp_path / "data",
         "--xds-address", f"127.0.0.1:{free_port()}", "--secure-xds-address", f"127.0.0.1:{free_port()}"],
        binary=trellis_bin,
    )
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "trellis: error:" in result.stderr, result.stderr
    assert str(missing) in result.stderr, result.stderr


def test_serve_fails_when_address_is_in_use(tmp_path, trellis_bin):
    (tmp_path / "config").mkdir()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_trellis(
            ["serve", "--config-dir", tmp_path / "config", "--data-dir", tmp_path / "data",
             "--xds-address", f"127.0.0.1:{port}", "--secure-xds-address", f"127.0.0.1:{free_port()}",
             "--http-address", f"127.0.0.1:{free_port()}"],
            binary=trellis_bin,
        )
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "trellis: error:" in result.stderr, result.stderr
    assert "address already in use" in result.stderr.lower(), result.stderr


def test_serve_rejects_malformed_address_flag(tmp_path, trellis_bin):
    (tmp_path / "config").mkdir()
    result = run_trellis(
        ["serve", "--config-dir", tmp_path / "config", "--data-dir", tmp_path / "data",
         "--xds-address", "nonsense"],
        binary=trellis_bin,
    )
    assert result.returncode != 0, result
    assert "--xds-address" in result.stderr, result.stderr


def test_serve_exits_zero_on_sigterm(mesh_dir, start_trellis):
    server = start_trellis(mesh_dir.path)
    server.stop(timeout=10, expect_code=0)


def test_serve_exits_zero_on_sigterm_with_envoy_connected(spine: Spine):
    spine.trellis.stop(timeout=10, expect_code=0)


# --- `trellis bootstrap` -------------------------------------------------------------------


def test_bootstrap_writes_parseable_envoy_yaml(tmp_path, trellis_bin):
    output = tmp_path / "bootstrap.yaml"
    node = node_id("127.0.0.7", "web", "shop")
    xds_port, admin_port = free_port(), free_port()
    result = run_trellis(
        ["bootstrap", "--node-id", node, "--xds-address", f"127.0.0.1:{xds_port}",
         "--admin-address", f"127.0.0.7:{admin_port}",
         "--metadata", "NAMESPACE=shop", "--metadata", "LABELS=app=x,version=v1",
         "--metadata", "INTERCEPTION_MODE=NONE", "--output", output],
        binary=trellis_bin,
    )
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(output.read_text())

    assert config["node"]["id"] == node
    assert config["node"]["metadata"]["LABELS"] == {"app": "x", "version": "v1"}
    assert config["node"]["metadata"]["NAMESPACE"] == "shop"
    assert config["node"]["metadata"]["INTERCEPTION_MODE"] == "NONE"
    assert config["admin"]["address"]["socket_address"] == {"address": "127.0.0.7", "port_value": admin_port}

    static_addresses = [
        lb["endpoint"]["address"]["socket_address"]
        for cluster in config["static_resources"]["clusters"]
        for group in cluster.get("load_assignment", {}).get("endpoints", [])
        for lb in group.get("lb_endpoints", [])
    ]
    assert {"address": "127.0.0.1", "port_value": xds_port} in static_addresses, static_addresses
    assert config["dynamic_resources"]["ads_config"]["api_type"] == "GRPC"


def test_bootstrap_rejects_bad_node_id(tmp_path, trellis_bin):
    result = run_trellis(
        ["bootstrap", "--node-id", "not-a-node-id", "--xds-address", "127.0.0.1:15010",
         "--admin-address", "127.0.0.1:15000", "--output", tmp_path / "bootstrap.yaml"],
        binary=trellis_bin,
    )
    assert result.returncode != 0, result
    assert "--node-id" in result.stderr, result.stderr
    assert not (tmp_path / "bootstrap.yaml").exists()
