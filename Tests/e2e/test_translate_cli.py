"""`trellis translate`: the offline answer to "what would this proxy be sent?". Output is Envoy
JSON of the snapshot `trellis serve` would build for the node the flags describe; the flags are
parsed like a real node's; bad flags fail in one line; invalid YAML is reported like `validate`."""

import json
from pathlib import Path
from typing import Dict, List

import pytest

from harness import repo_root, run_trellis

MESH = """\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: echo
  namespace: default
spec:
  hosts: [echo.example.mesh]
  ports:
  - {number: 8080, name: http, protocol: HTTP}
  resolution: STATIC
  endpoints:
  - address: 10.1.0.1
---
# Visible only to proxies in its own namespace.
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ledger
  namespace: shop
spec:
  hosts: [ledger.shop.mesh]
  exportTo: ["."]
  addresses: [240.0.0.9]
  ports:
  - {number: 9000, name: tcp, protocol: TCP}
  resolution: STATIC
  endpoints:
  - address: 10.1.0.2
"""

ECHO_CLUSTER = "outbound|8080||echo.example.mesh"
LEDGER_CLUSTER = "outbound|9000||ledger.shop.mesh"


def node(namespace: str = "default", ip: str = "10.0.0.5", kind: str = "sidecar") -> str:
    return f"{kind}~{ip}~client.{namespace}~{namespace}.svc.cluster.local"


def translate(trellis_bin, paths, node_id: str, *extra: str):
    return run_trellis(["translate", *paths, "--node-id", node_id, *extra], binary=trellis_bin)


def names(document: Dict[str, list], kind: str) -> List[str]:
    return [resource.get("name") or resource.get("cluster_name") for resource in document.get(kind, [])]


@pytest.fixture
def mesh(tmp_path) -> Path:
    path = tmp_path / "mesh.yaml"
    path.write_text(MESH)
    return path


