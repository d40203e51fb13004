"""Config never disappears by accident: a config file that becomes unreadable, or a config dir
that is emptied or vanishes, keeps what a real Envoy is serving, and says why (log and
`config-status.json`). Only a file that is gone deletes its resources."""

import json
import shutil
from dataclasses import dataclass

import grpc
import pytest

from harness import (
    AdsClient,
    BackgroundTraffic,
    Envoy,
    MeshDir,
    TrellisServer,
    consistently,
    discovery_request,
    free_port,
    http_get,
    node_id,
    service_entry,
    wait_until,
)
from harness.ads import CLUSTER


@dataclass
class TwoFiles:
    """Services `a.mesh.test` (in a.yaml) and `b.mesh.test` (in b.yaml), one upstream each,
    reached through one sidecar Envoy's outbound listeners on 127.0.0.1."""

    mesh: MeshDir
    trellis: TrellisServer
    envoy: Envoy
    ports: dict
    upstreams: dict

    def write(self, name: str) -> None:
        upstream = self.upstreams[name]
        self.mesh.write(f"{name}.yaml", service_entry(name, f"{name}.mesh.test", self.ports[name],
                                                      [(upstream.host, upstream.port)]))

    def get(self, name: str, timeout: float = 5.0):
        return http_get(f"http://127.0.0.1:{self.ports[name]}/", host_header=f"{name}.mesh.test", timeout=timeout)

    def answers(self, name: str) -> None:
        response = self.get(name)
        assert response.status == 200 and response.upstream == name, f"{name}: {response.status} {response.text[:200]}"

    def status(self) -> dict:
        return json.loads((self.trellis.data_dir / "config-status.json").read_text())


@pytest.fixture
def two_files(mesh_dir, start_trellis, start_envoy, start_upstream) -> TwoFiles:
    upstreams = {name: start_upstream(name) for name in ("a", "b")}
    ports = {name: free_port("127.0.0.1") for name in ("a", "b")}
    mesh = TwoFiles(mesh_dir, None, None, ports, upstreams)  # type: ignore[arg-type]
    mesh.write("a")
    mesh.write("b")
    mesh.trellis = start_trellis(mesh_dir.path)
    mesh.envoy = start_envoy(mesh.trellis.xds_address, name="client").wait_ready()
    for name in ("a", "b"):
        mesh.envoy.wait_for(lambda name=name: mesh.answers(name), what=f"traffic to {name}")
    return mesh


def test_a_config_file_that_becomes_unreadable_keeps_its_routes_serving(two_files: TwoFiles):
    mesh = two_files
    path = mesh.mesh.file("b.yaml")
    with BackgroundTraffic(lambda: mesh.get("b")) as traffic:
        traffic.wait_for_requests(20)
        mark = mesh.trellis.log_mark()
        # Overwritten with invalid UTF-8 (tests run as root, so chmod 000 would prove nothing).
        path.write_bytes(b"apiVersion: networking.istio.io/v1\nkind: \xff\xfe\xfd\n")
        line = mesh.trellis.wait_for_log(r"cannot read .*b\.yaml", since=mark)
        assert "not UTF-8" in line and "last good" in line, line
        traffic.wait_for_requests(100)
        consistently(lambda: mesh.answers("b"), duration=2.0, what="b keeps answering")
        outcomes = traffic.stop()
    failures = [o for o in outcomes if o.status != 200]
    assert not failures, f"{len(failures)} of {len(outcomes)} requests failed: {failures[:5]}"

    status = mesh.status()
    assert status["unreadableFiles"] == [{"path": str(path), "error": "not UTF-8 text", "servingLastGood": True}], status
    mesh.answers("a")

    # Readable again: the report clears. Gone: its routes go, as a deletion should.
    mark = mesh.trellis.log_mark()
    mesh.write("b")
    mesh.trellis.wait_for_log(r"b\.yaml is readable again", since=mark)
    wait_until(lambda: mesh.status()["unreadableFiles"] == [], what="the report cleared")
    mesh.mesh.remove("b.yaml")
    mesh.envoy.wait_for(lambda: _refused_or_404(mesh, "b"), what="b removed")
    mesh.answers("a")


