import Synchronization

/// Ends every open ADS stream when the server shuts down: a stream never ends by itself, so a
/// graceful shutdown would otherwise wait on connected proxies forever.
public final class StreamCloser: Sendable {
    private struct State {
        var closers: [UInt64: @Sendable () -> Void] = [:]
        var next: UInt64 = 0
        var closed = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Registers a stream; `close` runs once at shutdown (at once if shutdown already began).
    func register(_ close: @escaping @Sendable () -> Void) -> UInt64? {
        let id = state.withLock { state -> UInt64? in
            guard !state.closed else { return nil }
            state.next += 1
            state.closers[state.next] = close
            return state.next
        }
        if id == nil { close() }
        return id
    }

    func unregister(_ id: UInt64?) {
        guard let id else { return }
        _ = state.withLock { $0.closers.removeValue(forKey: id) }
    }

    /// Ends every open stream and every stream opened from now on.
    public func closeAll() {
        let closers = state.withLock { state in
            state.closed = true
            defer { state.closers = [:] }
            return Array(state.closers.values)
        }
        for close in closers { close() }
    }
}
