"""The harness itself, without trellis or Envoy: upstreams, HTTP, polling, the config dir."""

import pytest
import yaml

from harness import MeshDir, TimedOut, Upstream, consistently, eventually, http_get, service_entry
from harness.ports import free_port, loopback_address


def test_upstream_names_itself_and_echoes_headers(start_upstream):
    upstream: Upstream = start_upstream("U1")
    response = http_get(f"http://{upstream.address}/hello?x=1", host_header="svc.example:80",
                        headers={"X-Test": "yes"})
    assert response.status == 200
    assert response.upstream == "U1"
    body = response.json()
    assert body["path"] == "/hello?x=1"
    assert body["headers"]["host"] == "svc.example:80"
    assert body["headers"]["x-test"] == "yes"
    assert upstream.request_count == 1


def test_upstream_fails_on_request(start_upstream):
    upstream = start_upstream("U2")
    upstream.fail_next(2, status=503)
    statuses = [http_get(f"http://{upstream.address}/").status for _ in range(3)]
    assert statuses == [503, 503, 200]
    upstream.respond_with(418)
    assert http_get(f"http://{upstream.address}/").status == 418


def test_eventually_returns_value_or_times_out_with_last_failure():
    calls = []

    def third_time_lucky():
        calls.append(1)
        assert len(calls) >= 3, f"only {len(calls)} calls"
        return "done"

    assert eventually(third_time_lucky, timeout=5, interval=0.01) == "done"

    def never():
        raise ValueError("still broken")

    with pytest.raises(TimedOut, match="still broken"):
        eventually(never, timeout=0.2, interval=0.01)

    assert consistently(lambda: None, duration=0.05, interval=0.01) >= 1


def test_mesh_dir_writes_atomically(tmp_path):
    mesh = MeshDir(tmp_path / "config")
    mesh.write("a.yaml", service_entry("a", "a.mesh.test", 80, [("127.0.0.1", 8080)]))
    assert sorted(p.name for p in mesh.path.iterdir()) == ["a.yaml"]
    document = yaml.safe_load(mesh.file("a.yaml").read_text())
    assert document["spec"]["endpoints"] == [{"address": "127.0.0.1", "ports": {"http": 8080}}]


def test_ports_and_addresses_are_usable():
    first, second = loopback_address(), loopback_address()
    assert first != second and first.startswith("127.0.0.")
    assert 0 < free_port(first) < 65536
