"""The Sidecar resource and visibility rules, end to end: egress listeners bound to their own
address, ingress listeners forwarding to the application, the outbound traffic policy for hosts
outside the registry, and exportTo keeping a namespace's services to itself.

Every Envoy here binds its listeners to its own 127.0.0.x (a Sidecar `bind`), so several
proxies (and parallel runs) never share a listening address.
"""

from typing import Optional

from harness import (
    Envoy,
    destination_rule,
    free_port,
    http_request,
    loopback_address,
    mesh_service,
    port,
    sidecar,
    tcp_exchange,
    virtual_service,
    workload,
)
from harness.routing import http_route
from tcp_fixtures import start_tcp_echo  # noqa: F401 - a fixture

CONFIG_FILE = "mesh.yaml"


def _get(envoy: Envoy, port_number: int, host: str, path: str = "/"):
    envoy.check_alive()
    return http_request(f"{envoy.ip}:{port_number}", path, host=host)


def _bound_addresses(envoy: Envoy) -> set:
    return {
        (l["address"]["socket_address"]["address"], l["address"]["socket_address"].get("port_value"))
        for l in envoy.dynamic_listeners().values()
        if "socket_address" in l.get("address", {}) and l.get("bind_to_port", True)
    }


def _catch_all(envoy: Envoy, route_config: str) -> Optional[str]:
    """The name of the `*` virtual host of a route configuration in Envoy, if it has one."""
    config = envoy.route_configs().get(route_config, {})
    for host in config.get("virtual_hosts", []):
        if "*" in host.get("domains", []):
            return host.get("name")
    return None


# --- egress ------------------------------------------------------------------------------------


def test_egress_listener_with_capture_mode_none_binds_its_address_and_imports_its_hosts(
    mesh_dir, start_trellis, start_envoy, start_upstream
):
    """A proxy under iptables (REDIRECT) whose Sidecar declares an egress listener with
    captureMode NONE: the application talks to `bind:port` itself, and only the listener's
    hosts are reachable there."""
    a, b = start_upstream("A"), start_upstream("B")
    ip = loopback_address()
    service_port = free_port(ip)
    mesh_dir.write(
        CONFIG_FILE,
        mesh_service("echo", "echo.sidecar.test", [port(service_port)], [workload(a.host, {"http": a.port})]),
        mesh_service("other", "other.sidecar.test", [port(service_port)], [workload(b.host, {"http": b.port})]),
        sidecar("client", workload_labels={"app": "client"}, outbound_policy="REGISTRY_ONLY", egress=[{
            "port": {"number": service_port, "protocol": "HTTP", "name": "http"},
            "bind": ip, "captureMode": "NONE", "hosts": ["./echo.sidecar.test"],
        }]),
    )
    server = start_trellis(mesh_dir.path)
    envoy = start_envoy(server.xds_address, name="client", ip=ip, metadata={"INTERCEPTION_MODE": "REDIRECT"})
    envoy.wait_ready()

    def serving() -> None:
        response = _get(envoy, service_port, "echo.sidecar.test")
        assert response.status == 200 and response.upstream == "A", (response.status, response.text[:200])

    envoy.wait_for(serving, what=f"echo.sidecar.test via {ip}:{service_port}")
    assert (ip, service_port) in _bound_addresses(envoy)
    assert ("127.0.0.1", service_port) not in _bound_addresses(envoy)

    # Not imported by the egress listener: no cluster, and the registry-only catch-all says 502.
    response = _get(envoy, service_port, "other.sidecar.test")
    assert response.status == 502, (response.status, response.text[:200])
    assert not [name for name in envoy.dynamic_clusters() if "other.sidecar.test" in name]
    assert b.request_count == 0


# --- ingress -----------------------------------------------------------------------------------


def test_ingress_listener_forwards_to_the_default_endpoint(
    mesh_dir, start_trellis, start_envoy, start_upstream, start_tcp_echo
):
    app = start_upstream("app")
    tcp_app = start_tcp_echo("tcp-app")
    ip = loopback_address()
    http_port, tcp_port = free_port(ip), free_port(ip)
    mesh_dir.write(CONFIG_FILE, sidecar("server", workload_labels={"app": "server"}, ingress=[
        {"port": {"number": http_port, "protocol": "HTTP", "name": "http"}, "bind": ip,
         "defaultEndpoint": f"127.0.0.1:{app.port}"},
        {"port": {"number": tcp_port, "protocol": "TCP", "name": "tcp"}, "bind": ip,
         "defaultEndpoint": f"127.0.0.1:{tcp_app.port}"},
    ]))
    server = start_trellis(mesh_dir.path)
    envoy = start_envoy(server.xds_address, name="server", ip=ip)
    envoy.wait_ready()

    def http_arrives() -> None:
        response = _get(envoy, http_port, "server.local", "/inbound")
        assert response.status == 200 and response.upstream == "app", (response.status, response.text[:200])
        assert response.json()["path"] == "/inbound"

    envoy.wait_for(http_arrives, what=f"HTTP through {ip}:{http_port}")
    assert tcp_exchange(ip, tcp_port, "ping") == "tcp-app: ping"
    assert {(ip, http_port), (ip, tcp_port)} <= _bound_addresses(envoy)


