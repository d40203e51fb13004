import AdminAPI
import ConfigStore
import Logging

/// Follows the store's token hashes: a deleted one (a deregistered workload, a rotated token)
/// ends the streams that presented it. When the watch breaks, the streams whose tokens are
/// gone by then are ended and the watch starts again from the present.
enum TokenRevocations {
    static func follow(store: any ConfigStore, connections: ProxyConnections, logger: Logger) async {
        var failing = false
        while !Task.isCancelled {
            do {
                let (entries, revision) = try await store.list(prefix: WorkloadTokens.keyPrefix)
                connections.revokeAll(except: Set(entries.compactMap { WorkloadTokens.tokenHash(ofKey: $0.key) }))
                if failing { logger.notice("following token revocations again") }
                failing = false
                for try await event in store.watch(prefix: WorkloadTokens.keyPrefix, after: revision) {
                    guard case .delete(let key, _) = event, let hash = WorkloadTokens.tokenHash(ofKey: key) else { continue }
                    let ended = connections.revoke(tokenHash: hash)
                    if ended > 0 { logger.info("token revoked: ended \(ended) stream(s) that presented it") }
                }
                if Task.isCancelled { return }
            } catch {
                // Once per outage (its message changes with every member tried), not per retry.
                if !failing { logger.error("cannot follow token revocations: \(error); retrying") }
                failing = true
            }
            // A closed store or a broken watch: start over shortly (cancellation ends the loop).
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}
