"""A proxyless gRPC application for the end-to-end tests (run by `GrpcXdsClient`).

Reads GRPC_XDS_BOOTSTRAP like any grpcio program. Each stdin line is a JSON command
{"target": "xds:///HOST:PORT", "count": N, "metadata": [[KEY, VALUE], ...], "timeout": SECONDS};
each answer is one stdout line {"results": [...]}, one entry per call. Channels are kept per
target for the life of the process. Exits when stdin closes.
"""

import json
import sys

import grpc

METHOD = "/trellis.e2e.Echo/Who"


def main() -> None:
    channels = {}
    for line in sys.stdin:
        command = json.loads(line)
        target = command["target"]
        if target not in channels:
            # No proxy from the environment: everything is on loopback.
            channels[target] = grpc.insecure_channel(target, options=[("grpc.enable_http_proxy", 0)])
        call = channels[target].unary_unary(METHOD)
        metadata = [tuple(pair) for pair in command.get("metadata", [])]
        results = []
        for _ in range(command.get("count", 1)):
            try:
                answer = call(b"", timeout=command.get("timeout", 5.0), metadata=metadata)
                results.append({"ok": True, "server": answer.decode()})
            except grpc.RpcError as error:
                results.append({"ok": False, "code": error.code().name, "details": error.details()})
        print(json.dumps({"results": results}), flush=True)
    for channel in channels.values():
        channel.close()


if __name__ == "__main__":
    main()
