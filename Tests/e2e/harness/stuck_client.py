"""An ADS client that opens a stream and then does not read its responses: raw HTTP/2 on a
socket, announcing a stream window of 0 and granting nothing until `start_reading()`, so the
server can send it headers but not one byte of data. It watches the socket for the stream's end."""

import socket
import struct
import threading
from typing import Optional

from envoy.service.discovery.v3 import discovery_pb2

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 6, 7, 8
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
INITIAL_WINDOW_SIZE = 0x4
ADS_PATH = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"


def _frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def _literal(name: str, value: str) -> bytes:
    """HPACK literal header field without indexing, new name, no Huffman (RFC 7541 6.2.2)."""
    def string(text: str) -> bytes:
        data = text.encode()
        assert len(data) < 127
        return bytes([len(data)]) + data
    return b"\x00" + string(name) + string(value)


class StuckClient:
    def __init__(self, address: str, request: discovery_pb2.DiscoveryRequest):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.ended = threading.Event()
        self.how: Optional[str] = None
        headers = b"".join(_literal(n, v) for n, v in [
            (":method", "POST"), (":scheme", "http"), (":path", ADS_PATH), (":authority", address),
            ("content-type", "application/grpc"), ("te", "trailers")])
        message = request.SerializeToString()
        self.sock.sendall(
            PREFACE
            + _frame(SETTINGS, 0, 0, struct.pack(">HI", INITIAL_WINDOW_SIZE, 0))
            + _frame(HEADERS, END_HEADERS, 1, headers)
            + _frame(DATA, 0, 1, b"\x00" + struct.pack(">I", len(message)) + message))
        self._reader = threading.Thread(target=self._read, name="stuck-client", daemon=True)
        self._reader.start()

    def _read_exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _read(self) -> None:
        self.sock.settimeout(None)
        try:
            while True:
                header = self._read_exactly(9)
                length = int.from_bytes(header[:3], "big")
                kind, flags = header[3], header[4]
                stream = int.from_bytes(header[5:9], "big") & 0x7FFFFFFF
                payload = self._read_exactly(length)
                if kind == SETTINGS and not flags & ACK:
                    self.sock.sendall(_frame(SETTINGS, ACK, 0))
                elif kind == PING and not flags & ACK:
                    self.sock.sendall(_frame(PING, ACK, 0, payload))
                elif kind == RST_STREAM and stream == 1:
                    return self._end("RST_STREAM")
                elif kind == HEADERS and stream == 1 and flags & END_STREAM:
                    return self._end("trailers")
                elif kind == GOAWAY:
                    return self._end("GOAWAY")
        except (OSError, EOFError):
            self._end("connection closed")

    def start_reading(self) -> None:
        """Opens the stream's and the connection's windows wide: what the server queued flows."""
        increment = struct.pack(">I", 2**31 - 1 - 65535)
        self.sock.sendall(_frame(WINDOW_UPDATE, 0, 0, increment)
                          + _frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 2**31 - 1)))

    def _end(self, how: str) -> None:
        if self.how is None:
            self.how = how
        self.ended.set()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
