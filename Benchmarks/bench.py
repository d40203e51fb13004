#!/usr/bin/env python3
"""Times `trellis validate` and `trellis translate` on istiod's own xDS benchmark configs and
prints a markdown table. Run through `Benchmarks/run`, which builds the release binary first.

For every template (rendered by render.py for each size; a template whose size does not change
the config runs once): load+validate is the fastest of a few `trellis validate` runs, wall clock,
process start included (the "process start" line below the table is that cost on an empty file);
translation is `trellis translate --repeat N` for Istio's benchmark sidecar (IP 1.1.1.1,
namespace default, label istio.io/benchmark=true, REDIRECT), which times only the translation
in-process; resources are counted from its JSON output; peak RSS is that process's (load,
validate, N translations, JSON output), from GNU time. Standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import render  # noqa: E402

# Istio's benchmark proxy (pilot/pkg/xds/bench_test.go): a sidecar at 1.1.1.1 in namespace
# default, labelled istio.io/benchmark=true; every template gives it a service at that IP. Configs
# with Gateways are translated for a gateway (router) with the same address and labels, which
# their Gateways select, as Istio's benchmark does.
NODE_IDS = {
    "sidecar": "sidecar~1.1.1.1~v0.default~default.svc.cluster.local",
    "router": "router~1.1.1.1~gateway.default~default.svc.cluster.local",
}
NODE_METADATA = ["NAMESPACE=default", "LABELS=istio.io/benchmark=true", "INTERCEPTION_MODE=REDIRECT"]

# Issue 8's translation target.
TARGET_CONFIG, TARGET_SERVICES, TARGET_MS = "virtualservice", 1000, 50.0

VALIDATE_RUNS = 3
TIMEOUT = 1800
_TIMING = re.compile(r"translated (\d+) times: mean ([\d.]+) ms, min ([\d.]+) ms per translation")


@dataclass
class Row:
    config: str
    services: str
    resources: str = ""
    validate_ms: str = ""
    translate_ms: str = ""
    rss_mb: str = ""
    notes: List[str] = field(default_factory=list)
    translate_mean: Optional[float] = None


@dataclass
class Run:
    seconds: float
    code: int
    max_rss_kb: int
    stdout: str
    stderr: str


# Peak RSS comes from GNU time when there is one. A child's own rusage (wait4) is the fallback
# only: Linux carries a forked child's high-water mark across exec, so a child of a large
# Python process reports at least the parent's size.
def _has_gnu_time() -> bool:
    try:
        return subprocess.run(["/usr/bin/time", "-f", "%M", "-o", os.devnull, "true"],
                              capture_output=True, timeout=10).returncode == 0
    except OSError:
        return False


GNU_TIME = _has_gnu_time()
RSS_SOURCE = "GNU time (/usr/bin/time)" if GNU_TIME else "wait4 rusage (may include the Python parent's size)"


def run(argv: List[str]) -> Run:
    """Runs argv to completion; wall time and the child's peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r") as rss_file:
        command = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *argv] if GNU_TIME else argv
        start = time.perf_counter()
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
        watchdog = threading.Timer(TIMEOUT, os.killpg, (process.pid, signal.SIGKILL))
        watchdog.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            watchdog.cancel()
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if seconds >= TIMEOUT:
            raise SystemExit(f"bench: `{' '.join(argv)}` took more than {TIMEOUT}s")
        if GNU_TIME:
            # "Command exited with non-zero status N" may come first; the number is last.
            rss_kb = int(rss_file.read().split()[-1])
        else:
            # Linux reports ru_maxrss in KiB, macOS in bytes.
            rss_kb = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
        out.seek(0)
        err.seek(0)
        return Run(seconds, process.returncode, rss_kb, out.read().decode(), err.read().decode())


def count_errors(diagnostics: str) -> Tuple[int, str]:
    errors = [line for line in diagnostics.splitlines() if line and ": warning: " not in line]
    return len(errors), (errors[0] if errors else "")


def translate_args(trellis: str, config: Path, repeat: int, kind: str = "sidecar") -> List[str]:
    args = [trellis, "translate", str(config), "--node-id", NODE_IDS[kind], "--repeat", str(repeat)]
    for item in NODE_METADATA:
        args += ["--metadata", item]
    return args


