"""WorkloadGroup readiness probes, run by `trellis serve` itself (Istio runs them in the VM's
agent; Trellis has none): two VMs registered into a group with an httpGet probe, one of them
failing it. Envoy gets the failing one as an UNHEALTHY endpoint and sends it nothing; when the
probe passes again, traffic reaches both. Probes run every second, so each step takes about one.
"""

from collections import Counter
from typing import Dict, Tuple

import yaml

from harness import free_port, http_request, loopback_address, port, run_trellis
from harness.istio import resource
from harness.upstream import Upstream

CONFIG_FILE = "vms.yaml"
HOST = "vm.health.test"
GROUP_ANNOTATION = "trellis.dev/workload-group"


def _two_vms(start_upstream) -> Tuple[Upstream, Upstream]:
    """Upstreams A and B on two 127.0.0.x addresses and the same port: the group's probe names
    one port for all its workloads."""
    for _ in range(20):
        ip_a, ip_b = loopback_address(), loopback_address()
        number = free_port(ip_a)
        try:
            return start_upstream("A", host=ip_a, port=number), start_upstream("B", host=ip_b, port=number)
        except OSError:  # the port was taken on the second address meanwhile: another pair
            continue
    raise AssertionError("no port free on two loopback addresses")


def _mesh(service_port: int, a: Upstream, b: Upstream, probe: dict) -> list:
    """A STATIC ServiceEntry selecting app=vm, the WorkloadGroup `vm` with `probe`, and one
    WorkloadEntry per upstream registered into the group (as `trellis workload register` does)."""
    entries = []
    for name, upstream in (("vm-a", a), ("vm-b", b)):
        entry = resource("WorkloadEntry", name, {
            "address": upstream.host, "ports": {"http": upstream.port}, "labels": {"app": "vm"},
        })
        entry["metadata"]["annotations"] = {GROUP_ANNOTATION: "vm"}
        entries.append(entry)
    return [
        resource("ServiceEntry", "vm", {
            "hosts": [HOST], "location": "MESH_INTERNAL", "resolution": "STATIC",
            "ports": [port(service_port)], "workloadSelector": {"labels": {"app": "vm"}},
        }),
        resource("WorkloadGroup", "vm", {"template": {"labels": {"app": "vm"}}, "probe": probe}),
        *entries,
    ]


def _http_probe(upstream: Upstream) -> dict:
    return {"periodSeconds": 1, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 1,
            "httpGet": {"path": "/healthz", "port": upstream.port}}


def _eds_health(envoy, service_port: int) -> Dict[str, str]:
    """Endpoint address → health_status in the ClusterLoadAssignment Envoy holds for the service."""
    assignment = envoy.endpoint_configs().get(f"outbound|{service_port}||{HOST}", {})
    return {
        endpoint["endpoint"]["address"]["socket_address"]["address"]: endpoint.get("health_status", "UNKNOWN")
        for group in assignment.get("endpoints", [])
        for endpoint in group.get("lb_endpoints", [])
    }


def _answers(service_port: int, count: int) -> Counter:
    """`count` requests through the client sidecar: 200s by upstream name, other statuses by code."""
    result: Counter = Counter()
    for _ in range(count):
        response = http_request(f"127.0.0.1:{service_port}", "/", host=HOST)
        result[response.upstream if response.status == 200 and response.upstream else response.status] += 1
    return result


