"""TLS the sidecar originates, end to end: DestinationRule `tls` (MUTUAL and SIMPLE, with
certificate files on the proxy's host) -> `trellis serve` -> a real Envoy -> real TLS upstreams
made with Python's ssl module and certificates from the openssl command line.

The client speaks plain HTTP to its sidecar; the sidecar speaks TLS to the upstream. One upstream
requires a client certificate (MUTUAL's job), the other only serves one (SIMPLE's). Each test
waits until Envoy holds the TLS settings it wrote before it looks at what a client gets, so a
stale configuration can never pass for the new one.
"""

import json
import re
from dataclasses import dataclass
from typing import Callable, Optional

import pytest

from harness import Envoy, MeshDir, TrellisServer, destination_rule, free_port, mesh_service, port, workload
from harness.tls_upstream import TLSFiles, TLSUpstream, make_tls_files
from harness.traffic import http_request

MUTUAL_HOST = "ledger.tls.test"
SIMPLE_HOST = "catalog.tls.test"
SNI_NAME = "api.catalog.tls.test"


@dataclass
class TLSMesh:
    """`trellis serve` and one sidecar (INTERCEPTION_MODE=NONE: the outbound listeners bind
    127.0.0.1:PORT), and two services: `mutual` (an upstream that requires a client certificate
    from the client CA) and `simple` (one that asks for none)."""

    mesh: MeshDir
    files: TLSFiles
    mutual: TLSUpstream
    simple: TLSUpstream
    port: int
    trellis: Optional[TrellisServer] = None
    envoy: Optional[Envoy] = None
    expect_rejection: bool = False

    def cluster(self, host: str) -> str:
        return f"outbound|{self.port}||{host}"

    def apply(self, mutual_tls: dict, simple_tls: dict) -> None:
        """Both services, each with a DestinationRule whose trafficPolicy.tls is the given one."""
        documents = []
        for name, host, upstream, tls in (("ledger", MUTUAL_HOST, self.mutual, mutual_tls),
                                          ("catalog", SIMPLE_HOST, self.simple, simple_tls)):
            documents.append(mesh_service(name, host, [port(self.port)],
                                          [workload(upstream.host, {"http": upstream.port})],
                                          location="MESH_EXTERNAL"))
            documents.append(destination_rule(name, host, traffic_policy={"tls": tls}))
        self.mesh.write("tls.yaml", *documents)

    def get(self, host: str):
        assert self.envoy is not None
        self.envoy.check_alive()
        return http_request(f"127.0.0.1:{self.port}", "/hello", host=host, timeout=10)

    def upstream_tls(self, host: str) -> dict:
        """The UpstreamTlsContext Envoy holds for the service's cluster ({} for none)."""
        assert self.envoy is not None
        cluster = self.envoy.dynamic_clusters().get(self.cluster(host), {})
        return cluster.get("transport_socket", {}).get("typed_config", {})

    def rejections(self) -> list:
        """The configuration updates Envoy rejected (NACKed), as trellis logged them."""
        assert self.trellis is not None
        return [line for line in self.trellis.logs().splitlines() if re.search(r"\bNACK\b", line)]

    def wait_tls(self, host: str, holds: Callable[[dict], bool], what: str) -> None:
        """Until Envoy's TLS settings for the service satisfy `holds`."""
        assert self.envoy is not None

        def applied() -> None:
            context = self.upstream_tls(host)
            assert holds(context), f"{self.cluster(host)} has {json.dumps(context)[:600]}"

        self.envoy.wait_for(applied, timeout=30, what=what)


def trusted_ca(context: dict) -> Optional[str]:
    return context.get("common_tls_context", {}).get("validation_context", {}).get("trusted_ca", {}).get("filename")


def has_client_certificate(context: dict) -> bool:
    return bool(context.get("common_tls_context", {}).get("tls_certificates"))


