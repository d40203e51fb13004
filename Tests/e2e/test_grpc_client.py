"""gRPC's own xDS client as a second real client of `trellis serve` (Istio's proxyless gRPC):
a grpcio application dials `xds:///HOST:PORT` with the bootstrap `trellis bootstrap --format
grpc` wrote, gets an API listener, route configuration, clusters and endpoints over ADS, and
calls real grpcio servers on loopback; config edits reach it while it runs.

Run from the repository root: python -m pytest Tests/e2e/test_grpc_client.py -q
"""

import json
import re
from dataclasses import dataclass
from typing import Dict, List

import pytest
from envoy.config.core.v3 import base_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2
from envoy.service.discovery.v3 import discovery_pb2

from harness import (
    AdsClient,
    MeshDir,
    TrellisServer,
    consistently,
    destination,
    destination_rule,
    eventually,
    mesh_service,
    node_id,
    port,
    run_trellis,
    virtual_service,
    workload,
)
from harness.ads import LISTENER
from harness.grpc_xds import GrpcEchoServer, GrpcXdsClient

HOST = "greeter.mesh.test"
SERVICE_PORT = 7070  # a service port is a name here: nothing binds it, gRPC dials endpoints
TARGET = f"xds:///{HOST}:{SERVICE_PORT}"
CONFIG_FILE = "greeter.yaml"
CLIENT_NODE = node_id("127.0.0.1", "greeter-client")


def greeter(*endpoints: dict) -> dict:
    return mesh_service("greeter", HOST, [port(SERVICE_PORT, "grpc", "GRPC")], endpoints)


def endpoint(server: GrpcEchoServer, version: str = "v1") -> dict:
    return workload(server.host, {"grpc": server.port}, version=version)


def subsets() -> dict:
    return destination_rule("greeter", HOST, subsets={"v1": {"version": "v1"}, "v2": {"version": "v2"}})


def ack_line(type_name: str, node: str) -> str:
    """A trellis log line that acknowledges `type_name` (LDS, RDS, CDS, EDS) for `node`."""
    return rf"(?=.*\bACK {type_name}\b)(?=.*{re.escape(node)})"


@dataclass
class ProxylessMesh:
    """`trellis serve` on a config dir, grpcio echo servers by name, and one grpcio xDS client
    process connected to the server."""

    mesh: MeshDir
    trellis: TrellisServer
    client: GrpcXdsClient
    servers: Dict[str, GrpcEchoServer]

    def write(self, *resources: dict) -> int:
        """Replaces the config; returns the trellis log mark from before the edit."""
        mark = self.trellis.log_mark()
        self.mesh.write(CONFIG_FILE, *resources)
        return mark

    def wait_acked(self, type_name: str, since: int) -> None:
        """Until the client has ACKed a `type_name` response sent after log mark `since`."""
        self.trellis.wait_for_log(ack_line(type_name, CLIENT_NODE), since=since, timeout=20)

    def wait_serving(self, *names: str, metadata=(), timeout: float = 30.0) -> None:
        """Until calls have reached every server in `names`, and only those."""
        seen = set()

        def all_seen() -> None:
            self.trellis.check_alive()
            for server in self.client.servers(TARGET, 4, metadata=metadata):
                assert server in names, f"a call reached {server}, expected only {sorted(names)}"
                seen.add(server)
            assert seen == set(names), f"reached {sorted(seen)} so far, waiting for {sorted(names)}"

        eventually(all_seen, timeout=timeout, what=f"gRPC calls to reach {sorted(names)}")

    def wait_only(self, name: str, metadata=(), timeout: float = 30.0) -> None:
        """Until a batch of calls all reach `name`; then calls keep reaching only it."""
        eventually(lambda: _assert_all(self.client.servers(TARGET, 10, metadata=metadata), name),
                   timeout=timeout, what=f"calls to reach only {name}")
        consistently(lambda: _assert_all(self.client.servers(TARGET, 2, metadata=metadata), name), duration=1.0)

    def no_nacks(self) -> None:
        line = self.trellis.find_log(rf"(?=.*\bNACK\b)(?=.*{re.escape(CLIENT_NODE)})")
        assert line is None, f"the gRPC client rejected configuration: {line}"


def _assert_all(answers: List[str], name: str) -> None:
    assert answers == [name] * len(answers), f"expected every call to reach {name}, got {answers}"


@pytest.fixture
def echo_servers():
    """Factory: echo_servers(*names) -> {name: started GrpcEchoServer}, stopped at teardown."""
    started: List[GrpcEchoServer] = []

    def start(*names: str) -> Dict[str, GrpcEchoServer]:
        servers = [GrpcEchoServer(name) for name in names]
        started.extend(servers)
        return {server.name: server for server in servers}

    try:
        yield start
    finally:
        for server in started:
            server.close()


