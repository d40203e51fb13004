import Synchronization

/// A sleep that a signal cuts short; a signal while nobody waits ends the next wait at once.
final class Wakeup: Sendable {
    private struct State {
        var signalled = false
        var waiter: CheckedContinuation<Bool, Never>?
        var generation = 0
    }

    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let waiter = state.waiter else {
                state.signalled = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: true)
    }

    /// True when a signal ended the wait, false when the timeout did.
    func wait(atMost timeout: Duration) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let generation = state.withLock { state -> Int? in
                if state.signalled {
                    state.signalled = false
                    return nil
                }
                state.generation += 1
                state.waiter = continuation
                return state.generation
            }
            guard let generation else { return continuation.resume(returning: true) }
            Task {
                try? await Task.sleep(for: timeout)  // cancellation cannot happen: the task is ours
                let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                    guard state.generation == generation, let waiter = state.waiter else { return nil }
                    state.waiter = nil
                    return waiter
                }
                waiter?.resume(returning: false)
            }
        }
    }
}
