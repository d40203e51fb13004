"""Workload identity end to end: Trellis' CA issues SPIFFE certificates over SDS to Envoys that
proved who they are with a token on the secure xDS port; sidecars talk mTLS; PeerAuthentication
and AuthorizationPolicy decide who gets in; certificates rotate under traffic.

The mesh: an app "backend" behind its sidecar (Sidecar ingress bound to the sidecar's own
127.0.0.x, forwarding to the app), and client sidecars "client-a" / "client-b" whose egress
listeners are bound to their own 127.0.0.x. Every workload runs as its own service account.
"""

import json
import os
import re
import socket
import ssl
import stat
from pathlib import Path
from typing import Dict, List, Optional

import grpc
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2

from harness import (
    AdsClient,
    BackgroundTraffic,
    Envoy,
    TrellisServer,
    consistently,
    discovery_request,
    eventually,
    free_port,
    http_request,
    mesh_service,
    node_id,
    port,
    run_trellis,
)
from harness.ads import SECRET
from harness.security import (
    authorization_policy,
    certificate_serial,
    make_plugin_ca,
    mint_token,
    peer_authentication,
    root_cert_path,
    secure_bootstrap_args,
    spiffe_id,
)

from harness.secure_mesh import HOST, NAMESPACE, SecureMesh, wait_ok


def leaf(envoy: Envoy) -> dict:
    """The workload certificate Envoy holds: every TLS context it has (inbound listener,
    upstream clusters) uses the same SDS `default`, so all show the same leaf."""
    leaves = {chain[0]["serial_number"]: chain[0] for chain in envoy.certificates() if chain}
    assert len(leaves) == 1, f"{envoy.name} certificates: {envoy.certificates()}"
    return next(iter(leaves.values()))


def uri_sans(certificate: dict) -> List[str]:
    return [san["uri"] for san in certificate.get("subject_alt_names", []) if "uri" in san]


# --- mTLS between sidecars -----------------------------------------------------------------


def test_sidecars_talk_mtls_and_the_app_sees_the_callers_spiffe_id(secure_mesh: SecureMesh):
    backend = secure_mesh.sidecar("backend")
    client = secure_mesh.sidecar("client-a")
    response = wait_ok(client, secure_mesh, "client-a")

    xfcc = response.json()["headers"].get("x-forwarded-client-cert", "")
    assert f"URI={spiffe_id(NAMESPACE, 'client-a')}" in xfcc, f"XFCC: {xfcc!r}"
    assert f"By={spiffe_id(NAMESPACE, 'backend')}" in xfcc, f"XFCC: {xfcc!r}"

    # Each proxy holds exactly its own identity, issued by the mesh root in the data dir.
    assert uri_sans(leaf(client)) == [spiffe_id(NAMESPACE, "client-a")]
    assert uri_sans(leaf(backend)) == [spiffe_id(NAMESPACE, "backend")]
    # The connection between the sidecars really was TLS: the server side counts handshakes.
    stats = backend.stats()
    handshakes = sum(v for k, v in stats.items() if k.startswith("listener.") and k.endswith(".ssl.handshake")
                     and isinstance(v, int))
    assert handshakes >= 1, {k: v for k, v in stats.items() if ".ssl." in k}


def test_strict_refuses_plaintext_and_permissive_accepts_both(secure_mesh: SecureMesh):
    secure_mesh.sidecar("backend")
    client = secure_mesh.sidecar("client-a")
    wait_ok(client, secure_mesh, "client-a")

    # PERMISSIVE (Istio's default): a plaintext client gets in, without a caller identity.
    direct = secure_mesh.call_direct()
    assert direct.status == 200 and direct.upstream == "backend", direct.text[:300]
    assert "x-forwarded-client-cert" not in direct.json()["headers"], direct.json()["headers"]

    # STRICT for the namespace: plaintext is refused, mesh clients keep working.
    secure_mesh.write_config(peer_authentication("default", "STRICT"))

    client.wait_for(lambda: refuses_plaintext(secure_mesh), what="STRICT to refuse plaintext")
    for _ in range(10):
        assert secure_mesh.call("client-a").status == 200

    # A workload-level PERMISSIVE overrides the namespace's STRICT.
    secure_mesh.write_config(peer_authentication("default", "STRICT"),
                             peer_authentication("backend", "PERMISSIVE", selector={"app": "backend"}))
    client.wait_for(lambda: _assert_status(secure_mesh.call_direct(timeout=3), 200), what="PERMISSIVE again")
    assert secure_mesh.call("client-a").status == 200