def _refused_or_404(mesh: TwoFiles, name: str) -> None:
    try:
        response = mesh.get(name, timeout=3)
    except OSError:
        return
    assert response.status == 404, f"{name} still answered {response.status}"


def test_an_emptied_config_dir_keeps_serving_and_says_so(two_files: TwoFiles):
    mesh = two_files
    with BackgroundTraffic(lambda: mesh.get("a")) as traffic:
        traffic.wait_for_requests(20)
        mark = mesh.trellis.log_mark()
        mesh.mesh.remove("a.yaml")
        mesh.mesh.remove("b.yaml")
        line = mesh.trellis.wait_for_log(r"holds no resources", since=mark)
        assert "--allow-empty-config" in line, line
        traffic.wait_for_requests(100)
        outcomes = traffic.stop()
    failures = [o for o in outcomes if o.status != 200]
    assert not failures, f"{len(failures)} of {len(outcomes)} requests failed: {failures[:5]}"
    mesh.answers("b")
    assert "--allow-empty-config" in mesh.status()["configDirectoryProblem"]

    # The directory itself vanishing (an unmounted volume) is the same.
    shutil.rmtree(mesh.mesh.path)
    mesh.trellis.wait_for_log(r"no such directory.*serving the last good configuration")
    consistently(lambda: (mesh.answers("a"), mesh.answers("b")), duration=1.0)

    # Config back: applied, the problem cleared.
    mesh.mesh.path.mkdir()
    mesh.write("a")
    wait_until(lambda: mesh.status().get("configDirectoryProblem") is None, what="the problem cleared")
    mesh.envoy.wait_for(lambda: _refused_or_404(mesh, "b"), what="b, gone from the dir, removed")
    mesh.answers("a")


def test_allow_empty_config_applies_an_emptied_dir(mesh_dir, start_trellis, start_envoy, start_upstream):
    upstream = start_upstream("a")
    port = free_port("127.0.0.1")
    mesh_dir.write("a.yaml", service_entry("a", "a.mesh.test", port, [(upstream.host, upstream.port)]))
    trellis = start_trellis(mesh_dir.path, extra_args=("--allow-empty-config",))
    envoy = start_envoy(trellis.xds_address, name="client").wait_ready()
    wait_until(lambda: http_get(f"http://127.0.0.1:{port}/", host_header="a.mesh.test").status == 200,
               what="traffic to a")
    mesh_dir.remove("a.yaml")
    wait_until(lambda: f"outbound|{port}||a.mesh.test" not in envoy.dynamic_clusters(), what="the cluster removed")


def test_restart_on_an_empty_config_dir_refuses_streams_until_config_returns(mesh_dir, start_trellis, tmp_path):
    data_dir = tmp_path / "data"
    mesh_dir.write("a.yaml", service_entry("a", "a.mesh.test", 80, [("127.0.0.1", 8080)]))
    first = start_trellis(mesh_dir.path, data_dir=data_dir)
    first.stop(timeout=10, expect_code=0)

    # The same data dir, the config dir now empty (say, a volume not mounted yet).
    mesh_dir.remove("a.yaml")
    second = start_trellis(mesh_dir.path, data_dir=data_dir)
    second.wait_for_log(r"holds no resources, but 1 were being served")
    with AdsClient(second.xds_address) as client:
        client.send(discovery_request(CLUSTER, node_id=node_id("127.0.0.1", "a")))
        code, details = client.wait_status(timeout=10)
    assert code == grpc.StatusCode.UNAVAILABLE, (code, details)
    assert "--allow-empty-config" in details, details

    mesh_dir.write("a.yaml", service_entry("a", "a.mesh.test", 80, [("127.0.0.1", 8080)]))
    second.wait_for_log(r"configuration applied")
    with AdsClient(second.xds_address) as client:
        client.send(discovery_request(CLUSTER, node_id=node_id("127.0.0.1", "a")))
        response = client.recv(timeout=10)
        assert response is not None and response.type_url == CLUSTER, client.wait_status()
