import Foundation
import Logging
import MeshAPI
import Synchronization

/// `DATA_DIR/config-status.json`: what the server is serving and what it could not — the last
/// load of the config dir (how much is served, which resources were rejected and why, which of
/// those keep their last good version), files it could not read, a config dir it refused to
/// apply, and proxies running without a workload certificate. An operator or a script checks
/// an edit here without reading logs.
struct ConfigStatus: Encodable, Equatable {
    var loadedAt: Date?
    var files = 0
    var servedResources = 0
    /// `Kind namespace/name` of every resource whose current definition has errors.
    var rejected: [String] = []
    /// The rejected resources that keep serving the version before the bad edit.
    var keptLastGood: [String] = []
    var errors: [String] = []
    var warnings: [String] = []
    /// Files that exist but cannot be read or decoded; their resources keep their last good version.
    var unreadableFiles: [UnreadableFile] = []
    /// Why the config dir as it is now is not being applied (it vanished, cannot be listed, or
    /// became empty); nil while it is applied.
    var configDirectoryProblem: String?
    /// Proxies without a workload certificate, and why: their STRICT ports refuse connections.
    var proxiesWithoutCredentials: [ProxyCredentialProblem] = []

    static let fileName = "config-status.json"

    /// `config-status.json` and `GET /api/config-status` alike.
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    mutating func recordLoad(files: Int, served: MeshConfig, result: LoadResult, previous: MeshConfig, now: Date = Date()) {
        loadedAt = now
        self.files = files
        servedResources = served.resourceCount
        rejected = result.rejected.sorted().map(\.description)
        keptLastGood = result.rejected.intersection(previous.keys).sorted().map(\.description)
        errors = result.diagnostics.filter { $0.severity == .error }.map(\.description)
        warnings = result.diagnostics.filter { $0.severity == .warning }.map(\.description)
    }
}

/// A config file that could not be read this time; `servingLastGood` says whether an earlier
/// good read of it is what is served meanwhile.
struct UnreadableFile: Encodable, Equatable, Sendable {
    var path: String
    var error: String
    var servingLastGood: Bool
}

/// One group of identical proxies running without a workload certificate.
struct ProxyCredentialProblem: Encodable, Equatable, Sendable, Comparable {
    /// `KIND~IP~WORKLOAD.NAMESPACE`, as in the node id.
    var proxy: String
    var identity: String
    var reason: String
    /// Failed attempts to issue the certificate (0 when the identity is simply not proven).
    var attempts: Int
    var since: Date?

    static func < (lhs: Self, rhs: Self) -> Bool { (lhs.proxy, lhs.identity) < (rhs.proxy, rhs.identity) }
}

/// The one writer of `config-status.json`: each part of the server updates its own fields and
/// the file is rewritten (atomically) only when its content changes, at most every
/// `writeInterval`: thousands of proxies connecting at once are a few writes, not one each.
final class StatusFile: Sendable {
    let path: String
    private let logger: Logger
    private let writeInterval: Duration
    private struct State {
        var status = ConfigStatus()
        var lastWrite: ContinuousClock.Instant?
        var writeScheduled = false
    }

    private let state = Mutex(State())

    init(dataDirectory: String, logger: Logger, writeInterval: Duration = .milliseconds(100)) {
        path = (dataDirectory as NSString).appendingPathComponent(ConfigStatus.fileName)
        self.logger = logger
        self.writeInterval = writeInterval
    }

    var current: ConfigStatus { state.withLock { $0.status } }

    /// Applies `change`; when the status changed, writes the file now, or once the interval
    /// since the last write has passed (always the newest status, under the lock, so an older
    /// status never overwrites a newer one).
    func update(_ change: (inout ConfigStatus) -> Void) {
        let delay = state.withLock { state -> Duration? in
            var updated = state.status
            change(&updated)
            guard updated != state.status else { return nil }
            state.status = updated
            guard !state.writeScheduled else { return nil }
            let now = ContinuousClock.now
            if let last = state.lastWrite, last.duration(to: now) < writeInterval {
                state.writeScheduled = true
                return writeInterval - last.duration(to: now)
            }
            write(&state, at: now)
            return nil
        }
        guard let delay else { return }
        Task {
            try? await Task.sleep(for: delay)  // the task is ours: never cancelled
            state.withLock { state in
                state.writeScheduled = false
                write(&state, at: .now)
            }
        }
    }

    private func write(_ state: inout State, at now: ContinuousClock.Instant) {
        state.lastWrite = now
        do {
            try ConfigStatus.encoder.encode(state.status).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            logger.error("cannot write \(path): \(error)")
        }
    }
}