def test_strict_workload_on_the_plaintext_port_refuses_plaintext(secure_mesh: SecureMesh):
    """A proxy without a certificate (here: connected on the plaintext xDS port, so its identity
    is not proven) cannot terminate mTLS; its STRICT port must then refuse everything, never
    fall back to plaintext."""
    mesh = secure_mesh
    backend = mesh.start_envoy(mesh.trellis.xds_address, name="backend", ip=mesh.backend_ip,
                               metadata={"SERVICE_ACCOUNT": "backend"})
    backend.wait_ready()
    # PERMISSIVE: without credentials the port serves plaintext, as documented.
    backend.wait_for(lambda: _assert_status(mesh.call_direct(timeout=3), 200), what="plaintext under PERMISSIVE")

    mesh.write_config(peer_authentication("default", "STRICT"))
    backend.wait_for(lambda: refuses_plaintext(mesh), what="STRICT to refuse plaintext")
    consistently(lambda: refuses_plaintext(mesh), duration=2.0, what="STRICT keeps refusing")
    chains = [chain.get("name", "") for listener in backend.dynamic_listeners().values()
              for chain in listener.get("filter_chains", [])]
    assert any(name.endswith("-strict-no-credentials") for name in chains), chains

    # The reason is visible per proxy until it clears.
    status = json.loads((mesh.trellis.data_dir / "config-status.json").read_text())
    problems = status["proxiesWithoutCredentials"]
    assert any(p["identity"] == spiffe_id(NAMESPACE, "backend") and "not proven" in p["reason"] for p in problems), problems


def test_secure_port_certificate_is_renewed_while_running(mesh_dir, start_trellis, start_envoy, start_upstream, tmp_path):
    """The secure xDS port's own certificate follows --workload-cert-ttl and is renewed at about
    half of it; new handshakes get the new one, an Envoy already connected keeps its stream."""
    # A mesh service whose endpoint is sidecar-injected, so the client's cluster uses its certificate.
    mesh_dir.write("mesh.yaml", mesh_service("backend", HOST, [port(free_port())], endpoints=[{
        "address": "127.0.0.1", "labels": {"security.istio.io/tlsMode": "istio"}}]))
    trellis = start_trellis(mesh_dir.path, extra_args=("--workload-cert-ttl", "4s"))
    root = root_cert_path(trellis.data_dir)
    first = serving_certificate(trellis, root)
    renewed = eventually(lambda: _different(serving_certificate(trellis, root), first), timeout=15, interval=0.25,
                         what="a renewed serving certificate")
    assert renewed["notAfter"] != first["notAfter"]

    token = mint_token(trellis.data_dir, NAMESPACE, "client-a", tmp_path / "client.token")
    envoy = start_envoy(trellis.secure_xds_address, name="client-a", metadata={"SERVICE_ACCOUNT": "client-a"},
                        bootstrap_args=secure_bootstrap_args(root, token)).wait_ready()
    # Two more renewals while the Envoy is connected: it keeps its certificate rotating over SDS
    # on the same stream, i.e. nothing was cut.
    serials = {leaf(envoy)["serial_number"]}
    eventually(lambda: _grows(serials, leaf(envoy)["serial_number"], 3), timeout=20, interval=0.25,
               what="workload certificate renewals over the open stream")
    connects = [line for line in trellis.logs().splitlines() if "proxy connected" in line and envoy.node_id in line]
    assert len(connects) == 1, connects


