"""The admin API and its CLI end to end: `trellis apply/get/delete` against a real
`trellis serve`, a real Envoy following what was applied, and the store surviving `kill -9`
(the proxy reconnects to the restarted server and is sent nothing new)."""

import hashlib
import json
import sqlite3
import threading
from pathlib import Path

import yaml

from harness import free_port, http_get, run_trellis, service_entry, wait_until
from harness.istio import destination, destination_rule, mesh_service, port as service_port, virtual_service, workload
from harness.routing import http_route
from harness.security import root_cert_path

HOST = "echo.mesh.test"


def cli(server, *args):
    """`trellis ARGS --server URL --token-file DATA/admin-token`."""
    return run_trellis([*args, "--server", server.http_url, "--token-file", server.data_dir / "admin-token"])


def write(path: Path, *documents: dict) -> Path:
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return path


def reaches(envoy, port: int, name: str) -> None:
    response = http_get(f"http://127.0.0.1:{port}/admin-api", host_header=HOST, timeout=5.0)
    assert response.status == 200 and response.upstream == name, (response.status, response.upstream)


def test_applied_resources_route_traffic_and_survive_a_crash(
        mesh_dir, start_trellis, start_envoy, start_upstream, tmp_path):
    a, b = start_upstream("A"), start_upstream("B")
    port = free_port()
    mesh_dir.path.mkdir(parents=True, exist_ok=True)
    data = tmp_path / "data"
    server = start_trellis(mesh_dir.path, data_dir=data)
    assert (data / "admin-token").stat().st_mode & 0o777 == 0o600

    service = write(tmp_path / "echo.yaml", service_entry("echo", HOST, port, [(a.host, a.port)]))
    applied = cli(server, "apply", "-f", service)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.strip() == "serviceentry.networking.istio.io/echo created"

    envoy = start_envoy(server.xds_address, name="client")
    envoy.wait_ready()
    envoy.wait_for(lambda: reaches(envoy, port, "A"), what="traffic to A, applied through the API")

    # An update moves traffic; applying it again changes nothing.
    write(service, service_entry("echo", HOST, port, [(b.host, b.port)]))
    assert cli(server, "apply", "-f", service).stdout.strip() == "serviceentry.networking.istio.io/echo configured"
    envoy.wait_for(lambda: reaches(envoy, port, "B"), what="traffic to B after the update")
    assert cli(server, "apply", "-f", service).stdout.strip() == "serviceentry.networking.istio.io/echo unchanged"

    # A bad document: exit 1, FILE:LINE naming resource and field, nothing applied.
    bad = tmp_path / "bad.yaml"
    bad.write_text(service.read_text().replace("STATIC", "SOMETIMES"))
    refused = cli(server, "apply", "-f", bad)
    assert refused.returncode == 1
    assert f"{bad}:" in refused.stderr and "ServiceEntry default/echo" in refused.stderr, refused.stderr
    assert "spec.resolution" in refused.stderr, refused.stderr
    reaches(envoy, port, "B")

    shown = cli(server, "get", "se", "echo", "-o", "yaml")
    assert shown.returncode == 0, shown.stderr
    document = yaml.safe_load(shown.stdout)
    version = document["metadata"]["resourceVersion"]
    assert document["spec"]["endpoints"][0]["address"] == b.host
    table = cli(server, "get", "serviceentries", "-A")
    assert "echo" in table.stdout and "NAMESPACE" in table.stdout, table.stdout

    # kill -9, restart on the same data dir: the resource is there at the same version, and
    # the reconnecting Envoy is sent the configuration it already has (nothing modified).
    before = envoy.stats()
    server.kill()
    server.stopped = True  # killed on purpose: not a failed shutdown
    envoy.wait_for(lambda: envoy.stats()["control_plane.connected_state"] == 0, what="Envoy to see the server gone")
    restarted = start_trellis(mesh_dir.path, data_dir=data, port=server.port, secure_port=server.secure_port)
    again = yaml.safe_load(cli(restarted, "get", "se", "echo", "-o", "yaml").stdout)
    assert again["metadata"]["resourceVersion"] == version
    envoy.wait_for(lambda: envoy.stats()["control_plane.connected_state"] == 1, what="Envoy to reconnect")
    envoy.wait_for(
        lambda: envoy.stats()["cluster_manager.cds.update_success"] > before["cluster_manager.cds.update_success"],
        what="the restarted server's CDS response")
    after = envoy.stats()
    for stat in ("cluster_manager.cluster_modified", "listener_manager.listener_modified",
                 "cluster_manager.cds.version_text", "listener_manager.lds.version_text"):
        assert after.get(stat) == before.get(stat), (stat, before.get(stat), after.get(stat))
    reaches(envoy, port, "B")

    deleted = cli(restarted, "delete", "se", "echo")
    assert deleted.stdout.strip() == 'serviceentry.networking.istio.io "echo" deleted', deleted.stderr
    gone = cli(restarted, "get", "se", "echo")
    assert gone.returncode == 1 and "NotFound" in gone.stderr, gone.stderr


