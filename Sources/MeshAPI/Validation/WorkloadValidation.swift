/// Istio's `validateWorkloadEntry` and `ValidateWorkloadGroup`, plus the CRDs' rules.
enum WorkloadValidation {
    static func validate(_ entry: WorkloadEntry, _ report: DocumentContext) {
        checkEntry(entry, at: "spec", servicePorts: nil, allowFQDN: true, report)
    }

    /// A workload entry, standalone (`servicePorts` nil) or inline in a ServiceEntry, whose
    /// port names it must then use.
    static func checkEntry(
        _ entry: WorkloadEntry, at path: String, servicePorts: Set<String>?, allowFQDN: Bool, _ report: DocumentContext
    ) {
        let address = entry.address
        if address.isEmpty {
            if let network = entry.network {
                report.warning(
                    "\(path).address",
                    "no address: the endpoint is reachable only through the gateway of network \"\(network)\", "
                        + "which Trellis does not configure; it is left out of the service's endpoints")
            } else {
                report.error("\(path).address", "Address is required (or set network)")
            }
        } else if address.hasPrefix("unix://") {
            if let problem = CommonChecks.unixAddressProblem(String(address.dropFirst("unix://".count))) {
                report.error("\(path).address", problem)
            }
            if !entry.ports.isEmpty { report.error("\(path).ports", "UDS may not include ports") }
            if let servicePorts, servicePorts.count != 1 {
                report.error("\(path).address", "exactly 1 service port required for unix endpoints")
            }
        } else if !IPAddress.isValid(address) && allowFQDN && Names.fqdnProblem(address) != nil {
            report.error("\(path).address", "endpoint address \"\(address)\" is not a valid FQDN or an IP address")
        }
        checkPorts(entry.ports, at: "\(path).ports", servicePorts: servicePorts, report)
        CommonChecks.checkLabels(entry.labels, at: "\(path).labels", report)
    }

    private static func checkPorts(_ ports: [String: UInt32], at path: String, servicePorts: Set<String>?, _ report: DocumentContext) {
        for name in ports.keys.sorted() {
            let number = ports[name]!
            if name.utf8.count >= 63 || !Names.isDNS1123Label(name) {
                report.error(path, "Invalid value: \"\(name)\": port name must be valid")
            }
            if let servicePorts, !servicePorts.contains(name) {
                report.error(FieldPath.entry(path, name), "endpoint port \(name) is not defined by the service entry")
            }
            if let problem = CommonChecks.portProblem(number) { report.error(FieldPath.entry(path, name), problem) }
        }
    }

    static func validate(_ group: WorkloadGroup, _ report: DocumentContext) {
        if let metadata = group.metadata {
            CommonChecks.checkLabels(metadata.labels, at: "spec.metadata.labels", report)
        }
        // The template is not a complete WorkloadEntry (the address comes from the workload
        // that registers), so only its shape is checked.
        let template = group.template
        if template.address.hasPrefix("unix://") {
            if let problem = CommonChecks.unixAddressProblem(String(template.address.dropFirst("unix://".count))) {
                report.error("spec.template.address", problem)
            }
            if !template.ports.isEmpty { report.error("spec.template.ports", "UDS may not include ports") }
        }
        checkPorts(template.ports, at: "spec.template.ports", servicePorts: nil, report)
        if let probe = group.probe { checkProbe(probe, report) }
    }

    private static func checkProbe(_ probe: ReadinessProbe, _ report: DocumentContext) {
        switch probe.method {
        case .httpGet(let http):
            let path = "spec.probe.httpGet"
            if let problem = CommonChecks.portProblem(http.port) { report.error("\(path).port", problem) }
            if let scheme = http.scheme, !["", "HTTP", "HTTPS"].contains(scheme) {
                report.error("\(path).scheme", "Invalid value: \"\(scheme)\": scheme must be one of [HTTP, HTTPS]")
            }
            for (index, header) in http.httpHeaders.enumerated() where !HeaderNames.isValid(header.name) {
                report.error(
                    "\(path).httpHeaders[\(index)].name",
                    "Invalid value: \"\(header.name)\": should match '^[-_A-Za-z0-9]+$'")
            }
        case .tcpSocket(let tcp):
            if let problem = CommonChecks.portProblem(tcp.port) { report.error("spec.probe.tcpSocket.port", problem) }
        // Istio's agent runs probes on the VM; Trellis runs them from the control plane (see
        // ControlPlane's WorkloadProber), where a command cannot run on the workload, and it
        // implements no gRPC health client. Accepting them would leave the entry never healthy.
        case .grpc:
            report.error(
                "spec.probe.grpc",
                "grpc probes are not supported: Trellis runs probes from the control plane and implements only "
                    + "httpGet and tcpSocket; use one of those")
        case .exec:
            report.error(
                "spec.probe.exec",
                "exec probes are not supported: Trellis runs probes from the control plane, which has no agent on "
                    + "the workload; use httpGet or tcpSocket")
        case nil:
            break
        }
    }
}
