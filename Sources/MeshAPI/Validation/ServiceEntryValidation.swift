/// Istio's `ValidateServiceEntry` plus the ServiceEntry CRD's own rules.
enum ServiceEntryValidation {
    static func validate(_ entry: ServiceEntry, key: ResourceKey, _ report: DocumentContext) {
        if let selector = entry.workloadSelector {
            CommonChecks.checkSelector(selector.labels, at: "spec.workloadSelector.labels", report)
            if selector.labels.isEmpty {
                report.warning("spec.workloadSelector", "workload selector specified without labels")
            }
            if !entry.endpoints.isEmpty {
                report.error("spec", "only one of WorkloadSelector or Endpoints can be set")
            }
        }
        checkHosts(entry, report)
        checkAddresses(entry, report)
        checkPorts(entry, report)
        checkResolution(entry, report)
        CommonChecks.checkExportTo(entry.exportTo, namespace: key.namespace, isServiceEntry: true, at: "spec.exportTo", report)
    }

    private static func checkHosts(_ entry: ServiceEntry, _ report: DocumentContext) {
        if entry.hosts.isEmpty { report.error("spec.hosts", "Required value: service entry must have at least one host") }
        for (index, host) in entry.hosts.enumerated() {
            let path = "spec.hosts[\(index)]"
            if host == "*" {
                report.error(path, "hostname cannot be wildcard")
            } else if let problem = Names.wildcardDomainProblem(host) {
                report.error(path, problem)
            } else if Names.isPartialWildcard(host) {
                report.warning(path, "partial wildcard \"\(host)\" is not recommended; use \"*.domain\"")
            }
        }
        // Plain TCP carries no host name, so several hosts on one TCP port cannot be told
        // apart unless the proxy does not need to (resolution NONE).
        if entry.resolution != .none && entry.hosts.count > 1
            && entry.ports.contains(where: { !$0.protocol.isHTTP && !$0.protocol.isTLS })
        {
            report.error("spec.hosts", "multiple hosts provided with non-HTTP, non-TLS ports")
        }
    }

    private static func checkAddresses(_ entry: ServiceEntry, _ report: DocumentContext) {
        for (index, address) in entry.addresses.enumerated() {
            if let problem = IPAddress.subnetProblem(address) { report.error("spec.addresses[\(index)]", problem) }
        }
        if entry.addresses.contains(where: { $0.contains("/") }) && entry.resolution != .none
            && entry.resolution != .static
        {
            report.error("spec.addresses", "CIDR addresses are allowed only for NONE/STATIC resolution types")
        }
    }

    private static func checkPorts(_ entry: ServiceEntry, _ report: DocumentContext) {
        var names: Set<String> = []
        var numbers: Set<UInt32> = []
        for (index, port) in entry.ports.enumerated() {
            let path = "spec.ports[\(index)]"
            if !port.name.isEmpty {
                if !names.insert(port.name).inserted {
                    report.error("\(path).name", "Duplicate value: \"\(port.name)\": port names must be unique")
                }
                if let problem = CommonChecks.portNameProblem(port.name) { report.error("\(path).name", problem) }
            }
            if !numbers.insert(port.number).inserted {
                report.error("\(path).number", "Invalid value: \(port.number): port number cannot be duplicated")
            }
            if let problem = CommonChecks.portProblem(port.number) { report.error("\(path).number", problem) }
            if let target = port.targetPort, let problem = CommonChecks.portProblem(target) {
                report.error("\(path).targetPort", problem)
            } else if port.targetPort != nil && entry.resolution == .none {
                // istiod overrides the original destination's port there (upstream_port_override),
                // which Trellis' passthrough clusters do not do yet.
                report.error(
                    "\(path).targetPort",
                    "not supported yet: Trellis does not redirect resolution NONE traffic to targetPort; remove it or use STATIC or DNS")
            }
        }
        if entry.addresses.isEmpty && entry.ports.contains(where: { $0.protocol == .tcp }) {
            report.warning(
                "spec.ports",
                "addresses are required for ports serving TCP (or unset) protocol: without one, "
                    + "clients can only reach this service through DNS auto-allocation")
        }
    }

    private static func checkResolution(_ entry: ServiceEntry, _ report: DocumentContext) {
        let portNames = Set(entry.ports.map(\.name))
        switch entry.resolution {
        case .none:
            if !entry.endpoints.isEmpty { report.error("spec.endpoints", "NONE mode cannot set endpoints") }
            if entry.workloadSelector != nil {
                report.warning("spec.workloadSelector", "workloadSelector should not be set when resolution mode is NONE")
            }
        case .static:
            for (index, endpoint) in entry.endpoints.enumerated() {
                let path = "spec.endpoints[\(index)]"
                if !endpoint.address.isEmpty && !IPAddress.isValid(endpoint.address)
                    && !endpoint.address.hasPrefix("unix://")
                {
                    report.error("\(path).address", "endpoint address \"\(endpoint.address)\" is not a valid IP address")
                }
                WorkloadValidation.checkEntry(endpoint, at: path, servicePorts: portNames, allowFQDN: false, report)
            }
        case .dns, .dnsRoundRobin:
            if entry.endpoints.isEmpty {
                for (index, host) in entry.hosts.enumerated() where host != "*" && Names.fqdnProblem(host) != nil {
                    report.error(
                        "spec.hosts[\(index)]",
                        "hosts must be FQDN if no endpoints are provided for resolution mode \(entry.resolution.rawValue)")
                }
            }
            if entry.resolution == .dnsRoundRobin && entry.endpoints.count > 1 {
                report.error("spec.endpoints", "DNS_ROUND_ROBIN mode cannot have multiple endpoints")
            }
            for (index, endpoint) in entry.endpoints.enumerated() {
                WorkloadValidation.checkEntry(
                    endpoint, at: "spec.endpoints[\(index)]", servicePorts: portNames, allowFQDN: true, report)
                if endpoint.address.hasPrefix("unix://") {
                    // Envoy's DNS clusters resolve every endpoint address as a name.
                    report.error(
                        "spec.endpoints[\(index)].address",
                        "not supported yet: a unix:// endpoint of a \(entry.resolution.rawValue) service is never reached "
                            + "(Envoy resolves DNS endpoints by name); use resolution STATIC")
                }
            }
        }
    }
}
