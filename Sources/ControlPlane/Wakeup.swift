import Synchronization

/// A sleep that a signal cuts short; a signal while nobody waits ends the next wait at once.
final class Wakeup: Sendable {
    private struct State {
        var signalled = false
        var waiter: CheckedContinuation<Bool, Never>?
        /// Ends the current wait at its timeout. A signal that ends the wait first cancels it,
        /// so that frequent signals (the prober's) do not leave a sleeping task behind each wait.
        var timer: Task<Void, Never>?
        var generation = 0
    }

    private let state = Mutex(State())

    func signal() {
        let (waiter, timer) = state.withLock { state -> (CheckedContinuation<Bool, Never>?, Task<Void, Never>?) in
            guard let waiter = state.waiter else {
                state.signalled = true
                return (nil, nil)
            }
            state.waiter = nil
            defer { state.timer = nil }
            return (waiter, state.timer)
        }
        timer?.cancel()
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
            let timer = Task {
                do {
                    try await Task.sleep(for: timeout)
                } catch {
                    return  // cancelled by the signal that ended the wait
                }
                let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                    guard state.generation == generation, let waiter = state.waiter else { return nil }
                    state.waiter = nil
                    state.timer = nil
                    return waiter
                }
                waiter?.resume(returning: false)
            }
            // A signal may have ended the wait before the timer was stored: then it is not needed.
            let pending = state.withLock { state -> Bool in
                guard state.generation == generation, state.waiter != nil else { return false }
                state.timer = timer
                return true
            }
            if !pending { timer.cancel() }
        }
    }
}
