import Synchronization

/// The in-process fan-out of committed events to watch streams, shared by the backends. A
/// watcher is registered before its history is read, buffers live events until that history
/// is delivered, then drops the buffered ones the history already covered: no gap and no
/// duplicate, whichever of a commit and the history read comes first.
final class WatchHub: Sendable {
    typealias Continuation = AsyncThrowingStream<StoreEvent, any Error>.Continuation

    private struct Watcher {
        let prefix: String
        let continuation: Continuation
        /// Live events that arrived while the history was being read; nil once live.
        var pending: [StoreEvent]? = []
        /// Every event up to this revision was delivered (or is not wanted).
        var delivered: StoreRevision

        func deliver(_ events: some Sequence<StoreEvent>, after revision: StoreRevision) {
            for event in events where event.revision > revision && event.key.hasBytePrefix(prefix) {
                continuation.yield(event)
            }
        }
    }

    private struct State {
        var watchers: [UInt64: Watcher] = [:]
        var nextID: UInt64 = 0
        var closed = false
    }

    private let state = Mutex(State())

    /// Registers a watcher that buffers live events until `catchUp`; nil when the hub is closed.
    func register(prefix: String, after: StoreRevision, continuation: Continuation) -> UInt64? {
        state.withLock { state in
            guard !state.closed else { return nil }
            state.nextID += 1
            state.watchers[state.nextID] = Watcher(prefix: prefix, continuation: continuation, delivered: after)
            return state.nextID
        }
    }

    /// Delivers `history` (every event up to `revision`, read after registration), then the
    /// buffered live events past it, and makes the watcher live.
    func catchUp(_ id: UInt64, history: [StoreEvent], through revision: StoreRevision) {
        state.withLock { state in
            guard var watcher = state.watchers[id], let pending = watcher.pending else { return }
            watcher.deliver(history, after: watcher.delivered)
            watcher.delivered = max(watcher.delivered, revision)
            watcher.deliver(pending, after: watcher.delivered)
            watcher.delivered = max(watcher.delivered, pending.last?.revision ?? 0)
            watcher.pending = nil
            state.watchers[id] = watcher
        }
    }

    /// Ends one watcher's stream with `error`.
    func fail(_ id: UInt64, _ error: any Error) {
        let watcher = state.withLock { $0.watchers.removeValue(forKey: id) }
        watcher?.continuation.finish(throwing: error)
    }

    /// Forgets a watcher whose consumer stopped.
    func remove(_ id: UInt64) {
        _ = state.withLock { $0.watchers.removeValue(forKey: id) }
    }

    /// Hands one committed transaction's events to every watcher. Callers publish in revision
    /// order (each backend calls this while it still serializes its writes).
    func publish(_ events: [StoreEvent]) {
        guard let revision = events.first?.revision else { return }
        state.withLock { state in
            for (id, var watcher) in state.watchers {
                if watcher.pending != nil {
                    watcher.pending?.append(contentsOf: events)
                } else {
                    watcher.deliver(events, after: watcher.delivered)
                    watcher.delivered = revision
                }
                state.watchers[id] = watcher
            }
        }
    }

    /// Ends every stream normally and refuses new watchers.
    func close() {
        let watchers = state.withLock { state in
            state.closed = true
            defer { state.watchers = [:] }
            return state.watchers.values
        }
        for watcher in watchers { watcher.continuation.finish() }
    }

    /// The stream of a watch: registers, then reads the history with `history` (which returns
    /// the events after `after` and the revision it read at, or throws `.compacted`).
    func stream(
        prefix: String,
        after: StoreRevision,
        history: @escaping @Sendable () async throws -> (events: [StoreEvent], revision: StoreRevision)
    ) -> AsyncThrowingStream<StoreEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: StoreEvent.self, throwing: (any Error).self)
        guard let id = register(prefix: prefix, after: after, continuation: continuation) else {
            continuation.finish()
            return stream
        }
        let reader = Task {
            do {
                let (events, revision) = try await history()
                catchUp(id, history: events, through: revision)
            } catch {
                fail(id, error)
            }
        }
        continuation.onTermination = { [weak self] _ in
            reader.cancel()
            self?.remove(id)
        }
        return stream
    }
}