def test_failing_probe_keeps_traffic_off_a_vm_until_it_passes(mesh_dir, start_trellis, start_envoy, start_upstream):
    a, b = _two_vms(start_upstream)
    b.respond_with(500)  # its probe (and anything else) fails
    service_port = free_port("127.0.0.1")
    mesh_dir.write(CONFIG_FILE, *_mesh(service_port, a, b, _http_probe(a)))
    server = start_trellis(mesh_dir.path)
    envoy = start_envoy(server.xds_address, name="client").wait_ready()

    def only_a_is_healthy() -> None:
        health = _eds_health(envoy, service_port)
        assert health == {a.host: "HEALTHY", b.host: "UNHEALTHY"}, health

    envoy.wait_for(only_a_is_healthy, what="EDS with B UNHEALTHY")
    answers = _answers(service_port, 20)
    assert answers == Counter({"A": 20}), answers
    assert any(r["path"] == "/healthz" and r["headers"].get("user-agent") == "trellis-probe" for r in b.requests)
    server.wait_for_log(r"WorkloadEntry default/vm-a is ready")
    server.wait_for_log(r"WorkloadEntry default/vm-b is not ready yet: .*HTTP 500")

    # B recovers: its next probe passes and traffic reaches both again.
    b.respond_with(200)

    def both_healthy() -> None:
        health = _eds_health(envoy, service_port)
        assert health == {a.host: "HEALTHY", b.host: "HEALTHY"}, health

    envoy.wait_for(both_healthy, what="EDS with both HEALTHY")
    seen = set()

    def both_serve() -> None:
        response = http_request(f"127.0.0.1:{service_port}", "/", host=HOST)
        assert response.status == 200, (response.status, response.text[:200])
        seen.add(response.upstream)
        assert seen == {"A", "B"}, f"reached {sorted(seen)} so far"

    envoy.wait_for(both_serve, what="traffic to A and B")

    # A, ready until now, starts failing: it is taken out after failureThreshold (1) failure.
    a.respond_with(503)
    envoy.wait_for(lambda: _assert_equal(_eds_health(envoy, service_port), {a.host: "UNHEALTHY", b.host: "HEALTHY"}),
                   what="EDS with A UNHEALTHY")
    answers = _answers(service_port, 20)
    assert answers == Counter({"B": 20}), answers
    server.wait_for_log(r"WorkloadEntry default/vm-a is not ready: its readiness probe failed 1 in a row .*HTTP 503")
    logs = server.logs()
    assert logs.count("WorkloadEntry default/vm-a is ready") == 1, "a transition is logged once, not every probe"
    assert "NACK" not in logs


def test_tcp_probe_to_a_closed_port_keeps_the_entry_unhealthy_until_it_listens(
    mesh_dir, start_trellis, start_envoy, start_upstream
):
    """A tcpSocket probe connects to each entry's address at the group's port: only A listens
    there at first, so B is never ready (and never gets traffic) until something listens on it."""
    a, b = _two_vms(start_upstream)
    probe_port = free_port(a.host)
    start_upstream("A-probe", host=a.host, port=probe_port)
    service_port = free_port("127.0.0.1")
    mesh_dir.write(CONFIG_FILE, *_mesh(service_port, a, b, {"periodSeconds": 1, "tcpSocket": {"port": probe_port}}))
    server = start_trellis(mesh_dir.path)
    envoy = start_envoy(server.xds_address, name="client").wait_ready()
    envoy.wait_for(lambda: _assert_equal(_eds_health(envoy, service_port), {a.host: "HEALTHY", b.host: "UNHEALTHY"}),
                   what="B UNHEALTHY")
    assert _answers(service_port, 10) == Counter({"A": 10})

    start_upstream("B-probe", host=b.host, port=probe_port)
    envoy.wait_for(lambda: _assert_equal(_eds_health(envoy, service_port), {a.host: "HEALTHY", b.host: "HEALTHY"}),
                   what="both HEALTHY")
    assert "NACK" not in server.logs()


def test_validate_refuses_an_exec_probe(tmp_path, trellis_bin):
    group = resource("WorkloadGroup", "vm", {
        "template": {"labels": {"app": "vm"}},
        "probe": {"periodSeconds": 1, "exec": {"command": ["cat", "/tmp/ready"]}},
    })
    path = tmp_path / "group.yaml"
    path.write_text(yaml.safe_dump(group, sort_keys=False))
    result = run_trellis(["validate", path], binary=trellis_bin)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "WorkloadGroup default/vm: spec.probe.exec: exec probes are not supported" in output, output
    assert "no agent on the workload; use httpGet or tcpSocket" in output, output


def _assert_equal(actual, expected) -> None:
    assert actual == expected, actual
