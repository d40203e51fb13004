/// A versioned key-value store with etcd v3 semantics (store-wide revisions, compare-and-swap
/// transactions, watch from a revision). Contract: every method is safe to call concurrently;
/// a write returns only once durable. Keys are compared and ordered as UTF-8 bytes (as etcd
/// compares its byte keys), never by Unicode equivalence.
public protocol ConfigStore: Sendable {
    /// The current store-wide revision.
    func revision() async throws -> StoreRevision

    func get(_ key: String) async throws -> StoredEntry?

    /// Every entry whose key starts with `prefix` (bytewise), sorted by key, and the revision
    /// they were read at (one consistent read). The empty prefix lists everything.
    func list(prefix: String) async throws -> (entries: [StoredEntry], revision: StoreRevision)

    /// Applies all writes atomically in one transaction, or none: if any expectation fails,
    /// throws `.conflict` for the first failing write (in `writes` order) and changes nothing.
    /// Expectations are checked against the state before the transaction; a key may appear
    /// only once (else `.invalidKey`). As in etcd, a put always changes its key (even to the
    /// same value: modRevision moves) and a delete of an absent key changes nothing. Returns
    /// the new revision, or the current one unchanged when nothing changed (e.g. no writes).
    @discardableResult func commit(_ writes: [StoreWrite]) async throws -> StoreRevision

    /// Events for keys under `prefix` with revision > `after`, in revision order (events of
    /// one transaction in key order): first the history still kept, then live ones, until the
    /// consumer stops iterating or the store is closed (then the stream just ends). Fails with
    /// `.compacted` when `after` is older than the kept history.
    func watch(prefix: String, after: StoreRevision) -> AsyncThrowingStream<StoreEvent, any Error>
}

public extension ConfigStore {
    /// One-write transaction; returns the new revision.
    @discardableResult
    func put(_ key: String, _ value: [UInt8], expect: StoreExpectation = .any) async throws -> StoreRevision {
        try await commit([.put(key: key, value: value, expect: expect)])
    }

    /// One-write transaction; returns the new revision, or the current one when the key was
    /// already absent.
    @discardableResult
    func delete(_ key: String, expect: StoreExpectation = .any) async throws -> StoreRevision {
        try await commit([.delete(key: key, expect: expect)])
    }
}
