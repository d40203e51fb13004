/// Why a store operation failed. Nothing was changed by a failed `commit`, except possibly for
/// `.unavailable`, whose outcome is unknown (as with a lost etcd connection).
public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// A write's expectation did not hold; `actualModRevision` is nil when the key is absent.
    case conflict(key: String, expected: StoreExpectation, actualModRevision: StoreRevision?)
    /// Watch from a revision whose history is gone: the caller re-lists, then watches from
    /// the list's revision. `oldestAvailable` is the oldest revision whose events are kept,
    /// so `watch(after: oldestAvailable - 1)` is the oldest watch that still works.
    case compacted(requested: StoreRevision, oldestAvailable: StoreRevision)
    /// The backend cannot be reached or failed an I/O operation, or the store was closed.
    case unavailable(String)
    /// The database is unreadable or not a config store; the file was left as it was.
    case corrupt(path: String, detail: String)
    /// A key that the store does not accept, or a key named twice in one transaction.
    case invalidKey(String)

    public var description: String {
        switch self {
        case .conflict(let key, let expected, let actual):
            "conflict on \(key): expected \(expected), found "
                + (actual.map { "modRevision \($0)" } ?? "no such key")
        case .compacted(let requested, let oldest):
            "history after revision \(requested) was compacted; the oldest kept revision is \(oldest)"
        case .unavailable(let reason):
            "config store unavailable: \(reason)"
        case .corrupt(let path, let detail):
            "config store \(path) is unreadable: \(detail)"
        case .invalidKey(let reason):
            "invalid key: \(reason)"
        }
    }
}
