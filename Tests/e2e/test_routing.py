"""Istio routing and resilience, end to end: VirtualService and DestinationRule YAML -> `trellis
serve` -> a real Envoy (INTERCEPTION_MODE=NONE) -> real HTTP and TCP upstreams on loopback.

Each test asserts what a client of the sidecar sees. A test syncs on its config having reached
Envoy (the route or listener it wrote shows up in Envoy's config dump, by name) and only then
counts answers, so chance can never make a stale config look right.
"""

import time
from collections import Counter
from typing import Dict, List

from harness import (
    BackgroundTraffic,
    Envoy,
    destination,
    destination_rule,
    free_port,
    mesh_service,
    port,
    tcp_exchange,
    virtual_service,
    workload,
)
from harness.routing import ROUTING_HOST as HOST
from harness.routing import VERSION_SUBSETS as SUBSETS
from harness.routing import RoutingMesh, http_route, share, uri_prefix
from tcp_fixtures import start_tcp_echo  # noqa: F401 - a fixture

# Envoy's timers run on its own clock with millisecond granularity and may fire a few ms
# before the client's clock says the duration has passed.
TIMER_SLACK = 0.02



# --- 1. header-based routing to subsets --------------------------------------------------------


def test_header_match_routes_to_subset_v2_and_the_rest_to_v1(routing: RoutingMesh):
    routing.apply(http=[
        http_route("canary", destination(HOST, "v2"), match=[{"headers": {"x-canary": {"exact": "yes"}}}]),
        http_route("stable", destination(HOST, "v1")),
    ])
    routing.wait_route("canary")

    assert routing.answers(20, headers={"x-canary": "yes"}) == Counter(B=20)
    assert routing.answers(20) == Counter(A=20)
    # Exact means exact: another value, or the header's name as a prefix, is not a match.
    assert routing.answers(10, headers={"x-canary": "yesplease"}) == Counter(A=10)
    assert routing.answers(10, headers={"x-canary-not": "yes"}) == Counter(A=10)


# --- 2. weighted split -------------------------------------------------------------------------


def test_weighted_split_sends_the_configured_share_to_each_subset(routing: RoutingMesh):
    routing.apply(http=[http_route("split", destination(HOST, "v1", weight=80), destination(HOST, "v2", weight=20))])
    routing.wait_route("split")

    counts = routing.answers(400)
    assert set(counts) <= {"A", "B"}, f"not every request was answered 200 by A or B: {counts}"
    # 20% of 400 has a standard deviation of 2 points; +-8 points is 4 of them, yet far from
    # an even split (50%) or no split (0%, 100%).
    assert 0.12 <= share(counts, "B") <= 0.28, f"v2 got {share(counts, 'B'):.1%} of {counts}, expected ~20%"


# --- 3. fault injection ------------------------------------------------------------------------


def test_fault_abort_and_delay(routing: RoutingMesh):
    routing.apply(http=[
        http_route("abort-all", destination(HOST, "v1"), match=uri_prefix("/abort"),
                   fault={"abort": {"httpStatus": 418, "percentage": {"value": 100}}}),
        http_route("abort-half", destination(HOST, "v1"), match=uri_prefix("/flaky"),
                   fault={"abort": {"httpStatus": 503, "percentage": {"value": 50}}}),
        http_route("delay", destination(HOST, "v1"), match=uri_prefix("/slow"),
                   fault={"delay": {"fixedDelay": "500ms", "percentage": {"value": 100}}}),
        http_route("plain", destination(HOST, "v1")),
    ])
    routing.wait_route("plain")

    # Every request aborted with the configured status, none reaching the upstream.
    before = routing.a.request_count
    assert routing.answers(20, "/abort") == Counter({418: 20})
    assert routing.a.request_count == before, "an aborted request reached the upstream"

    # Half aborted: 50% of 200 has a standard deviation of 3.5 points; +-15 points is > 4.
    counts = routing.answers(200, "/flaky")
    assert set(counts) <= {"A", 503}, counts
    assert 0.35 <= share(counts, 503) <= 0.65, f"{share(counts, 503):.1%} aborted of {counts}, expected ~50%"

    # Delayed, then answered by the upstream.
    for _ in range(3):
        started = time.monotonic()
        response = routing.get("/slow")
        elapsed = time.monotonic() - started
        assert response.status == 200 and response.upstream == "A", (response.status, response.text[:200])
        assert elapsed >= 0.5 - TIMER_SLACK, f"delayed request took only {elapsed:.3f}s"
    assert routing.answers(5, "/other") == Counter(A=5)


