/// `networking.istio.io` ServiceEntry: adds hosts to the mesh's service registry.
public struct ServiceEntry: Sendable, Equatable {
    /// Whether the service is inside the mesh (its workloads run sidecars) or outside.
    public enum Location: String, Sendable, CaseIterable {
        case meshExternal = "MESH_EXTERNAL"
        case meshInternal = "MESH_INTERNAL"
    }

    /// How the proxy finds the service's endpoints. Istio's default is `none`.
    public enum Resolution: String, Sendable, CaseIterable {
        /// Pass connections through to the address the client dialled.
        case none = "NONE"
        /// Use the `endpoints` (or selected workloads) as given.
        case `static` = "STATIC"
        /// Resolve the endpoints (or the hosts) by DNS and balance over all answers.
        case dns = "DNS"
        /// Resolve by DNS and use the first answer only.
        case dnsRoundRobin = "DNS_ROUND_ROBIN"
    }

    public var hosts: [String]
    /// Virtual IPs or CIDR blocks of the service.
    public var addresses: [String]
    public var ports: [ServicePort]
    public var location: Location
    public var resolution: Resolution
    /// Inline endpoints. Mutually exclusive with `workloadSelector`.
    public var endpoints: [WorkloadEntry]
    /// Selects WorkloadEntries (and pods) in the same namespace as endpoints.
    public var workloadSelector: WorkloadSelector?
    public var exportTo: [String]
    public var subjectAltNames: [String]

    public init(
        hosts: [String] = [], addresses: [String] = [], ports: [ServicePort] = [],
        location: Location = .meshExternal, resolution: Resolution = .none,
        endpoints: [WorkloadEntry] = [], workloadSelector: WorkloadSelector? = nil,
        exportTo: [String] = [], subjectAltNames: [String] = []
    ) {
        self.hosts = hosts
        self.addresses = addresses
        self.ports = ports
        self.location = location
        self.resolution = resolution
        self.endpoints = endpoints
        self.workloadSelector = workloadSelector
        self.exportTo = exportTo
        self.subjectAltNames = subjectAltNames
    }
}

/// A port of a ServiceEntry. A port without `protocol` in YAML decodes as `.tcp`: Istio would
/// sniff the protocol there, which Trellis does not do.
public struct ServicePort: Sendable, Equatable {
    public var number: UInt32
    public var `protocol`: PortProtocol
    public var name: String
    /// Where endpoints receive the traffic when they do not name the port themselves.
    public var targetPort: UInt32?

    public init(number: UInt32, protocol: PortProtocol = .tcp, name: String, targetPort: UInt32? = nil) {
        self.number = number
        self.protocol = `protocol`
        self.name = name
        self.targetPort = targetPort
    }
}

/// Label-based selection of workloads (the `labels` / `matchLabels` of Istio's selectors).
/// Selects every workload whose labels include all of `labels`.
public struct WorkloadSelector: Sendable, Equatable {
    public var labels: [String: String]

    public init(labels: [String: String] = [:]) {
        self.labels = labels
    }

    public func matches(_ workloadLabels: [String: String]) -> Bool {
        labels.allSatisfy { workloadLabels[$0.key] == $0.value }
    }
}
