"""Keeps the mesh-scale benchmark from rotting without timing anything: `Benchmarks/scale.py`
at a small size (50 services, 100 simulated Envoys on `trellis loadgen`, state of the world and
delta) must bring every stream in sync and see both changes reach the proxies they concern."""

import json
import subprocess
import sys

from harness import repo_root


def test_scale_benchmark_runs_at_a_small_size(trellis_bin):
    result = subprocess.run(
        [sys.executable, str(repo_root() / "Benchmarks" / "scale.py"), "--services", "50", "--proxies", "100",
         "--namespaces", "5", "--ads", "both", "--trellis", str(trellis_bin), "--json"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr + result.stdout
    flavours = json.loads(result.stdout)
    assert sorted(flavours) == ["delta", "sotw"]
    for flavour, runs in flavours.items():
        check_flavour(flavour, runs)


def check_flavour(flavour, runs):
    for name, run in runs.items():
        name = (flavour, name)
        report = run["report"]
        assert report["synced"] == report["streams"] == 100, (name, report)
        assert report["failed"] == 0, (name, report)
        change = report["change"]
        # Every simulated sidecar sees every service here, so each change concerns all of them.
        assert change["affectedStreams"] == 100, (name, change)
        assert change["bytesPerAffectedStream"] > 0, (name, change)
        assert run["serverAfter"]["rssMegabytes"] > 0, run
    baseline = runs["virtualService"]["rawTCPBaseline"]
    assert baseline["connections"] == 100 and baseline["bytesPerConnection"] > 0, baseline
    assert baseline["seconds"] > 0, baseline
    # An endpoint change sends endpoints only: far less than a route change.
    assert (runs["endpoint"]["report"]["change"]["bytesPerAffectedStream"]
            < runs["virtualService"]["report"]["change"]["bytesPerAffectedStream"])
