"""Istio's own `samples/bookinfo/networking/bookinfo-gateway.yaml`, read from Istio's corpus as
it is, served to a real Envoy gateway that answers for /productpage. Bookinfo's productpage
service is a ServiceEntry added here, pointing at an upstream on loopback.

The Gateway has no `bind`, so as in Istio the gateway listens on 0.0.0.0:8080: the test needs
that port free on this machine (it says so if it is not)."""

import os
import socket
from pathlib import Path

import pytest

from harness import http_request, loopback_address, repo_root, service_entry

CORPUS = Path(os.environ.get("TRELLIS_ISTIO_CORPUS") or repo_root().parent / "shared" / "istio-corpus")
BOOKINFO_GATEWAY = CORPUS / "bookinfo" / "bookinfo-gateway.yaml"

# Istio's corpus is never copied into the repository; without it this test cannot run (a
# failure with CI=true, as for the other corpus suites).
if not BOOKINFO_GATEWAY.is_file():
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"Istio's corpus not found at {CORPUS} (set TRELLIS_ISTIO_CORPUS)")
    pytest.skip(f"Istio's corpus not found at {CORPUS} (set TRELLIS_ISTIO_CORPUS to its path): bookinfo gateway test "
                "not run", allow_module_level=True)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def test_bookinfo_gateway_answers_for_productpage(mesh_dir, start_trellis, start_envoy, start_upstream):
    assert _port_free(8080), "bookinfo-gateway.yaml listens on 0.0.0.0:8080, which is in use on this machine"
    productpage = start_upstream("productpage")
    mesh_dir.write_text("bookinfo-gateway.yaml", BOOKINFO_GATEWAY.read_text())
    mesh_dir.write("productpage.yaml", service_entry(
        "productpage", "productpage.default.svc.cluster.local", 9080, [("127.0.0.1", productpage.port)]))
    trellis = start_trellis(mesh_dir.path)
    ip = loopback_address()
    envoy = start_envoy(trellis.xds_address, name="istio-ingressgateway", namespace="istio-system", kind="router",
                        ip=ip, labels={"istio": "ingressgateway"}).wait_ready()

    def productpage_answers():
        response = http_request(f"{ip}:8080", "/productpage", host="bookinfo.example.test")
        assert response.status == 200 and response.upstream == "productpage", f"{response.status} {response.text[:200]}"
        return response

    response = envoy.wait_for(productpage_answers, what="/productpage through bookinfo-gateway")
    assert response.json()["path"] == "/productpage"
    assert http_request(f"{ip}:8080", "/api/v1/products/1", host="any").upstream == "productpage"
    # Paths the VirtualService does not list get 404 from the gateway itself.
    assert http_request(f"{ip}:8080", "/admin", host="any").status == 404
    assert [name for name in envoy.dynamic_listeners()] == ["0.0.0.0_8080"]
    assert "http.8080" in envoy.route_configs()
