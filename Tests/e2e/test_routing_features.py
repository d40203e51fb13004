"""More of Istio's routing and traffic policy, end to end through a real Envoy: header edits,
mirroring, DNS-resolved and Unix-socket endpoints, consistent hashing, connection-pool limits
and HTTP protocol options, match conditions, direct responses, CORS, TLS services told apart by
SNI, and tcp routes matched by destination subnet and source. Same mesh and sync rules as
test_routing.py.
"""

import json
import os
import shutil
import socketserver
import tempfile
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from typing import List

from harness import (
    destination,
    free_port,
    mesh_service,
    port,
    tcp_first_line,
    tls_client_hello,
    virtual_service,
    workload,
)
from harness.routing import ROUTING_HOST as HOST
from harness.routing import RoutingMesh, http_route, uri_prefix
from tcp_fixtures import start_tcp_echo  # noqa: F401 - a fixture



# --- headers, mirroring, DNS endpoints ---------------------------------------------------------


def test_request_and_response_headers_are_set_added_and_removed(routing: RoutingMesh):
    routing.apply(http=[
        http_route("edit-headers", destination(HOST, "v1"), match=uri_prefix("/edit"), headers={
            "request": {"set": {"x-set": "by-mesh"}, "add": {"x-added": "by-mesh"}, "remove": ["x-secret"]},
            "response": {"set": {"x-upstream": "mesh"}, "add": {"x-served": "sidecar"}, "remove": ["content-type"]},
        }),
        http_route("append-response", destination(HOST, "v1"), match=uri_prefix("/append"),
                   headers={"response": {"add": {"x-upstream": "mesh"}}}),
        http_route("plain", destination(HOST, "v1")),
    ])
    routing.wait_route("plain")
    sent = {"x-set": "by-client", "x-secret": "s3cr3t", "x-kept": "yes"}

    edited = routing.get("/edit", headers=sent)
    assert edited.status == 200 and edited.upstream == "A", (edited.status, edited.text[:200])
    seen = edited.json()["headers"]
    assert seen.get("x-set") == "by-mesh", seen
    assert seen.get("x-added") == "by-mesh", seen
    assert "x-secret" not in seen, seen
    assert seen.get("x-kept") == "yes", seen
    # `set` replaces the upstream's header, `add` adds one, `remove` drops one.
    assert edited.headers.get("x-upstream") == "mesh", edited.headers
    assert edited.headers.get("x-served") == "sidecar", edited.headers
    assert "content-type" not in edited.headers, edited.headers

    appended = routing.get("/append")
    assert appended.headers.get("x-upstream") == "A, mesh", appended.headers

    plain = routing.get("/", headers=sent)
    assert plain.json()["headers"].get("x-secret") == "s3cr3t"
    assert plain.headers.get("x-upstream") == "A" and "x-served" not in plain.headers, plain.headers


def test_destination_headers_apply_with_one_destination_and_in_a_split(routing: RoutingMesh):
    def to(subset: str, host: str) -> dict:
        target = destination(HOST, subset, weight=50)
        target["headers"] = {
            "request": {"set": {"x-picked": subset, "host": host}, "remove": ["x-secret"]},
            "response": {"add": {"x-destination": subset}},
        }
        return target

    lone = to("v1", "lone.example")
    del lone["weight"]
    routing.apply(http=[
        # The rule's own header edit comes first, so the destination's `set` wins.
        http_route("lone", lone, match=uri_prefix("/lone"), headers={"request": {"set": {"x-picked": "rule"}}}),
        http_route("split", to("v1", "v1.example"), to("v2", "v2.example"), match=uri_prefix("/split")),
        http_route("plain", destination(HOST, "v1")),
    ])
    routing.wait_route("lone")
    sent = {"x-secret": "s3cr3t"}

    response = routing.get("/lone", headers=sent)
    assert response.status == 200 and response.upstream == "A", (response.status, response.text[:200])
    seen = response.json()["headers"]
    assert seen.get("x-picked") == "v1" and seen.get("host") == "lone.example", seen
    assert "x-secret" not in seen, seen
    assert response.headers.get("x-destination") == "v1", response.headers

    # Each cluster of a weighted split carries its own edits and host rewrite.
    split = Counter()
    for _ in range(40):
        answer = routing.get("/split", headers=sent)
        assert answer.status == 200, (answer.status, answer.text[:200])
        subset = {"A": "v1", "B": "v2"}[answer.upstream]
        seen = answer.json()["headers"]
        assert seen.get("x-picked") == subset and seen.get("host") == f"{subset}.example", seen
        assert "x-secret" not in seen and answer.headers.get("x-destination") == subset, (seen, answer.headers)
        split[subset] += 1
    assert split["v1"] > 0 and split["v2"] > 0, split

    plain = routing.get("/", headers=sent)
    assert plain.json()["headers"].get("host") == HOST and "x-destination" not in plain.headers, plain.headers