@pytest.fixture
def tls_mesh(tmp_path, mesh_dir, start_trellis, start_envoy):
    files = make_tls_files(tmp_path / "certs", [MUTUAL_HOST, SIMPLE_HOST, SNI_NAME])
    mutual = TLSUpstream("ledger", files.server_cert, client_ca=files.client_ca)
    simple = TLSUpstream("catalog", files.server_cert)
    try:
        mesh = TLSMesh(mesh_dir, files, mutual, simple, free_port("127.0.0.1"))
        mesh.apply(mutual_tls=mutual_files(files), simple_tls={"mode": "SIMPLE", "caCertificates": str(files.server_ca)})
        mesh.trellis = start_trellis(mesh_dir.path)
        mesh.envoy = start_envoy(mesh.trellis.xds_address, name="client").wait_ready()
        mesh.wait_tls(MUTUAL_HOST, has_client_certificate, "the MUTUAL settings in Envoy")
        mesh.wait_tls(SIMPLE_HOST, lambda c: trusted_ca(c) == str(files.server_ca), "the SIMPLE settings in Envoy")
        yield mesh
        if not mesh.expect_rejection:
            assert not mesh.rejections(), "Envoy rejected configuration:\n" + "\n".join(mesh.rejections()[:5])
    finally:
        mutual.close()
        simple.close()


def mutual_files(files: TLSFiles, **extra) -> dict:
    return {"mode": "MUTUAL", "clientCertificate": str(files.client_cert), "privateKey": str(files.client_key),
            "caCertificates": str(files.server_ca), **extra}


def assert_refused(mesh: TLSMesh, host: str, upstream: TLSUpstream) -> None:
    """Requests fail with 503 and none of them reaches the upstream's application."""
    served = upstream.request_count
    for _ in range(3):
        response = mesh.get(host)
        assert response.status == 503, f"{response.status} {response.text[:200]}"
    assert upstream.request_count == served, "the upstream served a request over a connection that should fail"


def test_mutual_tls_presents_the_client_certificate_the_upstream_requires(tls_mesh: TLSMesh):
    response = tls_mesh.get(MUTUAL_HOST)
    assert response.status == 200, f"{response.status} {response.text[:300]}"
    seen = response.json()
    assert seen["upstream"] == "ledger"
    # The upstream verified the sidecar's client certificate (signed by the client CA).
    assert seen["client"] == "sidecar-client"
    # No sni in the rule: the sidecar names the server by the request's Host (Istio's auto SNI).
    assert seen["sni"] == MUTUAL_HOST

    # The same upstream without a client certificate: it refuses the handshake.
    failed = tls_mesh.mutual.handshakes_failed
    tls_mesh.apply(mutual_tls={"mode": "SIMPLE", "caCertificates": str(tls_mesh.files.server_ca)},
                   simple_tls={"mode": "SIMPLE", "caCertificates": str(tls_mesh.files.server_ca)})
    tls_mesh.wait_tls(MUTUAL_HOST, lambda c: c and not has_client_certificate(c), "SIMPLE for the mutual upstream")
    assert_refused(tls_mesh, MUTUAL_HOST, tls_mesh.mutual)

    def refused_by_the_upstream() -> None:
        assert tls_mesh.mutual.handshakes_failed > failed, "the upstream saw no refused handshake"

    # The upstream's thread counts the refusal after its alert is on the wire.
    tls_mesh.envoy.wait_for(refused_by_the_upstream, timeout=10, what="the upstream refusing the handshake")


