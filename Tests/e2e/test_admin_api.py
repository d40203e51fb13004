"""The admin API and its CLI end to end: `trellis apply/get/delete` against a real
`trellis serve`, a real Envoy following what was applied, and the store surviving `kill -9`
(the proxy reconnects to the restarted server and is sent nothing new)."""

import json
from pathlib import Path

import yaml

from harness import free_port, http_get, run_trellis, service_entry

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
