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
    private let streamIdleTimeout: Duration?
    private let proxies: ConnectedProxies
    private let metrics: XDSMetrics

    /// `closer` ends this service's open streams at shutdown. `streamIdleTimeout`: a stream
    /// whose proxy reads nothing for this long is closed (nil: never). `proxies` lists the
    /// open streams and their sync state.
    public init(
        source: any ProxySnapshotSource, closer: StreamCloser, streamIdleTimeout: Duration? = nil,
        proxies: ConnectedProxies = ConnectedProxies(), metrics: XDSMetrics = .none, logger: Logger
    ) {
        self.metrics = metrics
        self.source = source
        self.closer = closer
        self.streamIdleTimeout = streamIdleTimeout
        self.proxies = proxies
        self.logger = logger
    }

    public func streamAggregatedResources(
        request: StreamingServerRequest<Envoy_Service_Discovery_V3_DiscoveryRequest>,
        context: ServerContext
    ) async throws -> StreamingServerResponse<Envoy_Service_Discovery_V3_DiscoveryResponse> {
        serve(StateOfTheWorld.self, request: request, context: context)
    }

    public func deltaAggregatedResources(
        request: StreamingServerRequest<Envoy_Service_Discovery_V3_DeltaDiscoveryRequest>,
        context: ServerContext
    ) async throws -> StreamingServerResponse<Envoy_Service_Discovery_V3_DeltaDiscoveryResponse> {
        serve(Incremental.self, request: request, context: context)
    }

    /// One stream of either flavour, logged with its peer.
    private func serve<Messages: DiscoveryMessages>(
        _: Messages.Type, request: StreamingServerRequest<Messages.Request>, context: ServerContext
    ) -> StreamingServerResponse<Messages.Response> {
        var logger = self.logger
        logger[metadataKey: "peer"] = "\(context.remotePeer)"
        let stream = ADSStream<Messages>(
            source: source, metadata: request.metadata, closer: closer, proxies: proxies, metrics: metrics,
            peer: "\(context.remotePeer)", writeDeadline: WriteDeadline(timeout: streamIdleTimeout), logger: logger)
        return StreamingServerResponse { writer in
            try await stream.run(requests: request.messages, writer: writer)
            return [:]
        }
    }
}
