"""Operating a running server: `trellis proxy-status` (real Envoys SYNCED while a raw xDS client
NACKs, which alone shows NACKED with its message), `trellis proxy-config`, `trellis diff`,
`/metrics` and JSON logs."""

import json
import subprocess

import yaml
from prometheus_client.parser import text_string_to_metric_families

from harness import (
    AdsClient, consistently, discovery_request, eventually, free_port, http_get, run_trellis, service_entry,
)
from harness.ads import CLUSTER
from harness.security import mint_token, root_cert_path, secure_bootstrap_args, spiffe_id

HOST = "echo.mesh.test"


def cli(server, *args):
    """`trellis ARGS` against `server`'s admin API."""
    return run_trellis([*args, "--server", server.http_url, "--token-file", server.data_dir / "admin-token"])


def proxy_status(server, *args):
    return cli(server, "proxy-status", *args)


def reaches(port, name):
    response = http_get(f"http://127.0.0.1:{port}/", host_header=HOST, timeout=5.0)
    assert response.status == 200 and response.upstream == name, (response.status, response.upstream)


def echo_mesh(mesh_dir, start_trellis, start_envoy, upstream, secure_token_dir=None):
    """A server serving HOST (one endpoint: `upstream`) and a client Envoy that reaches it;
    on the secure port with a token when `secure_token_dir` is given. (server, envoy, port)."""
    port = free_port()
    mesh_dir.write("echo.yaml", service_entry("echo", HOST, port, [(upstream.host, upstream.port)]))
    server = start_trellis(mesh_dir.path)
    if secure_token_dir is None:
        envoy = start_envoy(server.xds_address, name="client")
    else:
        token = mint_token(server.data_dir, "default", "client", secure_token_dir / "client.token")
        envoy = start_envoy(server.secure_xds_address, name="client", metadata={"SERVICE_ACCOUNT": "client"},
                            bootstrap_args=secure_bootstrap_args(root_cert_path(server.data_dir), token))
    envoy.wait_ready()
    envoy.wait_for(lambda: reaches(port, upstream.name), what="traffic through the Envoy")
    return server, envoy, port


def test_a_nacking_client_is_nacked_alone_while_envoys_stay_synced(mesh_dir, start_trellis, start_envoy, start_upstream):
    server, envoy, port = echo_mesh(mesh_dir, start_trellis, start_envoy, start_upstream("echo"))

    def serves():
        reaches(port, "echo")

    def rows():
        listed = proxy_status(server, "-o", "json")
        assert listed.returncode == 0, listed.stderr
        return {proxy["node"]: proxy for proxy in json.loads(listed.stdout)["proxies"]}

    def envoy_synced():
        row = rows()[envoy.node_id]
        assert row["kind"] == "sidecar" and row["api"] == "sotw", row
        for name in ("CDS", "LDS", "EDS", "RDS"):
            assert row["types"][name]["status"] == "SYNCED", (name, row["types"])
            assert row["types"][name]["sentVersion"] == row["types"][name]["ackedVersion"]
        assert row["types"]["SDS"]["status"] == "NOT SENT", row["types"]  # plaintext: no identity
        return row

    eventually(envoy_synced, what="the Envoy SYNCED")

    nacker = "sidecar~127.0.0.77~nacker.default~default.svc.cluster.local"
    with AdsClient(server.xds_address) as ads:
        ads.send(discovery_request(CLUSTER, node_id=nacker))
        response = ads.recv()
        nack = discovery_request(CLUSTER, nonce=response.nonce)
        nack.error_detail.message = "cluster outbound|9080||echo.mesh.test: unsupported field"
        ads.send(nack)

        def nacked():
            row = rows()[nacker]
            assert row["types"]["CDS"]["status"] == "NACKED", row["types"]
            assert row["types"]["CDS"]["nack"] == "cluster outbound|9080||echo.mesh.test: unsupported field"
            assert "ackedVersion" not in row["types"]["CDS"]

        eventually(nacked, what="the raw client NACKED")
        envoy_synced()
        serves()
        table = proxy_status(server)
        assert table.returncode == 0, table.stderr
        lines = table.stdout.splitlines()
        assert lines[0].split()[:5] == ["NAME", "KIND", "IDENTITY", "CDS", "LDS"], lines[0]
        assert any(line.startswith(envoy.node_id) and "NACKED" not in line for line in lines), table.stdout
        assert f"{nacker} CDS NACKED: cluster outbound|9080||echo.mesh.test: unsupported field" in table.stdout

    # A closed stream leaves the list.
    def gone():
        assert nacker not in rows(), "still listed"

    eventually(gone, what="the raw client gone from proxy-status")