def serving_certificate(trellis: TrellisServer, root: Path) -> dict:
    """The secure port's certificate as a client that trusts the mesh root sees it (the TLS
    handshake itself checks the chain)."""
    context = ssl.create_default_context(cafile=str(root))
    context.check_hostname = False
    with socket.create_connection((trellis.host, trellis.secure_port), timeout=5) as raw:
        with context.wrap_socket(raw) as tls:
            return tls.getpeercert()


def _different(certificate: dict, first: dict) -> dict:
    assert certificate["serialNumber"] != first["serialNumber"], "same serving certificate"
    return certificate


def _grows(serials: set, serial: str, count: int) -> None:
    serials.add(serial)
    assert len(serials) >= count, f"serials so far: {sorted(serials)}"


def refuses_plaintext(mesh: SecureMesh) -> None:
    """A plaintext client straight to the backend's sidecar gets no answer at all."""
    try:
        response = mesh.call_direct(timeout=3)
    except OSError:
        return
    raise AssertionError(f"plaintext request answered {response.status}")


def _assert_status(response, status: int) -> None:
    assert response.status == status, f"{response.status} {response.text[:300]}"


# --- AuthorizationPolicy -------------------------------------------------------------------


def test_authorization_policy_allows_one_service_account_and_denies_another(secure_mesh: SecureMesh):
    secure_mesh.sidecar("backend")
    a = secure_mesh.sidecar("client-a")
    b = secure_mesh.sidecar("client-b")
    wait_ok(a, secure_mesh, "client-a")
    wait_ok(b, secure_mesh, "client-b")

    allow_a = authorization_policy("backend-callers", "ALLOW", selector={"app": "backend"}, rules=[
        {"from": [{"source": {"principals": [f"cluster.local/ns/{NAMESPACE}/sa/client-a"]}}]},
    ])
    secure_mesh.write_config(allow_a)
    b.wait_for(lambda: _assert_status(secure_mesh.call("client-b"), 403), what="client-b denied")
    assert "RBAC" in secure_mesh.call("client-b").text
    for _ in range(10):
        _assert_status(secure_mesh.call("client-a"), 200)
    # No identity at all (plaintext under PERMISSIVE) matches no principal either.
    _assert_status(secure_mesh.call_direct(), 403)

    # DENY wins over ALLOW: denying GET /hello shuts out client-a too, /other stays open.
    deny_hello = authorization_policy("no-hello", "DENY", selector={"app": "backend"}, rules=[
        {"to": [{"operation": {"paths": ["/hello"]}}]},
    ])
    secure_mesh.write_config(allow_a, deny_hello)
    a.wait_for(lambda: _assert_status(secure_mesh.call("client-a"), 403), what="client-a denied /hello")
    other = http_request(f"{secure_mesh.workloads['client-a']}:{secure_mesh.service_port}", "/other", host=HOST)
    _assert_status(other, 200)

    # Removing the policies opens the door again (no ALLOW policy: default allow).
    secure_mesh.write_config()
    b.wait_for(lambda: _assert_status(secure_mesh.call("client-b"), 200), what="client-b allowed again")


# --- rotation --------------------------------------------------------------------------------


def test_certificates_rotate_under_traffic_without_failed_requests(
        mesh_dir, start_trellis, start_envoy, start_upstream, tmp_path):
    app = start_upstream("backend")
    mesh = SecureMesh(mesh_dir, None, app, tmp_path, start_envoy, service_port=free_port())  # type: ignore[arg-type]
    mesh.address_of("client-a")
    mesh.write_config()
    # 30 s certificates: renewed at about half their lifetime, i.e. within ~15 s.
    mesh.trellis = start_trellis(mesh_dir.path, extra_args=("--workload-cert-ttl", "30s"))
    backend = mesh.sidecar("backend")
    client = mesh.sidecar("client-a")
    wait_ok(client, mesh, "client-a")
    first = {envoy.name: leaf(envoy)["serial_number"] for envoy in (client, backend)}

    with BackgroundTraffic(lambda: mesh.call("client-a"), name="rotation-traffic") as traffic:
        def rotated():
            serials = {envoy.name: leaf(envoy)["serial_number"] for envoy in (client, backend)}
            unchanged = [name for name, serial in serials.items() if serial == first[name]]
            assert not unchanged, f"not rotated yet: {unchanged}"

        client.wait_for(rotated, timeout=45, interval=0.5, what="both certificates to rotate")
        traffic.wait_for_requests(50)
        outcomes = traffic.stop()

    assert len(outcomes) >= 100, f"only {len(outcomes)} requests during the rotation"
    failures = [o for o in outcomes if o.status != 200]
    assert not failures, f"{len(failures)} of {len(outcomes)} requests failed: {failures[:5]}"
    assert uri_sans(leaf(client)) == [spiffe_id(NAMESPACE, "client-a")]
    mesh.trellis.wait_for_log(r"issued certificate spiffe://cluster.local/ns/default/sa/client-a", timeout=1)


