import ConfigStore
import EtcdAPI
import Foundation
import GRPCCore
import SwiftProtobuf
import Synchronization

/// One `watch(prefix:after:)`: an etcd Watch stream over the prefix's key range, its events
/// handed on as store events. When the stream breaks, the watch resumes on the next member
/// after the last revision it delivered (revisions are the same on every member); when no
/// member takes it, it fails with `.unavailable`.
final class EtcdWatch: Sendable {
    typealias Continuation = AsyncThrowingStream<StoreEvent, any Error>.Continuation

    private let cluster: EtcdCluster
    private let keys: EtcdKeySpace
    private let prefix: String
    private let range: (key: Data, rangeEnd: Data)
    private let continuation: Continuation
    private let state: Mutex<State>

    private struct State {
        /// Every event up to this store revision was delivered (or is not wanted).
        var delivered: StoreRevision
        /// etcd accepted the current stream's watch.
        var created = false
    }

    init(cluster: EtcdCluster, keys: EtcdKeySpace, prefix: String, after: StoreRevision, continuation: Continuation) {
        self.cluster = cluster
        self.keys = keys
        self.prefix = prefix
        // A prefix no store key has still gets a stream that ends only with the store.
        range = keys.range(prefix: prefix) ?? keys.everything
        self.continuation = continuation
        state = Mutex(State(delivered: after))
    }

    /// Runs until the consumer stops (the task is cancelled) or the watch fails.
    func run() async {
        var member = cluster.preferredIndex
        var failures: [String] = []
        while !Task.isCancelled {
            let endpoint = cluster.members[member].endpoint
            state.withLock { $0.created = false }
            do {
                try await stream(on: cluster.members[member])
                return  // the consumer stopped
            } catch let error as StoreError {
                continuation.finish(throwing: error)
                return
            } catch {
                if Task.isCancelled { return }
                // A stream that had been running starts a new round of members.
                if state.withLock({ $0.created }) { failures = [] }
                failures.append("\(endpoint): \(Self.describe(error))")
                if failures.count >= cluster.members.count {
                    continuation.finish(throwing: StoreError.unavailable(
                        "watch of \(prefix.debugDescription): no etcd member answered (\(failures.joined(separator: "; ")))"))
                    return
                }
                member = (member + 1) % cluster.members.count
            }
        }
    }

    /// One Watch stream on `member`. Returns when the consumer stops; throws `StoreError` for
    /// an answer that ends the watch (compacted history, a refusal), anything else when the
    /// stream broke or etcd did not accept the watch within the request timeout (a member that
    /// takes connections but does not answer would otherwise hold it forever: keepalive pings
    /// start only on a connection that is up).
    private func stream(on member: EtcdCluster.Member) async throws {
        let timeout = cluster.requestTimeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.rpc(on: member) }
            group.addTask {
                try await Task.sleep(for: timeout)
                guard self.state.withLock({ $0.created }) else {
                    throw RPCError(code: .deadlineExceeded, message: "etcd did not accept the watch within \(timeout)")
                }
                await suspendUntilCancelled()
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func rpc(on member: EtcdCluster.Member) async throws {
        let after = state.withLock { $0.delivered }
        let create = Etcdserverpb_WatchRequest.with {
            $0.createRequest = .with {
                $0.key = range.key
                $0.rangeEnd = range.rangeEnd
                // From the revision `after` itself (etcd's after + 1), so that etcd, not us,
                // says whether it is compacted; its events are dropped below. After a
                // compaction at etcd revision C a watch from C is still accepted although a
                // delete at C may be gone, so the first revision whose history is whole is
                // C + 1: store revision C, which `.compacted` reports as the oldest.
                $0.startRevision = max(1, EtcdKeySpace.etcdRevision(after))
            }
        }
        try await member.watch.watch(
            // etcd's "require leader": a member cut off from the cluster's leader ends the
            // stream (after a few election timeouts) instead of keeping it open with no events.
            metadata: ["hasleader": "true"],
            options: cluster.streamOptions,
            requestProducer: { writer in
                try await writer.write(create)
                // Half-closing would be allowed, but the stream is kept whole until it ends.
                await suspendUntilCancelled()
            },
            onResponse: { response in
                for try await message in response.messages {
                    if message.compactRevision != 0 {
                        let requested = self.state.withLock { $0.delivered }
                        throw StoreError.compacted(
                            requested: requested, oldestAvailable: EtcdKeySpace.storeRevision(message.compactRevision + 1))
                    }
                    if message.canceled {
                        throw StoreError.unavailable(
                            "etcd at \(member.endpoint) cancelled the watch of \(self.prefix.debugDescription): \(message.cancelReason)")
                    }
                    if message.created { self.state.withLock { $0.created = true } }
                    guard try self.deliver(message.events) else { return }
                }
                throw RPCError(code: .unavailable, message: "etcd ended the watch stream")
            })
    }

    /// Hands on the events of whole revisions past the delivered one, each revision's in key
    /// order; false once the consumer is gone.
    private func deliver(_ events: [Mvccpb_Event]) throws -> Bool {
        guard !events.isEmpty else { return true }
        let after = state.withLock { $0.delivered }
        let sorted = events.sorted {
            $0.kv.modRevision != $1.kv.modRevision
                ? $0.kv.modRevision < $1.kv.modRevision : $0.kv.key.lexicographicallyPrecedes($1.kv.key)
        }
        var last = after
        for event in sorted where EtcdKeySpace.storeRevision(event.kv.modRevision) > after {
            let storeEvent = try keys.event(event)
            last = storeEvent.revision
            guard storeEvent.key.hasBytePrefix(prefix) else { continue }
            if case .terminated = continuation.yield(storeEvent) { return false }
        }
        state.withLock { $0.delivered = max($0.delivered, last) }
        return true
    }

    private static func describe(_ error: any Error) -> String {
        (error as? RPCError).map(EtcdCluster.describe) ?? "\(error)"
    }
}

/// Suspends until the task is cancelled.
func suspendUntilCancelled() async {
    let (never, continuation) = AsyncStream.makeStream(of: Never.self)
    await withTaskCancellationHandler {
        for await _ in never {}
    } onCancel: {
        continuation.finish()
    }
}
