"""Gateways for the tests: Istio Gateway resources, Kubernetes TLS Secrets made from
certificates generated at test time (see tls_upstream.make_ca / issue), and an HTTPS client that
reports which certificate the gateway presented."""

import base64
import json
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from .istio import resource
from .tls_upstream import key_of

GATEWAY_NAMESPACE = "istio-system"


def tls_secret(name: str, certificate: Optional[Path] = None, ca: Optional[Path] = None,
               namespace: str = GATEWAY_NAMESPACE, key: Optional[Path] = None) -> dict:
    """A `kubernetes.io/tls` Secret: `tls.crt`/`tls.key` from `certificate` and its key (or
    `key`), `ca.crt` from `ca`."""
    data: Dict[str, str] = {}

    def encoded(path: Path) -> str:
        return base64.b64encode(Path(path).read_bytes()).decode()

    if certificate is not None:
        data["tls.crt"] = encoded(certificate)
        data["tls.key"] = encoded(key or key_of(certificate))
    if ca is not None:
        data["ca.crt"] = encoded(ca)
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
            "type": "kubernetes.io/tls", "data": data}


def server(port: int, name: str, protocol: str, hosts: Sequence[str], bind: Optional[str] = None,
           tls: Optional[dict] = None) -> dict:
    entry: dict = {"port": {"number": port, "name": name, "protocol": protocol}, "hosts": list(hosts)}
    if bind:
        entry["bind"] = bind
    if tls:
        entry["tls"] = tls
    return entry


def gateway(name: str, servers: List[dict], selector: Optional[Dict[str, str]] = None,
            namespace: str = GATEWAY_NAMESPACE) -> dict:
    return resource("Gateway", name, {"selector": selector or {"istio": "ingressgateway"}, "servers": servers},
                    namespace)


def bound_virtual_service(name: str, hosts: Sequence[str], gateways: Sequence[str], http: Optional[List[dict]] = None,
                          tls: Optional[List[dict]] = None, namespace: str = "default") -> dict:
    spec: dict = {"hosts": list(hosts), "gateways": list(gateways)}
    if http is not None:
        spec["http"] = http
    if tls is not None:
        spec["tls"] = tls
    return resource("VirtualService", name, spec, namespace)


@dataclass
class HTTPSResponse:
    status: int
    headers: Dict[str, str]
    body: bytes
    #: The certificate the server presented: its serial (lower-case hex) and subject CN.
    serial: str
    common_name: str

    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    @property
    def upstream(self) -> Optional[str]:
        """The `upstream` a harness upstream names in its JSON answer (for BackgroundTraffic)."""
        try:
            return self.json().get("upstream")
        except ValueError:
            return None


def https_get(address: str, sni: str, ca: Path, path: str = "/", client_cert: Optional[Path] = None,
              timeout: float = 5.0, host: Optional[str] = None) -> HTTPSResponse:
    """One HTTP/1.1 GET over TLS to `address` (HOST:PORT) with SNI `sni`, verifying the server
    against `ca` (and that it is valid for `sni`); presents `client_cert` (its key next to it)
    when given. TLS or connection failures raise (ssl.SSLError / OSError)."""
    hostname, _, port = address.rpartition(":")
    context = ssl.create_default_context(cafile=str(ca))
    if client_cert is not None:
        context.load_cert_chain(str(client_cert), str(key_of(client_cert)))
    with socket.create_connection((hostname, int(port)), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname=sni) as tls:
            peer = tls.getpeercert()
            request = f"GET {path} HTTP/1.1\r\nHost: {host or sni}\r\nConnection: close\r\n\r\n"
            tls.sendall(request.encode())
            data = b""
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        raise OSError(f"no HTTP response over TLS: {data[:200]!r}")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    subject = dict(item for rdn in peer.get("subject", ()) for item in rdn)
    return HTTPSResponse(status, headers, body, peer["serialNumber"].lower(), subject.get("commonName", ""))


def _dechunk(body: bytes) -> bytes:
    result = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        result += rest[:size]
        body = rest[size + 2:]
    return result
