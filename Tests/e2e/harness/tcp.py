"""A TCP echo upstream that names itself, and a one-shot TCP client."""

import socket
import socketserver
import ssl
import threading


class TcpEcho:
    """ThreadingTCPServer on HOST:0. Each connection reads one line (or up to EOF) and answers
    `NAME: LINE` (newline-terminated), then reads until the client half-closes, and closes.
    With `banner=True` it answers `NAME` at once instead, before reading anything: for clients
    whose first bytes are not a line (a TLS ClientHello) and that cannot half-close early.
    `connections` counts accepted connections."""

    def __init__(self, name: str, host: str = "127.0.0.1", port: int = 0, banner: bool = False):
        self.name = name
        self._lock = threading.Lock()
        self._connections = 0
        echo = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                with echo._lock:
                    echo._connections += 1
                if banner:
                    self.wfile.write(echo.name.encode() + b"\n")
                else:
                    line = self.rfile.readline().rstrip(b"\r\n")
                    self.wfile.write(echo.name.encode() + b": " + line + b"\n")
                self.wfile.flush()
                # Read the rest until the client closes its side: closing with unread input
                # would reset the connection and could lose the reply.
                try:
                    while self.rfile.read1(4096):
                        pass
                except ConnectionError:
                    pass

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server((host, port), Handler)
        self.host, self.port = self.server.server_address[:2]
        self.address = f"{self.host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name=f"tcp-echo-{name}", daemon=True)
        self._thread.start()

    @property
    def connections(self) -> int:
        with self._lock:
            return self._connections

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)


def tcp_exchange(host: str, port: int, line: str, timeout: float = 5.0) -> str:
    """Connects, sends `line` and a newline, half-closes, and returns everything received until
    the peer closes (stripped). Raises OSError when the connection fails or times out."""
    return tcp_send(host, port, line.encode() + b"\n", timeout).decode("utf-8", errors="replace").strip()


def tcp_send(host: str, port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Connects, sends `data`, half-closes, and returns everything received until the peer
    closes. Raises OSError when the connection fails or times out."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def tls_client_hello(server_name: str) -> bytes:
    """The first flight of a TLS client asking for `server_name` (SNI): enough for a proxy to
    route by SNI, without any certificate on either side."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname=server_name)
    try:
        client.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    assert hello, "no ClientHello produced"
    return hello


def tcp_first_line(host: str, port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Connects, sends `data` and returns the first line received (without the newline), then
    closes. For peers that speak first (`TcpEcho(banner=True)`) behind proxies that must see
    `data` before they connect upstream."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(data)
        received = b""
        while b"\n" not in received:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
    return received.split(b"\n", 1)[0]
