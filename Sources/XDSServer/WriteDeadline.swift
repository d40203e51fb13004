import GRPCCore
import Synchronization

/// Bounds how long one write to a proxy may wait. A proxy that stops reading fills its HTTP/2
/// window and then the write waits forever, holding the stream (and the response it is being
/// sent); past the deadline the stream ends with UNAVAILABLE, and Envoy reconnects. Other
/// streams never wait for it: each stream writes on its own.
struct WriteDeadline: Sendable {
    /// nil: no deadline.
    let timeout: Duration?

    func write(_ write: @escaping @Sendable () async throws -> Void) async throws {
        guard let timeout else { return try await write() }
        let outcome = Outcome()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            outcome.start(continuation)
            let writer = Task {
                do {
                    try await write()
                    outcome.finish(.success(()))
                } catch {
                    outcome.finish(.failure(error))
                }
            }
            let timer = Task {
                try await Task.sleep(for: timeout)
                let message = "the proxy read nothing for \(timeout) (--stream-idle-timeout); closing its stream"
                if outcome.finish(.failure(RPCError(code: .unavailable, message: message))) { writer.cancel() }
            }
            outcome.onFinish { timer.cancel() }
        }
    }

    /// Resumes the continuation once, with whichever of the write and the timer ends first.
    private final class Outcome: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Void, any Error>?
            var result: Result<Void, any Error>?
            var onFinish: (@Sendable () -> Void)?
        }

        private let state = Mutex(State())

        func start(_ continuation: CheckedContinuation<Void, any Error>) {
            state.withLock { $0.continuation = continuation }
        }

        /// Runs `action` when the outcome is known (at once if it already is).
        func onFinish(_ action: @escaping @Sendable () -> Void) {
            let finished = state.withLock { state -> Bool in
                if state.result != nil { return true }
                state.onFinish = action
                return false
            }
            if finished { action() }
        }

        /// True when this call decided the outcome.
        @discardableResult
        func finish(_ result: Result<Void, any Error>) -> Bool {
            let (continuation, action) = state.withLock { state -> (CheckedContinuation<Void, any Error>?, (@Sendable () -> Void)?) in
                guard state.result == nil else { return (nil, nil) }
                state.result = result
                defer { state.continuation = nil; state.onFinish = nil }
                return (state.continuation, state.onFinish)
            }
            guard let continuation else { return false }
            continuation.resume(with: result)
            action?()
            return true
        }
    }
}