def proxy_config(server, *args):
    return cli(server, "proxy-config", *args)


def test_proxy_config_is_what_envoy_has_and_validates_as_static_config(
        mesh_dir, start_trellis, start_envoy, start_upstream, envoy_bin, tmp_path):
    server, envoy, port = echo_mesh(mesh_dir, start_trellis, start_envoy, start_upstream("echo"),
                                    secure_token_dir=tmp_path)

    def certified():
        assert envoy.certificates(), "no certificate yet"

    envoy.wait_for(certified, what="the workload certificate")

    shown = proxy_config(server, envoy.node_id)
    assert shown.returncode == 0, shown.stderr
    config = json.loads(shown.stdout)
    dynamic = set(envoy.dynamic_clusters())
    assert {c["name"] for c in config["CDS"]} == dynamic, (config["CDS"], dynamic)
    assert {l["name"] for l in config["LDS"]} == set(envoy.dynamic_listeners())
    assert f"outbound|{port}||{HOST}" in {e["cluster_name"] for e in config["EDS"]}

    # Secrets: who and until when, never the key or the PEM.
    assert "PRIVATE KEY" not in shown.stdout and "BEGIN CERTIFICATE" not in shown.stdout
    secrets = {s["name"]: s for s in config["SDS"]}
    assert secrets["default"]["privateKey"] == "[redacted]"
    leaf = secrets["default"]["certificateChain"][0]
    assert leaf["subjectAltNames"] == [spiffe_id("default", "client")], leaf
    assert leaf["serial"] and leaf["notAfter"]
    assert secrets["ROOTCA"]["trustedCA"][0]["subject"]

    only = json.loads(proxy_config(server, envoy.node_id, "clusters").stdout)
    assert set(only) == {"CDS"}
    as_yaml = proxy_config(server, envoy.node_id, "listeners", "-o", "yaml")
    assert as_yaml.returncode == 0 and yaml.safe_load(as_yaml.stdout)["LDS"], as_yaml.stderr
    unknown = proxy_config(server, "sidecar~127.0.0.99~nobody.default~default.svc.cluster.local")
    assert unknown.returncode == 1 and "NotFound" in unknown.stderr, unknown.stderr
    identity = json.loads(proxy_status(server, "-o", "json").stdout)["proxies"][0]["identity"]
    assert identity == spiffe_id("default", "client")

    # As static config (listeners and clusters, the rest over ADS) Envoy accepts it.
    bootstrap = {
        "node": {"id": envoy.node_id, "cluster": "client.default"},
        "static_resources": {
            "clusters": config["CDS"] + [{
                "name": "xds-grpc", "type": "STATIC", "connect_timeout": "1s",
                "typed_extension_protocol_options": {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                    "explicit_http_config": {"http2_protocol_options": {}}}},
                "load_assignment": {"cluster_name": "xds-grpc", "endpoints": [{"lb_endpoints": [
                    {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 1}}}}]}]},
            }],
            "listeners": config["LDS"],
        },
        "dynamic_resources": {"ads_config": {"api_type": "GRPC", "transport_api_version": "V3",
                                             "grpc_services": [{"envoy_grpc": {"cluster_name": "xds-grpc"}}]}},
    }
    path = tmp_path / "static.json"
    path.write_text(json.dumps(bootstrap))
    validated = subprocess.run([str(envoy_bin), "--mode", "validate", "-c", str(path), "--log-level", "error"],
                               capture_output=True, text=True, timeout=60)
    assert validated.returncode == 0, validated.stdout[-2000:] + validated.stderr[-2000:]


def scrape(server):
    """GET /metrics (no token, as Prometheus scrapes it), parsed: {(name, labels): value}."""
    response = http_get(f"{server.http_url}/metrics", timeout=5.0)
    assert response.status == 200, response.status
    assert response.headers.get("Content-Type", "").startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_parse_as_prometheus_text_and_move_on_a_push(mesh_dir, start_trellis, start_envoy, start_upstream):
    server, envoy, port = echo_mesh(mesh_dir, start_trellis, start_envoy, start_upstream("echo"))

    def connected():
        samples = scrape(server)
        assert samples[("trellis_proxies_connected", (("kind", "sidecar"),))] == 1, samples
        assert samples[("trellis_config_resources", ())] == 1
        return samples

    before = eventually(connected, what="the Envoy counted")
    assert before[("trellis_xds_pushes_total", (("type", "CDS"),))] >= 1
    assert ("trellis_translation_seconds_count", ()) in before

    # A change: more EDS pushes, an ACK latency observation, another translation.
    other = start_upstream("echo-2")
    mesh_dir.write("echo.yaml", service_entry("echo", HOST, port, [(other.host, other.port)]))

    def pushed():
        after = scrape(server)
        assert after[("trellis_xds_pushes_total", (("type", "EDS"),))] > before[("trellis_xds_pushes_total", (("type", "EDS"),))]
        assert after[("trellis_xds_push_ack_seconds_count", (("type", "EDS"),))] >= 1
        assert after[("trellis_translation_seconds_count", ())] > before[("trellis_translation_seconds_count", ())]

    eventually(pushed, what="counters moved by the push")


