#!/usr/bin/env python3
"""The mesh-scale benchmark: one `trellis serve` and `trellis loadgen`'s simulated Envoys.

The mesh is issue 16's reference: SERVICES services in NAMESPACES namespaces, each a
ServiceEntry with two endpoints (v1, v2), a DestinationRule with both subsets and a 90/10
VirtualService, one file per service. PROXIES simulated sidecars (REDIRECT), each the workload
behind one endpoint, connect over state-of-the-world ADS (`--ads delta`: incremental; `--ads both`:
both, side by side, against one server). Two runs per flavour, each with its own streams:

  1. initial sync, then one VirtualService change (svc-0's weights become 80/20);
  2. initial sync, then one endpoint added (svc-1 gets a third endpoint).

Prints a table (and --json the raw numbers). Standard library only.

    Benchmarks/scale.py --services 1000 --proxies 200 [--trellis .build/release/trellis]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_yaml(i: int, namespaces: int, weights=(90, 10), extra_endpoint=False) -> str:
    ns = f"ns-{i % namespaces}"
    host = f"svc-{i}.{ns}.svc.cluster.local"
    a, b = divmod(i, 250)
    endpoints = [(f"10.{a}.{b}.1", "v1"), (f"10.{a}.{b}.2", "v2")]
    if extra_endpoint:
        endpoints.append((f"10.{a}.{b}.3", "v1"))
    endpoint_lines = "".join(
        f"  - {{address: {ip}, labels: {{app: svc-{i}, version: {v}, security.istio.io/tlsMode: istio}}}}\n"
        for ip, v in endpoints)
    return (
        f"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {{name: svc-{i}, namespace: {ns}}}\n"
        f"spec:\n  hosts: [{host}]\n  location: MESH_INTERNAL\n  resolution: STATIC\n"
        f"  ports: [{{number: 8080, name: http, protocol: HTTP}}]\n  endpoints:\n{endpoint_lines}"
        f"---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: svc-{i}, namespace: {ns}}}\n"
        f"spec:\n  host: {host}\n  subsets:\n  - {{name: v1, labels: {{version: v1}}}}\n"
        f"  - {{name: v2, labels: {{version: v2}}}}\n"
        f"---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: svc-{i}, namespace: {ns}}}\n"
        f"spec:\n  hosts: [{host}]\n  http:\n  - route:\n"
        f"    - {{destination: {{host: {host}, subset: v1}}, weight: {weights[0]}}}\n"
        f"    - {{destination: {{host: {host}, subset: v2}}, weight: {weights[1]}}}\n")


def write_mesh(config: Path, services: int, namespaces: int) -> None:
    config.mkdir(parents=True, exist_ok=True)
    for i in range(services):
        (config / f"svc-{i}.yaml").write_text(service_yaml(i, namespaces))


class Server:
    def __init__(self, trellis: Path, work: Path):
        self.port = free_port()
        self.log = open(work / "trellis.log", "w")
        self.process = subprocess.Popen(
            [str(trellis), "serve", "--config-dir", str(work / "config"), "--data-dir", str(work / "data"),
             "--xds-address", f"127.0.0.1:{self.port}", "--secure-xds-address", f"127.0.0.1:{free_port()}",
             "--http-address", f"127.0.0.1:{free_port()}",
             "--log-level", "warning"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"trellis serve exited with {self.process.returncode}; see {work / 'trellis.log'}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("trellis serve did not start listening")
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def loadgen(trellis: Path, server: Server, work: Path, proxies: int, change_file: Path, change_to: Path,
            delta: bool, baseline: bool = False) -> dict:
    result = subprocess.run(
        [str(trellis), "loadgen", "--xds-address", f"127.0.0.1:{server.port}", "--config-dir", str(work / "config"),
         "--proxies", str(proxies), "--change-file", str(change_file), "--change-to", str(change_to),
         "--server-pid", str(server.process.pid), "--timeout", "600s"] + (["--delta"] if delta else [])
        + (["--raw-tcp-baseline"] if baseline else []),
        capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"trellis loadgen failed ({result.returncode}):\n{result.stderr}\n{result.stdout}")
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--proxies", type=int, default=200)
    parser.add_argument("--namespaces", type=int, default=20)
    parser.add_argument("--trellis", type=Path, default=Path(os.environ.get("TRELLIS_BIN", REPO / ".build/release/trellis")))
    parser.add_argument("--ads", choices=["sotw", "delta", "both"], default="sotw",
                        help="state-of-the-world streams, incremental (delta) ones, or both side by side")
    parser.add_argument("--json", action="store_true", help="print the raw measurements")
    args = parser.parse_args()
    flavours = ["sotw", "delta"] if args.ads == "both" else [args.ads]

    with tempfile.TemporaryDirectory(prefix="trellis-scale-") as tmp:
        work = Path(tmp)
        config = work / "config"
        write_mesh(config, args.services, args.namespaces)
        # Each flavour changes services of its own, so that its changes are real changes.
        for offset, _ in enumerate(flavours):
            route, endpoint = 2 * offset, 2 * offset + 1
            (work / f"svc-{route}-changed.yaml").write_text(service_yaml(route, args.namespaces, weights=(80, 20)))
            (work / f"svc-{endpoint}-changed.yaml").write_text(
                service_yaml(endpoint, args.namespaces, extra_endpoint=True))
        server = Server(args.trellis, work)
        runs = {}
        try:
            for offset, flavour in enumerate(flavours):
                route, endpoint = 2 * offset, 2 * offset + 1
                runs[flavour] = {
                    name: loadgen(args.trellis, server, work, args.proxies, config / f"svc-{n}.yaml",
                                  work / f"svc-{n}-changed.yaml", flavour == "delta", baseline=name == "virtualService")
                    for name, n in (("virtualService", route), ("endpoint", endpoint))
                }
        finally:
            server.stop()

    if args.json:
        print(json.dumps(runs, indent=2, sort_keys=True))
        return
    print(f"{args.services} services, {args.namespaces} namespaces, {args.proxies} proxies")
    print("| measure | " + " | ".join(flavours) + " |\n|---|" + "---|" * len(flavours))

    def row(name, cell):
        print(f"| {name} | " + " | ".join(cell(runs[flavour]) for flavour in flavours) + " |")

    row("initial sync of all proxies",
        lambda r: f"{r['virtualService']['report'].get('initialSyncSeconds', float('nan')):.2f} s")
    def ratio(r):
        initial = r["virtualService"]["report"].get("initialSyncSeconds")
        raw = (r["virtualService"].get("rawTCPBaseline") or {}).get("seconds")
        return f"{initial / raw:.0f}× ({raw * 1000:.0f} ms raw TCP)" if initial and raw else "–"
    row("initial sync ÷ a bare SwiftNIO server writing the same bytes", ratio)
    row("bytes per proxy, initial", lambda r: f"{r['virtualService']['report']['initialBytesPerStream'] / 1024:.0f} KiB")
    for name, key in (("one VirtualService change", "virtualService"), ("one endpoint added", "endpoint")):
        def change_cell(r, key=key):
            change = r[key]["report"].get("change") or {}
            return (f"{change.get('p50Seconds', 0) * 1000:.0f} / {change.get('p99Seconds', 0) * 1000:.0f} / "
                    f"{change.get('maxSeconds', 0) * 1000:.0f} ms ({change.get('affectedStreams', 0)} proxies, "
                    f"{change.get('bytesPerAffectedStream', 0):.0f} B each)")
        row(f"{name}: p50 / p99 / max until every affected proxy has it", change_cell)
    for name, key in (("after its first run", "virtualService"), ("after its second run", "endpoint")):
        def usage_cell(r, key=key):
            usage = r[key].get("serverAfter") or {}
            return f"{usage.get('rssMegabytes', 0):.0f} MB / {usage.get('cpuSeconds', 0):.1f} CPU-s"
        row(f"server RSS / CPU {name}", usage_cell)


if __name__ == "__main__":
    sys.exit(main())