# --- outbound traffic policy -------------------------------------------------------------------


def test_registry_only_answers_unknown_hosts_502_and_allow_any_passes_them_on(
    mesh_dir, start_trellis, start_envoy, start_upstream
):
    a = start_upstream("A")
    ip = loopback_address()
    service_port = free_port(ip)

    def write(policy: str) -> None:
        mesh_dir.write(
            CONFIG_FILE,
            mesh_service("echo", "echo.sidecar.test", [port(service_port)], [workload(a.host, {"http": a.port})]),
            sidecar("default", outbound_policy=policy, egress=[{"bind": ip, "hosts": ["*/*"]}]),
        )

    def passthrough_requests() -> int:
        return int(envoy.stats().get("cluster.PassthroughCluster.upstream_rq_completed", 0))

    write("REGISTRY_ONLY")
    server = start_trellis(mesh_dir.path)
    envoy = start_envoy(server.xds_address, name="client", ip=ip)
    envoy.wait_ready()
    envoy.wait_for(lambda: _assert_equal(_catch_all(envoy, str(service_port)), "block_all"), what="block_all")

    assert _get(envoy, service_port, "echo.sidecar.test").upstream == "A"
    blocked = _get(envoy, service_port, "unknown.example.com")
    assert blocked.status == 502, (blocked.status, blocked.text[:200])
    assert passthrough_requests() == 0

    write("ALLOW_ANY")
    envoy.wait_for(lambda: _assert_equal(_catch_all(envoy, str(service_port)), "allow_any"), what="allow_any")
    passed = _get(envoy, service_port, "unknown.example.com")
    # The request is handed to PassthroughCluster, which sends it to the connection's original
    # destination. An application that connects to the listener itself (no iptables) has no
    # other original destination, so nothing answers there; what matters is that the sidecar
    # let it through instead of blocking it.
    assert passed.status != 502, (passed.status, passed.text[:200])
    assert passthrough_requests() == 1
    assert _get(envoy, service_port, "echo.sidecar.test").upstream == "A"


def _assert_equal(actual, expected) -> None:
    assert actual == expected, f"{actual!r} != {expected!r}"


# --- namespaces and exportTo -------------------------------------------------------------------


def test_export_to_keeps_services_and_routes_in_their_namespace(
    mesh_dir, start_trellis, start_envoy, start_upstream
):
    shared, private = start_upstream("shared"), start_upstream("private")
    ip_a, ip_b = loopback_address(), loopback_address()
    service_port = free_port()
    shared_host, private_host = "shared.scope.test", "private.scope.test"
    mesh_dir.write(
        CONFIG_FILE,
        mesh_service("shared", shared_host, [port(service_port)], [workload(shared.host, {"http": shared.port})],
                     namespace="team-a"),
        mesh_service("private", private_host, [port(service_port)], [workload(private.host, {"http": private.port})],
                     namespace="team-a", export_to=["."]),
        # Team a's own routing rule for the shared service: a header only its proxies add.
        virtual_service("shared", [shared_host], namespace="team-a", export_to=["."], http=[http_route(
            "team-a-only", {"destination": {"host": shared_host}},
            headers={"response": {"set": {"x-routed-by": "team-a"}}})]),
        destination_rule("shared", shared_host, namespace="team-a", traffic_policy={
            "loadBalancer": {"simple": "ROUND_ROBIN"}}),
        sidecar("default", namespace="team-a", outbound_policy="REGISTRY_ONLY",
                egress=[{"bind": ip_a, "hosts": ["*/*"]}]),
        sidecar("default", namespace="team-b", outbound_policy="REGISTRY_ONLY",
                egress=[{"bind": ip_b, "hosts": ["*/*"]}]),
    )
    server = start_trellis(mesh_dir.path)
    envoy_a = start_envoy(server.xds_address, name="client-a", namespace="team-a", ip=ip_a)
    envoy_b = start_envoy(server.xds_address, name="client-b", namespace="team-b", ip=ip_b)
    envoy_a.wait_ready()
    envoy_b.wait_ready()

    def reaches(envoy: Envoy, host: str, upstream: str) -> None:
        response = _get(envoy, service_port, host)
        assert response.status == 200 and response.upstream == upstream, (response.status, response.text[:200])

    envoy_a.wait_for(lambda: reaches(envoy_a, private_host, "private"), what="team a reaching its private service")
    envoy_b.wait_for(lambda: reaches(envoy_b, shared_host, "shared"), what="team b reaching the shared service")

    assert _get(envoy_a, service_port, shared_host).headers.get("x-routed-by") == "team-a"
    assert "x-routed-by" not in _get(envoy_b, service_port, shared_host).headers

    blocked = _get(envoy_b, service_port, private_host)
    assert blocked.status == 502, (blocked.status, blocked.text[:200])
    assert not [name for name in envoy_b.dynamic_clusters() if private_host in name]
    assert private.request_count == 1, "only team a's request reached the private service"