def test_json_logs_carry_rejections_and_nacks_once_and_never_a_token(mesh_dir, start_trellis, tmp_path):
    port = free_port()
    mesh_dir.write("echo.yaml", service_entry("echo", HOST, port, [("127.0.0.1", free_port())]))
    server = start_trellis(mesh_dir.path, extra_args=("--log-format", "json"), log_level="info")
    token = mint_token(server.data_dir, "default", "client", tmp_path / "client.token").read_text().strip()

    broken = service_entry("echo", HOST, port, [("127.0.0.1", free_port())])
    broken["spec"]["resolution"] = "SOMETIMES"
    mesh_dir.write("echo.yaml", broken)
    node = "sidecar~127.0.0.78~nacker.default~default.svc.cluster.local"
    with AdsClient(server.secure_xds_address, root_certificates=root_cert_path(server.data_dir).read_bytes(),
                   metadata=[("authorization", f"Bearer {token}")]) as ads:
        ads.send(discovery_request(CLUSTER, node_id=node, metadata={"SERVICE_ACCOUNT": "client"}))
        response = ads.recv()
        nack = discovery_request(CLUSTER, nonce=response.nonce)
        nack.error_detail.message = "rejected on purpose"
        ads.send(nack)

        def logged():
            # The harness writes the command line first; every line of the server is one object.
            lines = [json.loads(line) for line in server.logs().splitlines()[1:] if line.strip()]
            rejected = [l for l in lines if "spec.resolution" in l["message"] and l["level"] in ("error", "warning")]
            nacks = [l for l in lines if l["message"].startswith("NACK CDS") and "rejected on purpose" in l["message"]]
            assert len(rejected) == 1, [l["message"] for l in lines]
            assert len(nacks) == 1 and nacks[0]["node"] == node and nacks[0]["level"] == "warning", nacks
            return lines

        lines = eventually(logged, what="the rejection and the NACK logged")
        assert all({"time", "level", "label", "source", "message"} <= set(line) for line in lines)
    assert token not in server.logs() and token.split("-", 1)[1] not in server.logs()


def test_diff_shows_what_a_change_would_do_per_proxy_and_applies_nothing(
        mesh_dir, start_trellis, start_envoy, start_upstream, tmp_path):
    a, b = start_upstream("A"), start_upstream("B")
    server, envoy, port = echo_mesh(mesh_dir, start_trellis, start_envoy, a)

    def diff(*args):
        return cli(server, "diff", *args)

    candidate = tmp_path / "candidate.yaml"
    other_port = free_port()
    candidate.write_text(yaml.safe_dump_all([
        service_entry("echo", HOST, port, [(b.host, b.port)]),
        service_entry("other", "other.mesh.test", other_port, [(b.host, b.port)]),
    ]))
    shown = diff("-f", candidate)
    assert shown.returncode == 0, shown.stderr
    group = envoy.node_id.rsplit("~", 1)[0]  # sidecar~IP~client.default
    assert f"{group}:" in shown.stdout, shown.stdout
    assert f"EDS outbound|{port}||{HOST}: changed" in shown.stdout, shown.stdout
    assert f"CDS outbound|{other_port}||other.mesh.test: added" in shown.stdout, shown.stdout
    changed = json.loads(diff("-f", candidate, "-o", "json").stdout)["proxies"][0]["changes"]
    eds = next(c for c in changed if c["type"] == "EDS" and c["name"] == f"outbound|{port}||{HOST}")
    assert any(line.startswith("-") and str(a.port) in line for line in eds["diff"]), eds
    assert any(line.startswith("+") and str(b.port) in line for line in eds["diff"]), eds

    # Nothing was applied or pushed.
    consistently(lambda: reaches(port, "A"), duration=1.5, what="traffic still to A")
    assert cli(server, "get", "se", "other").returncode == 1

    bad = tmp_path / "bad.yaml"
    bad.write_text(candidate.read_text().replace("STATIC", "SOMETIMES", 1))
    refused = diff("-f", bad)
    assert refused.returncode == 1 and f"{bad}:" in refused.stderr and "spec.resolution" in refused.stderr, refused.stderr
