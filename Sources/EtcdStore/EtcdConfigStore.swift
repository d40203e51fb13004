import ConfigStore
import EtcdAPI
import Foundation
import GRPCCore
import SwiftProtobuf
import Logging
import Synchronization

/// A `ConfigStore` on an etcd v3 cluster (KV and Watch over gRPC), for control plane replicas
/// that share one state: every replica sees the same keys at the same revisions, and a commit
/// is one etcd transaction, durable on a quorum when it returns.
///
/// Keys live under `namespace` and revisions are etcd's minus one (see `EtcdKeySpace`). Reads
/// are linearizable. A member that cannot be reached passes each call on to the next one (see
/// `EtcdCluster`); when none answers, calls fail with `.unavailable` naming the members.
public final class EtcdConfigStore: ConfigStore {
    public let endpoints: [EtcdEndpoint]
    public var namespace: String { keys.namespace }

    let cluster: EtcdCluster
    private let keys: EtcdKeySpace
    private let historyLimit: Int?
    private let watches = WatchRegistry()
    private let closed = Atomic<Bool>(false)
    /// The etcd revision this store last compacted to, so that it asks only when it moved.
    private let compacted = Mutex<Int64>(0)
    private let logger: Logger

    /// Connects lazily: nothing is sent before the first call, so this does not fail when etcd
    /// is down. `historyLimit`: after each commit, etcd's history is compacted to the last
    /// `historyLimit` revisions (as the other backends keep theirs); nil leaves compaction to
    /// etcd's own `--auto-compaction-*` settings, for an etcd shared with other applications
    /// (compaction is cluster-wide). `requestTimeout` bounds each call to one member.
    public init(
        endpoints: [EtcdEndpoint],
        namespace: String = "/trellis",
        historyLimit: Int? = 10_000,
        requestTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "trellis.store.etcd")
    ) throws {
        precondition((historyLimit ?? 0) >= 0, "historyLimit must not be negative")
        keys = try EtcdKeySpace(namespace: namespace)
        cluster = try EtcdCluster(endpoints: endpoints, requestTimeout: requestTimeout, logger: logger)
        self.endpoints = endpoints
        self.historyLimit = historyLimit
        self.logger = logger
    }

    deinit { close() }

    /// Ends every watch stream and the connections; later calls throw `.unavailable`.
    public func close() {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        watches.close()
        cluster.shutdown()
    }

    public func revision() async throws -> StoreRevision {
        // Any read answers with the current revision; one absent key is the cheapest.
        let header = try await range(key: keys.etcdKey("/"), rangeEnd: nil, "read the revision").header
        return EtcdKeySpace.storeRevision(header.revision)
    }

    public func get(_ key: String) async throws -> StoredEntry? {
        try checkOpen()
        guard EtcdKeySpace.isRooted(key) else { return nil }  // never stored (see `validate`)
        return try await range(key: keys.etcdKey(key), rangeEnd: nil, "read \(key)").kvs.first.map(keys.entry)
    }

    public func list(prefix: String) async throws -> (entries: [StoredEntry], revision: StoreRevision) {
        guard let range = keys.range(prefix: prefix) else {
            return ([], try await revision())
        }
        let response = try await self.range(key: range.key, rangeEnd: range.rangeEnd, "list \(prefix.debugDescription)")
        return (try response.kvs.map(keys.entry), EtcdKeySpace.storeRevision(response.header.revision))
    }

    @discardableResult
    public func commit(_ writes: [StoreWrite]) async throws -> StoreRevision {
        try await commit(writes, leaseID: 0)
    }

    func commit(_ writes: [StoreWrite], leaseID: Int64) async throws -> StoreRevision {
        try keys.validate(writes)
        try checkOpen()
        guard !writes.isEmpty else { return try await revision() }
        let request = EtcdTransaction.request(for: writes, in: keys, lease: leaseID)
        let response = try await cluster.write("commit") { member, options, attempt in
            try await member.kv.txn(request: ClientRequest(message: request), options: options) { response in
                attempt.sent()
                return try response.message
            }
        }
        guard response.succeeded else {
            throw try EtcdTransaction.conflict(for: writes, in: response, keys: keys)
        }
        let revision = EtcdKeySpace.storeRevision(response.header.revision)
        await compact(after: revision)
        return revision
    }

    public func watch(prefix: String, after: StoreRevision) -> AsyncThrowingStream<StoreEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: StoreEvent.self, throwing: (any Error).self)
        let watch = EtcdWatch(cluster: cluster, keys: keys, prefix: prefix, after: after, continuation: continuation)
        watches.start(continuation) { await watch.run() }
        return stream
    }

    private func range(key: Data, rangeEnd: Data?, _ what: String) async throws -> Etcdserverpb_RangeResponse {
        try checkOpen()
        let request = Etcdserverpb_RangeRequest.with {
            $0.key = key
            if let rangeEnd { $0.rangeEnd = rangeEnd }
        }
        return try await cluster.read(what) { member, options in
            try await member.kv.range(request: ClientRequest(message: request), options: options)
        }
    }

    /// Drops the history older than the last `historyLimit` revisions after a commit at
    /// `revision`. A failure is logged, not thrown: the commit itself succeeded, and the next
    /// commit compacts again.
    private func compact(after revision: StoreRevision) async {
        guard let historyLimit else { return }
        let point = Transaction.compactionPoint(after: revision, historyLimit: historyLimit)
        // Store history through `point` goes: etcd's through point + 1, whose own events
        // `EtcdWatch` never serves (see there).
        let target = EtcdKeySpace.etcdRevision(point)
        guard point > 0, compacted.withLock({ target > $0 }) else { return }
        do {
            try await cluster.read("compact") { member, options in
                do {
                    _ = try await member.kv.compact(request: ClientRequest(message: .with { $0.revision = target }), options: options)
                } catch let error as RPCError where error.code == .outOfRange {
                    // "required revision has been compacted": another replica compacted further.
                }
            }
            compacted.withLock { $0 = max($0, target) }
        } catch {
            logger.warning("etcd compaction to revision \(target) failed: \(error)")
        }
    }

    private func checkOpen() throws {
        if closed.load(ordering: .relaxed) {
            throw StoreError.unavailable("the etcd store at \(cluster.endpointList) (namespace \(namespace.debugDescription)) is closed")
        }
    }
}