# --- 4. retries --------------------------------------------------------------------------------


def test_retries_recover_a_flaky_upstream(routing: RoutingMesh):
    routing.apply(http=[
        http_route("retried", destination(HOST, "v1"), match=uri_prefix("/retry"),
                   retries={"attempts": 3, "retryOn": "5xx"}),
        http_route("retried-on-503", destination(HOST, "v1"), match=uri_prefix("/code"),
                   retries={"attempts": 2, "retryOn": "503"}),
        http_route("default-retries", destination(HOST, "v1")),
    ])
    routing.wait_route("default-retries")
    a = routing.a

    def get(path: str, fail: int, status: int = 503):
        a.fail_next(fail, status)
        before = a.request_count
        response = routing.get(path)
        return response.status, a.request_count - before

    # retryOn 5xx, 3 attempts: two failures are hidden from the client...
    assert get("/retry", fail=2) == (200, 3)
    # ...four are not (the first try and three retries all fail).
    assert get("/retry", fail=5) == (503, 4)
    assert get("/retry", fail=1, status=500) == (200, 2)
    # A status code in retryOn retries just that code.
    assert get("/code", fail=2) == (200, 3)
    assert get("/code", fail=1, status=500) == (500, 1)
    # Istio's default policy (no `retries`) does not retry a 503 answered by the upstream.
    assert get("/", fail=1) == (503, 1)
    a.fail_next(0)


# --- 5. per-route timeout ----------------------------------------------------------------------


def test_route_timeout_answers_504_after_the_timeout(routing: RoutingMesh):
    routing.apply(http=[
        http_route("impatient", destination(HOST, "v1"), match=uri_prefix("/impatient"), timeout="500ms"),
        http_route("patient", destination(HOST, "v1"), timeout="30s"),
    ])
    routing.wait_route("patient")
    routing.a.delay(2.0)

    started = time.monotonic()
    response = routing.get("/impatient", timeout=10)
    elapsed = time.monotonic() - started
    assert response.status == 504, (response.status, response.text[:200])
    assert 0.5 - TIMER_SLACK <= elapsed < 1.8, f"504 after {elapsed:.3f}s; timeout 0.5s, upstream delay 2s"

    started = time.monotonic()
    response = routing.get("/patient", timeout=10)
    elapsed = time.monotonic() - started
    assert response.status == 200 and response.upstream == "A", (response.status, response.text[:200])
    assert elapsed >= 2.0, elapsed


# --- 6. outlier detection ----------------------------------------------------------------------


def _host_health(envoy: Envoy, cluster: str) -> Dict[str, dict]:
    for status in envoy.clusters().get("cluster_statuses", []):
        if status.get("name") == cluster:
            return {
                f"{h['address']['socket_address']['address']}:{h['address']['socket_address']['port_value']}":
                    h.get("health_status", {})
                for h in status.get("host_statuses", [])
            }
    raise AssertionError(f"no cluster {cluster} in /clusters")


def test_outlier_detection_ejects_the_failing_endpoint(routing: RoutingMesh):
    routing.apply(traffic_policy={"outlierDetection": {
        "consecutive5xxErrors": 2, "interval": "1s", "baseEjectionTime": "5m", "maxEjectionPercent": 50}})

    def has_outlier_detection() -> None:
        cluster = routing.envoy.dynamic_clusters()[routing.cluster()]
        assert "outlier_detection" in cluster, cluster

    routing.envoy.wait_for(has_outlier_detection, what="outlier detection on the cluster")
    routing.b.respond_with(503)

    # Until B is ejected some answers are its 503s; afterwards A answers everything.
    def only_a() -> None:
        assert routing.answers(10) == Counter(A=10)

    routing.envoy.wait_for(only_a, timeout=20, what="only A answering")
    failed = sum(1 for r in routing.b.requests if r["status"] == 503)
    assert failed <= 6, f"B failed {failed} requests; it should be ejected after 2 consecutive 5xx"
    assert routing.answers(40) == Counter(A=40)
    health = _host_health(routing.envoy, routing.cluster())
    assert health[routing.b.address].get("failed_outlier_check") is True, health
    assert not health[routing.a.address].get("failed_outlier_check"), health


