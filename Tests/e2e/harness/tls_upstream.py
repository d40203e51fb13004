"""Upstreams that speak TLS, and the certificates for them, made with the openssl command line:
what a DestinationRule's `tls` (SIMPLE / MUTUAL) originates TLS to."""

import json
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import List, Optional, Sequence


def openssl(*args: str, cwd: Path) -> None:
    """Runs the openssl command line in `cwd`; fails the test with its stderr."""
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"openssl {' '.join(args)}: {result.stderr}"


def make_ca(directory: Path, name: str) -> Path:
    """A self-signed ECDSA P-256 CA: NAME-cert.pem and NAME-key.pem; returns the certificate."""
    directory.mkdir(parents=True, exist_ok=True)
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}-key.pem", cwd=directory)
    openssl("req", "-x509", "-new", "-key", f"{name}-key.pem", "-subj", f"/O=Trellis tests/CN={name}",
             "-days", "30", "-sha256", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", f"{name}-cert.pem", cwd=directory)
    return directory / f"{name}-cert.pem"


def issue(directory: Path, ca: Path, name: str, dns_names: Sequence[str] = (), client: bool = False) -> Path:
    """A leaf certificate NAME-cert.pem (key NAME-key.pem) signed by `ca` (its key next to it as
    CA-key.pem), CN=NAME, with the DNS names as subjectAltNames; for client or server use."""
    ca_key = key_of(ca)
    usage = "clientAuth" if client else "serverAuth"
    extensions = [f"extendedKeyUsage={usage}", "keyUsage=critical,digitalSignature"]
    if dns_names:
        extensions.append("subjectAltName=" + ",".join(f"DNS:{n}" for n in dns_names))
    (directory / f"{name}.ext").write_text("\n".join(extensions) + "\n")
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}-key.pem", cwd=directory)
    openssl("req", "-new", "-key", f"{name}-key.pem", "-subj", f"/O=Trellis tests/CN={name}",
             "-out", f"{name}.csr", cwd=directory)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
             "-days", "30", "-sha256", "-extfile", f"{name}.ext", "-out", f"{name}-cert.pem", cwd=directory)
    return directory / f"{name}-cert.pem"


def key_of(certificate: Path) -> Path:
    """The private key `make_ca` / `issue` wrote next to a certificate."""
    return certificate.with_name(certificate.name.replace("-cert.pem", "-key.pem"))


@dataclass
class TLSFiles:
    """What the tests hand out: the server's CA, the server certificate (for `server_names`),
    a client CA and a client certificate it signed, and an unrelated CA that signed neither."""

    server_ca: Path
    server_cert: Path
    client_ca: Path
    client_cert: Path
    other_ca: Path

    @property
    def client_key(self) -> Path:
        return key_of(self.client_cert)


def make_tls_files(directory: Path, server_names: Sequence[str], client_name: str = "sidecar-client") -> TLSFiles:
    server_ca = make_ca(directory, "server-ca")
    client_ca = make_ca(directory, "client-ca")
    return TLSFiles(
        server_ca=server_ca,
        server_cert=issue(directory, server_ca, "server", server_names),
        client_ca=client_ca,
        client_cert=issue(directory, client_ca, client_name, client=True),
        other_ca=make_ca(directory, "other-ca"),
    )


class TLSUpstream:
    """An HTTPS server on HOST:0 presenting `certificate`; with `client_ca` it requires a client
    certificate that CA signed (the handshake fails otherwise). Every request is answered 200 with
    JSON {"upstream": NAME, "path", "headers", "client": the client certificate's CN or null,
    "sni": the server name the client asked for}. `handshakes_failed` counts refused clients."""

    def __init__(self, name: str, certificate: Path, client_ca: Optional[Path] = None, host: str = "127.0.0.1"):
        self.name = name
        self._lock = threading.Lock()
        self.requests: List[dict] = []
        self.handshakes_failed = 0
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(certificate), str(key_of(certificate)))
        if client_ca is not None:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(str(client_ca))
        context.sni_callback = self._remember_sni
        self._context = context
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                peer = self.connection.getpeercert() or {}
                subject = dict(item for rdn in peer.get("subject", ()) for item in rdn)
                record = {
                    "upstream": upstream.name,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "client": subject.get("commonName"),
                    "sni": getattr(self.connection, "trellis_sni", None),
                }
                with upstream._lock:
                    upstream.requests.append(record)
                body = json.dumps(record).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args):  # noqa: A002 - quiet
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def finish_request(self, request, client_address) -> None:
                # The handshake runs in the connection's own thread, so a slow or refused
                # client never holds up the accept loop.
                try:
                    wrapped = upstream._context.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError):
                    with upstream._lock:
                        upstream.handshakes_failed += 1
                    return
                try:
                    super().finish_request(wrapped, client_address)
                finally:
                    try:
                        wrapped.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    wrapped.close()

        self.server = Server((host, 0), Handler)
        self.host, self.port = self.server.server_address[:2]
        self.address = f"{self.host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name=f"tls-upstream-{name}", daemon=True)
        self._thread.start()

    @staticmethod
    def _remember_sni(connection: ssl.SSLSocket, server_name: Optional[str], _context) -> None:
        # Called with the very socket the handler later sees as `self.connection`.
        connection.trellis_sni = server_name

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)
