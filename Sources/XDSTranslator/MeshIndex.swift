public import MeshAPI

/// A mesh configuration with the lookups translation needs, built once per configuration and
/// shared by every proxy's translation: the service registry (with WorkloadEntries matched to
/// their ServiceEntries) and VirtualServices and DestinationRules by host. Without it each
/// proxy's translation would scan every rule for every service, which grows with the square of
/// the mesh.
public struct MeshIndex: Sendable {
    public let config: MeshConfig
    let registry: ServiceRegistry
    let virtualServices: HostIndex
    let destinationRules: HostIndex
    /// Label keys outbound rules select proxies by (see ``ProxyClass``).
    let outboundLabelKeys: Set<String>

    public init(_ config: MeshConfig) {
        self.config = config
        outboundLabelKeys = Self.outboundLabelKeys(config)
        registry = ServiceRegistry(config)
        virtualServices = HostIndex(config.virtualServices.map { resource in
            resource.spec.hosts.map { HostNames.fullyQualified($0, namespace: resource.namespace) }
        })
        destinationRules = HostIndex(config.destinationRules.map { resource in
            [HostNames.fullyQualified(resource.spec.host, namespace: resource.namespace)]
        })
    }
}

/// Positions of resources (in config order) by the fully qualified hosts they name; wildcard
/// hosts are matched on lookup.
struct HostIndex: Sendable {
    private var exact: [String: [Int]] = [:]
    private var wildcards: [(pattern: String, position: Int)] = []

    init(_ hostsByPosition: [[String]]) {
        for (position, hosts) in hostsByPosition.enumerated() {
            for host in hosts {
                if host.hasPrefix("*") {
                    wildcards.append((host, position))
                } else if exact[host]?.last != position {
                    exact[host, default: []].append(position)
                }
            }
        }
    }

    /// Positions of the resources with a host that covers `hostname`, in config order.
    func positions(covering hostname: String) -> [Int] {
        let matched = wildcards.filter { HostNames.matches($0.pattern, hostname) }.map(\.position)
        let exactMatches = exact[hostname] ?? []
        return matched.isEmpty ? exactMatches : Array(Set(exactMatches + matched)).sorted()
    }
}