def test_prints_the_resources_of_a_small_mesh_as_json(trellis_bin, mesh):
    result = translate(trellis_bin, [mesh], node(), "--metadata", "INTERCEPTION_MODE=NONE")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert set(document) == {"CDS", "EDS", "LDS", "RDS"}, document.keys()
    assert names(document, "CDS") == ["BlackHoleCluster", "PassthroughCluster", ECHO_CLUSTER]
    assert names(document, "EDS") == [ECHO_CLUSTER]
    assert names(document, "LDS") == ["127.0.0.1_8080"]
    assert names(document, "RDS") == ["8080"]
    endpoint = document["EDS"][0]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]
    assert endpoint == {"address": "10.1.0.1", "port_value": 8080}
    listener = document["LDS"][0]
    assert listener["@type"] == "type.googleapis.com/envoy.config.listener.v3.Listener"
    assert listener["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 8080}


def test_interception_mode_redirect_gives_the_virtual_listeners(trellis_bin, mesh):
    # REDIRECT is also what a node without INTERCEPTION_MODE gets, as in Istio.
    for flags in (["--metadata", "INTERCEPTION_MODE=REDIRECT"], []):
        result = translate(trellis_bin, [mesh], node(), *flags)
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        assert names(document, "LDS") == ["0.0.0.0_8080", "virtualInbound", "virtualOutbound"], flags
        assert "InboundPassthroughCluster" in names(document, "CDS")
        outbound = next(l for l in document["LDS"] if l["name"] == "virtualOutbound")
        assert outbound["address"]["socket_address"]["port_value"] == 15001


def test_namespace_decides_what_the_proxy_sees(trellis_bin, mesh):
    default = json.loads(translate(trellis_bin, [mesh], node("default"), "--metadata", "INTERCEPTION_MODE=NONE").stdout)
    assert LEDGER_CLUSTER not in names(default, "CDS")

    # From the node id's NAME.NAMESPACE ...
    shop = json.loads(translate(trellis_bin, [mesh], node("shop"), "--metadata", "INTERCEPTION_MODE=NONE").stdout)
    assert LEDGER_CLUSTER in names(shop, "CDS")
    assert "240.0.0.9_9000" not in names(shop, "LDS") and "127.0.0.1_9000" in names(shop, "LDS")

    # ... and NAMESPACE metadata wins over the id, as in Istio.
    overridden = translate(trellis_bin, [mesh], node("default"), "--metadata", "NAMESPACE=shop",
                           "--metadata", "INTERCEPTION_MODE=NONE")
    assert json.loads(overridden.stdout) == shop


def test_root_namespace_flag_chooses_the_mesh_wide_sidecar(trellis_bin, mesh, tmp_path):
    sidecar = tmp_path / "sidecar.yaml"
    sidecar.write_text(
        "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: default\n  namespace: mesh-root\n"
        "spec:\n  egress:\n  - hosts: [\"shop/*\"]\n")
    args = ["--metadata", "NAMESPACE=shop", "--metadata", "INTERCEPTION_MODE=NONE", "--type", "clusters"]
    unscoped = json.loads(translate(trellis_bin, [mesh, sidecar], node(), *args).stdout)
    assert ECHO_CLUSTER in names(unscoped, "CDS") and LEDGER_CLUSTER in names(unscoped, "CDS")
    scoped = json.loads(translate(trellis_bin, [mesh, sidecar], node(), *args, "--root-namespace", "mesh-root").stdout)
    assert ECHO_CLUSTER not in names(scoped, "CDS") and LEDGER_CLUSTER in names(scoped, "CDS")


def test_type_selects_one_kind_of_resource(trellis_bin, mesh):
    full = json.loads(translate(trellis_bin, [mesh], node()).stdout)
    for flag, key in [("clusters", "CDS"), ("endpoints", "EDS"), ("listeners", "LDS"), ("routes", "RDS")]:
        result = translate(trellis_bin, [mesh], node(), "--type", flag, "-o", "json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {key: full[key]}, flag


def test_secrets_are_not_available_offline_and_it_says_so(trellis_bin, mesh):
    result = translate(trellis_bin, [mesh], node(), "--type", "secrets")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {}
    assert "running server" in result.stderr, result.stderr


def test_directories_are_read_like_validate(trellis_bin, mesh, tmp_path):
    result = translate(trellis_bin, [tmp_path], node(), "--metadata", "INTERCEPTION_MODE=NONE")
    assert result.returncode == 0, result.stderr
    assert ECHO_CLUSTER in names(json.loads(result.stdout), "CDS")


def test_repeat_reports_timing_on_stderr_and_prints_the_same_json(trellis_bin, mesh):
    once = translate(trellis_bin, [mesh], node())
    repeated = translate(trellis_bin, [mesh], node(), "--repeat", "3")
    assert repeated.returncode == 0, repeated.stderr
    assert repeated.stdout == once.stdout
    lines = repeated.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("trellis: translated 3 times: mean "), lines
    assert " ms per translation (" in lines[0], lines


@pytest.mark.parametrize(
    "flags, mentions",
    [
        (["--node-id", "not-a-node-id"], "node id 'not-a-node-id'"),
        (["--node-id", "gateway~10.0.0.5~gw.default~default.svc.cluster.local"], "node id"),
        (["--node-id", node(), "--metadata", "INTERCEPTION_MODE=SIDEWAYS"], "INTERCEPTION_MODE 'SIDEWAYS'"),
        (["--node-id", node(), "--metadata", "no-equals-sign"], "--metadata 'no-equals-sign'"),
        (["--node-id", node(), "--metadata", "LABELS=app"], "--metadata 'LABELS=app'"),
        (["--node-id", node(), "--type", "everything"], "--type 'everything'"),
        (["--node-id", node(), "-o", "yaml"], "-o/--output 'yaml'"),
        (["--node-id", node(), "--repeat", "0"], "--repeat"),
        (["--node-id", node(), "--root-namespace", "Not_A_Namespace"], "--root-namespace"),
    ],
)
def test_bad_flags_fail_with_one_clear_line(trellis_bin, mesh, flags, mentions):
    result = run_trellis(["translate", mesh, *flags], binary=trellis_bin)
    assert result.returncode != 0, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("trellis: error: ") and mentions in lines[0], lines


def test_unknown_option_and_missing_node_id_are_usage_errors(trellis_bin, mesh):
    for args, mentions in [(["--node-id", node(), "--frobnicate"], "--frobnicate"), ([], "--node-id")]:
        result = run_trellis(["translate", mesh, *args], binary=trellis_bin)
        assert result.returncode != 0, result
        assert result.stdout == ""
        first = result.stderr.splitlines()[0]
        assert first.startswith("Error: ") and mentions in first, result.stderr


def test_missing_path_is_one_line(trellis_bin, tmp_path):
    missing = tmp_path / "nope.yaml"
    result = translate(trellis_bin, [missing], node())
    assert result.returncode == 1, result
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"trellis: error: cannot read '{missing}': no such file or directory"]


def test_invalid_yaml_is_reported_and_the_valid_rest_still_printed(trellis_bin, mesh, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: [oops\n")
    bad_route = tmp_path / "route.yaml"
    bad_route.write_text(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: echo\nspec:\n"
        "  hosts: [echo.example.mesh]\n  http:\n  - timeout: banana\n    route:\n"
        "    - destination: {host: echo.example.mesh}\n")
    result = translate(trellis_bin, [mesh, broken, bad_route], node(), "--metadata", "INTERCEPTION_MODE=NONE")
    assert result.returncode == 1, result
    diagnostics = result.stderr.splitlines()
    assert any(line.startswith(f"{broken}:") and "invalid YAML" in line for line in diagnostics), diagnostics
    assert any(line.startswith(f"{bad_route}:") and "spec.http[0].timeout" in line for line in diagnostics), diagnostics
    # The same lines `trellis validate` prints.
    validate = run_trellis(["validate", mesh, broken, bad_route], binary=trellis_bin)
    assert validate.returncode == 1
    assert validate.stdout.splitlines() == diagnostics
    # What is valid still translates: the rejected VirtualService leaves the default route.
    document = json.loads(result.stdout)
    assert ECHO_CLUSTER in names(document, "CDS")
    assert names(document, "RDS") == ["8080"]


def golden_settings(case: Path) -> Dict[str, str]:
    line = next(l for l in case.read_text().splitlines() if l.startswith("# proxy:"))
    return dict(pair.split("=", 1) for pair in line[len("# proxy:"):].split() if "=" in pair)


# Cases with mtls=true translate for a proxy with credentials, which translate never has.
GOLDEN_CASES = [
    case for case in sorted((repo_root() / "Tests" / "XDSTranslatorTests" / "Golden").glob("*.yaml"))
    if golden_settings(case).get("mtls") != "true"
]


def golden_flags(settings: Dict[str, str]) -> List[str]:
    """The translate flags for a golden case's `# proxy:` line (GoldenProxy's defaults: IP
    127.0.0.1, namespace default, interception NONE)."""
    namespace = settings.get("namespace", "default")
    kind, ip = settings.get("kind", "sidecar"), settings.get("ip", "127.0.0.1")
    flags = ["--node-id", f"{kind}~{ip}~golden.{namespace}~{namespace}.svc.cluster.local",
             "--metadata", f"INTERCEPTION_MODE={settings.get('interception', 'NONE')}"]
    if "labels" in settings:
        flags += ["--metadata", "LABELS=" + settings["labels"].replace(":", "=")]
    if "serviceAccount" in settings:
        flags += ["--metadata", f"SERVICE_ACCOUNT={settings['serviceAccount']}"]
    if settings.get("generator") == "grpc":
        flags += ["--metadata", "GENERATOR=grpc"]
    return flags


def test_most_golden_cases_need_no_credentials():
    assert len(GOLDEN_CASES) >= 15, GOLDEN_CASES


@pytest.mark.parametrize("case", GOLDEN_CASES, ids=lambda path: path.stem)
def test_translate_reproduces_the_golden_files(trellis_bin, case):
    """The flags, read like a real node's, give byte for byte what the translator's golden
    tests expect for the same proxy."""
    result = run_trellis(["translate", case, *golden_flags(golden_settings(case))], binary=trellis_bin)
    assert result.returncode == 0, result.stderr
    assert result.stdout == case.with_suffix(".json").read_text()