# --- tokens: identity is proven, not claimed ------------------------------------------------


def _secret_names(response) -> List[str]:
    names = []
    for resource in response.resources:
        secret = secret_pb2.Secret()
        assert resource.Unpack(secret), resource.type_url
        names.append(secret.name)
    return names


def test_secure_port_requires_a_valid_token_for_the_claimed_identity(secure_mesh: SecureMesh, tmp_path):
    trellis = secure_mesh.trellis
    root = root_cert_path(trellis.data_dir).read_bytes()
    node = node_id("127.0.0.251", "raw", NAMESPACE)
    claim = {"SERVICE_ACCOUNT": "client-a", "NAMESPACE": NAMESPACE}

    def open_stream(token: Optional[str], metadata: Dict[str, str] = claim):
        headers = [("authorization", f"Bearer {token}")] if token is not None else []
        client = AdsClient(trellis.secure_xds_address, root_certificates=root, metadata=headers)
        client.send(discovery_request(SECRET, ["default", "ROOTCA"], node_id=node, metadata=metadata))
        return client

    # No token, a made-up token: UNAUTHENTICATED, and no secret.
    for token in (None, "trellis-not-a-real-token"):
        with open_stream(token) as client:
            assert client.recv(timeout=10) is None, "a secret was sent without a valid token"
            code, details = client.wait_status()
        assert code == grpc.StatusCode.UNAUTHENTICATED, (code, details)
        assert "token" in details, details

    # A valid token for client-a used to claim client-b: PERMISSION_DENIED.
    token_a = mint_token(trellis.data_dir, NAMESPACE, "client-a", tmp_path / "a.token").read_text().strip()
    with open_stream(token_a, {"SERVICE_ACCOUNT": "client-b", "NAMESPACE": NAMESPACE}) as client:
        assert client.recv(timeout=10) is None
        code, details = client.wait_status()
    assert code == grpc.StatusCode.PERMISSION_DENIED, (code, details)
    assert "client-a" in details and "client-b" in details, details

    # The right token: the proxy's own certificate and the root.
    with open_stream(token_a) as client:
        response = client.recv(timeout=10)
        assert response is not None, client.wait_status()
        assert sorted(_secret_names(response)) == ["ROOTCA", "default"]

    # An expired token is refused like an unknown one.
    short = mint_token(trellis.data_dir, NAMESPACE, "client-a", tmp_path / "short.token", ttl="1s").read_text().strip()

    def refused():
        with open_stream(short) as client:
            assert client.recv(timeout=10) is None, "expired token still accepted"
            code, _ = client.wait_status()
        assert code == grpc.StatusCode.UNAUTHENTICATED, code

    eventually(refused, timeout=15, interval=0.5, what="the 1s token to expire")
    trellis.check_alive()

    # The token never shows up in the server's log, nor does key material.
    log = trellis.logs()
    assert token_a not in log and short not in log
    assert "PRIVATE KEY" not in log


def test_plaintext_port_serves_no_workload_certificate(secure_mesh: SecureMesh):
    node = node_id("127.0.0.252", "dev", NAMESPACE)
    with AdsClient(secure_mesh.trellis.xds_address) as client:
        client.send(discovery_request(SECRET, ["default", "ROOTCA"], node_id=node,
                                      metadata={"SERVICE_ACCOUNT": "client-a"}))
        response = client.recv(timeout=10)
        assert response is not None, client.wait_status()
        assert "default" not in _secret_names(response), "plaintext port handed out a certificate"


