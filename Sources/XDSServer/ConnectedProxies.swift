public import Foundation
import Synchronization
public import XDSCache

/// Every open ADS stream and where it stands per type (sent, ACKed, NACKed with Envoy's
/// message): what `trellis proxy-status` shows. A stream publishes only when its status
/// changes, so an idle mesh costs nothing here.
public final class ConnectedProxies: Sendable {
    /// One stream as operators see it.
    public struct Stream: Sendable {
        public var nodeID: String
        /// `sidecar`, `gateway` or `grpc` (proxyless).
        public var kind: String
        /// The SPIFFE identity its certificate names, when it has one.
        public var identity: String?
        public var connectedAt: Date
        public var delta: Bool
        public var peer: String
        public var types: [ResourceType: TypeSyncStatus]
        /// The configuration the server holds for it now: what it was last sent, or is being sent.
        var current: (@Sendable () -> Snapshot?)?
    }

    private let streams = Mutex<[UInt64: Stream]>([:])
    private let counter = Atomic<UInt64>(0)

    public init() {}

    func open(_ stream: Stream) -> UInt64 {
        let id = counter.add(1, ordering: .relaxed).newValue
        streams.withLock { $0[id] = stream }
        return id
    }

    func update(_ id: UInt64, types: [ResourceType: TypeSyncStatus]) {
        streams.withLock { $0[id]?.types = types }
    }

    func close(_ id: UInt64) {
        _ = streams.withLock { $0.removeValue(forKey: id) }
    }

    /// The current snapshot of the proxy with this node id (its newest stream's), if connected.
    public func snapshot(nodeID: String) -> Snapshot? {
        let newest = streams.withLock { $0.values.filter { $0.nodeID == nodeID }.max { $0.connectedAt < $1.connectedAt } }
        return newest?.current?()
    }

    /// Every open stream, oldest first.
    public var all: [Stream] {
        streams.withLock { Array($0.values) }.sorted { ($0.connectedAt, $0.nodeID) < ($1.connectedAt, $1.nodeID) }
    }
}