@pytest.fixture
def start_client(tmp_path, trellis_bin):
    """Factory: start_client(xds_address) -> a grpcio xDS client process whose bootstrap
    `trellis bootstrap --format grpc` wrote; ended at teardown."""
    clients: List[GrpcXdsClient] = []

    def start(xds_address: str) -> GrpcXdsClient:
        bootstrap = tmp_path / f"grpc-bootstrap-{len(clients)}.json"
        result = run_trellis(
            ["bootstrap", "--format", "grpc", "--node-id", CLIENT_NODE, "--xds-address", xds_address,
             "--metadata", "NAMESPACE=default", "--metadata", "LABELS=app=greeter-client", "--output", bootstrap],
            binary=trellis_bin)
        assert result.returncode == 0, f"trellis bootstrap --format grpc failed: {result.stderr}"
        client = GrpcXdsClient(bootstrap, tmp_path / f"grpc-client-{len(clients)}.log")
        clients.append(client)
        return client

    try:
        yield start
    finally:
        for client in clients:
            client.close()


@pytest.fixture
def proxyless(mesh_dir, start_trellis, start_client, echo_servers) -> ProxylessMesh:
    """Servers A and B (versions v1, v2); the ServiceEntry names only A; the client has
    reached A."""
    servers = echo_servers("A", "B")
    mesh_dir.write(CONFIG_FILE, greeter(endpoint(servers["A"])))
    server = start_trellis(mesh_dir.path)
    mesh = ProxylessMesh(mesh_dir, server, start_client(server.xds_address), servers)
    mesh.wait_serving("A")
    return mesh


# --- the client gets everything over ADS and calls through it --------------------------------


def test_grpc_client_calls_endpoints_from_trellis_and_follows_edits(proxyless: ProxylessMesh):
    a, b = proxyless.servers["A"], proxyless.servers["B"]
    # Every xDS type was ACKed by the gRPC client: its parser accepted what Trellis sent.
    for type_name in ("LDS", "RDS", "CDS", "EDS"):
        proxyless.trellis.wait_for_log(ack_line(type_name, CLIENT_NODE), timeout=10)
    proxyless.no_nacks()

    # A new endpoint: the running channel balances over both (round robin).
    proxyless.write(greeter(endpoint(a), endpoint(b)))
    proxyless.wait_serving("A", "B")

    # The first endpoint removed: every call goes to B from then on.
    proxyless.write(greeter(endpoint(b)))
    proxyless.wait_only("B")
    proxyless.no_nacks()
    assert a.calls > 0 and b.calls > 0


def test_grpc_client_follows_virtual_service_subsets_headers_and_weights(proxyless: ProxylessMesh):
    a, b = proxyless.servers["A"], proxyless.servers["B"]
    service = greeter(endpoint(a, "v1"), endpoint(b, "v2"))

    # All traffic to subset v1 (A) although B is an endpoint too.
    mark = proxyless.write(service, subsets(), virtual_service("greeter", [HOST], http=[
        {"route": [destination(HOST, subset="v1")]}]))
    proxyless.wait_acked("RDS", since=mark)
    proxyless.wait_only("A")

    # A header match sends canaries to v2, a cluster the client has not seen before: it must
    # get the new route, subscribe to the new cluster and get its endpoints. Another match
    # injects a fault (gRPC implements the fault filter); the CORS policy, which gRPC lacks,
    # must not make it reject the routes.
    canary = [("x-canary", "true")]
    mark = proxyless.write(service, subsets(), virtual_service("greeter", [HOST], http=[
        {"match": [{"headers": {"x-canary": {"exact": "true"}}}], "route": [destination(HOST, subset="v2")],
         "corsPolicy": {"allowOrigins": [{"exact": "https://example.com"}]}},
        {"match": [{"headers": {"x-fail": {"exact": "true"}}}], "route": [destination(HOST, subset="v1")],
         "fault": {"abort": {"grpcStatus": "RESOURCE_EXHAUSTED", "percentage": {"value": 100}}}},
        {"route": [destination(HOST, subset="v1")]}]))
    proxyless.wait_acked("RDS", since=mark)
    proxyless.wait_only("B", metadata=canary)
    _assert_all(proxyless.client.servers(TARGET, 5), "A")
    failed = proxyless.client.call(TARGET, 3, metadata=[("x-fail", "true")])
    assert [r.get("code") for r in failed] == ["RESOURCE_EXHAUSTED"] * 3, failed
    proxyless.no_nacks()

    # A 50/50 split between the subsets: both answer (each call picks a cluster at random).
    proxyless.write(service, subsets(), virtual_service("greeter", [HOST], http=[
        {"route": [destination(HOST, subset="v1", weight=50), destination(HOST, subset="v2", weight=50)]}]))
    proxyless.wait_serving("A", "B")

    # Then everything to v2.
    mark = proxyless.write(service, subsets(), virtual_service("greeter", [HOST], http=[
        {"route": [destination(HOST, subset="v1", weight=0), destination(HOST, subset="v2", weight=100)]}]))
    proxyless.wait_acked("RDS", since=mark)
    proxyless.wait_only("B")
    proxyless.no_nacks()


