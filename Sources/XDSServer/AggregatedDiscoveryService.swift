public import EnvoyAPI
public import GRPCCore
public import Logging

/// `envoy.service.discovery.v3.AggregatedDiscoveryService`: every proxy's clusters, endpoints,
/// listeners, routes and secrets on one gRPC stream. Each stream is independent: a malformed
/// request ends that stream with a clear status and touches no other.
public struct AggregatedDiscoveryService: Envoy_Service_Discovery_V3_AggregatedDiscoveryService.ServiceProtocol {
    private let source: any ProxySnapshotSource
    private let logger: Logger
    private let closer: StreamCloser

    /// `closer` ends this service's open streams at shutdown.
    public init(source: any ProxySnapshotSource, closer: StreamCloser, logger: Logger) {
        self.source = source
        self.closer = closer
        self.logger = logger
    }

    public func streamAggregatedResources(
        request: StreamingServerRequest<Envoy_Service_Discovery_V3_DiscoveryRequest>,
        context: ServerContext
    ) async throws -> StreamingServerResponse<Envoy_Service_Discovery_V3_DiscoveryResponse> {
        var logger = self.logger
        logger[metadataKey: "peer"] = "\(context.remotePeer)"
        let stream = ADSStream<StateOfTheWorld>(source: source, metadata: request.metadata, closer: closer, logger: logger)
        return StreamingServerResponse { writer in
            try await stream.run(requests: request.messages, writer: writer)
            return [:]
        }
    }

    public func deltaAggregatedResources(
        request: StreamingServerRequest<Envoy_Service_Discovery_V3_DeltaDiscoveryRequest>,
        context: ServerContext
    ) async throws -> StreamingServerResponse<Envoy_Service_Discovery_V3_DeltaDiscoveryResponse> {
        var logger = self.logger
        logger[metadataKey: "peer"] = "\(context.remotePeer)"
        let stream = ADSStream<Incremental>(source: source, metadata: request.metadata, closer: closer, logger: logger)
        return StreamingServerResponse { writer in
            try await stream.run(requests: request.messages, writer: writer)
            return [:]
        }
    }
}
