/// A store-wide revision: increases by one with every committed write transaction that changes
/// something. 0 = empty store.
public typealias StoreRevision = Int64

/// One key's current value and the revisions that created and last changed it (etcd's
/// `create_revision` and `mod_revision`).
public struct StoredEntry: Sendable, Equatable {
    /// e.g. "/resources/networking.istio.io/VirtualService/default/reviews"
    public var key: String
    /// Opaque bytes; may be empty.
    public var value: [UInt8]
    /// Revision of the transaction that created the key (kept across updates, reset by a
    /// delete and re-create).
    public var createRevision: StoreRevision
    /// Revision of the last transaction that changed the key.
    public var modRevision: StoreRevision

    public init(key: String, value: [UInt8], createRevision: StoreRevision, modRevision: StoreRevision) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
    }
}

/// The condition a write puts on its key's current state; checked against the state before
/// the transaction, all-or-nothing.
public enum StoreExpectation: Sendable, Equatable {
    /// Unconditional.
    case any
    /// The key must not exist (create only).
    case absent
    /// Compare-and-swap: the key must exist with exactly this modRevision.
    case modRevision(StoreRevision)
}

/// One write of a transaction; a transaction names each key at most once (as etcd requires).
public enum StoreWrite: Sendable, Equatable {
    case put(key: String, value: [UInt8], expect: StoreExpectation = .any)
    case delete(key: String, expect: StoreExpectation = .any)

    public var key: String {
        switch self {
        case .put(let key, _, _), .delete(let key, _): key
        }
    }

    public var expectation: StoreExpectation {
        switch self {
        case .put(_, _, let expect), .delete(_, let expect): expect
        }
    }
}

/// A change seen by a watcher: `revision` is the transaction's, events of one transaction
/// share it and come in key order.
public enum StoreEvent: Sendable, Equatable {
    /// Created or updated: created when `createRevision == modRevision`.
    case put(StoredEntry)
    /// `modRevision` is the revision of the deleting transaction.
    case delete(key: String, modRevision: StoreRevision)
}

public extension StoreEvent {
    var revision: StoreRevision {
        switch self {
        case .put(let entry): entry.modRevision
        case .delete(_, let modRevision): modRevision
        }
    }

    var key: String {
        switch self {
        case .put(let entry): entry.key
        case .delete(let key, _): key
        }
    }
}
