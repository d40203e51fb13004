import AdminAPI
import Foundation
import GRPCCore
import Synchronization

/// The streams open on the secure xDS port, by the token each presented: what `workload list`
/// reports, and how a revoked token ends its streams (UNAUTHENTICATED) at once.
final class ProxyConnections: Sendable {
    private struct Stream {
        var connection: ProxyConnection
        var tokenHash: String
        var termination: AsyncStream<RPCError>.Continuation
    }

    private struct State {
        var streams: [UInt64: Stream] = [:]
        var next: UInt64 = 0
        /// Tokens revoked while this server runs. A stream whose token was verified just before
        /// its revocation arrived is ended when it registers (tokens are random: never reused).
        var revoked: Set<String> = []
    }

    private let state = Mutex(State())

    /// Registers an admitted stream; the stream ends with the error `termination` yields.
    func open(_ connection: ProxyConnection, tokenHash: String) -> (id: UInt64, termination: AsyncStream<RPCError>) {
        let (termination, continuation) = AsyncStream.makeStream(of: RPCError.self)
        let (id, revoked) = state.withLock { state in
            state.next += 1
            state.streams[state.next] = Stream(connection: connection, tokenHash: tokenHash, termination: continuation)
            return (state.next, state.revoked.contains(tokenHash))
        }
        if revoked { continuation.yield(Self.revokedError) }
        return (id, termination)
    }

    func close(_ id: UInt64) {
        let stream = state.withLock { $0.streams.removeValue(forKey: id) }
        stream?.termination.finish()
    }

    /// Ends every stream that presented the token with this hash; returns how many.
    @discardableResult
    func revoke(tokenHash: String) -> Int {
        let ended = state.withLock { state in
            state.revoked.insert(tokenHash)
            return state.streams.values.filter { $0.tokenHash == tokenHash }.map(\.termination)
        }
        for termination in ended { termination.yield(Self.revokedError) }
        return ended.count
    }

    /// Ends the streams of every token not in `valid` (after the store's history was lost).
    func revokeAll(except valid: Set<String>) {
        let hashes = state.withLock { Set($0.streams.values.map(\.tokenHash)) }.subtracting(valid)
        for hash in hashes { revoke(tokenHash: hash) }
    }

    var all: [ProxyConnection] { state.withLock { $0.streams.values.map(\.connection) } }

    private static let revokedError = RPCError(
        code: .unauthenticated, message: "the token of this stream was revoked (workload deregistered or token rotated)")
}
