"""Every translator golden file is configuration a real Envoy 1.40 accepts.

The golden tests pin what Trellis generates; this checks that what it generates is valid: each
`Golden/CASE.json` becomes the static resources of a bootstrap, and `envoy --mode validate` must
accept it (it builds every listener, filter chain, route and cluster, and rejects what Envoy would
NACK). Cases for gRPC's own xDS client (`generator=grpc` in their `# proxy:` line) are not Envoy
configuration and are left to the gRPC tests.
"""

import json
import subprocess
from pathlib import Path

import pytest

from harness import repo_root
from harness.tls_upstream import issue, key_of, make_ca

GOLDEN = repo_root() / "Tests" / "XDSTranslatorTests" / "Golden"


def envoy_cases():
    cases = []
    for yaml_path in sorted(GOLDEN.glob("*.yaml")):
        proxy_line = next((line for line in yaml_path.read_text().splitlines() if line.startswith("# proxy:")), "")
        if "generator=grpc" not in proxy_line:
            cases.append(yaml_path.stem)
    return cases


def strip_type(resource: dict) -> dict:
    return {key: value for key, value in resource.items() if key != "@type"}


def bootstrap_for(golden: dict) -> dict:
    """The golden resources as static resources; what they fetch over ADS (endpoints, routes,
    secrets) is named but not needed for validation."""
    xds = {
        "name": "xds-grpc",
        "type": "STATIC",
        "connect_timeout": "1s",
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        },
        "load_assignment": {
            "cluster_name": "xds-grpc",
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {
                "socket_address": {"address": "127.0.0.1", "port_value": 1}}}}]}],
        },
    }
    return {
        "node": {"id": "sidecar~127.0.0.1~golden.default~default.svc.cluster.local", "cluster": "golden.default"},
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
        "dynamic_resources": {"ads_config": {
            "api_type": "GRPC", "transport_api_version": "V3",
            "grpc_services": [{"envoy_grpc": {"cluster_name": "xds-grpc"}}],
        }},
        "static_resources": {
            "clusters": [xds] + [strip_type(c) for c in golden.get("CDS", [])],
            "listeners": [strip_type(l) for l in golden.get("LDS", [])],
            "secrets": [strip_type(s) for s in golden.get("SDS", [])],
        },
    }


@pytest.fixture(scope="session")
def stand_in_files(tmp_path_factory) -> dict:
    """Throwaway files by the DataSource field that names them: a CA, and a certificate it
    signed with its key."""
    directory = tmp_path_factory.mktemp("stand-in")
    ca = make_ca(directory, "stand-in-ca")
    certificate = issue(directory, ca, "stand-in", ["stand-in.test"], client=True)
    return {"trusted_ca": ca, "certificate_chain": certificate, "private_key": key_of(certificate)}


def with_host_files(value, stand_ins: dict):
    """Certificate files a DestinationRule names live on the proxy's host, and Envoy loads them
    to validate: those this machine lacks become throwaway ones."""
    if isinstance(value, list):
        return [with_host_files(item, stand_ins) for item in value]
    if not isinstance(value, dict):
        return value
    result = {}
    for key, item in value.items():
        if isinstance(item, dict) and set(item) == {"filename"} and not Path(item["filename"]).exists():
            item = {"filename": str(stand_ins[key])}
        result[key] = with_host_files(item, stand_ins)
    return result


@pytest.mark.parametrize("case", envoy_cases())
def test_envoy_accepts_golden_configuration(case, envoy_bin, tmp_path, stand_in_files):
    golden = with_host_files(json.loads((GOLDEN / f"{case}.json").read_text()), stand_in_files)
    config = tmp_path / f"{case}.json"
    config.write_text(json.dumps(bootstrap_for(golden)))
    result = subprocess.run(
        [str(envoy_bin), "--mode", "validate", "-c", str(config), "--log-level", "error"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, f"Envoy rejects {case}.json:\n{result.stdout}{result.stderr}"


def test_every_golden_case_has_its_expected_output():
    cases = {p.stem for p in GOLDEN.glob("*.yaml")}
    assert cases, f"no golden cases in {GOLDEN}"
    assert {p.stem for p in GOLDEN.glob("*.json")} == cases, "every CASE.yaml needs its CASE.json"
