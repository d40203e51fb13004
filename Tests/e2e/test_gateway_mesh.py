"""Gateways inside the mesh: an ingress gateway routes by path into two services whose sidecars
accept only mesh mTLS (STRICT), as itself (its own SPIFFE identity, which AuthorizationPolicy
can name); an egress gateway carries a sidecar's traffic for an external host (sidecar →
gateway in mesh mTLS, gateway → the external host), as in Istio's egress-gateway task.

Identities are claimed on the plaintext port and trusted (`--insecure-dev-identities`), so every
proxy gets its workload certificate; the "external" host is an upstream on loopback.
"""

from dataclasses import dataclass
from typing import Dict

import pytest

from harness import (
    Envoy,
    consistently,
    free_port,
    http_request,
    loopback_address,
    mesh_service,
    port,
    sidecar,
)
from harness.gateway import bound_virtual_service, gateway, server
from harness.istio import destination_rule, resource
from harness.security import authorization_policy, peer_authentication, spiffe_id


@dataclass
class Backend:
    """A mesh service NAME.default whose one endpoint is a sidecar on its own 127.0.0.x, in
    front of an upstream app."""

    name: str
    ip: str
    inbound_port: int
    app_port: int

    @property
    def host(self) -> str:
        return f"{self.name}.default.svc.cluster.local"

    def service(self) -> dict:
        return mesh_service(self.name, self.host, [port(9080)], endpoints=[{
            "address": self.ip, "ports": {"http": self.inbound_port}, "serviceAccount": self.name,
            "labels": {"app": self.name, "security.istio.io/tlsMode": "istio"},
        }])

    def sidecar(self) -> dict:
        return sidecar(self.name, workload_labels={"app": self.name}, ingress=[{
            "port": {"number": self.inbound_port, "protocol": "HTTP", "name": "http"},
            "bind": self.ip, "defaultEndpoint": f"127.0.0.1:{self.app_port}",
        }], egress=[{"bind": self.ip, "hosts": ["./*"]}])


@pytest.fixture
def trusting_trellis(mesh_dir, start_trellis):
    def start():
        return start_trellis(mesh_dir.path, extra_args=("--insecure-dev-identities",))
    return start


def start_proxy(start_envoy, trellis, name: str, ip: str, namespace: str = "default", kind: str = "sidecar",
                labels: Dict[str, str] = None) -> Envoy:
    return start_envoy(trellis.xds_address, name=name, ip=ip, namespace=namespace, kind=kind,
                       labels=labels or {"app": name}, metadata={"SERVICE_ACCOUNT": name})


def test_ingress_routes_by_path_into_strict_mtls_services_as_its_own_identity(
        mesh_dir, trusting_trellis, start_envoy, start_upstream):
    apps = {name: start_upstream(name) for name in ("svc-a", "svc-b")}
    backends = {name: Backend(name, ip, free_port(ip), app.port)
                for name, app in apps.items() for ip in [loopback_address()]}
    gateway_ip = loopback_address()
    listen = free_port(gateway_ip)
    ingress_principal = "cluster.local/ns/istio-system/sa/ingress"
    mesh_dir.write(
        "mesh.yaml",
        *[b.service() for b in backends.values()], *[b.sidecar() for b in backends.values()],
        peer_authentication("default", "STRICT"),
        # svc-a admits only the ingress gateway's service account.
        authorization_policy("a-from-ingress", "ALLOW", selector={"app": "svc-a"},
                             rules=[{"from": [{"source": {"principals": [ingress_principal]}}]}]),
        gateway("public", [server(listen, "http", "HTTP", ["*"], gateway_ip)]),
        bound_virtual_service("shop", ["*"], ["istio-system/public"], http=[
            {"match": [{"uri": {"prefix": "/a"}}], "route": [{"destination": {"host": backends["svc-a"].host}}]},
            {"match": [{"uri": {"prefix": "/b"}}], "route": [{"destination": {"host": backends["svc-b"].host}}]},
        ]),
    )
    trellis = trusting_trellis()
    for backend in backends.values():
        start_proxy(start_envoy, trellis, backend.name, backend.ip)
    ingress = start_proxy(start_envoy, trellis, "ingress", gateway_ip, namespace="istio-system", kind="router",
                          labels={"istio": "ingressgateway"}).wait_ready()

    def get(path: str, upstream: str):
        response = http_request(f"{gateway_ip}:{listen}", path, host="shop.example.test")
        assert response.status == 200 and response.upstream == upstream, f"{response.status} {response.text[:300]}"
        return response

    a = ingress.wait_for(lambda: get("/a/1", "svc-a"), timeout=30, what="gateway → svc-a")
    b = ingress.wait_for(lambda: get("/b/2", "svc-b"), timeout=30, what="gateway → svc-b")
    # Each hop was mesh mTLS: the sidecar saw the gateway's own SPIFFE id.
    for response, name in ((a, "svc-a"), (b, "svc-b")):
        xfcc = response.json()["headers"].get("x-forwarded-client-cert", "")
        assert f"URI={spiffe_id('istio-system', 'ingress')}" in xfcc, xfcc
        assert f"By={spiffe_id('default', name)}" in xfcc, xfcc
    # STRICT: a plaintext client straight to a sidecar gets nothing.
    target = backends["svc-a"]

    def refuses_plaintext():
        try:
            response = http_request(f"{target.ip}:{target.inbound_port}", "/a", timeout=3)
        except OSError:
            return
        raise AssertionError(f"plaintext answered {response.status}")

    consistently(refuses_plaintext, duration=1.0, what="STRICT refuses plaintext")
    assert http_request(f"{gateway_ip}:{listen}", "/c", host="shop.example.test").status == 404


