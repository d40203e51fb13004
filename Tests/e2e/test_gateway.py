"""Ingress gateways end to end: a real Envoy started as a gateway (node `router~...`, labels
`istio=ingressgateway`) gets its whole configuration from Trellis, from Istio Gateway and
VirtualService resources and TLS Secrets in the config dir, and real clients talk to it.

Certificates are made at test time with openssl (harness.tls_upstream); nothing secret is
committed. Each gateway binds its own 127.0.0.x (Gateway `bind`), on free ports.
"""

import json
import re
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

import pytest

from harness import (
    AdsClient,
    BackgroundTraffic,
    Envoy,
    MeshDir,
    TrellisServer,
    Upstream,
    consistently,
    discovery_request,
    free_port,
    http_request,
    loopback_address,
    node_id,
    run_trellis,
    service_entry,
)
from harness.ads import SECRET
from harness.gateway import bound_virtual_service, gateway, https_get, server, tls_secret
from harness.tls_upstream import TLSUpstream, issue, make_ca

WEB_HOST = "web.default.svc.cluster.local"
GATEWAY = "istio-system/public"


@dataclass
class Certificates:
    """A CA for the gateway's server certificates, one for clients, and the leaves they signed."""

    directory: Path
    server_ca: Path = None  # type: ignore[assignment]
    client_ca: Path = None  # type: ignore[assignment]
    leaves: Dict[str, Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.server_ca = make_ca(self.directory, "gateway-ca")
        self.client_ca = make_ca(self.directory, "client-ca")

    def server(self, name: str, *hosts: str) -> Path:
        self.leaves[name] = issue(self.directory, self.server_ca, name, list(hosts))
        return self.leaves[name]

    def client(self, name: str) -> Path:
        self.leaves[name] = issue(self.directory, self.client_ca, name, client=True)
        return self.leaves[name]


@dataclass
class GatewayMesh:
    """One `trellis serve` (identities claimed on the plaintext port are trusted, so the gateway
    proves who it is there), the upstream "web" behind service web.default, and a gateway Envoy
    on its own 127.0.0.x."""

    mesh: MeshDir
    trellis: TrellisServer
    web: Upstream
    certs: Certificates
    start_envoy: object
    ip: str = field(default_factory=loopback_address)

    def port(self) -> int:
        return free_port(self.ip)

    def web_service(self) -> dict:
        return service_entry("web", WEB_HOST, 8000, [("127.0.0.1", self.web.port)])

    def start_gateway(self, xds_address: str = "", name: str = "ingress") -> Envoy:
        return self.start_envoy(
            xds_address or self.trellis.xds_address, name=name, namespace="istio-system", kind="router",
            labels={"istio": "ingressgateway"}, ip=self.ip, metadata={"SERVICE_ACCOUNT": name})

    def address(self, port: int) -> str:
        return f"{self.ip}:{port}"


@pytest.fixture
def gw(mesh_dir, start_trellis, start_envoy, start_upstream, tmp_path) -> GatewayMesh:
    certs = Certificates(tmp_path / "certs")
    web = start_upstream("web")
    mesh_dir.write("empty.yaml", service_entry("placeholder", "placeholder.test", 1))
    trellis = start_trellis(mesh_dir.path, extra_args=("--insecure-dev-identities",))
    return GatewayMesh(mesh_dir, trellis, web, certs, start_envoy)


def web_routes() -> List[dict]:
    return [{"route": [{"destination": {"host": WEB_HOST, "port": {"number": 8000}}}]}]


def _status(response, status: int):
    assert response.status == status, f"{response.status} {response.body[:300] if hasattr(response, 'body') else ''}"
    return response


def refused(call) -> None:
    """`call` fails at the connection or TLS level: nothing is served there."""
    try:
        response = call()
    except (OSError, ssl.SSLError):
        return
    raise AssertionError(f"answered {response.status}")


# --- TLS termination ---------------------------------------------------------------------------


def test_https_picks_the_certificate_by_sni_redirects_http_and_404s_unbound_hosts(gw: GatewayMesh):
    cert_a = gw.certs.server("a", "a.example.test")
    cert_b = gw.certs.server("b", "b.example.test", "unbound.example.test")
    https, http = gw.port(), gw.port()
    gw.mesh.write(
        "gateway.yaml",
        gw.web_service(),
        tls_secret("cert-a", cert_a), tls_secret("cert-b", cert_b),
        gateway("public", [
            server(https, "https-a", "HTTPS", ["a.example.test"], gw.ip, {"mode": "SIMPLE", "credentialName": "cert-a"}),
            server(https, "https-b", "HTTPS", ["b.example.test", "unbound.example.test"], gw.ip,
                   {"mode": "SIMPLE", "credentialName": "cert-b"}),
            server(http, "http", "HTTP", ["a.example.test"], gw.ip, {"httpsRedirect": True}),
        ]),
        bound_virtual_service("web", ["a.example.test", "b.example.test"], [GATEWAY], http=web_routes()),
    )
    envoy = gw.start_gateway().wait_ready()

    a = envoy.wait_for(lambda: _status(https_get(gw.address(https), "a.example.test", gw.certs.server_ca, "/x"), 200),
                       what="HTTPS for a.example.test")
    b = _status(https_get(gw.address(https), "b.example.test", gw.certs.server_ca, "/y"), 200)
    assert (a.common_name, b.common_name) == ("a", "b")
    assert a.json()["upstream"] == "web" and a.json()["path"] == "/x"
    assert a.serial != b.serial
    # A host of the server that no VirtualService is bound for answers 404, as in Istio.
    _status(https_get(gw.address(https), "unbound.example.test", gw.certs.server_ca, "/"), 404)

    redirect = http_request(gw.address(http), "/path?q=1", host="a.example.test")
    assert redirect.status == 301, redirect.status
    assert redirect.headers["location"].startswith("https://a.example.test"), redirect.headers
    assert redirect.headers["location"].endswith("/path?q=1"), redirect.headers
    assert gw.web.request_count == 2  # the redirect and the 404 never reached it

    # The gateway got the credentials over SDS, named after them as in Istio.
    names = {entry.get("name") for entry in envoy.admin_json("/config_dump?resource=dynamic_active_secrets")["configs"]}
    assert {"kubernetes://cert-a", "kubernetes://cert-b"} <= names, names
    log = gw.trellis.logs() + (gw.trellis.data_dir / "config-status.json").read_text()
    assert "PRIVATE KEY" not in log


def test_mutual_tls_requires_a_client_certificate_signed_by_the_ca(gw: GatewayMesh):
    cert = gw.certs.server("m", "m.example.test")
    client = gw.certs.client("good-client")
    port = gw.port()
    gw.mesh.write(
        "gateway.yaml",
        gw.web_service(),
        tls_secret("cert-m", cert, ca=gw.certs.client_ca),
        gateway("public", [server(port, "https", "HTTPS", ["m.example.test"], gw.ip,
                                  {"mode": "MUTUAL", "credentialName": "cert-m"})]),
        bound_virtual_service("web", ["m.example.test"], [GATEWAY], http=web_routes()),
    )
    envoy = gw.start_gateway().wait_ready()
    ok = envoy.wait_for(
        lambda: _status(https_get(gw.address(port), "m.example.test", gw.certs.server_ca, "/", client_cert=client), 200),
        what="MUTUAL with a client certificate")
    # The gateway verified the client and tells the upstream who it was.
    assert "good-client" in ok.json()["headers"].get("x-forwarded-client-cert", ""), ok.json()["headers"]
    refused(lambda: https_get(gw.address(port), "m.example.test", gw.certs.server_ca, "/"))
    # A certificate from another CA is refused too.
    stranger_ca = make_ca(gw.certs.directory, "stranger-ca")
    stranger = issue(gw.certs.directory, stranger_ca, "stranger", client=True)
    refused(lambda: https_get(gw.address(port), "m.example.test", gw.certs.server_ca, "/", client_cert=stranger))


def test_passthrough_routes_by_sni_to_a_tls_upstream(gw: GatewayMesh):
    backend_cert = gw.certs.server("secure-backend", "secure.example.test")
    backend = TLSUpstream("secure-backend", backend_cert)
    try:
        port = gw.port()
        gw.mesh.write(
            "gateway.yaml",
            service_entry("secure", "secure.example.test", 8443, [("127.0.0.1", backend.port)], port_name="tls",
                          protocol="TLS", location="MESH_EXTERNAL"),
            gateway("public", [server(port, "tls", "TLS", ["secure.example.test"], gw.ip, {"mode": "PASSTHROUGH"})]),
            bound_virtual_service("secure", ["secure.example.test"], [GATEWAY], tls=[{
                "match": [{"sniHosts": ["secure.example.test"]}],
                "route": [{"destination": {"host": "secure.example.test", "port": {"number": 8443}}}],
            }]),
        )
        envoy = gw.start_gateway().wait_ready()
        # The client's TLS goes through untouched: it sees the upstream's own certificate.
        response = envoy.wait_for(
            lambda: _status(https_get(gw.address(port), "secure.example.test", gw.certs.server_ca, "/p"), 200),
            what="PASSTHROUGH to the TLS upstream")
        assert response.common_name == "secure-backend"
        assert response.json()["sni"] == "secure.example.test" and response.json()["path"] == "/p"
        # Another SNI matches no chain: the connection is closed.
        refused(lambda: https_get(gw.address(port), "other.example.test", gw.certs.server_ca, "/"))
    finally:
        backend.close()


# --- credentials: only to proven gateways, never to sidecars ----------------------------------


def test_credentials_go_only_to_gateways_with_a_proven_identity(mesh_dir, start_trellis, start_envoy, start_upstream,
                                                                  tmp_path):
    """On the plaintext port without --insecure-dev-identities nothing is proven: the gateway's
    HTTPS server is left out (its port refuses connections) while its plain HTTP server works;
    and a sidecar asking for a gateway credential by name never gets it."""
    certs = Certificates(tmp_path / "certs")
    web = start_upstream("web")
    mesh = GatewayMesh(mesh_dir, None, web, certs, start_envoy)  # type: ignore[arg-type]
    cert = certs.server("a", "a.example.test")
    https, http = mesh.port(), mesh.port()
    mesh_dir.write(
        "gateway.yaml", mesh.web_service(), tls_secret("cert-a", cert),
        gateway("public", [
            server(https, "https", "HTTPS", ["a.example.test"], mesh.ip, {"mode": "SIMPLE", "credentialName": "cert-a"}),
            server(http, "http", "HTTP", ["a.example.test"], mesh.ip),
        ]),
        bound_virtual_service("web", ["a.example.test"], [GATEWAY], http=web_routes()),
    )
    mesh.trellis = start_trellis(mesh_dir.path)
    envoy = mesh.start_gateway().wait_ready()
    envoy.wait_for(lambda: _status(http_request(mesh.address(http), "/", host="a.example.test"), 200), what="plain HTTP")
    consistently(lambda: refused(lambda: https_get(mesh.address(https), "a.example.test", certs.server_ca)),
                 duration=1.0, what="no TLS without a proven identity")
    assert envoy.certificates() == []

    # A sidecar in the Secret's namespace, identity or not, never gets it.
    trusted = start_trellis(mesh_dir.path, extra_args=("--insecure-dev-identities",))
    node = node_id("127.0.0.250", "app", "istio-system")
    with AdsClient(trusted.xds_address) as client:
        client.send(discovery_request(SECRET, ["kubernetes://cert-a", "default"], node_id=node,
                                      metadata={"SERVICE_ACCOUNT": "app"}))
        response = client.recv(timeout=10)
        assert response is not None, client.wait_status()
        assert all(b"kubernetes://cert-a" not in resource.value for resource in response.resources)


# --- tooling: translate and bootstrap for gateways --------------------------------------------


def test_translate_and_bootstrap_work_for_gateway_node_ids(tmp_path, trellis_bin):
    config = MeshDir(tmp_path / "config")
    config.write("gw.yaml",
                 service_entry("web", WEB_HOST, 8000, [("10.0.0.1", 8000)]),
                 gateway("public", [server(8080, "http", "HTTP", ["*"])]),
                 bound_virtual_service("web", ["*"], [GATEWAY], http=web_routes()))
    node = "router~10.1.0.1~ingress.istio-system~istio-system.svc.cluster.local"
    result = run_trellis(["translate", config.path, "--node-id", node, "--metadata", "LABELS=istio=ingressgateway",
                          "--type", "listeners"], binary=trellis_bin)
    assert result.returncode == 0, result.stderr
    listeners = json.loads(result.stdout)["LDS"]
    assert [listener["name"] for listener in listeners] == ["0.0.0.0_8080"]

    bootstrap = tmp_path / "gateway.yaml"
    result = run_trellis(["bootstrap", "--node-id", node, "--xds-address", "127.0.0.1:15010", "--admin-address",
                          "127.0.0.1:15000", "--metadata", "LABELS=istio=ingressgateway", "--output", bootstrap],
                         binary=trellis_bin)
    assert result.returncode == 0, result.stderr
    text = bootstrap.read_text()
    assert node in text and "ingressgateway" in text


# --- live certificate replacement, bad Secrets -------------------------------------------------


def _two_server_config(gw: GatewayMesh, port: int, secret_a: dict, secret_b: dict) -> List[dict]:
    return [
        gw.web_service(), secret_a, secret_b,
        gateway("public", [
            server(port, "https-a", "HTTPS", ["a.example.test"], gw.ip, {"mode": "SIMPLE", "credentialName": "cert-a"}),
            server(port, "https-b", "HTTPS", ["b.example.test"], gw.ip, {"mode": "SIMPLE", "credentialName": "cert-b"}),
        ]),
        bound_virtual_service("web", ["a.example.test", "b.example.test"], [GATEWAY], http=web_routes()),
    ]


def test_a_certificate_replaced_live_reaches_new_handshakes_without_a_failed_request(gw: GatewayMesh):
    first = gw.certs.server("a-1", "a.example.test")
    cert_b = gw.certs.server("b", "b.example.test")
    port = gw.port()
    gw.mesh.write("gateway.yaml", *_two_server_config(gw, port, tls_secret("cert-a", first), tls_secret("cert-b", cert_b)))
    envoy = gw.start_gateway().wait_ready()
    call = lambda: https_get(gw.address(port), "a.example.test", gw.certs.server_ca, "/live")  # noqa: E731
    before = envoy.wait_for(lambda: _status(call(), 200), what="HTTPS with the first certificate")
    serials = set()

    def send():
        response = call()
        serials.add(response.serial)
        return response

    second = gw.certs.server("a-2", "a.example.test")
    with BackgroundTraffic(send, name="certificate-replacement") as traffic:
        traffic.wait_for_requests(20)
        gw.mesh.write("gateway.yaml", *_two_server_config(gw, port, tls_secret("cert-a", second), tls_secret("cert-b", cert_b)))
        envoy.wait_for(lambda: _presents(call(), "a-2"), what="the replaced certificate on new handshakes")
        traffic.wait_for_requests(20)
        outcomes = traffic.stop()
    failures = [o for o in outcomes if o.status != 200]
    assert not failures, f"{len(failures)} of {len(outcomes)} requests failed: {failures[:5]}"
    assert before.serial in serials and len(serials) == 2, serials
    # The gateway itself was not restarted: one stream from start to end.
    connects = [line for line in gw.trellis.logs().splitlines() if "proxy connected" in line and envoy.node_id in line]
    assert len(connects) == 1, connects


def test_a_bad_secret_is_rejected_and_only_its_server_stops_serving_tls(gw: GatewayMesh, trellis_bin):
    cert_a = gw.certs.server("a", "a.example.test")
    cert_b = gw.certs.server("b", "b.example.test")
    unrelated_key = gw.certs.server("unrelated", "x.example.test")
    port = gw.port()
    # cert-b's key is another certificate's: the Secret is rejected, its server has no chain.
    bad_b = tls_secret("cert-b", cert_b, key=gw.certs.directory / "unrelated-key.pem")
    path = gw.mesh.write("gateway.yaml", *_two_server_config(gw, port, tls_secret("cert-a", cert_a), bad_b))
    assert unrelated_key.exists()

    validate = run_trellis(["validate", path], binary=trellis_bin)
    assert validate.returncode == 1, validate.stdout + validate.stderr
    output = validate.stdout + validate.stderr
    assert "Secret istio-system/cert-b: data[tls.key]: the private key does not match" in output, output
    assert "spec.servers[1].tls.credentialName" in output and "Secret istio-system/cert-b is invalid" in output, output
    assert "PRIVATE KEY" not in output and "BEGIN" not in output

    envoy = gw.start_gateway().wait_ready()
    good = envoy.wait_for(lambda: _status(https_get(gw.address(port), "a.example.test", gw.certs.server_ca), 200),
                          what="the good server")
    refused(lambda: https_get(gw.address(port), "b.example.test", gw.certs.server_ca))
    status_path = gw.trellis.data_dir / "config-status.json"
    status = json.loads(status_path.read_text())
    assert "Secret istio-system/cert-b" in status["rejected"], status
    assert "PRIVATE KEY" not in status_path.read_text()

    # A bad edit of cert-a keeps its last good version: still served, nothing else changes.
    gw.mesh.write("gateway.yaml", *_two_server_config(
        gw, port, tls_secret("cert-a", cert_b, key=cert_a.with_name("a-key.pem")), bad_b))
    gw.trellis.wait_for_log(r"rejected=2")
    consistently(lambda: _same_serial(https_get(gw.address(port), "a.example.test", gw.certs.server_ca), good.serial),
                 duration=1.0, what="cert-a keeps its last good version")
    status = json.loads(status_path.read_text())
    assert "Secret istio-system/cert-a" in status["keptLastGood"], status


def _presents(response, common_name: str) -> None:
    assert response.status == 200 and response.common_name == common_name, (response.status, response.common_name)


def _same_serial(response, serial: str) -> None:
    assert response.status == 200 and response.serial == serial, (response.status, response.serial, serial)


def test_a_listener_the_gateway_rejects_leaves_its_last_good_configuration_serving(gw: GatewayMesh):
    """Envoy NACKs a listener it cannot bind (the port is taken); the gateway keeps serving what
    it had, the stream stays up, and the rejected listener is tried again with the next change
    of listeners (not resent as it was: the same version would only be rejected again)."""
    good, taken = gw.port(), gw.port()

    def config(*ports: int, hosts=("a.example.test",)) -> List[dict]:
        return [
            gw.web_service(),
            gateway("public", [server(port, f"http-{port}", "HTTP", ["*"], gw.ip) for port in ports]),
            bound_virtual_service("web", list(hosts), [GATEWAY], http=web_routes()),
        ]

    def answers(port: int) -> None:
        _status(http_request(gw.address(port), "/", host="a.example.test"), 200)

    gw.mesh.write("gateway.yaml", *config(good))
    envoy = gw.start_gateway().wait_ready()
    envoy.wait_for(lambda: answers(good), what="the first listener")

    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind((gw.ip, taken))
    blocker.listen()
    try:
        mark = gw.trellis.log_mark()
        gw.mesh.write("gateway.yaml", *config(good, taken))
        gw.trellis.wait_for_log(re.compile(rf"{re.escape(envoy.node_id)}.*NACK LDS|NACK LDS.*{re.escape(envoy.node_id)}"),
                                since=mark, timeout=20)
        consistently(lambda: answers(good), duration=2, what="the listener it had")
    finally:
        blocker.close()
    # The next listener change (the port free again) is taken whole, the rejected listener with
    # it; one stream throughout.
    third = gw.port()
    gw.mesh.write("gateway.yaml", *config(good, taken, third))
    envoy.wait_for(lambda: answers(taken), what="the listener once its port is free")
    answers(good)
    answers(third)
    connects = [line for line in gw.trellis.logs().splitlines() if "proxy connected" in line and envoy.node_id in line]
    assert len(connects) == 1, connects
