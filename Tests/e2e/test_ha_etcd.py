"""High availability: two `trellis serve` replicas sharing state through a real 3-member etcd
cluster (`--store etcd://...`). A change applied through one replica reaches proxies of the
other; tokens and the mesh root are shared; a replica killed under traffic loses no request
and no resource; one etcd member down changes nothing; etcd down entirely leaves the replicas
serving read-only (writes 503, `/readyz` says so) until it is back."""

import base64
import json
import os
from pathlib import Path

import pytest
import yaml

from harness import (
    AdsClient, BackgroundTraffic, consistently, discovery_request, eventually, free_port, http_get, loopback_address,
    run_trellis, service_entry, wait_until,
)
from harness.ads import CLUSTER
from harness.istio import workload_group
from harness.security import secure_bootstrap_args

HOST = "echo.mesh.test"


@pytest.fixture
def store_key(tmp_path) -> Path:
    path = tmp_path / "store.key"
    path.touch(mode=0o600)
    path.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    return path


def start_replicas(tmp_path, start_trellis, etcd_cluster, store_key, *extra_args):
    """Two replicas, each with its own (empty) config dir and data dir, sharing the etcd cluster."""
    started = []
    for name in ("a", "b"):
        config = tmp_path / f"config-{name}"
        config.mkdir()
        started.append(start_trellis(config, extra_args=("--store", etcd_cluster.store_url,
                                                         "--store-key-file", str(store_key), *extra_args)))
    return started


@pytest.fixture
def replicas(tmp_path, start_trellis, etcd_cluster, store_key):
    return start_replicas(tmp_path, start_trellis, etcd_cluster, store_key)


def cli(server, *args):
    return run_trellis([*args, "--server", server.http_url, "--token-file", server.data_dir / "admin-token"])


def apply(server, tmp_path, *documents):
    path = tmp_path / "apply.yaml"
    path.write_text(yaml.safe_dump_all(documents))
    return cli(server, "apply", "-f", path)


def echo(upstream, port):
    return service_entry("echo", HOST, port, [(upstream.host, upstream.port)])


def root_of(server) -> Path:
    return server.data_dir / "ca" / "root-cert.pem"


def reaches(port, name):
    response = http_get(f"http://127.0.0.1:{port}/", host_header=HOST, timeout=5.0)
    assert response.status == 200 and response.upstream == name, (response.status, response.upstream)


def test_replicas_share_config_tokens_root_and_versions(replicas, start_envoy, start_upstream, tmp_path):
    a, b = replicas
    first, second = start_upstream("first"), start_upstream("second")
    port = free_port()
    on_b = start_envoy(b.xds_address, name="client")
    on_b.wait_ready()

    applied = apply(a, tmp_path, echo(first, port))
    assert applied.returncode == 0, applied.stderr
    on_b.wait_for(lambda: reaches(port, "first"), timeout=10, what="a change applied through A served by B")
    applied = apply(a, tmp_path, echo(second, port))
    assert applied.returncode == 0, applied.stderr
    on_b.wait_for(lambda: reaches(port, "second"), timeout=10, what="the next change too")

    # One mesh root, written for bootstraps into each replica's data dir.
    assert root_of(a).read_text() == root_of(b).read_text()
    # A token minted through A authenticates on B's secure port; B's certificate chains to it.
    token = tmp_path / "client2.token"
    minted = cli(a, "token", "create", "--namespace", "default", "--service-account", "client2")
    assert minted.returncode == 0, minted.stderr
    token.touch(mode=0o600)
    token.write_text(minted.stdout)
    secure = start_envoy(b.secure_xds_address, name="client2", metadata={"SERVICE_ACCOUNT": "client2"},
                         bootstrap_args=secure_bootstrap_args(root_of(b), token))
    secure.wait_ready()
    secure.wait_for(lambda: secure.certificates() or pytest.fail("no certificate yet"), what="a workload certificate")

    # The same configuration has the same versions on every replica: moving is no push.
    versions = []
    for replica in (a, b):
        with AdsClient(replica.xds_address) as ads:
            ads.send(discovery_request(CLUSTER, node_id="sidecar~127.0.0.77~v.default~default.svc.cluster.local"))
            versions.append(ads.recv().version_info)
    assert versions[0] == versions[1], versions