def test_egress_gateway_carries_mesh_traffic_for_an_external_host(
        mesh_dir, trusting_trellis, start_envoy, start_upstream):
    external = start_upstream("external")
    client_ip, egress_ip = loopback_address(), loopback_address()
    external_port = free_port(client_ip)       # the external service's port, as the client sees it
    egress_service_port = free_port(client_ip)  # the egress gateway service's port
    egress_listen = free_port(egress_ip)
    egress_host = "istio-egressgateway.istio-system.svc.cluster.local"
    mesh_dir.write(
        "egress.yaml",
        mesh_service("external", "external.example.test", [port(external_port)], location="MESH_EXTERNAL",
                     endpoints=[{"address": "127.0.0.1", "ports": {"http": external.port}}]),
        mesh_service("istio-egressgateway", egress_host, [port(egress_service_port)], namespace="istio-system",
                     endpoints=[{"address": egress_ip, "ports": {"http": egress_listen}, "serviceAccount": "egress",
                                 "labels": {"istio": "egressgateway", "security.istio.io/tlsMode": "istio"}}]),
        # As in Istio's task: the sidecar talks mesh mTLS to the gateway with the external host as SNI.
        destination_rule("egressgateway-for-external", egress_host, namespace="default",
                         traffic_policy={"tls": {"mode": "ISTIO_MUTUAL", "sni": "external.example.test"}}),
        gateway("egress", [server(egress_listen, "https", "HTTPS", ["external.example.test"], egress_ip,
                                  {"mode": "ISTIO_MUTUAL"})], selector={"istio": "egressgateway"}),
        resource("VirtualService", "external-through-egress", {
            "hosts": ["external.example.test"],
            "gateways": ["istio-system/egress", "mesh"],
            "http": [
                {"match": [{"gateways": ["mesh"], "port": external_port}],
                 "route": [{"destination": {"host": egress_host, "port": {"number": egress_service_port}}}]},
                {"match": [{"gateways": ["istio-system/egress"], "port": egress_listen}],
                 "route": [{"destination": {"host": "external.example.test", "port": {"number": external_port}}}]},
            ],
        }),
        sidecar("client", workload_labels={"app": "client"}, egress=[{"bind": client_ip, "hosts": ["*/*"]}]),
    )
    trellis = trusting_trellis()
    egress = start_proxy(start_envoy, trellis, "egress", egress_ip, namespace="istio-system", kind="router",
                         labels={"istio": "egressgateway"}).wait_ready()
    client = start_proxy(start_envoy, trellis, "client", client_ip).wait_ready()

    def call():
        response = http_request(f"{client_ip}:{external_port}", "/out", host="external.example.test")
        assert response.status == 200 and response.upstream == "external", f"{response.status} {response.text[:300]}"
        return response

    response = client.wait_for(call, timeout=30, what="client → egress gateway → external")
    # The gateway verified the sidecar's mesh certificate and forwarded on its behalf.
    xfcc = response.json()["headers"].get("x-forwarded-client-cert", "")
    assert f"URI={spiffe_id('default', 'client')}" in xfcc, xfcc
    stats = egress.stats()
    assert stats.get(f"cluster.outbound|{external_port}||external.example.test.upstream_rq_total", 0) >= 1
    assert stats.get(f"listener.{egress_ip}_{egress_listen}.ssl.handshake", 0) >= 1, \
        {k: v for k, v in stats.items() if ".ssl." in k and k.startswith("listener.")}
