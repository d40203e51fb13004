"""`trellis proxy-status` (and `GET /api/proxies`) against a real server: real Envoys are SYNCED
and keep serving while a raw xDS client NACKs; only that client shows NACKED, with its message."""

import json

from harness import AdsClient, discovery_request, eventually, free_port, http_get, run_trellis, service_entry
from harness.ads import CLUSTER

HOST = "echo.mesh.test"


def proxy_status(server, *args):
    return run_trellis(["proxy-status", *args, "--server", server.http_url,
                        "--token-file", server.data_dir / "admin-token"])


def test_a_nacking_client_is_nacked_alone_while_envoys_stay_synced(mesh_dir, start_trellis, start_envoy, start_upstream):
    upstream = start_upstream("echo")
    port = free_port()
    mesh_dir.write("echo.yaml", service_entry("echo", HOST, port, [(upstream.host, upstream.port)]))
    server = start_trellis(mesh_dir.path)
    envoy = start_envoy(server.xds_address, name="client")
    envoy.wait_ready()

    def serves():
        response = http_get(f"http://127.0.0.1:{port}/", host_header=HOST, timeout=5.0)
        assert response.status == 200 and response.upstream == "echo", response.status

    envoy.wait_for(serves, what="traffic through the Envoy")

    def rows():
        listed = proxy_status(server, "-o", "json")
        assert listed.returncode == 0, listed.stderr
        return {proxy["node"]: proxy for proxy in json.loads(listed.stdout)["proxies"]}

    def envoy_synced():
        row = rows()[envoy.node_id]
        assert row["kind"] == "sidecar" and row["api"] == "sotw", row
        for name in ("CDS", "LDS", "EDS", "RDS"):
            assert row["types"][name]["status"] == "SYNCED", (name, row["types"])
            assert row["types"][name]["sentVersion"] == row["types"][name]["ackedVersion"]
        assert row["types"]["SDS"]["status"] == "NOT SENT", row["types"]  # plaintext: no identity
        return row

    eventually(envoy_synced, what="the Envoy SYNCED")

    nacker = "sidecar~127.0.0.77~nacker.default~default.svc.cluster.local"
    with AdsClient(server.xds_address) as ads:
        ads.send(discovery_request(CLUSTER, node_id=nacker))
        response = ads.recv()
        nack = discovery_request(CLUSTER, nonce=response.nonce)
        nack.error_detail.message = "cluster outbound|9080||echo.mesh.test: unsupported field"
        ads.send(nack)

        def nacked():
            row = rows()[nacker]
            assert row["types"]["CDS"]["status"] == "NACKED", row["types"]
            assert row["types"]["CDS"]["nack"] == "cluster outbound|9080||echo.mesh.test: unsupported field"
            assert "ackedVersion" not in row["types"]["CDS"]

        eventually(nacked, what="the raw client NACKED")
        envoy_synced()
        serves()
        table = proxy_status(server)
        assert table.returncode == 0, table.stderr
        lines = table.stdout.splitlines()
        assert lines[0].split()[:5] == ["NAME", "KIND", "IDENTITY", "CDS", "LDS"], lines[0]
        assert any(line.startswith(envoy.node_id) and "NACKED" not in line for line in lines), table.stdout
        assert f"{nacker} CDS NACKED: cluster outbound|9080||echo.mesh.test: unsupported field" in table.stdout

    # A closed stream leaves the list.
    def gone():
        assert nacker not in rows(), "still listed"

    eventually(gone, what="the raw client gone from proxy-status")
