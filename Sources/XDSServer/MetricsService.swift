public import EnvoyAPI
public import GRPCCore
public import Logging

/// Where stats streams go: admits a stream by the node of its first message (and the stream's
/// gRPC metadata, which carries credentials, as for ADS) and returns what receives its flushes.
public protocol ProxyStatsSink: Sendable {
    /// Throws an `RPCError` (e.g. unauthenticated for a bad token) that ends this stream only.
    func admit(node: Envoy_Config_Core_V3_Node, metadata: Metadata) async throws -> any ProxyStatsReceiver
}

/// One admitted stream's flushes, in order.
public protocol ProxyStatsReceiver: Sendable {
    func receive(_ families: [Io_Prometheus_Client_MetricFamily])
}

/// `envoy.service.metrics.v3.MetricsService`: the stats sink (`envoy.stat_sinks.metrics_service`)
/// every bootstrap points at the control plane, on the same ports and credentials as xDS. Envoy
/// opens one client stream and flushes into it forever; it expects no answer.
public struct MetricsService: Envoy_Service_Metrics_V3_MetricsService.ServiceProtocol {
    private let sink: any ProxyStatsSink
    private let closer: StreamCloser
    private let logger: Logger

    /// `closer` ends the open streams at shutdown (they never end by themselves).
    public init(sink: any ProxyStatsSink, closer: StreamCloser, logger: Logger) {
        self.sink = sink
        self.closer = closer
        self.logger = logger
    }

    public func streamMetrics(
        request: StreamingServerRequest<Envoy_Service_Metrics_V3_StreamMetricsMessage>, context: ServerContext
    ) async throws -> ServerResponse<Envoy_Service_Metrics_V3_StreamMetricsResponse> {
        var logger = self.logger
        logger[metadataKey: "peer"] = "\(context.remotePeer)"
        let (closed, close) = AsyncStream.makeStream(of: Void.self)
        let registration = closer.register { close.finish() }
        defer { closer.unregister(registration) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [sink, logger] in
                var receiver: (any ProxyStatsReceiver)?
                for try await message in request.messages {
                    if receiver == nil {
                        guard message.hasIdentifier, message.identifier.hasNode, !message.identifier.node.id.isEmpty else {
                            throw RPCError(
                                code: .invalidArgument,
                                message: "the first StreamMetricsMessage must carry identifier.node with an id")
                        }
                        do {
                            receiver = try await sink.admit(node: message.identifier.node, metadata: request.metadata)
                        } catch {
                            logger.warning(
                                "stats stream refused: \((error as? RPCError)?.message ?? "\(error)")",
                                metadata: ["node": "\(message.identifier.node.id)"])
                            throw error
                        }
                    }
                    receiver?.receive(message.envoyMetrics)
                }
            }
            group.addTask {
                for await _ in closed {}
            }
            // Whichever ends first (the proxy's stream, or shutdown) ends the other.
            defer { group.cancelAll() }
            try await group.next()
        }
        return ServerResponse(message: Envoy_Service_Metrics_V3_StreamMetricsResponse())
    }
}
