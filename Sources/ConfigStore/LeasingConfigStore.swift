/// A lease granted by the store: keys written under it live while its holder keeps it alive,
/// and are deleted by the store itself `ttl` after the last keep-alive (etcd's leases). Keys of a
/// crashed holder thus go away on their own, at a time every replica agrees on.
public struct StoreLease: Sendable, Hashable {
    public let id: Int64
    public let ttl: Duration

    public init(id: Int64, ttl: Duration) {
        self.id = id
        self.ttl = ttl
    }
}

/// A store with leases (etcd). The single-server stores have no use for them: their server is
/// the only one that could hold a lease, and it cleans up after itself.
public protocol LeasingConfigStore: ConfigStore {
    /// A new lease that expires `ttl` (whole seconds, at least 1) from now unless kept alive.
    func grantLease(ttl: Duration) async throws -> StoreLease
    /// Restarts the lease's countdown; false when it already expired (its keys are gone: grant
    /// a new lease and write them again).
    func keepAlive(_ lease: StoreLease) async throws -> Bool
    /// Ends the lease now, deleting its keys; an expired lease is no error.
    func revoke(_ lease: StoreLease) async throws
    /// `commit`, with every put bound to `lease` (a key moves from any lease it had to this one).
    @discardableResult func commit(_ writes: [StoreWrite], lease: StoreLease) async throws -> StoreRevision
}