# --- 7. redirect and rewrite -------------------------------------------------------------------


def test_redirect_and_rewrite(routing: RoutingMesh):
    routing.apply(http=[
        http_route("moved", match=[{"uri": {"exact": "/old"}}],
                   redirect={"uri": "/new", "authority": "elsewhere.test"}),
        http_route("found", match=uri_prefix("/temporary"), redirect={"uri": "/tmp", "redirectCode": 302}),
        http_route("rewritten", destination(HOST, "v2"), match=uri_prefix("/api/"),
                   rewrite={"uri": "/v2/", "authority": "backend.internal"}),
        http_route("plain", destination(HOST, "v1")),
    ])
    routing.wait_route("plain")
    before = routing.a.request_count + routing.b.request_count

    moved = routing.get("/old")
    assert moved.status == 301, (moved.status, moved.text[:200])
    assert moved.headers.get("location") == "http://elsewhere.test/new", moved.headers
    found = routing.get("/temporary/page")
    assert found.status == 302, (found.status, found.text[:200])
    assert found.headers.get("location") == f"http://{HOST}/tmp", found.headers
    assert routing.a.request_count + routing.b.request_count == before, "a redirect reached an upstream"

    rewritten = routing.get("/api/items?id=7")
    assert rewritten.status == 200 and rewritten.upstream == "B", (rewritten.status, rewritten.text[:200])
    seen = rewritten.json()
    assert seen["path"] == "/v2/items?id=7", seen
    assert seen["headers"]["host"] == "backend.internal", seen["headers"]

    plain = routing.get("/api")  # no trailing slash: not the rewrite's prefix
    assert plain.upstream == "A" and plain.json()["path"] == "/api", plain.text[:200]
    assert plain.json()["headers"]["host"] == HOST


# --- 8. TCP routing ----------------------------------------------------------------------------

TCP_HOST = "tcp.routing.test"


def test_tcp_routes_pick_subsets_and_split_by_weight(routing: RoutingMesh, start_tcp_echo):
    t1, t2 = start_tcp_echo("T1"), start_tcp_echo("T2")
    tcp_port = free_port("127.0.0.1")
    cluster = f"outbound|{tcp_port}|{{}}|{TCP_HOST}"
    service = mesh_service("tcp-echo", TCP_HOST, [port(tcp_port, "tcp", "TCP")], [
        workload(t1.host, {"tcp": t1.port}, version="v1"),
        workload(t2.host, {"tcp": t2.port}, version="v2"),
    ])
    rule = destination_rule("tcp-echo", TCP_HOST, SUBSETS)

    def answer() -> str:
        routing.envoy.check_alive()
        reply = tcp_exchange("127.0.0.1", tcp_port, "hello")
        name, _, echoed = reply.partition(": ")
        assert echoed == "hello", f"TCP reply {reply!r}"
        return name

    def wait_listener_for(*clusters: str) -> None:
        def routes_to() -> None:
            listener = routing.envoy.dynamic_listeners().get(f"127.0.0.1_{tcp_port}")
            assert listener is not None, f"no listener 127.0.0.1_{tcp_port}"
            text = str(listener)
            for name in clusters:
                assert name in text, f"listener does not route to {name}: {listener}"

        routing.envoy.wait_for(routes_to, what=f"TCP listener routing to {clusters}")

    def by_subset(subset: str) -> dict:
        return {"match": [{"port": tcp_port}], "route": [destination(TCP_HOST, subset)]}

    # All to v2.
    routing.extra = [service, rule, virtual_service("tcp-echo", [TCP_HOST], tcp=[by_subset("v2")])]
    routing.apply()
    wait_listener_for(cluster.format("v2"))
    assert Counter(answer() for _ in range(20)) == Counter(T2=20)

    # A match on another port does not apply; the next route (to v1) does.
    other = {"match": [{"port": tcp_port + 1}], "route": [destination(TCP_HOST, "v2")]}
    routing.extra = [service, rule, virtual_service("tcp-echo", [TCP_HOST], tcp=[other, by_subset("v1")])]
    routing.apply()
    wait_listener_for(cluster.format("v1"))
    assert Counter(answer() for _ in range(20)) == Counter(T1=20)

    # Weighted 75/25: 25% of 200 has a standard deviation of 3 points; +-12 points is 4.
    split = {"route": [destination(TCP_HOST, "v1", weight=75), destination(TCP_HOST, "v2", weight=25)]}
    routing.extra = [service, rule, virtual_service("tcp-echo", [TCP_HOST], tcp=[split])]
    routing.apply()
    wait_listener_for(cluster.format("v1"), cluster.format("v2"))
    counts = Counter(answer() for _ in range(200))
    assert set(counts) <= {"T1", "T2"}, counts
    assert 0.13 <= share(counts, "T2") <= 0.37, f"v2 got {share(counts, 'T2'):.1%} of {counts}, expected ~25%"
    # HTTP on the other port is untouched.
    assert routing.get().status == 200


