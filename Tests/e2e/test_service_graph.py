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

from harness import eventually, http_get, service_entry
from harness.secure_mesh import HOST as BACKEND, wait_ok
from harness.security import mint_token, root_cert_path
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


def test_traffic_between_two_sidecars_is_an_edge_in_the_graph_metrics_and_page(secure_mesh):
    mesh = secure_mesh
    backend = mesh.sidecar("backend", bootstrap_args=FAST_STATS)
    client = mesh.sidecar("client-a", bootstrap_args=FAST_STATS)
    backend.wait_ready()
    client.wait_ready()
    wait_ok(client, mesh, "client-a")
    server = mesh.trellis
    key = ("workload:default/client-a", f"service:{BACKEND}")

    def responses(want_200, want_503=None):
        def check():
            edge = edges(server).get(key)
            assert edge is not None, "no edge yet"
            assert edge["responses"].get("200", 0) == want_200(), edge
            if want_503 is not None:
                assert edge["responses"].get("503", 0) == want_503, edge
            return edge
        return eventually(check, timeout=30, what="the edge client-a -> backend counted")

    # Whatever the sidecar answered itself while the mesh came up (e.g. 503 before the backend
    # listened) is counted too: start from what the edge holds once every 200 so far is in.
    before = responses(lambda: mesh.app.request_count)["responses"]
    ok, failed = before.get("200", 0) + 6, before.get("503", 0) + 3
    assert [mesh.call("client-a").status for _ in range(6)] == [200] * 6
    mesh.app.respond_with(503)
    assert [mesh.call("client-a").status for _ in range(3)] == [503] * 3
    edge = responses(lambda: ok, failed)
    total = sum(edge["responses"].values())
    errors = sum(count for code, count in edge["responses"].items() if int(code) >= 500)
    assert edge["requests"] == total and edge["errors"] == errors, edge
    assert abs(edge["successRate"] - (total - errors) / total) < 1e-9, edge
    assert edge["requestsPerSecond"] > 0
    assert edge["p99Milliseconds"] >= edge["p50Milliseconds"] >= 0, edge
    # The backend sidecar sends nothing outbound: no edge of its own.
    assert set(edges(server)) == {key}, edges(server)

    # The same edge as Istio's standard series, labelled the way Istio's dashboards query them.
    metrics = http_get(server.http_url + "/metrics")
    assert metrics.status == 200
    families = {family.name: family for family in text_string_to_metric_families(metrics.body.decode())}
    by_code = {sample.labels["response_code"]: sample.value for sample in families["istio_requests"].samples
               if sample.name == "istio_requests_total" and sample.labels["source_workload"] == "client-a"}
    assert by_code == {code: float(count) for code, count in edge["responses"].items()}, by_code
    assert by_code["200"] == ok and by_code["503"] == failed
    durations = [sample for sample in families["istio_request_duration_milliseconds"].samples
                 if sample.name.endswith("_count")]
    # Timed: every request that got an answer from upstream (not those the sidecar answered itself).
    assert len(durations) == 1 and mesh.app.request_count <= durations[0].value <= total, durations
    labels = durations[0].labels
    assert labels["source_workload_namespace"] == "default" and labels["destination_service"] == BACKEND
    assert labels["reporter"] == "source" and labels["destination_service_name"] == "backend"

    # The page, as a browser shows it: the nodes, the edge with its count, drawn as failing,
    # and both proxies SYNCED.
    dom = render_page(server, ARTIFACTS / "service-graph.png")
    assert 'data-id="workload:default/client-a"' in dom and f'data-id="service:{BACKEND}"' in dom, dom[:2000]
    drawn = re.search(r'<g class="edge errors"[^>]*data-requests="(\d+)"', dom)
    assert drawn and int(drawn.group(1)) == total, dom[:4000]
    for envoy in (client, backend):
        row = re.search(rf'<tr class="proxy" data-node="{re.escape(envoy.node_id)}">(.*?)</tr>', dom)
        assert row and row.group(1).count(">SYNCED<") == 5, (envoy.name, row and row.group(1))
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
