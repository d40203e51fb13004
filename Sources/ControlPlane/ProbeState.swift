/// What one probe run found.
enum ProbeResult: Sendable, Equatable {
    case passed
    /// Why it failed, for the log: a status, a refused connection, a timeout.
    case failed(String)
}

/// Readiness of one probed workload, Kubernetes' way: not ready until `successThreshold`
/// consecutive passes; once ready, unready after `failureThreshold` consecutive failures.
struct ProbeState: Sendable, Equatable {
    enum Readiness: Sendable, Equatable {
        /// Never passed enough yet (a new entry, or a changed probe): not served as healthy.
        case pending
        case ready
        case unready
    }

    private(set) var readiness = Readiness.pending
    private var passes = 0
    private var failures = 0
    /// Whether a pending workload has already failed `failureThreshold` times (reported once).
    private var pendingFailureReported = false

    var isReady: Bool { readiness == .ready }

    /// Something worth one log line.
    enum Event: Sendable, Equatable {
        case becameReady
        case becameUnready(failures: Int)
        /// A workload that never became ready has failed `failureThreshold` times in a row.
        case stillPending(failures: Int)
    }

    /// Records one result; returns the transition it caused, if any.
    mutating func record(_ result: ProbeResult, _ timing: ProbeTiming) -> Event? {
        switch result {
        case .passed:
            failures = 0
            passes = min(passes + 1, timing.successThreshold)
            guard readiness != .ready, passes >= timing.successThreshold else { return nil }
            readiness = .ready
            pendingFailureReported = false
            return .becameReady
        case .failed:
            passes = 0
            failures = min(failures + 1, timing.failureThreshold)
            guard failures >= timing.failureThreshold else { return nil }
            switch readiness {
            case .ready:
                readiness = .unready
                return .becameUnready(failures: failures)
            case .pending where !pendingFailureReported:
                pendingFailureReported = true
                return .stillPending(failures: failures)
            case .pending, .unready:
                return nil
            }
        }
    }
}
