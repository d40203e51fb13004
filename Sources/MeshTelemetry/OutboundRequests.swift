public import EnvoyAPI

/// What one stats flush of one proxy says about its outbound requests, by Istio outbound
/// cluster (`outbound|PORT|SUBSET|HOST`). The bootstraps ask for counters as deltas and
/// histograms are interval statistics, so every number here is "since the previous flush".
public struct OutboundRequests: Sendable, Equatable {
    public var clusters: [String: ClusterRequests]

    public init(clusters: [String: ClusterRequests] = [:]) {
        self.clusters = clusters
    }

    public struct ClusterRequests: Sendable, Equatable {
        /// Responses by HTTP status code (`cluster.C.upstream_rq_NNN`).
        public var responses: [Int: UInt64] = [:]
        /// `cluster.C.upstream_rq_time`, in milliseconds.
        public var latency: LatencyHistogram?

        public init(responses: [Int: UInt64] = [:], latency: LatencyHistogram? = nil) {
            self.responses = responses
            self.latency = latency
        }

        var isEmpty: Bool { responses.values.allSatisfy { $0 == 0 } && (latency?.count ?? 0) == 0 }
    }

    /// Reads the stats Envoy names `cluster.<cluster name>.<stat>` (tags not extracted: Istio's
    /// cluster names hold dots and pipes, so the name is split at its last dot instead).
    /// Everything else in the flush is ignored.
    public init(_ families: [Io_Prometheus_Client_MetricFamily]) {
        var clusters: [String: ClusterRequests] = [:]
        for family in families {
            guard family.name.hasPrefix(Self.prefix), let dot = family.name.lastIndex(of: "."),
                let metric = family.metric.first
            else { continue }
            let start = family.name.index(family.name.startIndex, offsetBy: "cluster.".count)
            guard start < dot else { continue }
            let cluster = String(family.name[start..<dot])
            // Envoy repeats the request stats by origin and zone (`C.external.upstream_rq_200`,
            // `C.zone.FROM.TO.upstream_rq_200`): the same requests again.
            guard !Self.repeatedStatScopes.contains(where: { cluster.hasSuffix($0) }), !cluster.contains(".zone.") else {
                continue
            }
            let stat = family.name[family.name.index(after: dot)...]
            if family.type == .counter, stat.hasPrefix("upstream_rq_"), let code = Self.statusCode(stat.dropFirst(12)) {
                let value = metric.counter.value
                // Counts from outside: a value no proxy could have counted is dropped, never trapped on.
                guard value.isFinite, value >= 1, value < 1e15 else { continue }
                clusters[cluster, default: ClusterRequests()].responses[code, default: 0].add(UInt64(value))
            } else if family.type == .histogram, stat == "upstream_rq_time", metric.hasHistogram {
                let histogram = LatencyHistogram(metric.histogram)
                guard histogram.count > 0 else { continue }
                clusters[cluster, default: ClusterRequests()].latency = histogram
            }
        }
        self.clusters = clusters.filter { !$0.value.isEmpty }
    }

    /// `cluster.outbound|`: the cluster names start after `cluster.`.
    private static let prefix = "cluster.outbound|"
    private static let repeatedStatScopes = [".external", ".internal", ".canary"]

    private static func statusCode(_ text: Substring) -> Int? {
        guard text.count == 3, let code = Int(text), (100...599).contains(code) else { return nil }
        return code
    }
}

/// A latency histogram as Prometheus keeps one: counts at or below each upper bound
/// (cumulative), plus the total count and sum.
public struct LatencyHistogram: Sendable, Equatable {
    public var upperBounds: [Double]
    public var cumulativeCounts: [UInt64]
    public var count: UInt64
    public var sum: Double

    public init(upperBounds: [Double], cumulativeCounts: [UInt64], count: UInt64, sum: Double) {
        self.upperBounds = upperBounds
        self.cumulativeCounts = cumulativeCounts
        self.count = count
        self.sum = sum
    }

    /// A proxy's histogram, made well-formed whatever it sent (bounds increasing, counts never
    /// decreasing): the numbers come from outside and must not trap the server.
    init(_ histogram: Io_Prometheus_Client_Histogram) {
        var bounds: [Double] = []
        var counts: [UInt64] = []
        for bucket in histogram.bucket where bucket.upperBound.isFinite && bucket.upperBound > (bounds.last ?? -.infinity) {
            bounds.append(bucket.upperBound)
            counts.append(max(counts.last ?? 0, bucket.cumulativeCount))
        }
        self.init(
            upperBounds: bounds, cumulativeCounts: counts, count: max(histogram.sampleCount, counts.last ?? 0),
            sum: histogram.sampleSum.isFinite ? histogram.sampleSum : 0)
    }

    /// Adds another histogram's samples; bounds that differ (another Envoy version's buckets)
    /// are merged by counting each bucket at the smallest of our bounds that holds it.
    public mutating func add(_ other: LatencyHistogram) {
        if upperBounds.isEmpty && count == 0 {
            self = other
            return
        }
        count.add(other.count)
        sum += other.sum
        if other.upperBounds == upperBounds {
            for index in cumulativeCounts.indices { cumulativeCounts[index].add(other.cumulativeCounts[index]) }
            return
        }
        for (index, bound) in upperBounds.enumerated() {
            // Samples of `other` at or below `bound`: its largest bound not above ours.
            if let last = other.upperBounds.lastIndex(where: { $0 <= bound }) {
                cumulativeCounts[index].add(other.cumulativeCounts[last])
            }
        }
    }

    /// The q-quantile (0...1) by linear interpolation inside the bucket that holds it, as
    /// Prometheus's `histogram_quantile` does; nil without samples. A quantile above the last
    /// bound is that bound.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0, !upperBounds.isEmpty else { return nil }
        let rank = q * Double(count)
        var lowerBound = 0.0
        var below: UInt64 = 0
        for (bound, cumulative) in zip(upperBounds, cumulativeCounts) {
            if Double(cumulative) >= rank {
                let inBucket = Double(cumulative - below)
                guard inBucket > 0 else { return bound }
                return lowerBound + (bound - lowerBound) * (rank - Double(below)) / inBucket
            }
            lowerBound = bound
            below = cumulative
        }
        return upperBounds.last
    }
}

extension UInt64 {
    /// Saturating: counts that come from proxies never trap the server on overflow.
    mutating func add(_ other: UInt64) {
        let (sum, overflow) = addingReportingOverflow(other)
        self = overflow ? .max : sum
    }
}

extension Sequence<UInt64> {
    var saturatingSum: UInt64 { reduce(into: 0) { $0.add($1) } }
}
