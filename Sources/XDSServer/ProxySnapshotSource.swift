public import EnvoyAPI
public import GRPCCore
public import XDSCache

/// Where the ADS server gets a proxy's configuration: given the node of a stream's first
/// request (and the stream's gRPC metadata, which carries credentials), the proxy's snapshots.
public protocol ProxySnapshotSource: Sendable {
    /// Throws an `RPCError` (e.g. invalidArgument for a malformed node id, unauthenticated for a
    /// bad token) that ends this stream only.
    func subscribe(node: Envoy_Config_Core_V3_Node, metadata: Metadata) async throws -> SnapshotSubscription
}
