public import EnvoyAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

/// Opens many simulated Envoy ADS streams against an xDS server and measures what a mesh
/// operator cares about: how long until every proxy is in sync, and after a change, how long
/// until every proxy it concerns has received (and ACKed) it. Speaks only the xDS protocol
/// (state of the world, or incremental with `delta`), so it load-tests any ADS server.
public struct LoadGenerator: Sendable {
    public var host: String
    public var port: Int
    public var nodes: [Envoy_Config_Core_V3_Node]
    /// Streams share connections in groups of this size (Envoys each have their own: 1).
    public var streamsPerConnection: Int
    /// Incremental (delta) ADS instead of state of the world.
    public var delta: Bool

    public init(
        host: String, port: Int, nodes: [Envoy_Config_Core_V3_Node], streamsPerConnection: Int = 1, delta: Bool = false
    ) {
        self.host = host
        self.port = port
        self.nodes = nodes
        self.streamsPerConnection = max(1, streamsPerConnection)
        self.delta = delta
    }

    /// What one stream saw, in seconds since the run started.
    struct StreamRecord: Sendable {
        var syncedAt: Double?
        var lastResponseAt: Double?
        var responses = 0
        var bytes = 0
        /// The last failure, cleared by the next response after a reconnect.
        var failure: String?
        var reconnects = 0
    }

