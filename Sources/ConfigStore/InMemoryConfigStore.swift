import Synchronization

/// A `ConfigStore` kept in memory, with the same contract as the durable backends except that
/// nothing survives the process: for tests and throwaway control planes.
public final class InMemoryConfigStore: ConfigStore {
    private struct State {
        var entries: [KeyBytes: StoredEntry] = [:]
        /// Events in revision order, those after `compacted` only.
        var history: [StoreEvent] = []
        var revision: StoreRevision = 0
        var compacted: StoreRevision = 0
        var closed = false

        func checkOpen() throws {
            if closed { throw StoreError.unavailable("the in-memory store is closed") }
        }
    }

    private let state = Mutex(State())
    private let hub = WatchHub()
    private let historyLimit: Int

    /// Keeps the events of the last `historyLimit` revisions for `watch(after:)`.
    public init(historyLimit: Int = 10_000) {
        precondition(historyLimit >= 0, "historyLimit must not be negative")
        self.historyLimit = historyLimit
    }

    deinit { hub.close() }

    /// Ends every watch stream; later calls throw `.unavailable`.
    public func close() {
        state.withLock { $0.closed = true }
        hub.close()
    }

    public func revision() async throws -> StoreRevision {
        try state.withLock { state in
            try state.checkOpen()
            return state.revision
        }
    }

    public func get(_ key: String) async throws -> StoredEntry? {
        try state.withLock { state in
            try state.checkOpen()
            return state.entries[KeyBytes(key)]
        }
    }

    public func list(prefix: String) async throws -> (entries: [StoredEntry], revision: StoreRevision) {
        try state.withLock { state in
            try state.checkOpen()
            let entries = state.entries.filter { $0.value.key.hasBytePrefix(prefix) }
                .sorted { $0.key < $1.key }
                .map(\.value)
            return (entries, state.revision)
        }
    }

    @discardableResult
    public func commit(_ writes: [StoreWrite]) async throws -> StoreRevision {
        try Transaction.validate(writes)
        return try state.withLock { state in
            try state.checkOpen()
            let events = try Transaction.events(for: writes, at: state.revision) { state.entries[KeyBytes($0)] }
            guard !events.isEmpty else { return state.revision }
            state.revision += 1
            for event in events {
                switch event {
                case .put(let entry): state.entries[KeyBytes(entry.key)] = entry
                case .delete(let key, _): state.entries[KeyBytes(key)] = nil
                }
            }
            state.history.append(contentsOf: events)
            let compacted = Transaction.compactionPoint(after: state.revision, historyLimit: historyLimit)
            if compacted > state.compacted {
                state.compacted = compacted
                state.history.removeFirst(state.history.prefix { $0.revision <= compacted }.count)
            }
            // Under the lock, so that watchers get transactions in revision order.
            hub.publish(events)
            return state.revision
        }
    }

    public func watch(prefix: String, after: StoreRevision) -> AsyncThrowingStream<StoreEvent, any Error> {
        hub.stream(prefix: prefix, after: after) { try self.history(prefix: prefix, after: after) }
    }

    private func history(prefix: String, after: StoreRevision) throws -> (events: [StoreEvent], revision: StoreRevision) {
        try state.withLock { state in
            try state.checkOpen()
            guard after >= state.compacted else {
                throw StoreError.compacted(requested: after, oldestAvailable: state.compacted + 1)
            }
            let events = state.history.filter { $0.revision > after && $0.key.hasBytePrefix(prefix) }
            return (events, state.revision)
        }
    }
}
