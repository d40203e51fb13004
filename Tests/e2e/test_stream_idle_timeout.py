"""A proxy that stops reading must neither hold the server nor delay anyone else: its stream is
ended after --stream-idle-timeout (the server lets go of it; when the proxy reads again it finds
the stream over and reconnects, as Envoy does), while a real Envoy on the same server keeps
getting every change at once."""

import re
import time

from harness import free_port, http_get, node_id, service_entry
from harness.ads import CLUSTER, discovery_request
from harness.stuck_client import StuckClient

HOST = "echo.mesh.test"


def fillers(count: int) -> list:
    """Enough services that one CDS response is far larger than what HTTP/2 buffers for a stream."""
    return [service_entry(f"filler-{i}", f"filler-{i}.mesh.test", 20000 + i, [(f"10.20.{i // 250}.{i % 250 + 1}", 80)])
            for i in range(count)]


def test_a_stream_that_reads_nothing_is_closed_and_delays_no_one(
        mesh_dir, start_trellis, start_envoy, start_upstream):
    a, b = start_upstream("A"), start_upstream("B")
    port = free_port("127.0.0.1")
    mesh_dir.write("echo.yaml", service_entry("echo", HOST, port, [(a.host, a.port)]))
    mesh_dir.write("fillers.yaml", *fillers(400))
    server = start_trellis(mesh_dir.path, extra_args=("--stream-idle-timeout", "2s"))
    envoy = start_envoy(server.xds_address, name="client")
    envoy.wait_ready()

    def answers(name: str) -> None:
        response = http_get(f"http://127.0.0.1:{port}/", host_header=HOST, timeout=5)
        assert response.status == 200 and response.upstream == name, (response.status, response.upstream)

    envoy.wait_for(lambda: answers("A"), timeout=30, what="traffic to A")

    stuck = StuckClient(server.xds_address, discovery_request(
        CLUSTER, node_id=node_id("127.0.0.9", "stuck")))
    try:
        # A change of clusters (the stuck stream's next write, which cannot go out) and of
        # endpoints: the Envoy follows at once.
        changed_at = time.monotonic()
        mesh_dir.write("more.yaml", *fillers(401)[400:])
        mesh_dir.write("echo.yaml", service_entry("echo", HOST, port, [(b.host, b.port)]))
        envoy.wait_for(lambda: answers("B"), timeout=10, what="traffic to B after the change")
        assert time.monotonic() - changed_at < 10

        server.wait_for_log(re.compile(r"stuck.*read nothing for .*--stream-idle-timeout"), timeout=20)
        assert not stuck.ended.is_set()
        stuck.start_reading()
        assert stuck.ended.wait(timeout=10), "the server did not end the stream that read nothing"
        assert stuck.how == "trailers", stuck.how
        server.check_alive()
        answers("B")
    finally:
        stuck.close()