def test_mirror_sends_a_copy_to_the_second_subset(routing: RoutingMesh):
    routing.apply(http=[http_route("mirrored", destination(HOST, "v1"), mirror={"host": HOST, "subset": "v2"})])
    routing.wait_route("mirrored")
    before = routing.b.request_count

    assert routing.answers(20, "/mirrored") == Counter(A=20)

    def all_mirrored() -> None:
        copies = [r for r in routing.b.requests[before:] if r["path"] == "/mirrored"]
        assert len(copies) == 20, f"B received {len(copies)} of 20 mirrored requests"
        # No "-shadow" suffix: the copy carries the service's own host.
        assert {r["headers"]["host"] for r in copies} == {HOST}, copies[0]["headers"]

    routing.envoy.wait_for(all_mirrored, what="mirrored copies at B")


def test_dns_service_resolves_localhost(routing: RoutingMesh, start_upstream):
    c = start_upstream("C")
    dns_host = "dns.routing.test"
    routing.extra = [mesh_service("by-dns", dns_host, [port(routing.port)], [workload("localhost", {"http": c.port})],
                                  resolution="DNS")]
    routing.apply()

    def via_dns() -> None:
        response = routing.get("/by-dns", host=dns_host)
        assert response.status == 200 and response.upstream == "C", (response.status, response.text[:200])

    routing.envoy.wait_for(via_dns, what=f"{dns_host} answered by C")
    cluster = routing.envoy.dynamic_clusters()[f"outbound|{routing.port}||{dns_host}"]
    assert cluster.get("type") == "STRICT_DNS", cluster
    assert Counter(routing.get(host=dns_host).upstream for _ in range(10)) == Counter(C=10)
    assert routing.get().upstream in {"A", "B"}