def test_the_api_refuses_without_the_token_and_a_resource_has_one_source(mesh_dir, start_trellis, tmp_path):
    mesh_dir.write("echo.yaml", service_entry("echo", HOST, free_port(), [("127.0.0.1", 9)]))
    server = start_trellis(mesh_dir.path)
    status = http_get(f"{server.http_url}/apis/networking.istio.io/v1/namespaces/default/serviceentries", timeout=5.0)
    assert status.status == 401
    assert json.loads(status.text)["reason"] == "Unauthorized"
    assert http_get(f"{server.http_url}/healthz", timeout=5.0).status == 200

    # The config dir defines default/echo: applying it through the API is refused, naming the file.
    copy = write(tmp_path / "copy.yaml", service_entry("echo", HOST, free_port(), [("127.0.0.1", 10)]))
    refused = cli(server, "apply", "-f", copy)
    assert refused.returncode == 1
    assert "defined both" in refused.stderr and "echo.yaml" in refused.stderr, refused.stderr
    wrong_token = tmp_path / "wrong-token"
    wrong_token.write_text("not-the-token\n")
    wrong = run_trellis(["get", "vs", "--server", server.http_url, "--token-file", wrong_token])
    assert wrong.returncode == 1 and "Unauthorized" in wrong.stderr, wrong.stderr
    not_a_token = run_trellis(["get", "vs", "--server", server.http_url, "--token-file", copy])
    assert not_a_token.returncode == 1 and "not a token" in not_a_token.stderr, not_a_token.stderr


def test_an_applied_virtual_service_changes_routes_and_deleting_it_reverts_them(
        mesh_dir, start_trellis, start_envoy, start_upstream, tmp_path):
    a, b = start_upstream("A"), start_upstream("B")
    port = free_port()
    mesh_dir.write("echo.yaml",
                   mesh_service("echo", HOST, [service_port(port)],
                                [workload(a.host, {"http": a.port}, version="v1"),
                                 workload(b.host, {"http": b.port}, version="v2")]),
                   destination_rule("echo", HOST, {"v1": {"version": "v1"}, "v2": {"version": "v2"}}))
    server = start_trellis(mesh_dir.path)
    envoy = start_envoy(server.xds_address, name="client")
    envoy.wait_ready()
    seen = set()

    def both() -> None:
        response = http_get(f"http://127.0.0.1:{port}/", host_header=HOST, timeout=5.0)
        seen.add(response.upstream)
        assert seen == {"A", "B"}, seen

    envoy.wait_for(both, what="traffic to both versions before any VirtualService")

    rule = write(tmp_path / "canary.yaml", virtual_service("echo", [HOST], http=[http_route("all-v2", destination(HOST, "v2"))]))
    assert cli(server, "apply", "-f", rule).returncode == 0
    def only_v2() -> None:
        # Round robin over A and B reaches B half the time: only a run of B's shows the route.
        for _ in range(12):
            reaches(envoy, port, "B")

    envoy.wait_for(only_v2, what="the applied route to v2")

    deleted = cli(server, "delete", "-f", rule)
    assert deleted.stdout.strip() == 'virtualservice.networking.istio.io "echo" deleted', deleted.stderr
    seen.clear()
    envoy.wait_for(both, what="traffic to both versions again after the delete")


def test_kill_9_during_applies_loses_no_acknowledged_write(mesh_dir, start_trellis, tmp_path):
    mesh_dir.path.mkdir(parents=True, exist_ok=True)
    data = tmp_path / "data"
    server = start_trellis(mesh_dir.path, data_dir=data)
    minted = run_trellis(["token", "create", "--server", server.http_url, "--token-file", data / "admin-token",
                          "--namespace", "default", "--service-account", "vm"])
    assert minted.returncode == 0, minted.stderr
    root = root_cert_path(data).read_bytes()

    acknowledged = []
    stop = threading.Event()

    def apply_loop() -> None:
        for i in range(200):
            if stop.is_set():
                return
            path = write(tmp_path / f"svc-{i}.yaml", service_entry(f"svc-{i}", f"svc-{i}.mesh.test", 8080, [("10.0.0.1", 80)]))
            if cli(server, "apply", "-f", path).returncode != 0:
                return
            acknowledged.append(f"svc-{i}")

    loop = threading.Thread(target=apply_loop)
    loop.start()
    try:
        wait_until(lambda: len(acknowledged) >= 8, timeout=60, what="a few acknowledged applies")
        server.kill()
        server.stopped = True
    finally:
        stop.set()
        loop.join(timeout=60)

    restarted = start_trellis(mesh_dir.path, data_dir=data)
    listed = json.loads(cli(restarted, "get", "se", "-o", "json").stdout)
    names = {item["metadata"]["name"] for item in listed["items"]}
    assert set(acknowledged) <= names, sorted(set(acknowledged) - names)
    assert root_cert_path(data).read_bytes() == root
    # The workload token's hash is still in the store (read with SQLite itself).
    digest = hashlib.sha256(minted.stdout.strip().encode()).hexdigest()
    with sqlite3.connect(f"file:{data / 'trellis.db'}?mode=ro", uri=True) as db:
        assert db.execute("SELECT count(*) FROM entries WHERE key = ?", (f"/tokens/{digest}",)).fetchone()[0] == 1


def test_a_corrupt_store_stops_the_server_naming_the_file_and_leaves_it_alone(tmp_path):
    (tmp_path / "config").mkdir()
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    garbage = b"this is not a database" * 100
    (data / "trellis.db").write_bytes(garbage)
    result = run_trellis(
        ["serve", "--config-dir", tmp_path / "config", "--data-dir", data,
         "--xds-address", f"127.0.0.1:{free_port()}", "--secure-xds-address", f"127.0.0.1:{free_port()}",
         "--http-address", f"127.0.0.1:{free_port()}"])
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "trellis: error:" in result.stderr and str(data / "trellis.db") in result.stderr, result.stderr
    assert (data / "trellis.db").read_bytes() == garbage