def test_insecure_dev_identities_flag_trusts_the_plaintext_claim(mesh_dir, start_trellis):
    trellis = start_trellis(mesh_dir.path, extra_args=("--insecure-dev-identities",))
    node = node_id("127.0.0.253", "dev", NAMESPACE)
    with AdsClient(trellis.xds_address) as client:
        client.send(discovery_request(SECRET, ["default"], node_id=node, metadata={"SERVICE_ACCOUNT": "dev"}))
        response = client.recv(timeout=10)
        assert response is not None, client.wait_status()
        assert _secret_names(response) == ["default"]


def test_an_envoy_with_a_bad_token_gets_nothing_and_others_keep_working(secure_mesh: SecureMesh, tmp_path):
    secure_mesh.sidecar("backend")
    client = secure_mesh.sidecar("client-a")
    wait_ok(client, secure_mesh, "client-a")

    bad_token = tmp_path / "bad.token"
    bad_token.write_text("trellis-forged\n")
    mark = secure_mesh.trellis.log_mark()
    intruder = secure_mesh.start_envoy(
        secure_mesh.trellis.secure_xds_address, name="client-b", ip=secure_mesh.address_of("client-b"),
        metadata={"SERVICE_ACCOUNT": "client-b"},
        bootstrap_args=secure_bootstrap_args(root_cert_path(secure_mesh.trellis.data_dir), bad_token),
    )
    # Envoy keeps retrying; each attempt is refused and nothing is configured.
    secure_mesh.trellis.wait_for_log(r"(?i)invalid or expired token", since=mark)
    intruder.check_alive()
    assert intruder.dynamic_clusters() == {}
    assert intruder.certificates() == []
    for _ in range(10):
        _assert_status(secure_mesh.call("client-a"), 200)


# --- the CA's state survives restarts ----------------------------------------------------------


def test_restart_keeps_the_root_and_traffic_keeps_flowing(secure_mesh: SecureMesh, start_trellis):
    backend = secure_mesh.sidecar("backend")
    client = secure_mesh.sidecar("client-a")
    wait_ok(client, secure_mesh, "client-a")
    old = secure_mesh.trellis
    data_dir = old.data_dir
    root_before = root_cert_path(data_dir).read_text()
    key_path = data_dir / "ca" / "root-key.pem"
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(data_dir / "trellis.db").st_mode) == 0o600  # token hashes live in the store

    old.stop(timeout=10, expect_code=0)
    # Envoys keep their last configuration while the control plane is away.
    _assert_status(secure_mesh.call("client-a"), 200)

    new = start_trellis(old.config_dir, data_dir=data_dir, port=old.port, secure_port=old.secure_port)
    assert root_cert_path(data_dir).read_text() == root_before
    # Both Envoys reconnect with their old tokens and get certificates from the same root;
    # certificates issued before the restart still verify against it.
    for envoy in (client, backend):
        new.wait_for_log(rf"ACK SDS.*{re.escape(envoy.node_id)}|{re.escape(envoy.node_id)}.*ACK SDS", timeout=30)
    for _ in range(10):
        _assert_status(secure_mesh.call("client-a"), 200)
    assert uri_sans(leaf(client)) == [spiffe_id(NAMESPACE, "client-a")]


# --- plug-in CA (Istio's cacerts) -------------------------------------------------------------


