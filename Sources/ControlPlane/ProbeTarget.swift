import MeshAPI

/// One WorkloadEntry's readiness probe, resolved against the entry: where to connect, what
/// passes, and how often. Equal targets are the same probe, so an entry whose target a new
/// configuration leaves unchanged keeps its probe state.
struct ProbeTarget: Hashable, Sendable {
    enum Check: Hashable, Sendable {
        /// GET `path` from `host:port`; a status in 200..<400 passes. `https`: over TLS without
        /// verifying the certificate, as kubelet does.
        case httpGet(host: String, port: Int, path: String, https: Bool, headers: [Header])
        /// Opening a TCP connection to `host:port` passes.
        case tcpSocket(host: String, port: Int)
    }

    struct Header: Hashable, Sendable {
        var name: String
        var value: String
    }

    var check: Check
    var timing: ProbeTiming

    /// The target of `probe` for a workload at `address`; nil for the methods Trellis cannot run
    /// (exec and grpc, which validation rejects) or a probe without a method.
    init?(_ probe: ReadinessProbe, address: String) {
        switch probe.method {
        case .httpGet(let http):
            let path = http.path.map { $0.hasPrefix("/") ? $0 : "/" + $0 } ?? "/"
            check = .httpGet(
                host: Self.nonEmpty(http.host) ?? address, port: Int(http.port), path: path,
                https: http.scheme == "HTTPS", headers: http.httpHeaders.map { Header(name: $0.name, value: $0.value) })
        case .tcpSocket(let tcp):
            check = .tcpSocket(host: Self.nonEmpty(tcp.host) ?? address, port: Int(tcp.port))
        case .exec, .grpc, nil:
            return nil
        }
        timing = ProbeTiming(probe)
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }
}

/// A probe's timing in whole seconds, with Kubernetes' defaults for fields absent or 0.
struct ProbeTiming: Hashable, Sendable {
    var initialDelaySeconds: Int
    var periodSeconds: Int
    var timeoutSeconds: Int
    /// Consecutive passes that make a workload that is not ready ready.
    var successThreshold: Int
    /// Consecutive failures that make a ready workload unready.
    var failureThreshold: Int

    init(_ probe: ReadinessProbe) {
        func value(_ field: Int32?, default fallback: Int) -> Int {
            guard let field, field > 0 else { return fallback }
            return Int(field)
        }
        initialDelaySeconds = value(probe.initialDelaySeconds, default: 0)
        periodSeconds = value(probe.periodSeconds, default: 10)
        timeoutSeconds = value(probe.timeoutSeconds, default: 1)
        successThreshold = value(probe.successThreshold, default: 1)
        failureThreshold = value(probe.failureThreshold, default: 3)
    }
}

/// Which WorkloadEntries of a configuration are probed: those whose annotation
/// (`WorkloadGroup.autoRegistrationAnnotation`, else `registeredGroupAnnotation`) names a
/// WorkloadGroup of their namespace that has an httpGet or tcpSocket probe.
struct ProbePlan: Sendable {
    var targets: [ResourceKey: ProbeTarget] = [:]
    /// Entries that should be probed but cannot be, with their address: only IP addresses are
    /// probed (a DNS name may resolve to several workloads, a Unix socket is on another host).
    /// They are served as healthy.
    var unprobeable: [ResourceKey: String] = [:]

    init(_ config: MeshConfig) {
        var probes: [ResourceKey: ReadinessProbe] = [:]
        for group in config.workloadGroups {
            if let probe = group.spec.probe { probes[group.key] = probe }
        }
        guard !probes.isEmpty else { return }
        for entry in config.workloadEntries {
            guard
                let group = WorkloadGroup.owner(annotations: entry.annotations),
                let probe = probes[ResourceKey(kind: .workloadGroup, namespace: entry.namespace, name: group)],
                let target = ProbeTarget(probe, address: entry.spec.address)
            else { continue }
            if entry.spec.hasIPAddress {
                targets[entry.key] = target
            } else {
                unprobeable[entry.key] = entry.spec.address
            }
        }
    }
}