def measure(trellis: str, name: str, services: Optional[int], config: Path, budget: float, kind: str = "sidecar") -> Row:
    row = Row(name, str(services) if services is not None else "fixed")
    if kind == "router":
        row.notes.append("for a gateway (router) proxy")
    validations = [run([trellis, "validate", str(config)]) for _ in range(VALIDATE_RUNS)]
    row.validate_ms = f"{min(v.seconds for v in validations) * 1000:.0f}"
    errors, first = count_errors(validations[0].stdout)
    if validations[0].code != 0:
        row.notes.append(f"{errors} validation errors, the valid rest translated (first: {first.split(': ', 1)[-1]})")

    probe = run(translate_args(trellis, config, 2, kind))
    timing = _TIMING.search(probe.stderr)
    if not timing:
        raise SystemExit(f"bench: {name}: translate printed no timing (exit {probe.code}):\n{probe.stderr[-2000:]}")
    repeat = max(3, min(100, round(budget / max(float(timing.group(2)) / 1000, 1e-6))))
    final = run(translate_args(trellis, config, repeat, kind))
    timing = _TIMING.search(final.stderr)
    if not timing or final.code not in (0, 1) or (final.code == 1) != (validations[0].code != 0):
        raise SystemExit(f"bench: {name}: translate exit {final.code}:\n{final.stderr[-2000:]}")
    mean, fastest = float(timing.group(2)), float(timing.group(3))
    row.translate_mean = mean
    row.translate_ms = f"{mean:.1f} (min {fastest:.1f}, n={repeat})"
    row.rss_mb = f"{final.max_rss_kb / 1024:.0f}"
    document: Dict[str, list] = json.loads(final.stdout)
    counts = {kind: len(items) for kind, items in document.items()}
    row.resources = f"{sum(counts.values())} ({', '.join(f'{k} {v}' for k, v in counts.items())})"
    return row


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"nproc {cpus}, {model}, {platform.system()} {platform.release()}"


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trellis", required=True, help="the trellis binary (a release build)")
    parser.add_argument("--templates", required=True, type=Path, help="istio-corpus/benchmarks")
    parser.add_argument("--sizes", default="100,1000", help="services per config (default 100,1000)")
    parser.add_argument("--only", help="comma-separated template names (default: all)")
    parser.add_argument("--budget", type=float, default=2.0,
                        help="seconds of translation to time per row (n = budget / one translation, 3..100)")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    templates = sorted(args.templates.glob("*.yaml"))
    if args.only:
        wanted = set(args.only.split(","))
        templates = [t for t in templates if t.stem in wanted]
    if not templates:
        raise SystemExit(f"bench: no templates in {args.templates}")

    rows: List[Row] = []
    with tempfile.TemporaryDirectory(prefix="trellis-bench-") as scratch:
        empty = Path(scratch) / "empty.yaml"
        empty.write_text("")
        startup = min(run([args.trellis, "validate", str(empty)]).seconds for _ in range(VALIDATE_RUNS))
        for template in templates:
            text = template.read_text()
            reason = render.skip_reason(text)
            if reason:
                rows.append(Row(template.stem, "–", notes=[f"skipped: {reason}"]))
                continue
            for services in sizes if render.uses_services(text) else [None]:
                config = Path(scratch) / f"{template.stem}-{services}.yaml"
                config.write_text(render.render(text, services if services is not None else 0))
                print(f"bench: {template.stem} {services or ''}", file=sys.stderr, flush=True)
                rows.append(measure(args.trellis, template.stem, services, config, args.budget, render.proxy_kind(text)))

    print(f"Date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}  ")
    print(f"Machine: {machine()}  ")
    print(f"Proxy: `--node-id {NODE_IDS['sidecar']}` (`{NODE_IDS['router']}` for configs with Gateways) "
          + " ".join(f"`--metadata {m}`" for m in NODE_METADATA) + "  ")
    print(f"Instances (WorkloadEntries) per service: {render.INSTANCES_PER_SERVICE}, as Istio's benchmark\n")
    print("| config | services | resources in the snapshot | load+validate ms | translate ms per proxy | peak RSS MB | notes |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r.config} | {r.services} | {r.resources} | {r.validate_ms} | {r.translate_ms} | {r.rss_mb} | {'; '.join(r.notes)} |")
    print(f"\nPeak RSS from {RSS_SOURCE}.  ")
    print(f"Process start (`trellis validate` of an empty file, included in load+validate): {startup * 1000:.0f} ms  ")
    target = next((r for r in rows if r.config == TARGET_CONFIG and r.services == str(TARGET_SERVICES)), None)
    if target and target.translate_mean is not None:
        verdict = "met" if target.translate_mean <= TARGET_MS else "NOT met"
        print(f"Target (issue 8): {TARGET_CONFIG} at {TARGET_SERVICES} services ≤ {TARGET_MS:.0f} ms per proxy: "
              f"{verdict} ({target.translate_mean:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