    /// Connects every stream, waits until all are synced (or `timeout`), then, with `change`,
    /// applies it and waits until no stream has received anything for `settle`.
    public func run(
        timeout: Duration, change: (@Sendable () throws -> Void)? = nil, settle: Duration = .seconds(3)
    ) async throws -> LoadReport {
        let records = RecordBook(count: nodes.count)
        let clock = ContinuousClock()
        let start = clock.now
        @Sendable func elapsed() -> Double { Self.seconds(start.duration(to: clock.now)) }

        let groups = stride(from: 0, to: nodes.count, by: streamsPerConnection).map {
            Array($0..<min($0 + streamsPerConnection, nodes.count))
        }
        var clients: [GRPCClient<HTTP2ClientTransport.Posix>] = []
        for _ in groups {
            clients.append(
                GRPCClient(
                    transport: try .http2NIOPosix(
                        target: .ipv4(address: host, port: port), transportSecurity: .plaintext,
                        config: .defaults { $0.http2.maxFrameSize = 1 << 20 })))
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask { try await client.runConnections() }
            }
            for (client, members) in zip(clients, groups) {
                for index in members {
                    let node = nodes[index]
                    let delta = delta
                    group.addTask {
                        let record: @Sendable (any SimulatedProxy, String?) -> Void = { envoy, failure in
                            let now = elapsed()
                            records.withLock { records in
                                if let failure {
                                    records[index].failure = failure
                                    records[index].reconnects += 1
                                    return
                                }
                                records[index].failure = nil
                                records[index].responses += 1
                                records[index].bytes = envoy.bytesReceived
                                records[index].lastResponseAt = now
                                if envoy.isSynced && records[index].syncedAt == nil { records[index].syncedAt = now }
                            }
                        }
                        if delta {
                            await Self.stream(SimulatedDeltaEnvoy.self, node: node, client: client, record: record)
                        } else {
                            await Self.stream(SimulatedEnvoy.self, node: node, client: client, record: record)
                        }
                    }
                }
            }
            defer {
                for client in clients { client.beginGracefulShutdown() }
                group.cancelAll()
            }
            let deadline = clock.now.advanced(by: timeout)
            while records.withLock({ $0.contains { $0.syncedAt == nil } }), clock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let initial = records.withLock { $0 }
            var report = LoadReport(streams: nodes.count, initial: initial)
            guard let change else { return report }

            let changedAt = elapsed()
            try change()
            var quietSince = clock.now
            var lastSeen = -1.0
            while clock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                let latest = records.withLock { $0.compactMap(\.lastResponseAt).max() ?? 0 }
                if latest != lastSeen {
                    lastSeen = latest
                    quietSince = clock.now
                } else if quietSince.duration(to: clock.now) >= settle {
                    break
                }
            }
            report.recordChange(at: changedAt, before: initial, after: records.withLock { $0 })
            return report
        }
    }

    /// One simulated Envoy's stream until cancelled; like Envoy, it reconnects after a failure
    /// (a server with a full accept queue resets some of thousands of simultaneous connects),
    /// backing off from 100 ms to 2 s.
    private static func stream<Proxy: ADSFlavour>(
        _: Proxy.Type, node: Envoy_Config_Core_V3_Node, client: GRPCClient<HTTP2ClientTransport.Posix>,
        record: @escaping @Sendable (any SimulatedProxy, String?) -> Void
    ) async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            let failure = await attempt(Proxy.self, node: node, client: client, record: record)
            guard let failure, !Task.isCancelled else { return }
            record(Proxy(node: node), failure)
            try? await Task.sleep(for: backoff * Double.random(in: 0.5...1.5))  // cancellation ends the loop
            backoff = min(backoff * 2, .seconds(2))
        }
    }

    /// One stream attempt; the failure, if it ended with one.
    private static func attempt<Proxy: ADSFlavour>(
        _: Proxy.Type, node: Envoy_Config_Core_V3_Node, client: GRPCClient<HTTP2ClientTransport.Posix>,
        record: @escaping @Sendable (any SimulatedProxy, String?) -> Void
    ) async -> String? {
        let ads = Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Client(wrapping: client)
        let (requests, continuation) = AsyncStream.makeStream(of: Proxy.Request.self)
        var starting = Proxy(node: node)
        for request in starting.start() { continuation.yield(request) }
        let started = starting
        do {
            try await Proxy.open(on: ads, sending: requests) { responses in
                var envoy = started
                for try await message in responses {
                    for request in try envoy.receive(message) { continuation.yield(request) }
                    record(envoy, nil)
                }
            }
        } catch is CancellationError {
        } catch {
            continuation.finish()
            return "\(error)"
        }
        continuation.finish()
        return nil
    }

    /// Every stream's record, shared by the stream tasks and the measuring loop.
    final class RecordBook: Sendable {
        private let records: Mutex<[StreamRecord]>

        init(count: Int) { records = Mutex([StreamRecord](repeating: StreamRecord(), count: count)) }

        func withLock<T>(_ body: (inout [StreamRecord]) -> T) -> T { records.withLock { body(&$0) } }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// How a simulated proxy opens its stream: the ADS method of its flavour.
protocol ADSFlavour: SimulatedProxy {
    static func open(
        on ads: Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Client<HTTP2ClientTransport.Posix>,
        sending requests: AsyncStream<Request>,
        receiving: @escaping @Sendable (RPCAsyncSequence<Response, any Error>) async throws -> Void
    ) async throws
}

extension SimulatedEnvoy: ADSFlavour {
    static func open(
        on ads: Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Client<HTTP2ClientTransport.Posix>,
        sending requests: AsyncStream<Request>,
        receiving: @escaping @Sendable (RPCAsyncSequence<Response, any Error>) async throws -> Void
    ) async throws {
        try await ads.streamAggregatedResources(
            requestProducer: { writer in
                for await request in requests { try await writer.write(request) }
            },
            onResponse: { try await receiving($0.messages) })
    }
}

extension SimulatedDeltaEnvoy: ADSFlavour {
    static func open(
        on ads: Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Client<HTTP2ClientTransport.Posix>,
        sending requests: AsyncStream<Request>,
        receiving: @escaping @Sendable (RPCAsyncSequence<Response, any Error>) async throws -> Void
    ) async throws {
        try await ads.deltaAggregatedResources(
            requestProducer: { writer in
                for await request in requests { try await writer.write(request) }
            },
            onResponse: { try await receiving($0.messages) })
    }
}