# --- bad input: unknown targets, and the bootstrap command ------------------------------------


def test_unknown_target_fails_the_call_and_leaves_the_stream_serving(proxyless: ProxylessMesh):
    # gRPC asks for listener "nowhere.mesh.test:7070" (on its own ADS stream: grpcio keeps one
    # xDS client per target). Trellis answers at once, without it; in state-of-the-world xDS a
    # client cannot tell that answer from one to an older request, so gRPC declares a listener
    # it never had missing when its 15 s does-not-exist timer fires (Istio's clients see the
    # same). The call then fails UNAVAILABLE, naming the resource: no hang, no crash.
    (result,) = proxyless.client.call(f"xds:///nowhere.mesh.test:{SERVICE_PORT}", timeout=60)
    assert not result["ok"] and result["code"] == "UNAVAILABLE", result
    assert f"LDS resource nowhere.mesh.test:{SERVICE_PORT}: does not exist" in result["details"], result
    # The known target keeps working, and the client rejected nothing.
    assert proxyless.client.servers(TARGET, 3) == ["A"] * 3
    proxyless.trellis.check_alive()
    proxyless.no_nacks()


def grpc_node(user_agent: str) -> base_pb2.Node:
    """A node as a hand-written gRPC bootstrap gives it: Istio id, no GENERATOR metadata; gRPC
    adds its user agent."""
    node = base_pb2.Node(id=node_id("127.0.0.9", "raw-grpc"), user_agent_name=user_agent)
    node.metadata.update({"NAMESPACE": "default"})
    return node


def test_named_listener_requests_from_a_grpc_user_agent_get_api_listeners(proxyless: ProxylessMesh):
    known, unknown = f"{HOST}:{SERVICE_PORT}", "nowhere.mesh.test:1"
    with AdsClient(proxyless.trellis.xds_address) as ads:
        request = discovery_pb2.DiscoveryRequest(type_url=LISTENER, resource_names=[unknown])
        request.node.CopyFrom(grpc_node("gRPC C-core linux Python"))
        ads.send(request)
        response = ads.recv(timeout=10)
        assert response is not None and response.type_url == LISTENER
        assert list(response.resources) == [], "an unknown target has no listener"

        # The stream goes on: asking for a known target as well (an ACK of the empty answer
        # with a longer name list) gets its API listener, gRPC's kind.
        ads.send(discovery_pb2.DiscoveryRequest(
            type_url=LISTENER, resource_names=[unknown, known], response_nonce=response.nonce,
            version_info=response.version_info))
        response = ads.recv(timeout=10)
        assert response is not None and len(response.resources) == 1
        listener = listener_pb2.Listener()
        response.resources[0].Unpack(listener)
        assert listener.name == known and not listener.filter_chains
        manager = http_connection_manager_pb2.HttpConnectionManager()
        assert listener.api_listener.api_listener.Unpack(manager)
        assert manager.rds.route_config_name == f"outbound|{SERVICE_PORT}||{HOST}"
        assert manager.rds.config_source.HasField("ads")
        assert [f.name for f in manager.http_filters][-1] == "envoy.filters.http.router"
    proxyless.trellis.check_alive()
    # The grpcio client's own stream was not disturbed.
    assert proxyless.client.servers(TARGET, 2) == ["A"] * 2


def test_bootstrap_format_grpc(tmp_path, trellis_bin):
    node = node_id("127.0.0.1", "app")
    path = tmp_path / "bootstrap.json"
    result = run_trellis(["bootstrap", "--format", "grpc", "--node-id", node, "--xds-address", "127.0.0.1:15010",
                          "--metadata", "LABELS=app=web,version=v1", "--output", path], binary=trellis_bin)
    assert result.returncode == 0, result.stderr
    bootstrap = json.loads(path.read_text())
    assert bootstrap["xds_servers"] == [{"server_uri": "127.0.0.1:15010", "channel_creds": [{"type": "insecure"}],
                                         "server_features": ["xds_v3"]}]
    assert bootstrap["node"]["id"] == node and bootstrap["node"]["cluster"] == "app.default"
    assert bootstrap["node"]["metadata"] == {"GENERATOR": "grpc", "LABELS": {"app": "web", "version": "v1"}}

    # Bad flag combinations: a clear one-line error, exit 64, nothing written.
    bad = [
        (["--admin-address", "127.0.0.1:15000"], "admin"),
        (["--root-cert", str(path), "--token", str(path)], "--format grpc"),
    ]
    for extra, message in bad:
        out = tmp_path / "never.json"
        result = run_trellis(["bootstrap", "--format", "grpc", "--node-id", node, "--output", out, *extra],
                             binary=trellis_bin)
        assert result.returncode == 64 and message in result.stderr, (extra, result.returncode, result.stderr)
        assert not out.exists()
    result = run_trellis(["bootstrap", "--node-id", node], binary=trellis_bin)
    assert result.returncode == 64 and "--admin-address is required" in result.stderr, result.stderr