def test_simple_tls_verifies_the_upstream_against_the_configured_ca(tls_mesh: TLSMesh):
    files = tls_mesh.files
    response = tls_mesh.get(SIMPLE_HOST)
    assert response.status == 200, f"{response.status} {response.text[:300]}"
    assert response.json()["upstream"] == "catalog"
    assert response.json()["sni"] == SIMPLE_HOST
    assert response.json()["client"] is None

    # A CA that did not sign the server's certificate: Envoy refuses the server.
    tls_mesh.apply(mutual_tls=mutual_files(files), simple_tls={"mode": "SIMPLE", "caCertificates": str(files.other_ca)})
    tls_mesh.wait_tls(SIMPLE_HOST, lambda c: trusted_ca(c) == str(files.other_ca), "the wrong CA in Envoy")
    assert_refused(tls_mesh, SIMPLE_HOST, tls_mesh.simple)

    # No caCertificates: verified against the operating system's CAs, which do not know ours.
    tls_mesh.apply(mutual_tls=mutual_files(files), simple_tls={"mode": "SIMPLE"})
    tls_mesh.wait_tls(SIMPLE_HOST, lambda c: trusted_ca(c) == "/etc/ssl/certs/ca-certificates.crt",
                      "the system CA bundle in Envoy")
    assert_refused(tls_mesh, SIMPLE_HOST, tls_mesh.simple)

    # insecureSkipVerify: encrypted, but nothing is verified, so the same server is accepted.
    tls_mesh.apply(mutual_tls=mutual_files(files), simple_tls={"mode": "SIMPLE", "insecureSkipVerify": True})
    tls_mesh.wait_tls(SIMPLE_HOST, lambda c: c and trusted_ca(c) is None, "insecureSkipVerify in Envoy")
    response = tls_mesh.get(SIMPLE_HOST)
    assert response.status == 200, f"{response.status} {response.text[:300]}"
    assert response.json()["upstream"] == "catalog"


def test_sni_and_subject_alt_names_come_from_the_rule(tls_mesh: TLSMesh):
    files = tls_mesh.files
    ca = str(files.server_ca)
    tls_mesh.apply(mutual_tls=mutual_files(files, sni=SNI_NAME, subjectAltNames=[SNI_NAME]),
                   simple_tls={"mode": "SIMPLE", "caCertificates": ca, "sni": SNI_NAME,
                               "subjectAltNames": [SIMPLE_HOST]})
    tls_mesh.wait_tls(SIMPLE_HOST, lambda c: c.get("sni") == SNI_NAME, "the rule's SNI in Envoy")
    tls_mesh.wait_tls(MUTUAL_HOST, lambda c: c.get("sni") == SNI_NAME, "the rule's SNI in Envoy")
    for host, name in ((SIMPLE_HOST, "catalog"), (MUTUAL_HOST, "ledger")):
        response = tls_mesh.get(host)
        assert response.status == 200, f"{host}: {response.status} {response.text[:300]}"
        assert (response.json()["upstream"], response.json()["sni"]) == (name, SNI_NAME)

    # The server's certificate is not for the name the rule expects: refused.
    tls_mesh.apply(mutual_tls=mutual_files(files),
                   simple_tls={"mode": "SIMPLE", "caCertificates": ca, "subjectAltNames": ["elsewhere.tls.test"]})
    tls_mesh.wait_tls(SIMPLE_HOST, lambda c: "elsewhere.tls.test" in json.dumps(c), "the other SAN in Envoy")
    assert_refused(tls_mesh, SIMPLE_HOST, tls_mesh.simple)


def test_a_certificate_file_missing_on_the_proxys_host_fails_only_that_service(tls_mesh: TLSMesh):
    """Envoy reads the files itself: it rejects the cluster that names a file it cannot read and
    keeps that service's last good settings, while the rest of the same update applies."""
    files = tls_mesh.files
    tls_mesh.expect_rejection = True
    tls_mesh.apply(mutual_tls=mutual_files(files, caCertificates="/nonexistent/trellis-test/ca.pem"),
                   simple_tls={"mode": "SIMPLE", "caCertificates": str(files.other_ca)})
    tls_mesh.wait_tls(SIMPLE_HOST, lambda c: trusted_ca(c) == str(files.other_ca), "the rest of the update in Envoy")
    assert_refused(tls_mesh, SIMPLE_HOST, tls_mesh.simple)

    tls_mesh.envoy.wait_for(lambda: assert_logged(tls_mesh), timeout=20, what="trellis logging the rejection")
    assert trusted_ca(tls_mesh.upstream_tls(MUTUAL_HOST)) == str(files.server_ca)
    response = tls_mesh.get(MUTUAL_HOST)
    assert response.status == 200 and response.json()["client"] == "sidecar-client", response.text[:300]


def assert_logged(mesh: TLSMesh) -> None:
    assert any("/nonexistent/trellis-test/ca.pem" in line for line in mesh.rejections()), mesh.rejections()
