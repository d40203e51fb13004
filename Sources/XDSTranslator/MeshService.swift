import MeshAPI
import XDSCache

/// One host of a ServiceEntry: what the mesh routes to. Istio calls it a Service.
struct MeshService: Sendable {
    var hostname: String
    var namespace: String
    /// The ServiceEntry's `addresses`: IPs and CIDR blocks clients reach the service at.
    var addresses: [String] = []
    var ports: [ServicePort]
    var resolution: ServiceEntry.Resolution
    /// MESH_EXTERNAL services get no auto mTLS: their servers are not the mesh's.
    var location: ServiceEntry.Location = .meshExternal
    var endpoints: [MeshEndpoint]
    var exportTo: [String]
    var subjectAltNames: [String] = []

    func port(_ number: UInt32) -> ServicePort? {
        ports.first { $0.number == number }
    }
}

/// One workload instance behind a service.
struct MeshEndpoint: Sendable, Equatable {
    var address: String
    var ports: [String: UInt32]
    var labels: [String: String]
    var weight: UInt32?
    var serviceAccount: String?
    var locality: String?
    /// False for a WorkloadEntry whose readiness probe is failing (`MeshConfig.unhealthyWorkloads`).
    var isHealthy = true

    /// Istio's auto mTLS keys on this label: `istio` means the endpoint runs a sidecar.
    static let tlsModeLabel = "security.istio.io/tlsMode"

    init(_ entry: WorkloadEntry) {
        address = entry.address
        ports = entry.ports
        labels = entry.labels
        weight = entry.weight
        serviceAccount = entry.serviceAccount
        locality = entry.locality
    }

    /// What auto mTLS keys on (Istio's getTLSModeFromWorkloadEntry): the label when present,
    /// else `istio` for an entry with a service account (a workload that runs a sidecar).
    var tlsMode: String? {
        labels[Self.tlsModeLabel] ?? (serviceAccount == nil ? nil : "istio")
    }

    /// The port traffic for `servicePort` goes to: the entry's port of the same name, else the
    /// service port's targetPort, else the service port itself (Istio's rule).
    func port(for servicePort: ServicePort) -> UInt32 {
        ports[servicePort.name] ?? servicePort.targetPort ?? servicePort.number
    }
}

/// Every service in the mesh config, with the endpoints that inline entries and selected
/// WorkloadEntries give them.
struct ServiceRegistry: Sendable {
    private(set) var services: [MeshService] = []
    /// Positions in `services` by host name.
    private var byHostname: [String: [Int]] = [:]

    init(_ config: MeshConfig) {
        let workloadsByNamespace = Dictionary(grouping: config.workloadEntries, by: \.namespace)
        for entry in config.serviceEntries {
            let spec = entry.spec
            var endpoints = spec.endpoints.map(MeshEndpoint.init)
            if let selector = spec.workloadSelector {
                for workload in workloadsByNamespace[entry.namespace] ?? []
                where selector.labels.allSatisfy({ workload.spec.labels[$0.key] == $0.value })
                    && Self.canServe(workload.spec.address, resolution: spec.resolution)
                {
                    var endpoint = MeshEndpoint(workload.spec)
                    endpoint.isHealthy = !config.unhealthyWorkloads.contains(workload.key)
                    endpoints.append(endpoint)
                }
            }
            for host in spec.hosts {
                services.append(
                    MeshService(
                        hostname: host, namespace: entry.namespace, addresses: spec.addresses, ports: spec.ports,
                        resolution: spec.resolution, location: spec.location, endpoints: endpoints, exportTo: spec.exportTo,
                        subjectAltNames: spec.subjectAltNames))
            }
        }
        services.sort { ($0.hostname, $0.namespace) < ($1.hostname, $1.namespace) }
        for (position, service) in services.enumerated() { byHostname[service.hostname, default: []].append(position) }
    }

    /// Whether a selected WorkloadEntry's address can be an endpoint (validation warns about
    /// the others): Istio takes entries addressed by DNS name into DNS services only, as Envoy
    /// takes nothing but IPs and Unix sockets from EDS; and Envoy resolves every endpoint of a
    /// DNS cluster as a name, which a Unix socket is not.
    static func canServe(_ address: String, resolution: ServiceEntry.Resolution) -> Bool {
        let isUnix = address.hasPrefix("unix://")
        let isName = !isUnix && !address.contains(":") && !address.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
        switch resolution {
        case .dns, .dnsRoundRobin: return !isUnix
        case .static, .none: return !isName
        }
    }

    /// The service a proxy in `namespace` sees for `hostname` (its own namespace's first).
    func service(_ hostname: String, from namespace: String) -> MeshService? {
        let matches = (byHostname[hostname] ?? []).map { services[$0] }
        return matches.first { $0.namespace == namespace } ?? matches.first
    }
}
