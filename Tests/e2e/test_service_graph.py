"""Per-edge golden metrics and the service-graph page. Every bootstrap streams its Envoy's stats
to Trellis (metrics service sink, on the xDS connection settings); traffic between two sidecars
shows up as an edge with the right counts in `/api/graph`, as Istio's series in `/metrics`, and
on the page at `/` rendered by a real headless Chromium (screenshot kept under
Tests/e2e/artifacts/). A raw stats client shows what is refused and that it records nothing."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import grpc
from prometheus_client.parser import text_string_to_metric_families

from harness import eventually, free_port, http_get, service_entry
from harness.security import mint_token, root_cert_path, secure_bootstrap_args
from harness.stats_stream import stats_message, stream_stats

HOST = "echo.mesh.test"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FAST_STATS = ["--stats-flush-interval", "500ms"]


def api(server, path):
    response = http_get(server.http_url + path, headers={"Authorization": f"Bearer {server.admin_token}"})
    assert response.status == 200, (path, response.status, response.body)
    return json.loads(response.body)


def edges(server):
    return {(edge["source"], edge["destination"]): edge for edge in api(server, "/api/graph")["edges"]}


def secure_client(mesh_dir, start_trellis, start_envoy, upstream, tmp_path):
    """A server serving HOST (endpoint: `upstream`) and a sidecar `client` on the secure port
    whose stats flush every 500 ms. (server, envoy, port)."""
    port = free_port()
    mesh_dir.write("echo.yaml", service_entry("echo", HOST, port, [(upstream.host, upstream.port)]))
    server = start_trellis(mesh_dir.path)
    token = mint_token(server.data_dir, "default", "client", tmp_path / "client.token")
    envoy = start_envoy(server.secure_xds_address, name="client", metadata={"SERVICE_ACCOUNT": "client"},
                        bootstrap_args=[*secure_bootstrap_args(root_cert_path(server.data_dir), token), *FAST_STATS])
    envoy.wait_ready()
    return server, envoy, port


def send(port, count):
    """`count` requests through the sidecar; their statuses."""
    return [http_get(f"http://127.0.0.1:{port}/", host_header=HOST, timeout=5.0).status for _ in range(count)]


def test_traffic_between_sidecars_is_an_edge_in_the_graph_metrics_and_page(
        mesh_dir, start_trellis, start_envoy, start_upstream, tmp_path):
    upstream = start_upstream("echo")
    server, envoy, port = secure_client(mesh_dir, start_trellis, start_envoy, upstream, tmp_path)
    envoy.wait_for(lambda: send(port, 1) == [200], what="traffic through the sidecar")
    assert send(port, 6) == [200] * 6
    upstream.respond_with(503)
    assert send(port, 3) == [503] * 3
    total = upstream.request_count  # every request the sidecar sent, ground truth

    key = ("workload:default/client", f"service:{HOST}")

    def counted():
        edge = edges(server).get(key)
        assert edge is not None, "no edge yet"
        assert edge["requests"] == total, edge
        return edge

    edge = eventually(counted, timeout=30, what=f"{total} requests on the edge client -> {HOST}")
    assert edge["responses"] == {"200": total - 3, "503": 3}, edge
    assert edge["errors"] == 3
    assert abs(edge["successRate"] - (total - 3) / total) < 1e-9, edge
    assert edge["requestsPerSecond"] > 0
    assert edge["p99Milliseconds"] >= edge["p50Milliseconds"] >= 0, edge
    graph = api(server, "/api/graph")
    assert {node["id"] for node in graph["nodes"]} == set(key)

    # The same edge as Istio's standard series, labelled the way Istio's dashboards query them.
    metrics = http_get(server.http_url + "/metrics")
    assert metrics.status == 200
    families = {family.name: family for family in text_string_to_metric_families(metrics.body.decode())}
    by_code = {sample.labels["response_code"]: sample.value for sample in families["istio_requests"].samples
               if sample.name == "istio_requests_total" and sample.labels["source_workload"] == "client"}
    assert by_code == {"200": total - 3, "503": 3}, by_code
    durations = [sample for sample in families["istio_request_duration_milliseconds"].samples
                 if sample.name.endswith("_count")]
    assert [sample.value for sample in durations] == [total]
    labels = durations[0].labels
    assert labels["source_workload_namespace"] == "default" and labels["destination_service"] == HOST
    assert labels["reporter"] == "source" and labels["destination_service_name"] == "echo"

    # The page, as a browser shows it: the nodes, the edge with its count, drawn as failing.
    dom = render_page(server, ARTIFACTS / "service-graph.png")
    assert 'data-id="workload:default/client"' in dom and f'data-id="service:{HOST}"' in dom, dom[:2000]
    drawn = re.search(r'<g class="edge errors"[^>]*data-requests="(\d+)"', dom)
    assert drawn and int(drawn.group(1)) == total, dom[:4000]
    assert envoy.node_id in dom and "SYNCED" in dom  # the proxy table
    assert (ARTIFACTS / "service-graph.png").stat().st_size > 0


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    raise AssertionError("chromium not found: the test set-up installs Debian's chromium (.ci/run)")


def render_page(server, screenshot: Path) -> str:
    """The page at `/` after its scripts ran, in headless Chromium; a screenshot beside."""
    url = f"{server.http_url}/#token={server.admin_token}"
    common = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--virtual-time-budget=10000", "--window-size=1280,900",
              f"--user-data-dir={screenshot.parent / 'chromium-profile'}"]
    screenshot.parent.mkdir(parents=True, exist_ok=True)

    def loaded():
        dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=60)
        assert 'data-loaded="true"' in dom.stdout, dom.stderr[-2000:] or dom.stdout[:2000]
        return dom.stdout

    dom = eventually(loaded, timeout=120, what="the page rendered by Chromium")
    shot = subprocess.run([*common, f"--screenshot={screenshot}", url], capture_output=True, text=True, timeout=60)
    assert shot.returncode == 0, shot.stderr[-2000:]
    print(f"service graph screenshot: {screenshot}")
    return dom


def test_a_stats_stream_needs_a_node_and_on_the_secure_port_a_token(mesh_dir, start_trellis, tmp_path):
    mesh_dir.write("echo.yaml", service_entry("echo", HOST, 80, [("127.0.0.1", 9)]))
    server = start_trellis(mesh_dir.path)
    node = "sidecar~127.0.0.9~raw.default~default.svc.cluster.local"
    flush = {f"cluster.outbound|80||{HOST}.upstream_rq_200": 5, f"cluster.outbound|80||{HOST}.upstream_rq_2xx": 5}
    root = root_cert_path(server.data_dir).read_bytes()

    # Refused: no identifier on the first message; no token, or a bad one, on the secure port.
    code, details = stream_stats(server.xds_address, [stats_message(counters=flush)])
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "identifier.node" in details, (code, details)
    code, _ = stream_stats(server.secure_xds_address, [stats_message(node, flush)], root_certificates=root)
    assert code == grpc.StatusCode.UNAUTHENTICATED, code
    code, _ = stream_stats(server.secure_xds_address, [stats_message(node, flush)], root_certificates=root,
                           metadata=[("authorization", "Bearer not-a-token")])
    assert code == grpc.StatusCode.UNAUTHENTICATED, code
    assert edges(server) == {}, "a refused stream recorded something"
    server.wait_for_log(r"stats stream refused")

    # Accepted: a well-formed stream on the plaintext port, two flushes add up.
    code, details = stream_stats(server.xds_address, [stats_message(node, flush), stats_message(counters=flush)])
    assert code == grpc.StatusCode.OK, (code, details)
    edge = edges(server)[("workload:default/raw", f"service:{HOST}")]
    assert edge["requests"] == 10 and edge["errors"] == 0 and edge["successRate"] == 1, edge

    # With a valid token on the secure port, the workload is the token's namespace.
    token = mint_token(server.data_dir, "default", "raw", tmp_path / "raw.token").read_text().strip()
    code, details = stream_stats(server.secure_xds_address, [stats_message(node, flush)], root_certificates=root,
                                 metadata=[("authorization", f"Bearer {token}")])
    assert code == grpc.StatusCode.OK, (code, details)
    assert edges(server)[("workload:default/raw", f"service:{HOST}")]["requests"] == 15
