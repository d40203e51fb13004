"""A raw ADS (state of the world) client on grpcio + xds-protos, for poking the server directly."""

import queue
import threading
from typing import Iterable, Optional, Sequence, Tuple

import grpc
from envoy.config.core.v3 import base_pb2
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2

TYPE_PREFIX = "type.googleapis.com/"
CLUSTER = TYPE_PREFIX + "envoy.config.cluster.v3.Cluster"
ENDPOINTS = TYPE_PREFIX + "envoy.config.endpoint.v3.ClusterLoadAssignment"
LISTENER = TYPE_PREFIX + "envoy.config.listener.v3.Listener"
ROUTE = TYPE_PREFIX + "envoy.config.route.v3.RouteConfiguration"
SECRET = TYPE_PREFIX + "envoy.extensions.transport_sockets.tls.v3.Secret"

_END = object()


def discovery_request(type_url: str, names: Iterable[str] = (), node_id: Optional[str] = None,
                      version: str = "", nonce: str = "",
                      metadata: Optional[dict] = None) -> discovery_pb2.DiscoveryRequest:
    """`metadata` (string values, e.g. {"SERVICE_ACCOUNT": "x"}) goes into the node."""
    request = discovery_pb2.DiscoveryRequest(
        type_url=type_url, resource_names=list(names), version_info=version, response_nonce=nonce
    )
    if node_id is not None:
        request.node.CopyFrom(base_pb2.Node(id=node_id, cluster=node_id.split("~")[2] if node_id.count("~") == 3 else ""))
        for key, value in (metadata or {}).items():
            request.node.metadata.fields[key].string_value = value
    return request


class AdsClient:
    """One StreamAggregatedResources call. Requests go in with `send`; responses come out of
    `recv(timeout)`; `close()` half-closes; `wait_status(timeout)` returns (code, details) of
    the ended stream."""

    def __init__(self, address: str, root_certificates: Optional[bytes] = None,
                 metadata: Sequence[Tuple[str, str]] = ()):
        """Plaintext, or TLS verified against `root_certificates` (PEM) when given; `metadata`
        is sent with the call (e.g. ("authorization", "Bearer TOKEN"))."""
        options = [("grpc.enable_http_proxy", 0)]  # never a proxy from the environment
        if root_certificates is None:
            self.channel = grpc.insecure_channel(address, options=options)
        else:
            credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
            self.channel = grpc.secure_channel(address, credentials, options=options)
        self._requests: "queue.Queue" = queue.Queue()
        self._responses: "queue.Queue" = queue.Queue()
        stub = ads_pb2_grpc.AggregatedDiscoveryServiceStub(self.channel)
        self.call = stub.StreamAggregatedResources(self._request_iterator(), metadata=list(metadata) or None)
        self._reader = threading.Thread(target=self._read, name="ads-reader", daemon=True)
        self._reader.start()

    def _request_iterator(self):
        while True:
            item = self._requests.get()
            if item is _END:
                return
            yield item

    def _read(self) -> None:
        try:
            for response in self.call:
                self._responses.put(response)
        except grpc.RpcError:
            pass  # the status is read from the call itself
        finally:
            self._responses.put(_END)

    def send(self, request: discovery_pb2.DiscoveryRequest) -> None:
        self._requests.put(request)

    def recv(self, timeout: float = 10.0) -> Optional[discovery_pb2.DiscoveryResponse]:
        """The next response; None when the stream has ended. Raises queue.Empty on timeout."""
        item = self._responses.get(timeout=timeout)
        if item is _END:
            self._responses.put(_END)  # stay ended for later calls
            return None
        return item

    def close(self) -> None:
        """Half-close: no more requests."""
        self._requests.put(_END)

    def wait_status(self, timeout: float = 10.0):
        """(grpc.StatusCode, details) once the stream has ended."""
        self._reader.join(timeout)
        assert not self._reader.is_alive(), f"ADS stream still open after {timeout:g}s"
        return self.call.code(), self.call.details()

    def shutdown(self) -> None:
        self.close()
        self.call.cancel()
        self.channel.close()
        self._reader.join(5)

    def __enter__(self) -> "AdsClient":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
