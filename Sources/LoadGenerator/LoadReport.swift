import Foundation

/// What a load run measured: time to initial sync, and after a change, how long until each
/// stream it concerned had received it, and the bytes that took.
public struct LoadReport: Sendable, Encodable {
    public var streams: Int
    public var synced: Int
    /// Streams whose last attempt failed.
    public var failed: Int
    /// Stream attempts that failed and were retried, as Envoy would.
    public var reconnects: Int
    /// Seconds from the start until the last stream was in sync.
    public var initialSyncSeconds: Double?
    public var initialBytesPerStream: Double
    /// The first failure a stream reported, if any.
    public var firstFailure: String?
    public var change: ChangeReport?

    /// The streams that received anything after the change, and when they stopped receiving.
    public struct ChangeReport: Sendable, Encodable {
        public var affectedStreams: Int
        public var p50Seconds: Double
        public var p99Seconds: Double
        public var maxSeconds: Double
        public var bytesPerAffectedStream: Double
    }

    init(streams: Int, initial: [LoadGenerator.StreamRecord]) {
        self.streams = streams
        synced = initial.filter { $0.syncedAt != nil }.count
        failed = initial.filter { $0.failure != nil }.count
        reconnects = initial.map(\.reconnects).reduce(0, +)
        initialSyncSeconds = synced == streams ? initial.compactMap(\.syncedAt).max() : nil
        initialBytesPerStream = streams == 0 ? 0 : Double(initial.map(\.bytes).reduce(0, +)) / Double(streams)
        firstFailure = initial.compactMap(\.failure).first
    }

    mutating func recordChange(at changedAt: Double, before: [LoadGenerator.StreamRecord], after: [LoadGenerator.StreamRecord]) {
        var latencies: [Double] = []
        var bytes = 0
        for (old, new) in zip(before, after) where new.responses > old.responses {
            latencies.append((new.lastResponseAt ?? changedAt) - changedAt)
            bytes += new.bytes - old.bytes
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)]
        }
        change = ChangeReport(
            affectedStreams: latencies.count, p50Seconds: percentile(0.5), p99Seconds: percentile(0.99),
            maxSeconds: latencies.last ?? 0,
            bytesPerAffectedStream: latencies.isEmpty ? 0 : Double(bytes) / Double(latencies.count))
        failed = after.filter { $0.failure != nil }.count
        firstFailure = firstFailure ?? after.compactMap(\.failure).first
    }
}

/// A process's resident memory and CPU time, from /proc (Linux).
public struct ProcessUsage: Sendable, Encodable {
    public var rssMegabytes: Double
    public var cpuSeconds: Double

    public static func of(pid: Int32) -> ProcessUsage? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let rssLine = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        let kilobytes = Double(rssLine.split(separator: " ").dropFirst().first ?? "") ?? 0
        // Fields after the command name (which may hold spaces) start after the last ')'.
        let fields = stat[stat.index(after: stat.lastIndex(of: ")") ?? stat.startIndex)...].split(separator: " ")
        let ticks = (Double(fields.count > 12 ? fields[11] : "0") ?? 0) + (Double(fields.count > 12 ? fields[12] : "0") ?? 0)
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ProcessUsage(rssMegabytes: kilobytes / 1024, cpuSeconds: ticks / hertz)
    }
}
