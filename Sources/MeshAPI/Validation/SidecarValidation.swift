/// Istio's `ValidateSidecar`.
enum SidecarValidation {
    static func validate(_ sidecar: Sidecar, key: ResourceKey, _ report: DocumentContext) {
        if let selector = sidecar.workloadSelector {
            if selector.labels.isEmpty {
                report.error("spec.workloadSelector.labels", "sidecar: workloadSelector cannot have empty labels")
            }
            CommonChecks.checkSelector(selector.labels, at: "spec.workloadSelector.labels", report)
        }
        if sidecar.egress.isEmpty && sidecar.ingress.isEmpty && sidecar.outboundTrafficPolicy == nil {
            report.error("spec", "sidecar: empty configuration provided")
        }
        var ingressPorts: Set<UInt32> = []
        for (index, listener) in sidecar.ingress.enumerated() {
            let path = "spec.ingress[\(index)]"
            checkPort(listener.port, bind: listener.bind, allowUnix: false, at: "\(path).port", report)
            if !ingressPorts.insert(listener.port.number).inserted {
                report.error("\(path).port.number", "sidecar: ports on IP bound listeners must be unique")
            }
            if let endpoint = listener.defaultEndpoint {
                if let problem = defaultEndpointProblem(endpoint) { report.error("\(path).defaultEndpoint", problem) }
            }
        }
        var egressPorts: Set<UInt32> = []
        var unixBinds: Set<String> = []
        for (index, listener) in sidecar.egress.enumerated() {
            let path = "spec.egress[\(index)]"
            if let port = listener.port {
                checkPort(port, bind: listener.bind, allowUnix: true, at: "\(path).port", report)
                if port.number == 0 {
                    if listener.bind?.hasPrefix("unix://") == true {
                        report.error("\(path).bind", unixEgressNotSupported)
                    }
                    if !unixBinds.insert(listener.bind ?? "").inserted {
                        report.error("\(path).bind", "sidecar: unix domain socket values for listeners must be unique")
                    }
                    if let mode = listener.captureMode, mode != .default && mode != .none {
                        report.error("\(path).captureMode", "sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners")
                    }
                } else if !egressPorts.insert(port.number).inserted {
                    report.error("\(path).port.number", "sidecar: ports on IP bound listeners must be unique")
                }
            } else {
                if index != sidecar.egress.count - 1 {
                    report.error(path, "sidecar: the egress listener with empty port should be the last listener in the list")
                }
                // Without a port every imported service port listens at the bind address.
                if let bind = listener.bind {
                    if bind.hasPrefix("unix://") {
                        report.error("\(path).bind", unixEgressNotSupported)
                    } else if let problem = CommonChecks.ipAddressProblem(bind) {
                        report.error("\(path).bind", problem)
                    }
                }
            }
            checkEgressHosts(listener.hosts, namespace: key.namespace, at: "\(path).hosts", report)
        }
    }

    static let unixEgressNotSupported =
        "not supported yet: Trellis does not implement egress listeners on a Unix domain socket; bind an IP address and a port"

    private static func checkPort(_ port: SidecarPort, bind: String?, allowUnix: Bool, at path: String, _ report: DocumentContext) {
        if let name = port.name, let problem = CommonChecks.portNameProblem(name) { report.error("\(path).name", problem) }
        if port.targetPort != nil { report.warning("\(path).targetPort", "targetPort has no impact on Sidecars") }
        let bind = bind ?? ""
        if allowUnix && port.number == 0 {
            if !bind.hasPrefix("unix://") {
                report.error(FieldPath.parent(of: path)! + ".bind", "sidecar: ports with 0 value must have a unix domain socket bind address")
            } else if let problem = CommonChecks.unixAddressProblem(String(bind.dropFirst("unix://".count))) {
                report.error(FieldPath.parent(of: path)! + ".bind", problem)
            }
            return
        }
        if let problem = CommonChecks.portProblem(port.number) { report.error("\(path).number", problem) }
        if !bind.isEmpty, let problem = CommonChecks.ipAddressProblem(bind) {
            report.error(FieldPath.parent(of: path)! + ".bind", problem)
        }
    }

    /// `127.0.0.1:PORT`, `0.0.0.0:PORT`, `[::1]:PORT`, `[::]:PORT`, `:PORT` or `unix://path`.
    private static func defaultEndpointProblem(_ endpoint: String) -> String? {
        if endpoint.hasPrefix("unix://") {
            return CommonChecks.unixAddressProblem(String(endpoint.dropFirst("unix://".count)))
        }
        guard let colon = endpoint.lastIndex(of: ":") else { return "missing port in address \(endpoint)" }
        var host = String(endpoint[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if !["", "127.0.0.1", "0.0.0.0", "::1", "::"].contains(host) {
            return "sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath, or unset"
        }
        guard let port = UInt32(endpoint[endpoint.index(after: colon)...]) else {
            return "sidecar: defaultEndpoint port (\(endpoint[endpoint.index(after: colon)...])) is not a number"
        }
        return CommonChecks.portProblem(port)
    }

    private static func checkEgressHosts(_ hosts: [String], namespace: String, at path: String, _ report: DocumentContext) {
        if hosts.isEmpty { report.error(path, "sidecar: egress listener must contain at least one host") }
        var seen: [String: Set<String>] = [:]
        for (index, entry) in hosts.enumerated() {
            let hostPath = "\(path)[\(index)]"
            let problems = HostChecks.namespacedHostProblems(entry, owner: .sidecar)
            for problem in problems { report.error(hostPath, problem) }
            let parts = entry.split(separator: "/", maxSplits: 1).map(String.init)
            // `~ns/...` imports nothing, so it cannot duplicate anything.
            guard problems.isEmpty, !parts[0].hasPrefix("~") else { continue }
            let ns = parts[0] == "." ? namespace : parts[0]
            let known = seen[ns, default: []]
            if (parts[1] == "*" && !known.isEmpty) || known.contains(parts[1]) || known.contains("*") {
                report.warning(hostPath, "duplicated egress host: \(entry)")
            }
            seen[ns, default: []].insert(parts[1])
        }
        if seen["*"]?.contains("*") == true && seen.count != 1 {
            report.warning(path, "`*/*` host select all resources, no other hosts can be added")
        }
    }
}
