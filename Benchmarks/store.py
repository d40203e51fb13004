#!/usr/bin/env python3
"""The cost of sharing state through etcd, against the embedded SQLite store (issue 21).

Runs real processes on loopback: `trellis serve` (release build by default), a 3-member etcd
cluster (Debian's etcd-server) and a real Envoy. For each backend it measures
- apply latency: a PUT of a ServiceEntry through the admin API until the answer (the write is
  durable then: fsync'd SQLite, or an etcd quorum);
- propagation: from sending that PUT until an Envoy sees the new endpoint in /clusters; with
  etcd, the PUT goes to replica A and the Envoy is connected to replica B.
Prints a markdown table. Needs the test venv (Envoy, harness): run with .venv/bin/python.

    .venv/bin/python Benchmarks/store.py [--changes 30] [--trellis PATH]
"""

import argparse
import base64
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "e2e"))

import yaml  # noqa: E402

from harness import Envoy, TrellisServer, Upstream, service_entry  # noqa: E402
from harness.etcd import EtcdCluster  # noqa: E402

HOST = "bench.mesh.test"
PATH = "/apis/networking.istio.io/v1/namespaces/default/serviceentries/bench"
CLUSTER = f"outbound|80||{HOST}"


def put(server, port: int) -> float:
    """PUTs the ServiceEntry with its endpoint on `port`; seconds until the answer."""
    body = yaml.safe_dump(service_entry("bench", HOST, 80, [("127.0.0.1", port)])).encode()
    request = urllib.request.Request(server.http_url + PATH, data=body, method="PUT", headers={
        "Authorization": f"Bearer {server.admin_token}", "Content-Type": "application/yaml"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert reply.status in (200, 201), reply.status
    return time.perf_counter() - start


def measure(writer, envoy, changes: int):
    """(apply seconds, propagation seconds) per change, endpoints on ports 20000, 20001, ..."""
    applied, reached = [], []
    for index in range(changes + 1):
        port = 20000 + index
        start = time.perf_counter()
        applied.append(put(writer, port))
        deadline = start + 30
        while f"127.0.0.1:{port}" not in hosts(envoy):
            assert time.perf_counter() < deadline, f"change {index} never reached the Envoy"
            time.sleep(0.002)  # polling Envoy's admin API: the measurement's resolution
        reached.append(time.perf_counter() - start)
    return applied[1:], reached[1:]  # the first creates the cluster: not a change


def hosts(envoy):
    try:
        return envoy.cluster_hosts(CLUSTER)
    except AssertionError:
        return set()


def row(name, applied, reached):
    ms = lambda values, q: statistics.quantiles(values, n=100)[q - 1] * 1000  # noqa: E731
    return (f"| {name} | {statistics.median(applied) * 1000:.1f} | {ms(applied, 99):.1f} "
            f"| {statistics.median(reached) * 1000:.0f} | {ms(reached, 99):.0f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=30)
    parser.add_argument("--trellis", default=os.environ.get("TRELLIS_BIN", str(ROOT / ".build/release/trellis")))
    args = parser.parse_args()
    binary = Path(args.trellis)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        upstream = Upstream("bench")
        started = []
        try:
            # The embedded store: one server, the Envoy on it.
            (work / "config-sqlite").mkdir()
            server = TrellisServer(work / "config-sqlite", work / "data-sqlite", work / "sqlite.log", binary=binary,
                                   log_level="info")
            started.append(server)
            server.wait_started()
            envoy = Envoy(work / "envoy-sqlite", server.xds_address, name="client", trellis=binary)
            started.append(envoy)
            envoy.wait_ready()
            rows.append(row("SQLite (one server)", *measure(server, envoy, args.changes)))

            # etcd: apply through A, the Envoy on B.
            cluster = EtcdCluster(work / "etcd")
            key = work / "store.key"
            key.touch(mode=0o600)
            key.write_text(base64.b64encode(os.urandom(32)).decode())
            replicas = []
            for name in ("a", "b"):
                (work / f"config-{name}").mkdir()
                replica = TrellisServer(
                    work / f"config-{name}", work / f"data-{name}", work / f"{name}.log", binary=binary, log_level="info",
                    extra_args=("--store", cluster.store_url, "--store-key-file", str(key)))
                started.append(replica)
                replicas.append(replica.wait_started())
            envoy_b = Envoy(work / "envoy-etcd", replicas[1].xds_address, name="client", trellis=binary)
            started.append(envoy_b)
            envoy_b.wait_ready()
            rows.append(row("etcd, 3 members (apply on A, Envoy on B)", *measure(replicas[0], envoy_b, args.changes)))
        finally:
            for process in reversed(started):
                process.close()
            if "cluster" in locals():
                cluster.close()
            upstream.close()
    print(f"{args.changes} changes of a ServiceEntry's endpoint; default debounce (100 ms after the change)\n")
    print("| store | apply p50 ms | apply p99 ms | change at the Envoy p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