class _SocketUpstream:
    """An HTTP upstream on a Unix domain socket (a filesystem path, or with `@` Linux's
    abstract namespace) that answers every request with its name in X-Upstream."""

    def __init__(self, name: str, path: str):
        self.name = name
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body = json.dumps({"upstream": upstream.name}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Upstream", upstream.name)
                self.end_headers()
                self.wfile.write(body)

            def address_string(self) -> str:
                return "unix"

            def log_message(self, format, *args):  # noqa: A002 - quiet
                pass

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.server = Server("\0" + path[1:] if path.startswith("@") else path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_endpoints_on_unix_sockets_are_reached_and_network_only_ones_left_out(routing: RoutingMesh):
    """`unix:///path` and `unix://@name` endpoints become Envoy pipes; an endpoint with only a
    `network` (reachable only through that network's gateway) is left out rather than sent as
    an empty address Envoy would reject."""
    directory = tempfile.mkdtemp(prefix="trellis-uds-", dir="/tmp")
    abstract = f"@trellis-{os.getpid()}-{routing.port}"
    servers = [_SocketUpstream("S1", os.path.join(directory, "s1.sock")), _SocketUpstream("S2", abstract)]
    socket_host = "sockets.routing.test"
    try:
        routing.extra = [mesh_service("sockets", socket_host, [port(routing.port)], [
            {"address": f"unix://{os.path.join(directory, 's1.sock')}"},
            {"address": f"unix://{abstract}"},
            {"network": "remote"},
        ])]
        routing.apply()

        seen: Counter = Counter()

        def both_sockets() -> None:
            response = routing.get("/", host=socket_host)
            assert response.status == 200, (response.status, response.text[:200])
            seen[response.headers.get("x-upstream")] += 1
            assert set(seen) == {"S1", "S2"}, f"reached {sorted(seen)} so far"

        routing.envoy.wait_for(both_sockets, what="both socket endpoints answering")
        answers = Counter(routing.get("/", host=socket_host).headers.get("x-upstream") for _ in range(20))
        assert set(answers) <= {"S1", "S2"} and sum(answers.values()) == 20, answers
        assert routing.get().upstream in {"A", "B"}
    finally:
        for server in servers:
            server.close()
        shutil.rmtree(directory, ignore_errors=True)


# --- load balancing and circuit breaking -------------------------------------------------------


def test_consistent_hash_keeps_each_user_on_one_endpoint(routing: RoutingMesh):
    users = [f"user-{n}" for n in range(20)]

    def stickiness() -> None:
        first_answers = []
        for user in users:
            counts = routing.answers(5, headers={"x-user": user})
            assert len(counts) == 1 and set(counts) <= {"A", "B"}, f"{user} was answered by {counts}"
            first_answers.extend(counts)
        # 20 users all hashing to one of two endpoints would happen once in 500,000 runs.
        assert set(first_answers) == {"A", "B"}, f"all users went to {set(first_answers)}"

    # Without a VirtualService (the service's default route)...
    routing.apply(traffic_policy={"loadBalancer": {"consistentHash": {"httpHeaderName": "x-user"}}})
    routing.envoy.wait_for(
        lambda: _assert_equal(routing.envoy.dynamic_clusters()[routing.cluster()].get("lb_policy"), "RING_HASH"),
        what="ring hash cluster")
    # Envoy's workers take a new cluster a moment after the config dump shows it: a request in
    # between may still be balanced the old way, so stickiness is waited for, then kept.
    routing.envoy.wait_for(stickiness, what="each user on one endpoint")
    stickiness()
    # ...and with one.
    routing.apply(traffic_policy={"loadBalancer": {"consistentHash": {"httpHeaderName": "x-user"}}},
                  http=[http_route("hashed", destination(HOST))])
    routing.wait_route("hashed")
    routing.envoy.wait_for(stickiness, what="each user on one endpoint")
    stickiness()


def test_connection_pool_limits_overflow_with_503(routing: RoutingMesh):
    # One endpoint (subset v1 is A): Envoy gives each worker's pool to a host at least one
    # connection whatever the limit, so more hosts would blur the count.
    routing.apply(http=[http_route("to-v1", destination(HOST, "v1"))], traffic_policy={"connectionPool": {
        "tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}}})
    routing.wait_route("to-v1")
    thresholds = routing.envoy.dynamic_clusters()[routing.cluster("v1")]["circuit_breakers"]["thresholds"][0]
    assert thresholds.get("max_pending_requests") == 1 and thresholds.get("max_connections") == 1, thresholds

    routing.a.delay(1.0)
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: routing.get(timeout=20), range(8)))
    statuses = Counter(r.status for r in responses)
    assert set(statuses) <= {200, 503}, statuses
    overflowed = [r for r in responses if r.status == 503]
    # One connection (one per Envoy worker at most) and one pending request: most of 8
    # simultaneous requests overflow at once.
    assert 1 <= statuses[200] <= 4 and overflowed, statuses
    assert all(r.headers.get("x-envoy-overloaded") == "true" for r in overflowed), [r.headers for r in overflowed]


def test_connection_pool_http_options_reach_envoy_and_traffic_flows(routing: RoutingMesh):
    routing.apply(subsets={}, traffic_policy={"connectionPool": {"http": {
        "useClientProtocol": True, "maxRequestsPerConnection": 1, "idleTimeout": "30s"}}})

    def applied() -> None:
        options = routing.envoy.dynamic_clusters()[routing.cluster()].get("typed_extension_protocol_options", {})
        http = options.get("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", {})
        assert "use_downstream_protocol_config" in http, options
        assert http.get("common_http_protocol_options", {}).get("max_requests_per_connection") == 1, options

    routing.envoy.wait_for(applied, what="HTTP protocol options on the cluster")
    # One request per upstream connection, in the client's HTTP/1.1.
    before = routing.envoy.stats().get(f"cluster.{routing.cluster()}.upstream_cx_total", 0)
    assert set(routing.answers(10)) <= {"A", "B"}
    assert routing.envoy.stats()[f"cluster.{routing.cluster()}.upstream_cx_total"] - before >= 10


def _assert_equal(actual, expected) -> None:
    assert actual == expected, f"{actual!r} != {expected!r}"


# --- match conditions and direct responses -----------------------------------------------------


def _answer(name: str) -> dict:
    return {"directResponse": {"status": 200, "body": {"string": name}}}


def test_match_conditions_pick_the_first_route_that_matches(routing: RoutingMesh):
    routing.apply(http=[
        http_route("regex-path", match=[{"uri": {"regex": "/items/[0-9]+"}}], **_answer("regex-path")),
        http_route("any-case", match=[{"uri": {"prefix": "/Admin"}, "ignoreUriCase": True}], **_answer("any-case")),
        http_route("post-only", match=[{"method": {"exact": "POST"}}], **_answer("post-only")),
        http_route("query", match=[{"queryParams": {"debug": {"exact": "1"}}}], **_answer("query")),
        http_route("header-prefix", match=[{"headers": {"x-tenant": {"prefix": "acme-"}}}], **_answer("header-prefix")),
        http_route("not-internal", match=[{"uri": {"prefix": "/public"}, "withoutHeaders": {"x-internal": {"exact": "yes"}}}],
                   **_answer("not-internal")),
        http_route("other-client", match=[{"sourceLabels": {"app": "other"}}], **_answer("other-client")),
        http_route("fallback", destination(HOST, "v1")),
    ])
    routing.wait_route("fallback")

    def answered(path: str = "/", method: str = "GET", headers=None) -> str:
        response = routing.get(path, headers, method=method)
        assert response.status == 200, (path, method, headers, response.status, response.text[:200])
        return response.upstream or response.text

    assert answered("/items/42") == "regex-path"
    assert answered("/items/4x") == "A"  # the regex must match the whole path
    assert answered("/ADMIN/users") == "any-case" and answered("/admin") == "any-case"
    assert answered("/", "POST") == "post-only" and answered("/") == "A"
    assert answered("/?debug=1") == "query" and answered("/?debug=10") == "A"
    assert answered(headers={"x-tenant": "acme-east"}) == "header-prefix"
    assert answered(headers={"x-tenant": "east-acme-"}) == "A"
    assert answered("/public") == "not-internal"
    assert answered("/public", headers={"x-internal": "yes"}) == "A"
    # A match on other workloads' labels is not this proxy's route at all.
    assert "other-client" not in routing.route_names()

    # With no route that matches everything, a VirtualService answers the rest 404.
    routing.apply(http=[http_route("only-api", destination(HOST, "v1"), match=uri_prefix("/api"))])
    routing.wait_route("only-api")
    assert routing.get("/api/x").upstream == "A"
    assert routing.get("/elsewhere").status == 404


# --- CORS --------------------------------------------------------------------------------------


def test_cors_policy_answers_preflight_and_marks_allowed_origins(routing: RoutingMesh):
    routing.apply(http=[http_route("cors", destination(HOST, "v1"), corsPolicy={
        "allowOrigins": [{"exact": "https://app.example"}],
        "allowMethods": ["GET", "POST"],
        "allowHeaders": ["x-token"],
        "maxAge": "1h",
    })])
    routing.wait_route("cors")
    before = routing.a.request_count

    preflight = routing.get("/data", {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
                            method="OPTIONS")
    assert preflight.status == 200, (preflight.status, preflight.headers)
    assert preflight.headers.get("access-control-allow-origin") == "https://app.example", preflight.headers
    assert preflight.headers.get("access-control-allow-methods") == "GET,POST", preflight.headers
    assert preflight.headers.get("access-control-allow-headers") == "x-token", preflight.headers
    assert preflight.headers.get("access-control-max-age") == "3600", preflight.headers
    assert routing.a.request_count == before, "the sidecar answers preflight itself"

    allowed = routing.get("/data", headers={"Origin": "https://app.example"})
    assert allowed.upstream == "A"
    assert allowed.headers.get("access-control-allow-origin") == "https://app.example", allowed.headers
    other = routing.get("/data", headers={"Origin": "https://evil.example"})
    assert other.upstream == "A" and "access-control-allow-origin" not in other.headers, other.headers


# --- TLS routing by SNI ------------------------------------------------------------------------


def test_tls_services_sharing_a_port_are_told_apart_by_sni(routing: RoutingMesh, start_tcp_echo):
    """Two TLS services on one port of an explicit listener: only the SNI of the ClientHello
    says which one the client wants (Istio matches it against each service's host). The TCP
    upstreams here just name themselves; no TLS handshake needs to complete."""
    t1, t2 = start_tcp_echo("T1", banner=True), start_tcp_echo("T2", banner=True)
    tls_port = free_port()
    alpha, beta = "alpha.tls.test", "beta.tls.test"
    services = [
        mesh_service("alpha", alpha, [port(tls_port, "tls", "TLS")], [workload(t1.host, {"tls": t1.port})]),
        mesh_service("beta", beta, [port(tls_port, "tls", "TLS")], [workload(t2.host, {"tls": t2.port})]),
    ]

    def answers(sni: str, count: int) -> Counter:
        result: Counter = Counter()
        for _ in range(count):
            routing.envoy.check_alive()
            result[tcp_first_line("127.0.0.1", tls_port, tls_client_hello(sni)).decode(errors="replace")] += 1
        return result

    routing.extra = services
    routing.apply()
    routing.envoy.wait_for(lambda: _assert_equal(answers(beta, 3), Counter(T2=3)), what=f"{beta} answered by T2")
    assert answers(alpha, 10) == Counter(T1=10)
    assert answers(beta, 10) == Counter(T2=10)

    # A VirtualService tls route sends beta's SNI to alpha.
    routing.extra = services + [virtual_service("beta", [beta], tls=[
        {"match": [{"port": tls_port, "sniHosts": [beta]}], "route": [destination(alpha)]}])]
    routing.apply()
    routing.envoy.wait_for(lambda: _assert_equal(answers(beta, 3), Counter(T1=3)), what=f"{beta} answered by T1")
    assert answers(beta, 10) == Counter(T1=10)
    assert answers(alpha, 10) == Counter(T1=10)


# --- TCP routing by match conditions -----------------------------------------------------------


def test_tcp_route_matches_by_destination_subnet_and_source(routing: RoutingMesh, start_tcp_echo):
    """The proxy's listener is 127.0.0.1:PORT, so every connection's destination is 127.0.0.1:
    a tcp route for a subnet holding it takes the traffic, one for another subnet does not, and
    routes for other source namespaces or gateways never apply to this sidecar."""
    echoes = {name: start_tcp_echo(name, banner=True) for name in ("T1", "T2", "T3")}
    hosts = {name: f"{name.lower()}.tcp.test" for name in echoes}
    tcp_port = free_port()
    services = [
        mesh_service(name.lower(), hosts[name], [port(tcp_port, "tcp", "TCP")], [workload(e.host, {"tcp": e.port})])
        for name, e in echoes.items()
    ]
    main = hosts["T1"]

    def routed(local_subnet: str) -> List[dict]:
        return services + [virtual_service("t1", [main], tcp=[
            {"match": [{"sourceNamespace": "elsewhere"}], "route": [destination(hosts["T3"])]},
            {"match": [{"gateways": ["istio-system/egress"]}], "route": [destination(hosts["T3"])]},
            {"match": [{"destinationSubnets": ["10.0.0.0/8"]}], "route": [destination(hosts["T3"])]},
            {"match": [{"destinationSubnets": [local_subnet]}], "route": [destination(hosts["T2"])]},
            {"route": [destination(main)]},
        ])]

    def answers(count: int) -> Counter:
        result: Counter = Counter()
        for _ in range(count):
            routing.envoy.check_alive()
            result[tcp_first_line("127.0.0.1", tcp_port, b"hello\n").decode(errors="replace")] += 1
        return result

    routing.extra = routed("127.0.0.0/24")
    routing.apply()
    routing.envoy.wait_for(lambda: _assert_equal(answers(3), Counter(T2=3)), what="the subnet route answered by T2")
    assert answers(10) == Counter(T2=10)

    # The subnet no longer holds the destination: the route for any destination takes it.
    routing.extra = routed("127.0.1.0/24")
    routing.apply()
    routing.envoy.wait_for(lambda: _assert_equal(answers(3), Counter(T1=3)), what="the default tcp route answered by T1")
    assert answers(10) == Counter(T1=10)
    assert echoes["T3"].connections == 0
