"""A raw client of Trellis's stats sink (`envoy.service.metrics.v3.MetricsService`), for what
Envoy itself never sends: a stream without credentials, or without its node. Its message
classes come from our own Protos/ compiled into a private descriptor pool (xds-protos does not
ship the metrics service, and our base.proto must not clash with xds-protos' in the default one).
"""

from __future__ import annotations

import functools
import importlib.resources
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, Iterable, Optional, Sequence, Tuple

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from .paths import repo_root

METHOD = "/envoy.service.metrics.v3.MetricsService/StreamMetrics"


@functools.cache
def _classes() -> Dict[str, type]:
    protos = repo_root() / "Protos"
    include = importlib.resources.files("grpc_tools") / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.pb"
        subprocess.run(
            [sys.executable, "-m", "grpc_tools.protoc", f"-I{protos}", f"-I{include}", "--include_imports",
             f"--descriptor_set_out={out}", "envoy/service/metrics/v3/metrics_service.proto"],
            check=True, cwd=protos, capture_output=True)
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    return message_factory.GetMessages(list(files), pool=descriptor_pool.DescriptorPool())


def stats_message(node_id: Optional[str] = None, counters: Optional[Dict[str, float]] = None):
    """A StreamMetricsMessage: the identifier (when `node_id` is given) and counters by full
    stat name, as Envoy flushes them (deltas, tags not extracted)."""
    classes = _classes()
    message = classes["envoy.service.metrics.v3.StreamMetricsMessage"]()
    if node_id is not None:
        message.identifier.node.id = node_id
    for name, value in (counters or {}).items():
        family = message.envoy_metrics.add()
        family.name = name
        family.type = 0  # COUNTER
        family.metric.add().counter.value = value
    return message


def stream_stats(address: str, messages: Iterable, root_certificates: Optional[bytes] = None,
                 metadata: Sequence[Tuple[str, str]] = (), timeout: float = 10.0) -> Tuple[grpc.StatusCode, str]:
    """Sends `messages` on one stream, half-closes, and returns the stream's (code, details)."""
    response = _classes()["envoy.service.metrics.v3.StreamMetricsResponse"]
    options = [("grpc.enable_http_proxy", 0)]
    if root_certificates is None:
        channel = grpc.insecure_channel(address, options=options)
    else:
        channel = grpc.secure_channel(address, grpc.ssl_channel_credentials(root_certificates), options=options)
    with channel:
        call = channel.stream_unary(METHOD, request_serializer=lambda m: m.SerializeToString(),
                                    response_deserializer=response.FromString)
        try:
            call(iter(list(messages)), metadata=list(metadata) or None, timeout=timeout)
            return grpc.StatusCode.OK, ""
        except grpc.RpcError as error:
            return error.code(), error.details()