def test_plugin_ca_signs_workload_certificates_under_the_existing_root(
        mesh_dir, start_trellis, start_envoy, start_upstream, tmp_path):
    cacerts = make_plugin_ca(tmp_path / "cacerts")
    app = start_upstream("backend")
    mesh = SecureMesh(mesh_dir, None, app, tmp_path, start_envoy, service_port=free_port())  # type: ignore[arg-type]
    mesh.address_of("client-a")
    mesh.write_config()
    mesh.trellis = start_trellis(mesh_dir.path, extra_args=("--ca-dir", str(cacerts)))
    # Proxies trust the plug-in root: the secure port's certificate chains to it too.
    token = mint_token(mesh.trellis.data_dir, NAMESPACE, "backend", tmp_path / "backend.token")
    backend = start_envoy(mesh.trellis.secure_xds_address, name="backend", ip=mesh.backend_ip,
                          metadata={"SERVICE_ACCOUNT": "backend"},
                          bootstrap_args=secure_bootstrap_args(cacerts / "root-cert.pem", token))
    token = mint_token(mesh.trellis.data_dir, NAMESPACE, "client-a", tmp_path / "client.token")
    client = start_envoy(mesh.trellis.secure_xds_address, name="client-a", ip=mesh.workloads["client-a"],
                         metadata={"SERVICE_ACCOUNT": "client-a"},
                         bootstrap_args=secure_bootstrap_args(cacerts / "root-cert.pem", token))
    response = wait_ok(client, mesh, "client-a")
    assert f"URI={spiffe_id(NAMESPACE, 'client-a')}" in response.json()["headers"]["x-forwarded-client-cert"]

    # The client trusts only the plug-in root (its ROOTCA), so the backend's certificate, signed
    # by the intermediate, verified through the chain Trellis served. No root of its own was made.
    assert uri_sans(leaf(backend)) == [spiffe_id(NAMESPACE, "backend")]
    anchors = {ca["serial_number"] for entry in client.admin_json("/certs")["certificates"]
               for ca in entry.get("ca_cert", [])}
    assert anchors == {certificate_serial(cacerts / "root-cert.pem")}, anchors
    assert not root_cert_path(mesh.trellis.data_dir).exists()


def test_broken_plugin_ca_is_a_clear_startup_error(tmp_path, trellis_bin):
    cacerts = make_plugin_ca(tmp_path / "cacerts")
    (cacerts / "ca-key.pem").write_text("not a key\n")
    (tmp_path / "config").mkdir()
    result = run_trellis(
        ["serve", "--config-dir", tmp_path / "config", "--data-dir", tmp_path / "data",
         "--xds-address", f"127.0.0.1:{free_port()}", "--secure-xds-address", f"127.0.0.1:{free_port()}",
         "--ca-dir", cacerts],
        binary=trellis_bin,
    )
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "trellis: error:" in result.stderr and "ca-key.pem" in result.stderr, result.stderr
    assert "not a key" not in result.stderr


# --- mesh-wide policy in the (configurable) root namespace -----------------------------------


def test_mesh_wide_strict_lives_in_the_configured_root_namespace(
        mesh_dir, start_trellis, start_envoy, start_upstream, tmp_path):
    app = start_upstream("backend")
    mesh = SecureMesh(mesh_dir, None, app, tmp_path, start_envoy, service_port=free_port())  # type: ignore[arg-type]
    mesh.address_of("client-a")
    # STRICT in istio-system means nothing here: the mesh's root namespace is mesh-root.
    mesh.write_config(peer_authentication("default", "STRICT", namespace="istio-system"))
    mesh.trellis = start_trellis(mesh_dir.path, extra_args=("--root-namespace", "mesh-root"))
    backend = mesh.sidecar("backend")
    client = mesh.sidecar("client-a")
    wait_ok(client, mesh, "client-a")
    _assert_status(mesh.call_direct(), 200)

    mesh.write_config(peer_authentication("default", "STRICT", namespace="mesh-root"))

    backend.wait_for(lambda: refuses_plaintext(mesh), what="mesh-wide STRICT from mesh-root")
    _assert_status(mesh.call("client-a"), 200)


def test_serve_rejects_a_bad_root_namespace(tmp_path, trellis_bin):
    (tmp_path / "config").mkdir()
    result = run_trellis(
        ["serve", "--config-dir", tmp_path / "config", "--data-dir", tmp_path / "data",
         "--root-namespace", "Not/A/Namespace"],
        binary=trellis_bin,
    )
    assert result.returncode != 0
    assert "--root-namespace" in result.stderr, result.stderr
