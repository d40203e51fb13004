"""Several control-plane replicas: a bootstrap lists them all (`--xds-address` repeated), and an
Envoy whose replica dies (kill -9) moves its stream to another with no failed request, and then
follows config changes through it. The replicas here share a config dir; sharing state through
etcd is the same failover for the Envoy."""

import json

from harness import BackgroundTraffic, eventually, free_port, http_get, run_trellis, service_entry

HOST = "echo.mesh.test"


def proxies(server):
    listed = run_trellis(["proxy-status", "-o", "json", "--server", server.http_url,
                          "--token-file", server.data_dir / "admin-token"])
    assert listed.returncode == 0, listed.stderr
    return {proxy["node"] for proxy in json.loads(listed.stdout)["proxies"]}


def test_an_envoy_fails_over_to_another_replica_without_a_failed_request(
        mesh_dir, start_trellis, start_envoy, start_upstream):
    first, second = start_upstream("first"), start_upstream("second")
    port = free_port()
    mesh_dir.write("echo.yaml", service_entry("echo", HOST, port, [(first.host, first.port)]))
    replicas = [start_trellis(mesh_dir.path), start_trellis(mesh_dir.path)]
    envoy = start_envoy(replicas[0].xds_address, name="client",
                        bootstrap_args=["--xds-address", replicas[1].xds_address])
    envoy.wait_ready()

    def call(expected):
        response = http_get(f"http://127.0.0.1:{port}/", host_header=HOST, timeout=5.0)
        assert response.status == 200 and response.upstream == expected, (response.status, response.upstream)
        return response

    envoy.wait_for(lambda: call("first"), what="traffic through the Envoy")
    holder = eventually(lambda: next(r for r in replicas if envoy.node_id in proxies(r)), what="a replica holds it")
    other = replicas[1] if holder is replicas[0] else replicas[0]

    with BackgroundTraffic(lambda: http_get(f"http://127.0.0.1:{port}/", host_header=HOST, timeout=5.0)) as traffic:
        traffic.wait_for_requests(20)
        holder.kill()
        holder.stopped = True  # killed on purpose: not a failed shutdown
        eventually(lambda: envoy.node_id in proxies(other), timeout=60, what="the Envoy on the other replica")
        traffic.wait_for_requests(20)
        # The surviving replica serves changes: the endpoint moves to the second upstream.
        mesh_dir.write("echo.yaml", service_entry("echo", HOST, port, [(second.host, second.port)]))
        envoy.wait_for(lambda: call("second"), what="the change through the other replica")
        outcomes = traffic.stop()
    failed = [outcome for outcome in outcomes if outcome.status != 200]
    assert not failed, f"{len(failed)} of {len(outcomes)} requests failed: {failed[:5]}"
    assert {outcome.upstream for outcome in outcomes} == {"first", "second"}


def test_repeated_xds_addresses_become_one_cluster_and_a_duplicate_is_refused():
    node = "sidecar~127.0.0.5~a.default~default.svc.cluster.local"
    written = run_trellis(["bootstrap", "--node-id", node, "--admin-address", "127.0.0.1:15000",
                           "--xds-address", "127.0.0.1:15010", "--xds-address", "127.0.0.2:15010"])
    assert written.returncode == 0, written.stderr
    assert "127.0.0.2" in written.stdout and "outlier_detection" in written.stdout
    duplicate = run_trellis(["bootstrap", "--node-id", node, "--admin-address", "127.0.0.1:15000",
                             "--xds-address", "127.0.0.1:15010", "--xds-address", "127.0.0.1:15010"])
    assert duplicate.returncode != 0 and "the same address is given twice" in duplicate.stderr
