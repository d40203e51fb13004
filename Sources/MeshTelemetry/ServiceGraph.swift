public import Foundation
import Synchronization

/// The mesh's service graph, fed by every proxy's stats flushes: per edge, everything since the
/// server started (Prometheus counters and histograms) and the last minute in samples (requests
/// per second, success rate, latency quantiles). Thread-safe; stats streams record concurrently.
public final class ServiceGraph: Sendable {
    /// How far back the live numbers look.
    public static let window: TimeInterval = 60

    struct EdgeState {
        var responses: [Int: UInt64] = [:]
        var latency = LatencyHistogram(upperBounds: [], cumulativeCounts: [], count: 0, sum: 0)
        var recent: [Sample] = []
    }

    struct Sample {
        var at: Date
        var responses: [Int: UInt64]
        var latency: LatencyHistogram?
    }

    private let edges = Mutex<[ServiceEdge: EdgeState]>([:])
    /// Edges come from what proxies report: past this many, new ones are not recorded, so a
    /// proxy that reports made-up clusters cannot grow the server without bound.
    public let maxEdges: Int

    public init(maxEdges: Int = 20_000) {
        self.maxEdges = maxEdges
    }

    /// One flush of one source's outbound requests, received at `at`.
    public func record(_ requests: OutboundRequests, from source: SourceWorkload, at: Date = Date()) {
        let cutoff = at.addingTimeInterval(-Self.window)
        edges.withLock { edges in
            for (cluster, counts) in requests.clusters {
                guard let edge = ServiceEdge(source: source, outboundCluster: cluster),
                    edges[edge] != nil || edges.count < maxEdges
                else { continue }
                var state = edges[edge, default: EdgeState()]
                for (code, count) in counts.responses { state.responses[code, default: 0].add(count) }
                if let latency = counts.latency { state.latency.add(latency) }
                state.recent.removeAll { $0.at < cutoff }
                state.recent.append(Sample(at: at, responses: counts.responses, latency: counts.latency))
                edges[edge] = state
            }
        }
    }

    /// Every edge's totals and last-minute numbers at `now`.
    public func snapshot(now: Date = Date()) -> ServiceGraphSnapshot {
        let cutoff = now.addingTimeInterval(-Self.window)
        let states = edges.withLock { $0 }
        var edgeSummaries: [ServiceGraphSnapshot.Edge] = []
        var nodes: [String: ServiceGraphSnapshot.Node] = [:]
        for (edge, state) in states {
            var responses: [Int: UInt64] = [:]
            var latency = LatencyHistogram(upperBounds: [], cumulativeCounts: [], count: 0, sum: 0)
            for sample in state.recent where sample.at >= cutoff {
                for (code, count) in sample.responses { responses[code, default: 0].add(count) }
                if let sampleLatency = sample.latency { latency.add(sampleLatency) }
            }
            let recent = responses.values.saturatingSum
            let recentErrors = responses.filter { $0.key >= 500 }.values.saturatingSum
            let source = ServiceGraphSnapshot.Node(workload: edge.source)
            let destination = ServiceGraphSnapshot.Node(service: edge)
            nodes[source.id] = source
            nodes[destination.id] = destination
            edgeSummaries.append(
                ServiceGraphSnapshot.Edge(
                    source: source.id, destination: destination.id, subset: edge.subset,
                    requests: state.responses.values.saturatingSum,
                    errors: state.responses.filter { $0.key >= 500 }.values.saturatingSum,
                    responses: Dictionary(uniqueKeysWithValues: state.responses.map { (String($0.key), $0.value) }),
                    requestsPerSecond: Double(recent) / Self.window,
                    successRate: recent == 0 ? nil : Double(recent - recentErrors) / Double(recent),
                    p50Milliseconds: latency.quantile(0.5), p99Milliseconds: latency.quantile(0.99)))
        }
        return ServiceGraphSnapshot(
            nodes: nodes.values.sorted { $0.id < $1.id },
            edges: edgeSummaries.sorted { ($0.source, $0.destination, $0.subset) < ($1.source, $1.destination, $1.subset) })
    }

    /// Every edge's totals: `(edge, responses by code, latency histogram)`, for the Prometheus series.
    func totals() -> [(edge: ServiceEdge, responses: [Int: UInt64], latency: LatencyHistogram)] {
        edges.withLock { edges in edges.map { ($0.key, $0.value.responses, $0.value.latency) } }
    }
}

/// `GET /api/graph`: workloads and services as nodes, and per edge the totals since the server
/// started and the last minute's rate, success rate (non-5xx) and latency quantiles.
public struct ServiceGraphSnapshot: Sendable, Codable, Equatable {
    public struct Node: Sendable, Codable, Equatable {
        /// `workload:NAMESPACE/NAME` or `service:HOST`.
        public var id: String
        /// `workload` or `service`.
        public var kind: String
        public var name: String
        public var namespace: String

        init(workload: SourceWorkload) {
            id = "workload:\(workload.namespace)/\(workload.name)"
            kind = "workload"
            name = workload.name
            namespace = workload.namespace
        }

        init(service edge: ServiceEdge) {
            id = "service:\(edge.destinationService)"
            kind = "service"
            name = edge.destinationService
            namespace = edge.destinationServiceNamespace
        }
    }

    public struct Edge: Sendable, Codable, Equatable {
        public var source: String
        public var destination: String
        public var subset: String
        /// Since the server started.
        public var requests: UInt64
        public var errors: UInt64
        /// Since the server started, by status code ("200", "503", ...).
        public var responses: [String: UInt64]
        /// Over the last minute.
        public var requestsPerSecond: Double
        /// Non-5xx share of the last minute's requests; nil without any.
        public var successRate: Double?
        public var p50Milliseconds: Double?
        public var p99Milliseconds: Double?
    }

    public var nodes: [Node]
    public var edges: [Edge]

    /// `GET /api/graph`'s body: a number without data (no requests in the last minute) is left out.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
