import ConfigStore
import Synchronization

/// The running watch streams, so that closing the store ends every one of them normally (as the
/// contract wants) rather than with the errors of connections going away.
final class WatchRegistry: Sendable {
    typealias Continuation = AsyncThrowingStream<StoreEvent, any Error>.Continuation

    private struct State {
        var running: [UInt64: (continuation: Continuation, task: Task<Void, Never>)] = [:]
        var nextID: UInt64 = 0
        var closed = false
    }

    private let state = Mutex(State())

    /// Runs `body` for the stream of `continuation` until it returns or the consumer stops;
    /// after `close()` the stream just ends.
    func start(_ continuation: Continuation, _ body: @escaping @Sendable () async -> Void) {
        let id: UInt64? = state.withLock { state in
            guard !state.closed else { return nil }
            state.nextID += 1
            let id = state.nextID
            let task = Task {
                await body()
                self.remove(id)
            }
            state.running[id] = (continuation, task)
            return id
        }
        guard let id else {
            continuation.finish()
            return
        }
        continuation.onTermination = { _ in
            self.remove(id)?.task.cancel()
        }
    }

    @discardableResult
    private func remove(_ id: UInt64) -> (continuation: Continuation, task: Task<Void, Never>)? {
        state.withLock { $0.running.removeValue(forKey: id) }
    }

    /// Ends every stream normally and refuses new ones.
    func close() {
        let running = state.withLock { state in
            state.closed = true
            defer { state.running = [:] }
            return state.running.values
        }
        for (continuation, task) in running {
            continuation.finish()
            task.cancel()
        }
    }
}
