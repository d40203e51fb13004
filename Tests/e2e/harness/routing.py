"""A small mesh for routing tests: one `trellis serve`, one sidecar Envoy, and a service with two
labelled versions, rewritten as a whole on every `apply`."""

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from .envoy import Envoy
from .httpclient import Response
from .istio import destination_rule, mesh_service, port, virtual_service, workload
from .mesh import MeshDir
from .ports import free_port
from .traffic import http_request
from .trellis import TrellisServer
from .upstream import Upstream

ROUTING_HOST = "echo.routing.test"
VERSION_SUBSETS = {"v1": {"version": "v1"}, "v2": {"version": "v2"}}


@dataclass
class RoutingMesh:
    """`trellis serve`, one sidecar Envoy (INTERCEPTION_MODE=NONE: its outbound listener binds
    127.0.0.1:PORT) and the service `echo.routing.test:PORT` with two endpoints: upstream A
    labelled version=v1 and B labelled version=v2. `apply` writes the whole config (service,
    DestinationRule, VirtualService, `extra` documents) in one atomic write."""

    mesh: MeshDir
    a: Upstream
    b: Upstream
    port: int
    trellis: Optional[TrellisServer] = None
    envoy: Optional[Envoy] = None
    extra: List[dict] = field(default_factory=list)
    host: str = ROUTING_HOST
    config_file: str = "routing.yaml"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cluster(self, subset: str = "") -> str:
        return f"outbound|{self.port}|{subset}|{self.host}"

    def service(self) -> dict:
        return mesh_service("echo", self.host, [port(self.port)], [
            workload(self.a.host, {"http": self.a.port}, version="v1"),
            workload(self.b.host, {"http": self.b.port}, version="v2"),
        ])

    def apply(self, http: Optional[List[dict]] = None, subsets: Optional[Dict[str, Dict[str, str]]] = None,
              traffic_policy: Optional[dict] = None) -> None:
        """Writes the service, a DestinationRule (`subsets`, default v1/v2, and
        `traffic_policy`) and, if `http` is given, a VirtualService with those http routes."""
        documents = [self.service(), destination_rule(
            "echo", self.host, VERSION_SUBSETS if subsets is None else subsets, traffic_policy)]
        if http is not None:
            documents.append(virtual_service("echo", [self.host], http=http))
        self.mesh.write(self.config_file, *documents, *self.extra)

    def get(self, path: str = "/", headers: Optional[Dict[str, str]] = None, timeout: float = 5.0,
            host: Optional[str] = None, method: str = "GET") -> Response:
        """One request through the sidecar's outbound listener (Host: the service, by default)."""
        assert self.envoy is not None
        self.envoy.check_alive()
        return http_request(self.address, path, host=host or self.host, headers=headers, method=method,
                            timeout=timeout)

    def answers(self, count: int, path: str = "/", headers: Optional[Dict[str, str]] = None) -> Counter:
        """`count` requests: how many each upstream answered with 200 (by name), and how many
        got each other status (by status code)."""
        result: Counter = Counter()
        for _ in range(count):
            response = self.get(path, headers)
            result[response.upstream if response.status == 200 and response.upstream else response.status] += 1
        return result

    def route_names(self) -> List[str]:
        assert self.envoy is not None
        config = self.envoy.route_configs().get(str(self.port), {})
        return [route.get("name", "") for vh in config.get("virtual_hosts", []) for route in vh.get("routes", [])]

    def wait_route(self, name: str, timeout: float = 20.0) -> None:
        """Until Envoy has a route called `name` (a VirtualService http route's `name`) in the
        route configuration of the port: the config that contains it has been applied."""
        assert self.envoy is not None

        def present() -> None:
            names = self.route_names()
            assert name in names, f"route {name!r} not in Envoy's route config {self.port}: {names}"

        self.envoy.wait_for(present, timeout=timeout, what=f"route {name!r} in Envoy")

    def assert_envoy_accepted_everything(self) -> None:
        """No configuration this test pushed was rejected (NACKed) by the Envoy."""
        assert self.trellis is not None
        rejected = [line for line in self.trellis.logs().splitlines() if re.search(r"\bNACK\b", line)]
        assert not rejected, "Envoy rejected configuration:\n" + "\n".join(rejected[:5])

    @classmethod
    def start(cls, mesh_dir: MeshDir, start_trellis: Callable, start_envoy: Callable,
              start_upstream: Callable) -> "RoutingMesh":
        """Writes the service (subsets v1 and v2, no VirtualService), starts trellis and the
        Envoy, and returns once requests have reached both A and B."""
        mesh = cls(mesh_dir, start_upstream("A"), start_upstream("B"), free_port("127.0.0.1"))
        mesh.apply()
        mesh.trellis = start_trellis(mesh_dir.path)
        mesh.envoy = start_envoy(mesh.trellis.xds_address, name="client").wait_ready()
        seen = set()

        def both_serve() -> None:
            response = mesh.get()
            assert response.status == 200, f"{response.status} {response.text[:200]}"
            seen.add(response.upstream)
            assert seen == {"A", "B"}, f"reached {sorted(seen)} so far"

        mesh.envoy.wait_for(both_serve, timeout=30, what="traffic to A and B")
        return mesh


def http_route(name: str, *destinations: dict, match: Optional[List[dict]] = None, **extra) -> dict:
    """A VirtualService http route called `name` (Envoy's route gets that name); `extra` adds
    fields such as fault, retries, timeout, rewrite, redirect, headers, mirror."""
    result: dict = {"name": name}
    if match is not None:
        result["match"] = match
    if destinations:
        result["route"] = list(destinations)
    result.update(extra)
    return result


def uri_prefix(path: str) -> List[dict]:
    """An http route `match` on a path prefix."""
    return [{"uri": {"prefix": path}}]


def share(counts: Counter, key) -> float:
    """The fraction of all counted answers that were `key`."""
    return counts[key] / sum(counts.values())
