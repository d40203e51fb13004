"""Istio networking resources as plain dicts, for `MeshDir.write`. Each builder takes only what
the tests vary and spells out the rest the way a user's YAML would."""

from typing import Dict, Iterable, List, Optional, Sequence

API_VERSION = "networking.istio.io/v1"


def resource(kind: str, name: str, spec: dict, namespace: str = "default") -> dict:
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def port(number: int, name: str = "http", protocol: str = "HTTP") -> dict:
    """A ServiceEntry port."""
    return {"number": number, "name": name, "protocol": protocol}


def workload(address: str, ports: Optional[Dict[str, int]] = None, **labels: str) -> dict:
    """An inline WorkloadEntry: `address`, its port per service port name, and labels."""
    entry: dict = {"address": address}
    if ports:
        entry["ports"] = dict(ports)
    if labels:
        entry["labels"] = dict(labels)
    return entry


def mesh_service(
    name: str,
    host: str,
    ports: Sequence[dict],
    endpoints: Iterable[dict] = (),
    namespace: str = "default",
    resolution: str = "STATIC",
    location: str = "MESH_INTERNAL",
    export_to: Optional[List[str]] = None,
    workload_selector: Optional[Dict[str, str]] = None,
) -> dict:
    """A ServiceEntry with any number of ports and labelled endpoints (see `workload`), or
    selecting WorkloadEntries by `workload_selector` labels."""
    spec: dict = {"hosts": [host], "location": location, "resolution": resolution, "ports": list(ports)}
    endpoints = list(endpoints)
    if endpoints:
        spec["endpoints"] = endpoints
    if workload_selector:
        spec["workloadSelector"] = {"labels": dict(workload_selector)}
    if export_to is not None:
        spec["exportTo"] = export_to
    return resource("ServiceEntry", name, spec, namespace)


def destination_rule(
    name: str,
    host: str,
    subsets: Optional[Dict[str, Dict[str, str]]] = None,
    traffic_policy: Optional[dict] = None,
    namespace: str = "default",
) -> dict:
    """A DestinationRule; `subsets` maps each subset name to its labels."""
    spec: dict = {"host": host}
    if traffic_policy is not None:
        spec["trafficPolicy"] = traffic_policy
    if subsets:
        spec["subsets"] = [{"name": subset, "labels": labels} for subset, labels in subsets.items()]
    return resource("DestinationRule", name, spec, namespace)


def destination(host: str, subset: Optional[str] = None, port: Optional[int] = None,
                weight: Optional[int] = None) -> dict:
    """One entry of an http/tcp route's `route` list."""
    target: dict = {"host": host}
    if subset is not None:
        target["subset"] = subset
    if port is not None:
        target["port"] = {"number": port}
    entry: dict = {"destination": target}
    if weight is not None:
        entry["weight"] = weight
    return entry


def virtual_service(
    name: str,
    hosts: Sequence[str],
    http: Optional[List[dict]] = None,
    tcp: Optional[List[dict]] = None,
    namespace: str = "default",
    export_to: Optional[List[str]] = None,
    tls: Optional[List[dict]] = None,
) -> dict:
    """A VirtualService bound to the mesh (no `gateways`)."""
    spec: dict = {"hosts": list(hosts)}
    if http is not None:
        spec["http"] = http
    if tcp is not None:
        spec["tcp"] = tcp
    if tls is not None:
        spec["tls"] = tls
    if export_to is not None:
        spec["exportTo"] = export_to
    return resource("VirtualService", name, spec, namespace)


def sidecar(
    name: str,
    egress: Optional[List[dict]] = None,
    ingress: Optional[List[dict]] = None,
    outbound_policy: Optional[str] = None,
    workload_labels: Optional[Dict[str, str]] = None,
    namespace: str = "default",
) -> dict:
    """A Sidecar; `outbound_policy` is ALLOW_ANY or REGISTRY_ONLY."""
    spec: dict = {}
    if workload_labels:
        spec["workloadSelector"] = {"labels": dict(workload_labels)}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    if outbound_policy is not None:
        spec["outboundTrafficPolicy"] = {"mode": outbound_policy}
    return resource("Sidecar", name, spec, namespace)


def workload_group(name, labels, service_account=None, namespace="default"):
    """A WorkloadGroup whose template carries `labels` (and `service_account`), no ports."""
    template = {"labels": labels, "ports": {}}
    if service_account:
        template["serviceAccount"] = service_account
    return resource("WorkloadGroup", name, {"template": template}, namespace=namespace)