def holder_of(envoy, replicas):
    """The live replica whose own stream serves `envoy`, as proxy-status tells."""
    for replica in replicas:
        if not replica.alive():
            continue
        listed = cli(replica, "proxy-status", "-o", "json")
        assert listed.returncode == 0, listed.stderr
        status = json.loads(listed.stdout)
        rows = {row["node"]: row for row in status["proxies"]}
        if envoy.node_id in rows and rows[envoy.node_id]["replica"] == status["replica"]:
            return replica
    raise AssertionError("no replica holds the Envoy yet")


def test_a_killed_replica_loses_no_request_and_no_resource(replicas, start_envoy, start_upstream, tmp_path):
    a, b = replicas
    upstream = start_upstream("echo")
    port = free_port()
    assert apply(a, tmp_path, echo(upstream, port)).returncode == 0
    envoy = start_envoy(a.xds_address, name="client", bootstrap_args=["--xds-address", b.xds_address])
    envoy.wait_ready()
    envoy.wait_for(lambda: reaches(port, "echo"), what="traffic through the Envoy")

    def holder():
        return holder_of(envoy, replicas)

    held_by = eventually(holder, what="the replica holding the Envoy")
    other = b if held_by is a else a

    def rows_on(replica):
        listed = cli(replica, "proxy-status", "-o", "json")
        assert listed.returncode == 0, listed.stderr
        status = json.loads(listed.stdout)
        return status["replica"], [row for row in status["proxies"] if row["node"] == envoy.node_id]

    # Every replica lists every proxy, with the replica that holds it.
    holder_name, _ = rows_on(held_by)

    def listed_elsewhere():
        _, rows = rows_on(other)
        assert [(row["replica"], row.get("remote")) for row in rows] == [(holder_name, True)], rows

    eventually(listed_elsewhere, what="the Envoy listed by the other replica, as held by its replica")
    with BackgroundTraffic(lambda: http_get(f"http://127.0.0.1:{port}/", host_header=HOST, timeout=5.0)) as traffic:
        traffic.wait_for_requests(20)
        held_by.kill()
        held_by.stopped = True  # killed on purpose
        eventually(lambda: holder() is other, timeout=60, what="the Envoy on the surviving replica")
        traffic.wait_for_requests(20)
        outcomes = traffic.stop()
    failed = [outcome for outcome in outcomes if outcome.status != 200]
    assert not failed, f"{len(failed)} of {len(outcomes)} requests failed: {failed[:5]}"
    # The dead replica's row goes with its lease: the survivor lists the Envoy once, as its own.
    other_name, _ = rows_on(other)

    def listed_once():
        _, rows = rows_on(other)
        assert [row["replica"] for row in rows] == [other_name], rows

    eventually(listed_once, timeout=30, what="the dead replica's row gone")
    listed = cli(other, "get", "serviceentry", "-A", "-o", "json")
    assert listed.returncode == 0 and '"echo"' in listed.stdout, listed.stdout


