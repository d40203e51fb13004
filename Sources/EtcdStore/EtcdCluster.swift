import ConfigStore
import EtcdAPI
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Synchronization

/// The etcd members the store talks to, one gRPC client (one HTTP/2 connection) each. A call
/// goes to the member that answered last and, when that member cannot be reached, on to the
/// next one in turn; when none answers it fails with `.unavailable` naming every member.
final class EtcdCluster: Sendable {
    struct Member: Sendable {
        let endpoint: EtcdEndpoint
        let client: GRPCClient<HTTP2ClientTransport.Posix>

        var kv: Etcdserverpb_KV.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
        var watch: Etcdserverpb_Watch.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
        var lease: Etcdserverpb_Lease.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    }

    let members: [Member]
    let requestTimeout: Duration
    private let preferred = Atomic<Int>(0)
    private let logger: Logger

    init(endpoints: [EtcdEndpoint], requestTimeout: Duration, logger: Logger) throws {
        guard !endpoints.isEmpty else { throw EtcdStoreConfigurationError("no etcd endpoint given") }
        self.requestTimeout = requestTimeout
        self.logger = logger
        members = try endpoints.map { endpoint in
            let transport = try HTTP2ClientTransport.Posix(
                target: endpoint.target, transportSecurity: .plaintext,
                config: .defaults { config in
                    // A restarted member is found again within seconds (the default backoff
                    // grows to two minutes).
                    config.backoff = .init(initial: .milliseconds(100), max: .seconds(2), multiplier: 1.6, jitter: 0.2)
                    // A member that vanished without closing the connection (a partition, a
                    // frozen host) ends its streams instead of leaving a watch silent. Only
                    // while calls are open: etcd refuses pings without streams (and more often
                    // than every 5 s) as abuse.
                    config.connection.keepalive = .init(time: .seconds(10), timeout: .seconds(10), allowWithoutCalls: false)
                })
            return Member(endpoint: endpoint, client: GRPCClient(transport: transport))
        }
        for member in members {
            Task { [logger] in
                do {
                    try await member.client.runConnections()
                } catch {
                    logger.error("etcd client for \(member.endpoint) stopped: \(error)")
                }
            }
        }
    }

    /// Ends the connections once their calls finish; later calls fail.
    func shutdown() {
        for member in members { member.client.beginGracefulShutdown() }
    }

    /// The member calls go to first.
    var preferredIndex: Int { preferred.load(ordering: .relaxed) }

    var endpointList: String { members.map(\.endpoint.description).joined(separator: ", ") }

    /// Options for a unary call: bounded, failing fast on a member that is down (the next one
    /// is tried instead of waiting for it), and without gRPC's 4 MiB cap on what etcd answers
    /// (a list of everything is one message). The transport applies `maxRequestMessageBytes` to
    /// the messages it receives, so both are raised; etcd's own limit is what bounds a request.
    var callOptions: CallOptions {
        var options = CallOptions.defaults
        options.timeout = requestTimeout
        options.waitForReady = false
        options.maxRequestMessageBytes = Int(Int32.max)
        options.maxResponseMessageBytes = Int(Int32.max)
        return options
    }

    /// The same without a deadline, for watch streams (they last).
    var streamOptions: CallOptions {
        var options = callOptions
        options.timeout = nil
        return options
    }

    /// Runs a read-only `call` on each member in turn from the preferred one until one answers;
    /// a member that cannot be reached (or does not answer in time) passes it on.
    func read<T: Sendable>(
        _ what: String, _ call: @Sendable (Member, CallOptions) async throws -> T
    ) async throws -> T {
        try await run(what, idempotent: true) { member, options, _ in try await call(member, options) }
    }

    /// Runs a `call` that changes etcd. It is passed on to the next member only when the
    /// failed member surely never got it: `call` reports, with `Attempt.sent()` from its
    /// response handler, that the stream was opened (grpc-swift calls the handler only then),
    /// and a passed deadline counts as sent (it may pass after sending, before the handler
    /// runs). Otherwise the outcome is unknown and the caller gets `.unavailable`: a resend
    /// could apply the writes twice.
    func write<T: Sendable>(
        _ what: String, _ call: @Sendable (Member, CallOptions, Attempt) async throws -> T
    ) async throws -> T {
        try await run(what, idempotent: false, call)
    }

    /// Records that a call reached a member.
    final class Attempt: Sendable {
        private let state = Atomic<Bool>(false)
        func sent() { state.store(true, ordering: .relaxed) }
        var wasSent: Bool { state.load(ordering: .relaxed) }
    }

    private func run<T: Sendable>(
        _ what: String, idempotent: Bool, _ call: @Sendable (Member, CallOptions, Attempt) async throws -> T
    ) async throws -> T {
        let first = preferred.load(ordering: .relaxed)
        var failures: [String] = []
        for step in 0..<members.count {
            let index = (first + step) % members.count
            let member = members[index]
            let attempt = Attempt()
            do {
                let result = try await call(member, callOptions, attempt)
                if step > 0 { preferred.store(index, ordering: .relaxed) }
                return result
            } catch let error as RPCError where Self.isUnreachable(error) {
                try Task.checkCancellation()
                failures.append("\(member.endpoint): \(Self.describe(error))")
                // The next call starts at the next member either way.
                preferred.store((index + 1) % members.count, ordering: .relaxed)
                if !idempotent, attempt.wasSent || error.code == .deadlineExceeded {
                    throw StoreError.unavailable(
                        "\(what): etcd at \(member.endpoint) failed (the outcome is unknown): \(Self.describe(error))")
                }
                logger.debug("\(what): etcd at \(member.endpoint) unreachable (\(Self.describe(error))); trying the next member")
            } catch let error as RPCError {
                if error.code == .cancelled, Task.isCancelled { throw CancellationError() }
                // An answer (too many operations, too large, no permission...): the same on
                // every member.
                throw StoreError.unavailable("\(what): etcd at \(member.endpoint) refused it: \(Self.describe(error))")
            } catch let error as StoreError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                throw StoreError.unavailable("\(what): etcd at \(member.endpoint): \(error)")
            }
        }
        throw StoreError.unavailable("\(what): no etcd member answered (\(failures.joined(separator: "; ")))")
    }

    /// A failure of the member or the way to it, rather than an answer from etcd.
    static func isUnreachable(_ error: RPCError) -> Bool {
        error.code == .unavailable || error.code == .deadlineExceeded
    }

    static func describe(_ error: RPCError) -> String {
        var text = "\(error.code): \(error.message)"
        if let cause = error.cause { text += " (\(cause))" }
        return text
    }
}
