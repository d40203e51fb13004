"""A gRPC call's own deadline through the sidecar, end to end: as on Istio's routes, Envoy ends a
call when its `grpc-timeout` header runs out, and a VirtualService timeout caps that deadline
(`max_grpc_timeout`). Requests carry gRPC's content type; the upstream takes longer than any of
the deadlines, so whoever answers first shows which one applied."""

import time

from harness import destination
from harness.routing import ROUTING_HOST as HOST
from harness.routing import RoutingMesh, http_route, uri_prefix

# Envoy's timers run on its own clock with millisecond granularity and may fire a few ms
# before the client's clock says the duration has passed.
TIMER_SLACK = 0.02
UPSTREAM_DELAY = 3.0
GRPC = {"content-type": "application/grpc", "te": "trailers"}



def timed_call(routing: RoutingMesh, path: str, deadline: str = ""):
    headers = dict(GRPC, **({"grpc-timeout": deadline} if deadline else {}))
    started = time.monotonic()
    response = routing.get(path, headers=headers, method="POST", timeout=10)
    return response, time.monotonic() - started


def assert_ended_by_envoy(response) -> None:
    """Envoy ended the call itself, as a gRPC error, before the upstream answered."""
    assert response.upstream is None, f"the upstream answered: {response.text[:200]}"
    status = response.headers.get("grpc-status")
    assert response.status == 504 or (status is not None and status != "0"), (response.status, response.headers)


def test_grpc_deadline_is_honoured_up_to_the_route_timeout(routing: RoutingMesh):
    routing.apply(http=[
        http_route("capped", destination(HOST, "v1"), match=uri_prefix("/capped"), timeout="1500ms"),
        http_route("open", destination(HOST, "v1")),
    ])
    routing.wait_route("open")
    routing.a.delay(UPSTREAM_DELAY)

    # No route timeout (Istio's 0s): the call's own 500 ms deadline ends it.
    response, elapsed = timed_call(routing, "/open", deadline="500m")
    assert_ended_by_envoy(response)
    assert 0.5 - TIMER_SLACK <= elapsed < 1.5, f"ended after {elapsed:.3f}s; deadline 0.5s"

    # A deadline beyond the route timeout is cut to the route timeout.
    response, elapsed = timed_call(routing, "/capped", deadline="10S")
    assert_ended_by_envoy(response)
    assert 1.5 - TIMER_SLACK <= elapsed < UPSTREAM_DELAY, f"ended after {elapsed:.3f}s; route timeout 1.5s"

    # A shorter deadline still wins over the route timeout.
    response, elapsed = timed_call(routing, "/capped", deadline="300m")
    assert_ended_by_envoy(response)
    assert 0.3 - TIMER_SLACK <= elapsed < 1.5 - TIMER_SLACK, f"ended after {elapsed:.3f}s; deadline 0.3s"

    # No deadline and no route timeout: the call waits for the upstream.
    response, elapsed = timed_call(routing, "/open")
    assert response.status == 200 and response.upstream == "A", (response.status, response.text[:200])
    assert elapsed >= UPSTREAM_DELAY, elapsed