def test_etcd_member_down_changes_nothing_and_etcd_down_is_read_only(
        replicas, etcd_cluster, start_envoy, start_upstream, tmp_path):
    a, b = replicas
    first, second, third = start_upstream("first"), start_upstream("second"), start_upstream("third")
    port = free_port()
    assert apply(a, tmp_path, echo(first, port)).returncode == 0
    envoy = start_envoy(b.xds_address, name="client")
    envoy.wait_ready()
    envoy.wait_for(lambda: reaches(port, "first"), what="traffic")

    # One member of three down: writes and pushes go on.
    etcd_cluster.stop_member(etcd_cluster.members[0])
    applied = apply(a, tmp_path, echo(second, port))
    assert applied.returncode == 0, applied.stderr
    envoy.wait_for(lambda: reaches(port, "second"), timeout=15, what="a change with one etcd member down")

    # All down: proxies keep being served, writes are refused with a clear 503, /readyz says so.
    etcd_cluster.stop()
    with BackgroundTraffic(lambda: http_get(f"http://127.0.0.1:{port}/", host_header=HOST, timeout=5.0)) as traffic:
        for replica in replicas:
            eventually(lambda: "read-only" in http_get(replica.http_url + "/readyz").text, timeout=30,
                       what="/readyz read-only")
            metrics = http_get(replica.http_url + "/metrics").text
            assert "trellis_store_available 0" in metrics
        refused = apply(a, tmp_path, echo(third, port))
        assert refused.returncode == 1 and "Error from server (ServiceUnavailable)" in refused.stderr, refused
        traffic.wait_for_requests(20)
        outcomes = traffic.stop()
    assert all(outcome.status == 200 and outcome.upstream == "second" for outcome in outcomes), outcomes[:5]

    # etcd back: both replicas follow it again and take writes.
    etcd_cluster.start()
    etcd_cluster.wait_healthy()
    for replica in replicas:
        eventually(lambda: http_get(replica.http_url + "/readyz").text == "ok\n", timeout=60, what="/readyz ok again")
    applied = eventually(lambda: _applied(apply(a, tmp_path, echo(third, port))), timeout=30, what="a write accepted")
    envoy.wait_for(lambda: reaches(port, "third"), timeout=15, what="the change after etcd came back")


def _applied(result):
    assert result.returncode == 0, result.stderr
    return result


def test_an_auto_registered_workload_outlives_its_crashed_replica_while_its_proxy_comes_back(
        tmp_path, start_trellis, etcd_cluster, store_key, start_envoy):
    replicas = start_replicas(tmp_path, start_trellis, etcd_cluster, store_key, "--workload-cleanup-grace", "5s")
    a, b = replicas
    assert apply(a, tmp_path, workload_group("vm-app", labels={"app": "vm-app"}, service_account="vm")).returncode == 0
    minted = cli(a, "token", "create", "--namespace", "default", "--service-account", "vm")
    assert minted.returncode == 0, minted.stderr
    token = tmp_path / "vm.token"
    token.touch(mode=0o600)
    token.write_text(minted.stdout)
    ip = loopback_address()
    entry = f"vm-app-{ip}"
    proxy = start_envoy(a.secure_xds_address, name="vm", ip=ip,
                        metadata={"SERVICE_ACCOUNT": "vm", "WORKLOAD_GROUP": "vm-app"},
                        bootstrap_args=[*secure_bootstrap_args(root_of(a), token), "--xds-address", b.secure_xds_address])
    proxy.wait_ready()

    def entries(replica):
        listed = cli(replica, "get", "workloadentry", "-n", "default", "-o", "json")
        assert listed.returncode == 0, listed.stderr
        return {item["metadata"]["name"] for item in json.loads(listed.stdout)["items"]}

    wait_until(lambda: entry in entries(b), what="the entry, seen through the other replica")
    held_by = eventually(lambda: holder_of(proxy, replicas), what="the replica holding the proxy")
    other = b if held_by is a else a
    held_by.kill()
    held_by.stopped = True  # killed on purpose
    eventually(lambda: holder_of(proxy, replicas) is other, timeout=60, what="the proxy on the surviving replica")
    # Past the crashed replica's lease (5 s): the entry stays, now under the survivor's lease.
    def kept():
        assert entry in entries(other), "the entry is gone"

    consistently(kept, duration=8.0, what="the entry kept while its proxy is connected")
    # The proxy gone for good: its entry goes a grace later.
    proxy.stop(timeout=10, expect_code=None)
    wait_until(lambda: entry not in entries(other), timeout=30, what="the entry removed a grace after its proxy left")
