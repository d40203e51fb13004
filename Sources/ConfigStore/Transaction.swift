/// The backend-independent part of a commit: validating the writes, checking expectations
/// and computing the events, so that every backend answers identically (`package`: the etcd
/// backend, a target of its own, uses it too).
package enum Transaction {
    /// Rejects keys that no backend should store and keys named twice in one transaction.
    package static func validate(_ writes: [StoreWrite]) throws {
        var seen = Set<KeyBytes>()
        for write in writes {
            try KeyBytes.validate(write.key)
            guard seen.insert(KeyBytes(write.key)).inserted else {
                throw StoreError.invalidKey("\(write.key) is written twice in one transaction")
            }
        }
    }

    /// The events of applying `writes` at `revision + 1`, sorted by key; empty when nothing
    /// changes. `current` looks a key up in the state before the transaction. Throws
    /// `.conflict` for the first write whose expectation fails.
    static func events(
        for writes: [StoreWrite],
        at revision: StoreRevision,
        current: (String) throws -> StoredEntry?
    ) throws -> [StoreEvent] {
        let next = revision + 1
        var events: [StoreEvent] = []
        for write in writes {
            let existing = try current(write.key)
            try check(write.expectation, key: write.key, against: existing)
            switch write {
            case .put(let key, let value, _):
                let created = existing?.createRevision ?? next
                events.append(.put(StoredEntry(key: key, value: value, createRevision: created, modRevision: next)))
            case .delete(let key, _):
                if existing != nil { events.append(.delete(key: key, modRevision: next)) }
            }
        }
        return events.sorted { KeyBytes($0.key) < KeyBytes($1.key) }
    }

    package static func check(_ expectation: StoreExpectation, key: String, against existing: StoredEntry?) throws {
        let holds =
            switch expectation {
            case .any: true
            case .absent: existing == nil
            case .modRevision(let revision): existing?.modRevision == revision
            }
        if !holds {
            throw StoreError.conflict(key: key, expected: expectation, actualModRevision: existing?.modRevision)
        }
    }

    /// The revision through which history is dropped after a commit at `revision`: the last
    /// `historyLimit` revisions are kept.
    package static func compactionPoint(after revision: StoreRevision, historyLimit: Int) -> StoreRevision {
        max(0, revision - StoreRevision(historyLimit))
    }
}
