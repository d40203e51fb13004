/// WorkloadEntries a ServiceEntry's selector picks that cannot be its endpoints, which the
/// translator leaves out and this reports. An entry addressed by DNS name is an endpoint of DNS
/// services only (Istio's DNSServiceEntryOnly): Envoy takes nothing but IPs and Unix sockets
/// from EDS. A Unix socket is never reached by a DNS service: Envoy resolves every endpoint of
/// a DNS cluster as a name.
enum WorkloadSelectionChecks {
    static func check(_ entry: WorkloadEntry, _ document: LoadedDocument, in documents: [LoadedDocument]) {
        let address = entry.address
        guard !address.isEmpty, !IPAddress.isValid(address) else { return }
        let isUnix = address.hasPrefix("unix://")
        let namespace = document.decoded.key.namespace
        for other in documents where other.decoded.key.namespace == namespace {
            guard case .serviceEntry(let service) = other.decoded.spec,
                let selector = service.workloadSelector, !selector.labels.isEmpty, selector.matches(entry.labels)
            else { continue }
            let name = "\(namespace)/\(other.decoded.key.name)"
            let byDNS = service.resolution == .dns || service.resolution == .dnsRoundRobin
            if isUnix && byDNS {
                document.context.warning(
                    "spec.address",
                    "a Unix socket is not an endpoint of \(service.resolution.rawValue) ServiceEntry \(name), whose selector "
                        + "picks it: Envoy resolves DNS endpoints by name; use resolution STATIC")
            } else if !isUnix && service.resolution == .static {
                document.context.warning(
                    "spec.address",
                    "addressed by name, so not an endpoint of STATIC ServiceEntry \(name), whose selector picks it: "
                        + "only DNS services take endpoints by name")
            }
        }
    }
}
