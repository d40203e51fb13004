import AdminAPI
import ConfigStore
import Foundation
import Logging
import XDSServer

/// Replicas on etcd tell each other which proxies they serve: each publishes its open streams
/// under `/proxies/REPLICA/NODE`, bound to a lease it keeps alive, so `proxy-status` on any
/// replica lists every proxy with the replica holding it, and a crashed replica's rows go with
/// its lease. Only what a stream is (kind, identity, since when) is published, not its sync
/// state, which changes with every push.
actor ReplicaPresence {
    static let keyPrefix = "/proxies/"
    private static let ttl: Duration = .seconds(10)

    private let store: any LeasingConfigStore
    private let replica: String
    private let proxies: ConnectedProxies
    private let logger: Logger
    private var lease: StoreLease?
    private var refreshed = ContinuousClock.now
    /// What the store holds for this replica, by key.
    private var published: [String: [UInt8]] = [:]

    init(store: any LeasingConfigStore, replica: String, proxies: ConnectedProxies, logger: Logger) {
        self.store = store
        self.replica = replica
        self.proxies = proxies
        self.logger = logger
    }

    private struct Row: Codable {
        var node: String
        var kind: String
        var identity: String?
        var connectedAt: Date
        var api: String
        var peer: String
    }

    /// Publishes the open streams once a second until cancelled, then removes them.
    func run() async {
        var failing = false
        while !Task.isCancelled {
            do {
                try await publish()
                if failing { logger.notice("publishing this replica's proxies again") }
                failing = false
            } catch {
                if !failing { logger.warning("cannot publish this replica's proxies: \(error); retrying") }
                failing = true
            }
            try? await Task.sleep(for: .seconds(1))  // cancellation ends the loop
        }
        if let lease { try? await store.revoke(lease) }  // best effort: the lease expires anyway
    }

    private func publish() async throws {
        if let held = lease, ContinuousClock.now - refreshed >= held.ttl / 3 {
            if try await store.keepAlive(held) {
                refreshed = .now
            } else {
                lease = nil  // expired (the store was out of reach): its rows are gone
            }
        }
        let lease: StoreLease
        if let held = self.lease {
            lease = held
        } else {
            lease = try await store.grantLease(ttl: Self.ttl)
            self.lease = lease
            refreshed = .now
            published = [:]
        }
        var wanted: [String: [UInt8]] = [:]
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        for stream in proxies.all {
            let row = Row(
                node: stream.nodeID, kind: stream.kind, identity: stream.identity, connectedAt: stream.connectedAt,
                api: stream.delta ? "delta" : "sotw", peer: stream.peer)
            wanted[Self.key(replica: replica, node: stream.nodeID)] = Array(try encoder.encode(row))
        }
        var writes: [StoreWrite] = wanted.compactMap { key, value in
            published[key] == value ? nil : .put(key: key, value: value)
        }
        writes += published.keys.filter { wanted[$0] == nil }.map { .delete(key: $0) }
        // etcd takes at most 128 operations per transaction.
        for start in stride(from: 0, to: writes.count, by: 100) {
            let chunk = Array(writes[start..<min(start + 100, writes.count)])
            try await store.commit(chunk, lease: lease)
            for write in chunk {
                switch write {
                case .put(let key, let value, _): published[key] = value
                case .delete(let key, _): published[key] = nil
                }
            }
        }
    }

    /// The proxies other replicas publish, as rows naming their replica (sync state unknown here).
    nonisolated func others() async throws -> [ProxyStatus] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try await store.list(prefix: Self.keyPrefix).entries.compactMap { entry -> ProxyStatus? in
            let parts = entry.key.dropFirst(Self.keyPrefix.count).split(separator: "/", maxSplits: 1)
            guard parts.count == 2, String(parts[0]).removingPercentEncoding != replica,
                let row = try? decoder.decode(Row.self, from: Data(entry.value))  // a row of another version: not listed
            else { return nil }
            return ProxyStatus(
                nodeID: row.node, kind: row.kind, identity: row.identity, connectedAt: row.connectedAt, api: row.api,
                peer: row.peer, types: [:], replica: String(parts[0]).removingPercentEncoding)
        }
    }

    private static func key(replica: String, node: String) -> String {
        keyPrefix + escape(replica) + "/" + escape(node)
    }

    private static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "/%").inverted) ?? text
    }
}