# --- 9. config changes under traffic -----------------------------------------------------------


def test_moving_traffic_to_a_new_subset_loses_no_request(routing: RoutingMesh):
    """Each step routes everything to a subset that did not exist before (so its cluster is new)
    and drops the previous subset (so its cluster goes away) in the same edit. Envoy must never
    see the route before the new cluster has endpoints, nor lose the old cluster while routes
    still use it. A last edit changes the cluster in use."""
    routing.apply(subsets={"start": {"version": "v1"}}, http=[http_route("to-start", destination(HOST, "start"))])
    routing.wait_route("to-start")
    assert routing.answers(10) == Counter(A=10)

    steps = [("blue", "v2", "B"), ("green", "v1", "A"), ("teal", "v2", "B"), ("ruby", "v1", "A")]
    with BackgroundTraffic(lambda: routing.get(timeout=10), name="steady-traffic") as traffic:
        traffic.wait_for_requests(20)
        for subset, version, upstream in steps:
            routing.apply(subsets={subset: {"version": version}},
                          http=[http_route(f"to-{subset}", destination(HOST, subset))])
            routing.wait_route(f"to-{subset}")
            mark = traffic.count() + 1  # the request in flight may have taken the old route
            traffic.wait_for_requests(21)
            recent = Counter(o.upstream for o in traffic.outcomes[mark:])
            assert recent == Counter({upstream: recent[upstream]}), \
                f"after moving to {subset}: answers {recent}, expected only {upstream}"
        # A cluster in use that changes (a new traffic policy) is re-warmed by Envoy, endpoints
        # and all, while the old version keeps serving.
        routing.apply(subsets={"ruby": {"version": "v1"}},
                      traffic_policy={"connectionPool": {"http": {"maxRequestsPerConnection": 1}}},
                      http=[http_route("to-ruby-again", destination(HOST, "ruby"))])
        routing.wait_route("to-ruby-again")
        traffic.wait_for_requests(20)
        outcomes = traffic.stop()

    failures = [o for o in outcomes if o.status != 200]
    assert not failures, f"{len(failures)} of {len(outcomes)} requests failed during the edits: {failures[:5]}"
    assert len(outcomes) >= 100, f"only {len(outcomes)} requests were sent"
    # The removed subsets' clusters are gone once nothing routes to them.
    routing.envoy.wait_for(
        lambda: _assert_no_clusters(routing, ["start", "blue", "green", "teal"]), what="old subset clusters removed")


def _assert_no_clusters(routing: RoutingMesh, subsets: List[str]) -> None:
    names = set(routing.envoy.dynamic_clusters())
    left = [routing.cluster(s) for s in subsets if routing.cluster(s) in names]
    assert not left, f"clusters still present: {left}"
