public import EnvoyAPI
public import GRPCCore
public import XDSCache

/// Where the ADS server gets a proxy's configuration: given the node of a stream's first
/// request (and the stream's gRPC metadata, which carries credentials), the proxy's snapshots.
public protocol ProxySnapshotSource: Sendable {
    /// Throws an `RPCError` (e.g. invalidArgument for a malformed node id, unauthenticated for a
    /// bad token) that ends this stream only.
    func subscribe(node: Envoy_Config_Core_V3_Node, metadata: Metadata) async throws -> ProxySession
}

/// An admitted stream: its group's snapshots, and what the source wants to know or decide about
/// the stream's life.
public struct ProxySession: Sendable {
    public var subscription: SnapshotSubscription
    /// The stream ends with the first error this yields (e.g. its token was revoked).
    public var termination: AsyncStream<RPCError>?
    /// Runs once when the stream ends, however it ends.
    public var ended: (@Sendable () -> Void)?
    /// `sidecar`, `gateway` or `grpc`, and the SPIFFE identity the proxy is served as (nil
    /// without one): for `proxy-status`.
    public var kind: String
    public var identity: String?
    /// The proxy's current snapshot (`proxy-config`).
    public var current: (@Sendable () -> Snapshot?)?

    public init(
        subscription: SnapshotSubscription, termination: AsyncStream<RPCError>? = nil,
        ended: (@Sendable () -> Void)? = nil, kind: String = "sidecar", identity: String? = nil
    ) {
        self.subscription = subscription
        self.termination = termination
        self.ended = ended
        self.kind = kind
        self.identity = identity
    }
}
